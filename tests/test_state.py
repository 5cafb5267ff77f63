"""The pure batch state: counters, sequence numbers and the rules, with no database."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bulkgen import events
from bulkgen.errors import Conflict
from bulkgen.log.items import ItemState
from bulkgen.log.state import BatchState
from bulkgen.log.store import FinishItem, StartItem
from bulkgen.models import (
    BatchConfig,
    BatchStatus,
    EarlyStop,
    GeneratedItem,
    ItemError,
    ItemStatus,
    Option,
    RuleResult,
    Severity,
    TokenUsage,
)

TIMEOUT = ItemError(kind="timeout", message="slow", transient=True)
INVALID = ItemError(
    kind="validation",
    message="failed 1 item-writing rule: stem.length",
    rules=[RuleResult(rule="stem.length", severity=Severity.ERROR, message="too short")],
)


def state(count: int = 4, status: BatchStatus = BatchStatus.RUNNING, **config: Any) -> BatchState:
    """A batch of ``count`` pending items as a transaction sees it, all items loaded."""
    return BatchState(
        id="b1",
        status=status,
        total=count,
        counts={"pending": count, "in_progress": 0, "completed": 0, "failed": 0},
        last_seq=0,
        config_json=BatchConfig(topic="Optics", count=count, **config).model_dump_json(),
        started_at=1.0,
        items={i: ItemState(index=i, status="pending") for i in range(count)},
    )


def item(stem: str = "Which lens corrects myopia in a young adult patient?") -> GeneratedItem:
    return GeneratedItem(
        stem=stem,
        options=[Option(key=k, text=f"Option {k}") for k in "ABCD"],
        answer="A",
        rationale="A diverging lens moves the focal point back onto the retina.",
        usage=TokenUsage(prompt_tokens=10, completion_tokens=5, total_tokens=15),
    )


def run(s: BatchState, index: int, passed: bool, at: float = 2.0) -> None:
    assert s.apply(StartItem("b1", index, at), at)
    finish = (
        FinishItem("b1", index, ItemStatus.COMPLETED, at + 1, result=item())
        if passed
        else FinishItem("b1", index, ItemStatus.FAILED, at + 1, error=TIMEOUT)
    )
    assert s.apply(finish, at + 1)


def names(s: BatchState) -> list[str]:
    return [event.type for event in s.events]


def test_start_and_finish_move_counters_and_number_events_contiguously() -> None:
    s = state(count=3)
    run(s, 0, passed=True)
    run(s, 1, passed=False)
    assert s.counts == {"pending": 1, "in_progress": 0, "completed": 1, "failed": 1}
    assert [e.seq for e in s.events] == [1, 2, 3, 4]
    assert names(s) == ["item.started", "item.completed", "item.started", "item.failed"]
    assert s.reasons == {"kind:timeout": 1}
    assert s.usage == [10, 5, 15]
    assert s.finishes == [3.0, 3.0]
    # Every logged payload parses back as its typed event.
    for logged in s.events:
        event = events.parse(logged.type, logged.data)
        assert isinstance(event, events.ItemEvent) and event.index in (0, 1)


def test_a_change_for_an_item_in_another_state_is_skipped() -> None:
    s = state(count=2)
    assert s.apply(StartItem("b1", 0, 1.0), 1.0)
    assert not s.apply(StartItem("b1", 0, 1.5), 1.5)  # already in progress
    assert not s.apply(FinishItem("b1", 1, ItemStatus.COMPLETED, 2.0), 2.0)  # never started
    assert not s.apply(StartItem("b1", 9, 2.0), 2.0)  # not loaded
    assert s.counts["in_progress"] == 1 and s.last_seq == 1


def test_settle_completes_a_batch_with_nothing_left_and_logs_the_final_snapshot() -> None:
    s = state(count=2)
    run(s, 0, passed=True)
    run(s, 1, passed=True)
    s.settle(5.0)
    assert s.status is BatchStatus.COMPLETED and s.finished_at == 5.0
    final = events.parse(s.events[-1].type, s.events[-1].data)
    assert isinstance(final, events.BatchComplete)
    assert (final.completed, final.percent, final.status) == (2, 100.0, BatchStatus.COMPLETED)
    # A finished batch takes no more changes.
    assert not s.apply(StartItem("b1", 0, 6.0), 6.0)


def test_the_early_stop_pauses_once_at_the_first_judgement() -> None:
    rule = EarlyStop(enabled=True, min_finished=2, max_failure_rate=0.5)
    s = state(count=6, early_stop=rule)
    run(s, 0, passed=False)
    s.settle(3.0)
    assert s.status is BatchStatus.RUNNING  # one finish: not judged yet
    run(s, 1, passed=False)
    s.settle(4.0)
    assert s.status is BatchStatus.PAUSED and s.paused_now and s.early_stop_checked
    paused = events.parse(s.events[-1].type, s.events[-1].data)
    assert isinstance(paused, events.BatchPaused) and paused.reason == "early_stop"
    assert "2 of the first 2 finished items failed" in paused.message
    s.resume(5.0)
    run(s, 2, passed=False)
    s.settle(7.0)
    assert s.status is BatchStatus.RUNNING  # judged once only


def test_a_good_start_is_judged_and_never_paused() -> None:
    rule = EarlyStop(enabled=True, min_finished=2, max_failure_rate=0.6)
    s = state(count=6, early_stop=rule)
    run(s, 0, passed=True)
    run(s, 1, passed=False)
    s.settle(4.0)
    assert s.status is BatchStatus.RUNNING and s.early_stop_checked


def test_mode_valid_queues_replacements_only_while_the_target_is_out_of_reach() -> None:
    s = state(count=2, mode="valid", max_items=3)
    run(s, 0, passed=False)  # 0 passed + 1 pending < 2: one replacement
    assert s.total == 3 and [item.index for item in s.new_items] == [2]
    assert names(s)[-1] == "item.queued"
    s.items[2] = s.new_items[0]
    run(s, 1, passed=False)  # the cap of 3 items is reached: no more
    assert s.total == 3 and s.counts["pending"] == 1
    assert s.needed() == 1


def test_a_paused_batch_starts_nothing_but_lets_items_in_flight_finish() -> None:
    s = state(count=3)
    s.apply(StartItem("b1", 0, 1.0), 1.0)
    s.pause_by_hand(2.0)
    assert not s.apply(StartItem("b1", 1, 2.5), 2.5)  # raced the pause: stays pending
    assert s.apply(FinishItem("b1", 0, ItemStatus.COMPLETED, 3.0), 3.0)
    assert s.counts == {"pending": 2, "in_progress": 0, "completed": 1, "failed": 0}
    assert names(s) == ["item.started", "batch.paused", "item.completed"]


def test_a_manual_pause_needs_a_running_batch_with_items_left() -> None:
    s = state(count=1)
    s.pause_by_hand(2.0)
    assert s.status is BatchStatus.PAUSED and s.pause is not None and s.pause.reason == "manual"
    with pytest.raises(Conflict):
        s.pause_by_hand(3.0)
    done = state(count=1)
    run(done, 0, passed=True)
    with pytest.raises(Conflict):
        done.pause_by_hand(4.0)


def test_resume_starts_a_new_rate_window_and_ends_a_batch_with_nothing_left() -> None:
    s = state(count=2)
    run(s, 0, passed=True)
    s.pause_by_hand(4.0)
    s.resume(5.0)
    assert s.status is BatchStatus.RUNNING and s.finishes == [] and s.pause is None
    with pytest.raises(Conflict):
        s.resume(6.0)
    empty = state(count=1)
    run(empty, 0, passed=True)
    empty.status = BatchStatus.PAUSED
    empty.resume(7.0)
    assert names(empty)[-2:] == ["batch.resumed", "batch.complete"]


def test_cancel_fails_in_flight_items_and_counts_them() -> None:
    s = state(count=3)
    s.apply(StartItem("b1", 0, 1.0), 1.0)
    s.items = {0: s.items[0]}  # a cancel loads the in-flight items only
    s.cancel(2.0)
    assert s.status is BatchStatus.CANCELLED
    assert s.counts == {"pending": 2, "in_progress": 0, "completed": 0, "failed": 1}
    assert s.reasons == {"kind:cancelled": 1}
    assert names(s)[-2:] == ["item.failed", "batch.complete"]
    with pytest.raises(Conflict):
        s.cancel(3.0)


def failed_items(s: BatchState) -> dict[int, ItemState]:
    """The failed items as a retry loads them: with their error."""
    return {i: it for i, it in s.items.items() if it.status == "failed"}


def test_retry_by_reason_puts_back_that_group_only() -> None:
    s = state(count=3)
    run(s, 0, passed=False)
    s.apply(StartItem("b1", 1, 2.0), 2.0)
    s.apply(FinishItem("b1", 1, ItemStatus.FAILED, 3.0, error=INVALID), 3.0)
    run(s, 2, passed=True)
    s.settle(4.0)
    assert s.reasons == {"kind:timeout": 1, "rule:stem.length": 1}
    with pytest.raises(Conflict):
        s.requeue(failed_items(s), "kind:rate_limited", 5.0)
    assert s.requeue(failed_items(s), "rule:stem.length", 5.0) == 1
    assert s.reasons == {"kind:timeout": 1}
    assert s.status is BatchStatus.QUEUED and s.finished_at is None
    requeued = events.parse(s.events[-1].type, s.events[-1].data)
    assert isinstance(requeued, events.ItemRequeued) and requeued.index == 1
    assert s.items[1].error is None and s.items[1].started_at is None


def test_retry_with_nothing_failed_is_a_conflict_unless_a_cancel_left_items() -> None:
    s = state(count=2)
    run(s, 0, passed=True)
    with pytest.raises(Conflict):
        s.requeue({}, None, 3.0)
    s.items = {}
    s.cancel(4.0)
    assert s.requeue({}, None, 5.0) == 0  # the pending item runs again
    assert s.status is BatchStatus.QUEUED


def test_recovery_puts_in_flight_items_back_to_pending() -> None:
    s = state(count=2)
    s.apply(StartItem("b1", 0, 1.0), 1.0)
    s.items = {0: s.items[0]}
    s.recover(9.0)
    assert s.counts == {"pending": 2, "in_progress": 0, "completed": 0, "failed": 0}
    assert names(s)[-1] == "item.requeued" and s.items[0].started_at is None


def test_fail_records_the_message_once() -> None:
    s = state(count=2)
    assert s.fail("x" * 3000, 2.0)
    assert s.status is BatchStatus.FAILED and s.error == "x" * 2000 and "error" in s.changed
    assert not s.fail("again", 3.0)


def test_progress_is_the_one_snapshot_of_the_state() -> None:
    s = state(count=4)
    run(s, 0, passed=True, at=10.0)
    run(s, 1, passed=False, at=12.0)
    s.backoff_until = 100.0
    snapshot = s.progress().snapshot(now=14.0)
    assert (snapshot.completed, snapshot.failed, snapshot.pending) == (1, 1, 2)
    assert snapshot.percent == 50.0 and snapshot.throughput_per_min == 30.0
    assert snapshot.backoff_until is not None  # the write path shows it too
    assert json.loads(snapshot.model_dump_json())["failure_reasons"] == {"kind:timeout": 1}
