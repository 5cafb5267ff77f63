"""The event registry: one typed model per event, the same names everywhere."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bulkgen import events
from bulkgen.models import ItemStatus, ProgressSnapshot


def test_every_event_is_registered_once_under_its_own_name() -> None:
    assert len(events.EVENT_NAMES) == len(set(events.EVENT_NAMES)) == len(events.EVENTS)
    for name, model in events.EVENTS.items():
        assert model.name == name
        assert events.describe(name), f"{name} has no description"


def test_derived_events_are_the_two_progress_events() -> None:
    assert set(events.EVENT_NAMES) - events.DURABLE == {"batch.progress", "batches.progress"}
    assert {
        "item.started",
        "item.completed",
        "item.failed",
        "item.requeued",
        "item.queued",
    } == events.ITEM_EVENTS


def snapshot() -> ProgressSnapshot:
    return ProgressSnapshot(
        total=2,
        completed=1,
        failed=0,
        in_progress=1,
        pending=0,
        percent=50.0,
        success_rate=1.0,
        throughput_per_min=None,
        eta_seconds=None,
        elapsed_seconds=1.0,
        status="running",
        started_at=None,
        finished_at=None,
    )


@pytest.mark.parametrize(
    "event",
    [
        events.ItemStarted(index=3, status=ItemStatus.IN_PROGRESS, attempts=0),
        events.ItemFailed(index=1, status=ItemStatus.FAILED, attempts=2),
        events.BatchPaused(reason="manual", message="paused by a user", snapshot=snapshot()),
        events.BatchResumed(snapshot=snapshot()),
        events.progress_event(events.BatchProgress, snapshot()),
        events.progress_event(events.BatchComplete, snapshot()),
        events.BatchesProgress(batch_id="b1", progress=snapshot()),
    ],
    ids=lambda event: event.name,
)
def test_events_survive_the_wire(event: events.Event) -> None:
    data = events.dump(event)
    assert "\n" not in data  # one SSE data line
    again = events.parse(event.name, data)
    assert type(again) is type(event) and again == event


def test_item_events_carry_the_item_summary_shape() -> None:
    started = events.ItemStarted(index=0, status=ItemStatus.IN_PROGRESS, attempts=0)
    assert events.dump(started).startswith('{"index":0,"status":"in_progress"')


def test_unknown_names_and_bad_data_are_refused() -> None:
    with pytest.raises(KeyError):
        events.parse("item.exploded", "{}")
    with pytest.raises(ValidationError):
        events.parse("batch.paused", '{"reason": "bored"}')
