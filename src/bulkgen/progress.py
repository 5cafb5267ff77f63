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

A batch in mode ``valid`` (see :class:`ValidTarget`) is measured against its target of
passed items instead: percent is ``100 × completed / target`` and the estimate is
``(target - completed) / (r_eff × success_rate)``, the rate of finishes that pass (the
plain finish rate while no item has finished).

While a ``provider_batch`` batch waits on the provider's batch, no item finishes until its
results come: the estimate is then the provider's own pace, ``(total - done) / (done /
(now - submitted))`` over its request counts (unknown until one request is done).

A running batch is **stalled** when at least one item of the current run has finished and
the time since the latest finish exceeds ``max(STALL_FACTOR / r, STALL_MIN_SECONDS)``
(three expected gaps, at least 30 s; 30 s alone while the rate is unknown). A paused
batch is never stalled: nothing is being scheduled on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bulkgen.cost import BatchPrice, estimate
from bulkgen.models import (
    BatchConfig,
    BatchStatus,
    PauseInfo,
    ProgressSnapshot,
    ProviderBatch,
    TokenUsage,
    from_epoch,
)

WINDOW = 10
#: A stall is this many expected gaps between finishes without one …
STALL_FACTOR = 3.0
#: … and never less than this.
STALL_MIN_SECONDS = 30.0


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

    def eta_seconds(self, remaining: int, now: float, share: float = 1.0) -> float | None:
        """Seconds until ``remaining`` more items finish, or None when no rate is known.

        With ``share`` below 1 only that share of the finishes count (the items that pass,
        for a target of valid items).
        """
        if remaining <= 0:
            return 0.0
        rate = self.effective_rate(now)
        if rate is None or rate * share <= 0:
            return None
        return remaining / (rate * share)

    def stall_threshold(self) -> float:
        """Seconds without a finish after which the batch counts as stalled."""
        rate = self.rate()
        expected_gap = 0.0 if rate is None else 1.0 / rate
        return max(STALL_FACTOR * expected_gap, STALL_MIN_SECONDS)

    def stalled(self, now: float) -> bool:
        """No finish for far longer than the rate predicts (see the module docstring)."""
        if not self.finishes:
            return False
        return now - self.finishes[-1] > self.stall_threshold()


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


@dataclass(frozen=True, slots=True)
class ValidTarget:
    """The goal of a batch in mode ``valid``: ``target`` items that pass, created from at
    most ``max_items`` items (the first ``target`` and replacements of failed ones)."""

    target: int
    max_items: int

    @classmethod
    def of(cls, config: BatchConfig) -> ValidTarget | None:
        """The target of a batch's config, or None for a batch of ``count`` attempts."""
        return cls.for_mode(config.mode, config.count, config.max_items)

    @classmethod
    def for_mode(cls, mode: str, count: int, max_items: int | None) -> ValidTarget | None:
        """The target of mode ``valid`` (None for any other mode); the cap defaults to
        ``count``."""
        if mode != "valid":
            return None
        return cls(count, max_items or count)

    def percent(self, counts: Counts) -> float:
        """How far the batch is towards its target, 0–100 (100 only once it is met)."""
        return round(min(100.0, 100.0 * counts.completed / self.target), 2)

    def remaining(self, counts: Counts) -> int:
        return max(self.target - counts.completed, 0)


@dataclass(frozen=True, slots=True)
class ProgressState:
    """What a batch's progress is computed from: its row's counters, log head and times.

    The store reads it (a viewer's feed reads nothing else) and a write transaction ends
    with one; :meth:`snapshot` is the one way either becomes a :class:`ProgressSnapshot`.
    """

    counts: Counts
    status: BatchStatus
    last_seq: int
    finishes: tuple[float, ...] = ()
    started_at: float | None = None
    finished_at: float | None = None
    failure_reasons: Mapping[str, int] | None = None
    usage: TokenUsage | None = None
    valid: ValidTarget | None = None
    pause: PauseInfo | None = None
    backoff_until: float | None = None
    #: This process cannot write to the database: why (set by the reader, not stored).
    storage_fault: str | None = None
    price: BatchPrice | None = None
    cost: float = 0.0
    provider: ProviderBatch | None = None

    def snapshot(self, now: float) -> ProgressSnapshot:
        """The batch's progress as of ``now``."""
        shown = snapshot(
            self.counts,
            status=self.status,
            finishes=self.finishes,
            started_at=self.started_at,
            finished_at=self.finished_at,
            now=now,
            failure_reasons=self.failure_reasons,
            usage=self.usage,
            valid=self.valid,
            pause=self.pause,
            backoff_until=self.backoff_until,
            storage_fault=self.storage_fault,
        )
        shown.cost = estimate(self.cost, self.price, self.counts.completed)
        shown.provider_batch = self.provider
        if self.provider is not None and shown.status is BatchStatus.RUNNING:
            shown.eta_seconds = provider_eta(self.provider, now) or shown.eta_seconds
        return shown


def provider_eta(provider: ProviderBatch, now: float) -> float | None:
    """Seconds until the provider's batch has answered every request, at its pace so far;
    None once it has ended or while its pace is unknown."""
    done = provider.completed + provider.failed
    took = now - provider.submitted_at.timestamp()
    if provider.ended or done == 0 or took <= 0:
        return None
    return round((provider.total - done) * took / done, 1)


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
    valid: ValidTarget | None = None,
    pause: PauseInfo | None = None,
    backoff_until: float | None = None,
    storage_fault: str | None = None,
) -> ProgressSnapshot:
    """The progress snapshot of a batch as of ``now``.

    A finished batch is described as of its finish time, so its snapshot never changes.
    ``failure_reasons`` (failed items per reason key) are shown most frequent first.
    ``valid`` is the target of a batch in mode ``valid`` (see the module docstring).
    ``pause`` is shown while the batch is paused, ``backoff_until`` (a provider's
    ``Retry-After``, epoch seconds) while the batch runs and the time is still ahead;
    ``storage_fault`` (why the database takes no writes) while the batch is unfinished.
    """
    window = ProgressWindow(tuple(finishes))
    as_of = finished_at if finished_at is not None and status.finished else now
    rate = window.rate()
    success_rate = counts.success_rate()
    eta: float | None
    if status is BatchStatus.RUNNING and valid is not None:
        share = 1.0 if success_rate is None else success_rate
        eta = window.eta_seconds(valid.remaining(counts), as_of, share)
    elif status is BatchStatus.RUNNING:
        eta = window.eta_seconds(counts.remaining, as_of)
    elif status is BatchStatus.COMPLETED:
        eta = 0.0
    else:
        eta = None
    elapsed = None if started_at is None else max(as_of - started_at, 0.0)
    running = status is BatchStatus.RUNNING
    backing_off = running and backoff_until is not None and backoff_until > now
    return ProgressSnapshot(
        total=counts.total,
        completed=counts.completed,
        failed=counts.failed,
        in_progress=counts.in_progress,
        pending=counts.pending,
        percent=counts.percent() if valid is None else valid.percent(counts),
        success_rate=success_rate,
        throughput_per_min=None if rate is None else round(rate * 60.0, 2),
        eta_seconds=None if eta is None else round(eta, 1),
        elapsed_seconds=None if elapsed is None else round(elapsed, 1),
        status=status,
        started_at=from_epoch(started_at),
        finished_at=from_epoch(finished_at),
        failure_reasons=sorted_reasons(failure_reasons or {}),
        usage=usage,
        target_valid=None if valid is None else valid.target,
        replacements=0 if valid is None else max(counts.total - valid.target, 0),
        max_items=None if valid is None else valid.max_items,
        pause=pause if status is BatchStatus.PAUSED else None,
        last_finished_at=from_epoch(max(finishes)) if finishes else None,
        stalled=running and window.stalled(now),
        backoff_until=from_epoch(backoff_until) if backing_off else None,
        storage_fault=None if status.finished else storage_fault,
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
