"""The live feed: one bounded reader of a batch's log per process, shared by its viewers.

Against a real SQLite store. The log grows through the store's own control actions (a
pause and a resume log one event each); a feed is refreshed by hand where the test must
know exactly when it reads, and through the bus where the wake-up is what is tested.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bulkgen.live import feed as feed_module
from bulkgen.live.direct import DirectViewer
from bulkgen.live.feed import BatchFeed, FeedHub
from bulkgen.log import SQLStore
from bulkgen.log.bus import LocalBus
from bulkgen.models import BatchConfig

from helpers.sse import frames_of
from helpers.wait import follow_feed

HOUR = 3600.0  # a progress interval no test outlasts: progress only on a status change


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLStore]:
    opened = SQLStore(f"sqlite+aiosqlite:///{tmp_path / 'feed.db'}")
    await opened.migrate()
    yield opened
    await opened.close()


async def running_batch(store: SQLStore) -> str:
    record = await store.create_batch("ada", BatchConfig(topic="Optics", count=5), 1.0)
    await store.mark_running(record.id, 2.0)
    return record.id


async def log_pairs(store: SQLStore, batch_id: str, pairs: int) -> None:
    """Log ``2 × pairs`` events (a pause and a resume each); the batch ends running."""
    for n in range(pairs):
        await store.pause(batch_id, 3.0 + n)
        await store.resume(batch_id, 3.5 + n)


def ids(chunk: bytes) -> list[int | None]:
    return [frame.id for frame in frames_of(chunk)]


def feed(store: SQLStore, batch_id: str, *, cache_size: int = 16) -> BatchFeed:
    return BatchFeed(batch_id, store, LocalBus(), cache_size=cache_size, progress_interval=HOUR)


async def test_a_feed_of_an_empty_log_is_at_zero(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    empty = feed(store, batch_id)
    await empty.refresh()
    assert (empty.low, empty.high) == (0, 0)
    assert empty.frames_after(0) == (b"", 0)


async def test_the_ring_keeps_at_most_cache_size_frames(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    ring = feed(store, batch_id, cache_size=4)
    await log_pairs(store, batch_id, 5)
    await ring.refresh()
    assert (ring.low, ring.high) == (6, 10)  # the 4 newest frames: events 7 to 10
    chunk, cursor = ring.frames_after(ring.low)
    assert (ids(chunk), cursor) == ([7, 8, 9, 10], 10)
    assert ring.frames_after(10) == (b"", 10)


async def test_frames_after_a_cursor_are_the_newer_events_in_order(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    ring = feed(store, batch_id)
    await log_pairs(store, batch_id, 2)
    await ring.refresh()
    assert (ring.low, ring.high) == (0, 4)
    chunk, cursor = ring.frames_after(1)
    assert cursor == 4
    frames = frames_of(chunk)
    assert [(f.id, f.event) for f in frames] == [
        (2, "batch.resumed"),
        (3, "batch.paused"),
        (4, "batch.resumed"),
    ]
    logged = await store.read_events(batch_id, after=1)
    assert [f.data for f in frames] == [json.loads(e.data) for e in logged]


async def test_viewers_at_the_same_cursor_share_the_joined_bytes(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    ring = feed(store, batch_id)
    await log_pairs(store, batch_id, 1)
    await ring.refresh()
    first, _ = ring.frames_after(0)
    second, _ = ring.frames_after(0)
    assert first is second  # joined once for every viewer at that cursor
    await log_pairs(store, batch_id, 1)
    await ring.refresh()
    grown, cursor = ring.frames_after(0)
    assert grown is not first and grown.startswith(first)
    assert (ids(grown), cursor) == ([1, 2, 3, 4], 4)


async def test_progress_reflects_the_last_event_and_changes_only_when_due(
    store: SQLStore,
) -> None:
    batch_id = await running_batch(store)
    ring = feed(store, batch_id)
    await ring.refresh()
    start = ring.progress
    [frame] = frames_of(start.frame)
    assert (frame.event, frame.id, start.event_id) == ("batch.progress", 0, 0)
    assert frame.data["status"] == "running"

    await log_pairs(store, batch_id, 2)
    await ring.refresh()
    assert ring.high == 4
    assert ring.progress == start, "coalesced: not due within the progress interval"

    await store.cancel(batch_id, 9.0)  # a new status is always shown
    await ring.refresh()
    [frame] = frames_of(ring.progress.frame)
    assert (frame.id, ring.progress.event_id, ring.high) == (5, 5, 5)
    assert frame.data["status"] == "cancelled"
    assert ring.progress.version > start.version
    assert ring.finished


async def test_a_due_progress_carries_the_id_of_the_last_event(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    eager = BatchFeed(batch_id, store, LocalBus(), cache_size=16, progress_interval=0.0)
    await eager.refresh()
    await log_pairs(store, batch_id, 1)
    await eager.refresh()
    [frame] = frames_of(eager.progress.frame)
    assert (frame.id, eager.progress.event_id) == (2, 2)


# -- the hub: feeds shared by viewers, woken by the bus ----------------------------------------


def hub_of(store: SQLStore, bus: LocalBus) -> FeedHub:
    return FeedHub(store, bus, cache_size=16, progress_interval=HOUR)


async def test_viewers_share_one_feed_which_goes_with_the_last_of_them(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    hub = hub_of(store, LocalBus())
    async with hub.watch(batch_id) as first:
        async with hub.watch(batch_id) as second:
            assert second is first
            assert (hub.feeds, first.viewers) == (1, 2)
        assert (hub.feeds, first.viewers, first.closed) == (1, 1, False)
    assert (hub.feeds, first.closed) == (0, True)
    async with hub.watch(batch_id) as again:
        assert again is not first and not again.closed


async def test_viewers_arriving_together_share_one_feed(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    hub = hub_of(store, LocalBus())
    seen: list[BatchFeed] = []
    both = asyncio.Event()

    async def view() -> None:
        async with hub.watch(batch_id) as watched:
            seen.append(watched)
            if len(seen) == 2:
                both.set()
            await both.wait()

    await asyncio.gather(view(), view())
    assert len(seen) == 2 and seen[0] is seen[1]
    assert hub.feeds == 0


async def test_a_publish_makes_the_feed_read_the_new_events(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    bus = LocalBus()
    hub = hub_of(store, bus)
    async with hub.watch(batch_id) as watched:
        assert watched.high == 0
        await log_pairs(store, batch_id, 1)
        await bus.publish(batch_id)  # as the writer does after it commits
        await follow_feed(watched, lambda: watched.high == 2, what="the feed read 2 events")
        chunk, cursor = watched.frames_after(0)
        assert (ids(chunk), cursor) == ([1, 2], 2)


async def test_close_wakes_the_viewers_waiting_on_a_feed(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    hub = hub_of(store, LocalBus())
    async with hub.watch(batch_id) as watched:
        ready = asyncio.Event()

        async def viewer() -> bool:
            tick = watched.tick
            ready.set()  # runs on into the wait without yielding in between
            await tick.wait()
            return watched.closed

        waiting = asyncio.create_task(viewer())
        await ready.wait()
        assert not waiting.done()
        hub.close()  # server shutdown
        assert await asyncio.wait_for(waiting, timeout=60) is True
        assert hub.closed and hub.feeds == 0


class RecordingSink:
    """A connection that takes every write at once and keeps what it got."""

    def __init__(self, order: list[str], name: str) -> None:
        self.got = b""
        self.lost = False
        self.finished = False
        self._order, self._name = order, name

    def write(self, chunk: bytes, framed: bytes) -> bool:
        self.got += chunk
        self._order.append(self._name)
        return True

    async def drain(self) -> None:
        return None

    def on_lost(self, callback: Callable[[], None]) -> None:
        return None

    def hand_off(self) -> bool:
        return True

    def finish(self) -> None:
        self.finished = True


async def test_a_large_fan_out_gives_the_loop_back_and_every_viewer_every_event(
    store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every slice of a pass ends at once: it hands the rest over after each group.
    monkeypatch.setattr(feed_module, "_SLICE_SECONDS", 0.0)
    batch_id = await running_batch(store)
    shared = feed(store, batch_id, cache_size=64)
    await shared.refresh()
    held: list[Callable[[], None]] = []
    shared.later = held.append  # the test decides when the rest of a pass runs
    order: list[str] = []
    sinks = [RecordingSink(order, "viewer") for _ in range(300)]
    for sink in sinks:
        viewer = DirectViewer(shared, store, sink, shared.high, 0, HOUR, lambda: None)
        viewer.handed_off = True
        viewer.attach()
    await log_pairs(store, batch_id, 1)
    await shared.refresh()  # events 1-2: one group written, the rest handed over
    assert shared.passing and len(held) == 1
    first = len(order)
    assert 0 < first < len(sinks)
    await log_pairs(store, batch_id, 1)
    await shared.refresh()  # events 3-4 arrive in the middle of that pass
    while held:
        held.pop()()
    assert not shared.passing
    assert all(ids(sink.got) == [1, 2, 3, 4] for sink in sinks)
    # Viewers written before the news get it in one more write; the rest, all in one.
    assert len(order) == len(sinks) + first
    shared.close()
    assert all(sink.finished for sink in sinks)


async def test_viewers_behind_a_new_feed_share_one_read_back(
    store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = await running_batch(store)
    await log_pairs(store, batch_id, 3)  # events 1-6, logged before anyone watched
    late = feed(store, batch_id, cache_size=64)
    await late.start()
    assert (late.low, late.high) == (6, 6)  # a new feed starts at the end of the log
    reads = []
    inner = store.read_events

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(kwargs)
        return await inner(*args, **kwargs)

    monkeypatch.setattr(store, "read_events", counted)
    # A page load: viewers whose cursors are a few events behind, all at once.
    await asyncio.gather(*(late.backfill(cursor) for cursor in (2, 4, 2, 5, 3)))
    assert len(reads) == 1
    assert late.low == 0
    assert ids(late.frames_after(2)[0]) == [3, 4, 5, 6]
    await log_pairs(store, batch_id, 1)
    # New events join the ring after the ones read back (the feed polls the log).
    await follow_feed(late, lambda: late.high == 8, what="events 7 and 8")
    assert ids(late.frames_after(4)[0]) == [5, 6, 7, 8]
    late.close()


async def test_a_read_back_that_does_not_fit_leaves_the_ring_alone(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    await log_pairs(store, batch_id, 10)  # events 1-20
    small = feed(store, batch_id, cache_size=16)
    await small.start()
    await small.backfill(0)  # 20 events behind: more than the ring holds
    assert (small.low, small.high) == (20, 20)
    await small.backfill(10)  # 10 behind: they fit
    assert small.low <= 10
    assert ids(small.frames_after(10)[0]) == list(range(11, 21))
    small.close()
