"""The event-log seam: every write goes through EventLog, which commits and then wakes viewers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import pytest

from bulkgen.errors import Conflict
from bulkgen.log import (
    Bus,
    EventLog,
    FinishItem,
    LocalBus,
    SQLStore,
    StartItem,
    Store,
    Subscription,
)
from bulkgen.models import BatchConfig, BatchStatus, EarlyStop, ItemError, ItemStatus

OWNER = "ada"


class RecordingBus:
    """A LocalBus that records each publish with the log head the store shows at that moment:
    a wake-up that came before the commit would see an older head."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.inner = LocalBus()
        self.published: list[tuple[str, int]] = []
        self.urgent: list[bool] = []

    async def publish(self, batch_id: str, *, urgent: bool = False) -> None:
        record = await self.store.get_batch(batch_id, None)
        self.published.append((batch_id, record.last_seq))
        self.urgent.append(urgent)
        await self.inner.publish(batch_id, urgent=urgent)

    def subscribe(self, batch_id: str) -> AbstractContextManager[Subscription]:
        return self.inner.subscribe(batch_id)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLStore]:
    store = SQLStore(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}")
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture
async def bus(store: SQLStore) -> RecordingBus:
    return RecordingBus(store)


@pytest.fixture
async def log(store: SQLStore, bus: Bus) -> AsyncIterator[EventLog]:
    event_log = EventLog(store, bus, max_group=100)
    event_log.start()
    yield event_log
    await event_log.close()


async def running(log: EventLog, count: int = 4, **config: object) -> str:
    record = await log.create_batch(OWNER, BatchConfig(topic="Optics", count=count, **config))
    await log.mark_running(record.id)
    return record.id


def failed(batch_id: str, index: int, at: float = 2.0) -> FinishItem:
    error = ItemError(kind="timeout", message="slow", transient=True)
    return FinishItem(batch_id, index, ItemStatus.FAILED, at, error=error)


@contextmanager
def watching(bus: Bus, batch_id: str) -> Iterator[Subscription]:
    with bus.subscribe(batch_id) as subscription:
        yield subscription


async def test_a_receipt_tells_what_the_commit_applied(
    log: EventLog, store: SQLStore, bus: RecordingBus
) -> None:
    batch_id = await running(log)
    started = await log.submit_with_receipt(StartItem(batch_id, 0, 1.0))
    again = await log.submit_with_receipt(StartItem(batch_id, 0, 1.5))  # no longer pending
    await log.flush()
    assert started.done() and again.done()
    assert batch_id in started.result().batches
    assert bus.urgent[-1] is False  # item commits are coalesced by the feeds
    assert (await store.get_batch(batch_id, None)).counts.in_progress == 1
    # Both were in one transaction, whose receipt counts the skipped change.
    assert again.result().rejected == 1


async def test_changes_queued_together_commit_in_one_transaction(log: EventLog) -> None:
    batch_id = await running(log, count=50)
    before = log.transactions
    receipts = [await log.submit_with_receipt(StartItem(batch_id, i, 1.0)) for i in range(50)]
    await log.flush()
    assert log.transactions == before + 1
    assert len({id(receipt.result()) for receipt in receipts}) == 1


async def test_every_control_action_publishes_after_its_commit(
    log: EventLog, store: SQLStore, bus: RecordingBus
) -> None:
    batch_id = await running(log)
    await log.submit(StartItem(batch_id, 0, 1.0))
    await log.submit(failed(batch_id, 0))
    await log.flush()
    actions: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("pause", lambda: log.pause(batch_id)),
        ("resume", lambda: log.resume(batch_id)),
        ("backoff", lambda: log.set_backoff(batch_id, 99.0)),
        ("cancel", lambda: log.cancel(batch_id)),
        ("retry", lambda: log.requeue_failed(batch_id)),
        ("run", lambda: log.mark_running(batch_id)),
        ("fail", lambda: log.fail_batch(batch_id, "the provider is gone")),
    ]
    for name, action in actions:
        with watching(bus, batch_id) as subscription:
            await action()
            head = (await store.get_batch(batch_id, None)).last_seq
            assert await subscription.wait(0), f"{name} woke no viewer"
        # Published once the commit was visible: the head at publish time is the final one.
        assert bus.published[-1] == (batch_id, head), name
        assert bus.urgent[-1], f"{name} is a user's action: its wake-up skips coalescing"
    record = await store.get_batch(batch_id, None)
    assert record.status is BatchStatus.FAILED and record.error == "the provider is gone"


async def test_control_actions_wait_for_the_changes_queued_before_them(
    log: EventLog, store: SQLStore
) -> None:
    batch_id = await running(log, count=2)
    await log.submit(StartItem(batch_id, 0, 1.0))
    await log.submit(FinishItem(batch_id, 0, ItemStatus.COMPLETED, 2.0))
    await log.submit(StartItem(batch_id, 1, 2.0))
    # No flush: the cancel is queued behind the changes and sees them committed.
    cancelled = await log.cancel(batch_id)
    assert cancelled.status is BatchStatus.CANCELLED
    assert (cancelled.counts.completed, cancelled.counts.failed) == (1, 1)
    events = await store.read_events(batch_id, after=0)
    assert [e.type for e in events] == [
        "item.started",
        "item.completed",
        "item.started",
        "item.failed",
        "batch.complete",
    ]
    assert json.loads(events[3].data)["error"]["kind"] == "cancelled"


async def test_a_refused_action_reaches_its_caller_and_the_log_goes_on(
    log: EventLog, store: SQLStore, bus: RecordingBus
) -> None:
    batch_id = await running(log)
    published = len(bus.published)
    with pytest.raises(Conflict):
        await log.resume(batch_id)  # not paused
    assert len(bus.published) == published  # nothing committed, nobody woken
    await log.pause(batch_id)
    assert (await store.get_batch(batch_id, None)).status is BatchStatus.PAUSED


async def test_the_early_stop_comes_back_on_the_receipt(log: EventLog) -> None:
    rule = EarlyStop(enabled=True, min_finished=2, max_failure_rate=0.5)
    batch_id = await running(log, count=6, early_stop=rule)
    for index in range(2):
        await log.submit(StartItem(batch_id, index, 1.0))
    first = await log.submit_with_receipt(failed(batch_id, 0))
    await log.flush()
    assert batch_id not in first.result().paused  # one finish: not judged yet
    second = await log.submit_with_receipt(failed(batch_id, 1))
    await log.flush()
    assert second.result().paused == {batch_id}


async def test_recovery_puts_interrupted_items_back_and_names_the_batches_to_run(
    log: EventLog, store: SQLStore
) -> None:
    batch_id = await running(log, count=3)
    paused_id = await running(log, count=3)
    for target in (batch_id, paused_id):
        await log.submit(StartItem(target, 0, 1.0))
    await log.flush()
    await log.pause(paused_id)
    assert await log.recover() == [batch_id]
    for target in (batch_id, paused_id):
        record = await store.get_batch(target, None)
        assert (record.counts.pending, record.counts.in_progress) == (3, 0)
        events = await store.read_events(target, after=0)
        assert events[-1].type == "item.requeued"


# -- through a real server: control events reach open streams on the bus ------------------


def read_until(lines: Iterator[str], wanted: str, limit: int = 500) -> list[str]:
    """Event names read from an open stream's lines up to and including ``wanted``."""
    names: list[str] = []
    for line in lines:
        if line.startswith("event: "):
            names.append(line.removeprefix("event: "))
            if names[-1] == wanted:
                return names
        assert len(names) < limit, f"no {wanted} in {limit} events"
    raise AssertionError(f"the stream ended without {wanted}: {names}")


def test_pause_and_cancel_reach_an_open_stream_through_the_bus(make_server) -> None:  # type: ignore[no-untyped-def]
    # The feed's poll is an hour: only a wake-up on the bus can bring an event in time.
    # One item generates for a minute, so no item commit wakes the feed meanwhile either.
    live = make_server(feed_poll_seconds=3600)
    body = {
        "topic": "Renal physiology",
        "count": 20,
        "concurrency": 1,
        "generator_options": {"latency_ms": [60000, 60000], "fail_rate": 0, "invalid_rate": 0},
    }
    with httpx.Client(base_url=live.url, timeout=30) as http:
        batch_id = http.post("/api/generation/batch", json=body).json()["id"]
        url = f"/api/generation/batch/{batch_id}/progress"
        with httpx.Client(base_url=live.url, timeout=30) as viewer, viewer.stream("GET", url) as s:
            lines = s.iter_lines()
            assert read_until(lines, "batch.progress") == ["batch.progress"]
            assert http.post(f"/api/generation/batch/{batch_id}/pause").status_code == 200
            assert read_until(lines, "batch.paused")[-1] == "batch.paused"
            assert http.post(f"/api/generation/batch/{batch_id}/cancel").status_code == 200
            seen = read_until(lines, "batch.complete")
            assert "item.failed" in seen  # the item in flight, failed as cancelled
        final = http.get(f"/api/generation/batch/{batch_id}").json()
        assert final["status"] == "cancelled"


def test_control_events_wake_the_feed_alone(tmp_path: Path) -> None:
    """Unit-level twin of the test above: a feed whose poll never fires still follows a
    pause, a resume and a cancel."""
    from bulkgen.live import FeedHub

    async def scenario() -> list[str]:
        store = SQLStore(f"sqlite+aiosqlite:///{tmp_path / 'feed.db'}")
        await store.migrate()
        bus = LocalBus()
        event_log = EventLog(store, bus, max_group=10)
        event_log.start()
        hub = FeedHub(store, bus, cache_size=64, progress_interval=0.25, poll_seconds=3600)
        try:
            batch_id = await running(event_log)
            async with hub.watch(batch_id) as feed:
                seen: list[str] = []
                for action in (event_log.pause, event_log.resume, event_log.cancel):
                    head = feed.high
                    tick = feed.tick
                    await action(batch_id)
                    await asyncio.wait_for(tick.wait(), timeout=30)
                    frames, _ = feed.frames_after(head)
                    seen += [
                        line.removeprefix(b"event: ").decode()
                        for line in frames.splitlines()
                        if line.startswith(b"event: ")
                    ]
                return seen
        finally:
            hub.close()
            await event_log.close()
            await store.close()

    seen = asyncio.run(scenario())
    assert seen == ["batch.paused", "batch.resumed", "batch.progress", "batch.complete"]
