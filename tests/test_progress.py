"""Progress math on constructed timelines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bulkgen.models import BatchStatus, PauseInfo, ProgressSnapshot
from bulkgen.progress import (
    STALL_MIN_SECONDS,
    WINDOW,
    Counts,
    ProgressWindow,
    append_finishes,
    snapshot,
)


def counts(total: int = 100, completed: int = 0, failed: int = 0, in_progress: int = 0) -> Counts:
    return Counts(
        total=total,
        pending=total - completed - failed - in_progress,
        in_progress=in_progress,
        completed=completed,
        failed=failed,
    )


def test_empty_timeline_has_no_rate_and_no_eta() -> None:
    window = ProgressWindow(())
    assert window.rate() is None
    assert window.eta_seconds(10, now=100.0) is None
    one = ProgressWindow((5.0,))
    assert one.rate() is None  # n >= 2 is needed


def test_steady_rate_is_finishes_per_second_over_the_window() -> None:
    window = ProgressWindow(tuple(float(t) for t in range(0, 20, 2)))  # one every 2 s
    assert window.rate() == pytest.approx(0.5)
    assert window.eta_seconds(30, now=18.0) == pytest.approx(60.0)


def test_only_the_last_ten_finishes_count() -> None:
    slow = [float(t) for t in range(0, 100, 10)]
    fast = [100.0 + t * 0.1 for t in range(10)]
    merged = append_finishes(slow, fast)
    assert len(merged) == WINDOW
    assert ProgressWindow(tuple(merged)).rate() == pytest.approx(10.0)


def test_bursty_finishes_in_one_instant_do_not_divide_by_zero() -> None:
    window = ProgressWindow((3.0, 3.0, 3.0))
    rate = window.rate()
    assert rate is not None and rate > 0


def test_concurrency_is_counted_by_construction() -> None:
    # 4 workers, each taking 1 s per item, finishing staggered: 4 items per second
    finishes = sorted(start + k for k in range(1, 4) for start in (0.0, 0.25, 0.5, 0.75))[:10]
    assert ProgressWindow(tuple(finishes)).rate() == pytest.approx(4.0)


def test_eta_grows_during_a_stall_instead_of_freezing() -> None:
    window = ProgressWindow(tuple(float(t) for t in range(10)))  # 1/s, last finish at 9
    on_time = window.eta_seconds(20, now=9.5)
    due = window.eta_seconds(20, now=10.0)
    stalled = [window.eta_seconds(20, now=t) for t in (12.0, 20.0, 60.0)]
    assert on_time == due == pytest.approx(20.0)  # continuous where the stall begins
    assert stalled == sorted(stalled) and stalled[0] > 20.0  # grows with the stall
    assert stalled[-1] == pytest.approx(20 * (60.0 - 0.0) / 10)


def test_percent_and_success_rate() -> None:
    snap = counts(total=20, completed=12, failed=2, in_progress=4)
    assert snap.percent() == 70.0
    assert snap.success_rate() == pytest.approx(0.857, abs=1e-3)
    assert counts().success_rate() is None


def test_snapshot_of_a_running_batch() -> None:
    snap = snapshot(
        counts(total=20, completed=12, failed=2, in_progress=4),
        status=BatchStatus.RUNNING,
        finishes=[float(t) for t in range(10, 20)],
        started_at=0.0,
        finished_at=None,
        now=19.5,
    )
    assert snap.percent == 70.0
    assert snap.throughput_per_min == pytest.approx(60.0)
    assert snap.eta_seconds == pytest.approx(6.0)
    assert snap.elapsed_seconds == pytest.approx(19.5)
    assert snap.pending == 2 and snap.status is BatchStatus.RUNNING


def test_snapshot_of_a_finished_batch_is_fixed_at_its_finish() -> None:
    args = dict(
        status=BatchStatus.COMPLETED,
        finishes=[1.0, 2.0],
        started_at=0.0,
        finished_at=2.0,
    )
    early = snapshot(counts(total=2, completed=2), now=3.0, **args)  # type: ignore[arg-type]
    late = snapshot(counts(total=2, completed=2), now=3000.0, **args)  # type: ignore[arg-type]
    assert early == late
    assert early.eta_seconds == 0.0 and early.elapsed_seconds == 2.0


def test_snapshot_before_start_and_when_cancelled() -> None:
    queued = snapshot(
        counts(total=5),
        status=BatchStatus.QUEUED,
        finishes=[],
        started_at=None,
        finished_at=None,
        now=1.0,
    )
    assert queued.elapsed_seconds is None and queued.eta_seconds is None
    assert queued.throughput_per_min is None and queued.percent == 0.0
    cancelled = snapshot(
        counts(total=5, failed=1),
        status=BatchStatus.CANCELLED,
        finishes=[1.0],
        started_at=0.0,
        finished_at=2.0,
        now=9.0,
    )
    assert cancelled.eta_seconds is None and cancelled.elapsed_seconds == 2.0


# -- stall ---------------------------------------------------------------------------------


def stall_snapshot(
    finishes: list[float], now: float, status: BatchStatus = BatchStatus.RUNNING
) -> ProgressSnapshot:
    counts = Counts(total=100, pending=50, in_progress=4, completed=len(finishes), failed=0)
    return snapshot(
        counts, status=status, finishes=finishes, started_at=0.0, finished_at=None, now=now
    )


def test_no_stall_before_the_first_finish() -> None:
    assert stall_snapshot([], now=1000.0).stalled is False


def test_a_single_finish_stalls_after_the_minimum() -> None:
    assert stall_snapshot([10.0], now=10.0 + STALL_MIN_SECONDS).stalled is False
    assert stall_snapshot([10.0], now=10.0 + STALL_MIN_SECONDS + 0.1).stalled is True


def test_a_fast_batch_stalls_after_the_minimum_not_three_gaps() -> None:
    finishes = [float(t) for t in range(10)]  # 1 per second: 3 gaps = 3 s < 30 s
    assert stall_snapshot(finishes, now=9.0 + 29.0).stalled is False
    assert stall_snapshot(finishes, now=9.0 + 31.0).stalled is True


def test_a_slow_batch_stalls_after_three_expected_gaps() -> None:
    finishes = [20.0 * t for t in range(10)]  # one finish every 20 s: stalled after 60 s
    last = finishes[-1]
    assert stall_snapshot(finishes, now=last + 59.0).stalled is False
    assert stall_snapshot(finishes, now=last + 61.0).stalled is True
    assert stall_snapshot(finishes, now=last + 61.0).last_finished_at is not None


def test_only_a_running_batch_is_stalled() -> None:
    for status in (BatchStatus.PAUSED, BatchStatus.QUEUED, BatchStatus.COMPLETED):
        assert stall_snapshot([10.0], now=500.0, status=status).stalled is False


def test_backoff_is_shown_only_while_running_and_ahead() -> None:
    counts = Counts(total=10, pending=5, in_progress=1, completed=4, failed=0)

    def with_backoff(status: BatchStatus, now: float) -> object:
        return snapshot(
            counts,
            status=status,
            finishes=[1.0, 2.0],
            started_at=0.0,
            finished_at=None,
            now=now,
            backoff_until=100.0,
        ).backoff_until

    assert with_backoff(BatchStatus.RUNNING, 50.0) is not None
    assert with_backoff(BatchStatus.RUNNING, 101.0) is None
    assert with_backoff(BatchStatus.PAUSED, 50.0) is None


def test_the_pause_is_shown_only_while_paused() -> None:
    counts = Counts(total=10, pending=5, in_progress=0, completed=5, failed=0)
    pause = PauseInfo(reason="manual", message="paused", at=datetime.now(UTC))
    for status, shown in ((BatchStatus.PAUSED, True), (BatchStatus.RUNNING, False)):
        made = snapshot(
            counts,
            status=status,
            finishes=[],
            started_at=0.0,
            finished_at=None,
            now=10.0,
            pause=pause,
        )
        assert (made.pause is not None) is shown
    paused = snapshot(
        counts,
        status=BatchStatus.PAUSED,
        finishes=[1.0, 2.0],
        started_at=0.0,
        finished_at=None,
        now=10.0,
    )
    assert paused.eta_seconds is None
