"""Progress math: counts, percent, rolling throughput and time remaining. Pure, no I/O.

Throughput is a rate of finishes (completed or failed) over the last ``WINDOW`` finish
times ``t_1 … t_n``: ``(n - 1) / (t_n - t_1)``, undefined until ``n >= 2``. Because it counts
finishes rather than inverting latency, concurrency is accounted for by construction.

The estimate of time remaining is ``remaining / r_eff`` with
``r_eff = min(r, n / (now - t_1))``: while finishes keep arriving on schedule the window
rate ``r`` applies; once the time since the last finish exceeds the gap ``1 / r`` the rate
predicts, the window is treated as if a finish were due right now, so the rate falls and
the estimate grows for as long as the stall lasts. The two expressions meet at
``now - t_n = 1 / r``, so the estimate never jumps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bulkgen.models import BatchStatus, ProgressSnapshot, TokenUsage, from_epoch

WINDOW = 10


def append_finishes(recent: Sequence[float], finishes: Sequence[float]) -> list[float]:
    """The newest ``WINDOW`` finish times after adding ``finishes`` to ``recent``."""
    merged = sorted([*recent, *finishes])
    return merged[-WINDOW:]


@dataclass(frozen=True, slots=True)
class ProgressWindow:
    """The latest finish times of a batch (epoch seconds, oldest first)."""

    finishes: tuple[float, ...]

    def rate(self) -> float | None:
        """Finishes per second over the window, or None with fewer than two finishes."""
        window = self.finishes[-WINDOW:]
        if len(window) < 2:
            return None
        # Finishes stamped in the same instant must not divide by zero.
        span = max(window[-1] - window[0], 1e-3)
        return (len(window) - 1) / span

    def effective_rate(self, now: float) -> float | None:
        """The rate, lowered once the next finish is overdue (see the module docstring)."""
        rate = self.rate()
        if rate is None:
            return None
        window = self.finishes[-WINDOW:]
        since_first = now - window[0]
        if since_first <= 0:
            return rate
        return min(rate, len(window) / since_first)

    def eta_seconds(self, remaining: int, now: float) -> float | None:
        """Seconds until ``remaining`` more items finish, or None when no rate is known."""
        if remaining <= 0:
            return 0.0
        rate = self.effective_rate(now)
        if rate is None or rate <= 0:
            return None
        return remaining / rate


@dataclass(frozen=True, slots=True)
class Counts:
    """Items of a batch by state."""

    total: int
    pending: int
    in_progress: int
    completed: int
    failed: int

    @property
    def finished(self) -> int:
        return self.completed + self.failed

    @property
    def remaining(self) -> int:
        return self.total - self.finished

    def percent(self) -> float:
        """How much of the batch is finished, 0–100."""
        if self.total <= 0:
            return 0.0
        return round(100.0 * self.finished / self.total, 2)

    def success_rate(self) -> float | None:
        """Share of finished items that passed, or None before the first finish."""
        if self.finished == 0:
            return None
        return round(self.completed / self.finished, 4)


def snapshot(
    counts: Counts,
    *,
    status: BatchStatus,
    finishes: Sequence[float],
    started_at: float | None,
    finished_at: float | None,
    now: float,
    failure_reasons: Mapping[str, int] | None = None,
    usage: TokenUsage | None = None,
) -> ProgressSnapshot:
    """The progress snapshot of a batch as of ``now``.

    A finished batch is described as of its finish time, so its snapshot never changes.
    ``failure_reasons`` (failed items per reason key) are shown most frequent first.
    """
    window = ProgressWindow(tuple(finishes))
    as_of = finished_at if finished_at is not None and status.finished else now
    rate = window.rate()
    eta: float | None
    if status is BatchStatus.RUNNING:
        eta = window.eta_seconds(counts.remaining, as_of)
    elif status is BatchStatus.COMPLETED:
        eta = 0.0
    else:
        eta = None
    elapsed = None if started_at is None else max(as_of - started_at, 0.0)
    return ProgressSnapshot(
        total=counts.total,
        completed=counts.completed,
        failed=counts.failed,
        in_progress=counts.in_progress,
        pending=counts.pending,
        percent=counts.percent(),
        success_rate=counts.success_rate(),
        throughput_per_min=None if rate is None else round(rate * 60.0, 2),
        eta_seconds=None if eta is None else round(eta, 1),
        elapsed_seconds=None if elapsed is None else round(elapsed, 1),
        status=status,
        started_at=from_epoch(started_at),
        finished_at=from_epoch(finished_at),
        failure_reasons=sorted_reasons(failure_reasons or {}),
        usage=usage,
    )


def sorted_reasons(reasons: Mapping[str, int]) -> dict[str, int]:
    """Reasons with a count above 0, most frequent first (ties by key)."""
    ordered = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    return {key: count for key, count in ordered if count > 0}


def usage_of(prompt: int, completion: int, total: int) -> TokenUsage | None:
    """Summed token usage, or None when nothing was used (or nothing was reported)."""
    if prompt == completion == total == 0:
        return None
    return TokenUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)
