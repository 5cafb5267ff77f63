"""Live feeds: one reader of a batch's log per process, shared by all its viewers.

A :class:`BatchFeed` wakes on the bus, reads the new events from the store once, frames
them once, and keeps the latest ``cache_size`` frames in a ring. Viewers (the loops in
:mod:`bulkgen.live.viewer`) copy frames from the ring from their own cursor, so a thousand
viewers cost one query per wake-up, a slow viewer only falls back to reading the store
itself, and memory stays bounded whatever the viewers do.

The feed also builds the coalesced ``batch.progress`` frame: at most one per
``progress_interval`` while events arrive, and one every few seconds while nothing does,
so time remaining keeps moving during a stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from itertools import islice
from typing import TYPE_CHECKING

from bulkgen.events import BatchProgress, dump, progress_event
from bulkgen.live.sse import encode_event, encode_logged
from bulkgen.log import Bus, Store
from bulkgen.lookups import SharedLookups
from bulkgen.metrics import events_followed
from bulkgen.models import BatchStatus, ProgressSnapshot
from bulkgen.progress import ProgressState

if TYPE_CHECKING:
    from bulkgen.live.direct import DirectViewer, Push

log = logging.getLogger(__name__)

_READ_PAGE = 2000
_IDLE_PROGRESS_SECONDS = 2.0
#: A pass over the attached viewers gives the event loop back after this long (checked
#: every ``_SLICE_CHECK`` viewers), so generation and requests go on during a large
#: fan-out; the pass continues in the loop's next turn.
_SLICE_SECONDS = 0.001
_SLICE_CHECK = 64
#: A read back into the ring brings at least this many events (when they fit), so the
#: viewers of one page load, whose cursors differ by a few events, share it.
_BACKFILL_MIN = 256


@dataclass(frozen=True, slots=True)
class ProgressFrame:
    """The latest ``batch.progress`` frame and the durable event id it reflects."""

    event_id: int
    frame: bytes
    version: int
    snapshot: ProgressSnapshot | None = None


class BatchFeed:
    """The shared, bounded view of one batch's log in this process."""

    def __init__(
        self,
        batch_id: str,
        store: Store,
        bus: Bus,
        *,
        cache_size: int,
        progress_interval: float,
        poll_seconds: float = 1.0,
        storage_fault: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.batch_id = batch_id
        self._poll_seconds = poll_seconds
        self._storage_fault = storage_fault
        self._store = store
        self._bus = bus
        self._frames: deque[tuple[int, bytes]] = deque(maxlen=cache_size)
        self._progress_interval = progress_interval
        self._min_gap = min(progress_interval / 5, 0.015)
        self.high = 0
        self._joined: dict[int, bytes] = {}
        self.status = BatchStatus.QUEUED
        self.progress = ProgressFrame(0, b"", 0)
        self._state: ProgressState | None = None
        self._progress_at = 0.0
        self._tick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.closed = False
        self.viewers = 0
        #: Viewers that kept up: written to by :meth:`_notify` (see bulkgen.live.direct).
        self.attached: set[DirectViewer] = set()
        #: The pass over ``attached`` under way: who is left, and what each cursor gets.
        self._pass: list[DirectViewer] = []
        self._pushes: dict[tuple[int, int], Push] = {}
        self._passing = False
        self._again = False
        #: Reads back into the ring, shared by the viewers that need them together.
        self._backfills: SharedLookups[int, None] = SharedLookups()
        #: Schedules the rest of a pass: the loop's next turn unless set (tests hold it).
        self.later: Callable[[Callable[[], None]], object] | None = None
        #: Users the store confirmed may see this batch (a batch's owner never changes).
        self.owners: set[str] = set()

    @property
    def low(self) -> int:
        """Viewers with a cursor at or above this read from memory; others from the store."""
        return self._frames[0][0] - 1 if self._frames else self.high

    @property
    def finished(self) -> bool:
        return self.status.finished

    @property
    def tick(self) -> asyncio.Event:
        """Set when the feed changes; take it before looking at the feed, then wait on it."""
        return self._tick

    def frames_after(self, cursor: int) -> tuple[bytes, int]:
        """Frames of events after ``cursor`` (which must be >= ``low``) and the new cursor."""
        if cursor >= self.high:
            return b"", cursor
        chunk = self._joined.get(cursor)
        if chunk is None:
            # Viewers that kept up share a cursor, so they share these bytes too.
            newest_first = [
                frame for _seq, frame in islice(reversed(self._frames), self.high - cursor)
            ]
            chunk = b"".join(reversed(newest_first))
            self._joined[cursor] = chunk
        return chunk, self.high

    async def backfill(self, cursor: int) -> None:
        """Put the events after ``cursor`` that the ring lacks (logged before this feed
        started, or dropped from it) back in front of it when they fit: a crowd opening
        a batch's page at once reads them once instead of once per viewer."""
        low = self.low
        room = (self._frames.maxlen or 0) - len(self._frames)
        if cursor >= low or low - cursor > room:
            return
        count = min(room, max(low - cursor, _BACKFILL_MIN))
        await self._backfills.get(low, lambda: self._read_back(low, count))

    async def _read_back(self, low: int, count: int) -> None:
        start = max(low - count, 0)
        page = await self._store.read_events(self.batch_id, after=start, upto=low, limit=count)
        if not page or page[-1].seq != low or self.low != low:
            return  # the ring moved meanwhile: the viewers read the store themselves
        if len(self._frames) + len(page) > (self._frames.maxlen or 0):
            return
        self._frames.extendleft(
            (event.seq, encode_logged(event.seq, event.type, event.data))
            for event in reversed(page)
        )

    async def _read_state(self) -> ProgressState:
        """The batch's progress state, with this process's storage fault, if any."""
        state = await self._store.progress_state(self.batch_id)
        fault = self._storage_fault()
        return state if fault is None else replace(state, storage_fault=fault)

    async def start(self) -> None:
        state = await self._read_state()
        self.high = state.last_seq
        self._publish_progress(state, time.time())
        self._notify()
        self._task = asyncio.create_task(self._follow(), name=f"bulkgen-feed-{self.batch_id}")

    def close(self) -> None:
        self.closed = True
        if self._task is not None:
            self._task.cancel()
        self._notify()
        # The server may be stopping: end every stream now rather than in later turns.
        for viewer in list(self.attached):
            viewer.push({}, time.monotonic())

    async def _follow(self) -> None:
        with self._bus.subscribe(self.batch_id) as subscription:
            while True:
                woken = await subscription.wait(self._poll_seconds)
                try:
                    await self.refresh(force_progress=not woken)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("feed of batch %s could not read the log", self.batch_id)
                # Coalesce: wake-ups during this pause merge into the next refresh; a
                # user's control action (urgent) ends the pause at once.
                await subscription.pause(self._min_gap)

    async def refresh(self, *, force_progress: bool = False) -> None:
        """Read what the log gained since the last refresh and tell the viewers."""
        state = await self._read_state()
        grew = state.last_seq > self.high
        while self.high < state.last_seq:
            page = await self._store.read_events(
                self.batch_id, after=self.high, upto=state.last_seq, limit=_READ_PAGE
            )
            if not page:
                break
            for event in page:
                self._frames.append((event.seq, encode_logged(event.seq, event.type, event.data)))
            events_followed(event.created_at for event in page)
            self.high = page[-1].seq
            self._joined.clear()
        now = time.time()
        changed_status = state.status is not self.status
        due = now - self._progress_at >= (
            self._progress_interval if grew else _IDLE_PROGRESS_SECONDS
        )
        # A state change without a new event (a batch starting to run, a provider's
        # back-off) is news too: control actions wake the feed through the bus.
        changed = state != self._state
        # A storage fault that starts or ends is news at once, like a new status.
        changed_fault = self._state is not None and state.storage_fault != self._state.storage_fault
        if changed_status or changed_fault or (due and (grew or force_progress or changed)):
            self._publish_progress(state, now)
            self._notify()  # the new events and their progress in one pass
        elif grew:
            self._notify()

    def _publish_progress(self, state: ProgressState, now: float) -> None:
        """A new ``batch.progress`` frame (the caller tells the viewers)."""
        self.status = state.status
        self._state = state
        snapshot = state.snapshot(now)
        frame = encode_event(
            BatchProgress.name, dump(progress_event(BatchProgress, snapshot)), state.last_seq
        )
        self.progress = ProgressFrame(state.last_seq, frame, self.progress.version + 1, snapshot)
        self._progress_at = now

    def _notify(self) -> None:
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()
        if self._passing:
            # Mid-pass: the rest of it writes the new frames; those already written get
            # them in one more pass.
            self._pushes.clear()
            self._again = True
        elif self.attached:
            self._passing = True
            self._start_pass()

    @property
    def passing(self) -> bool:
        """A pass over the attached viewers is under way (it goes on in later turns)."""
        return self._passing

    def _start_pass(self) -> None:
        """One pass writes every attached viewer; those at one cursor share the bytes."""
        self._pass = list(self.attached)
        self._pushes = {}
        self._again = False
        self._continue_pass()

    def _continue_pass(self) -> None:
        viewers, attached, pushes = self._pass, self.attached, self._pushes
        now = time.monotonic()
        stop = time.perf_counter() + _SLICE_SECONDS
        while viewers:
            for viewer in viewers[-_SLICE_CHECK:]:
                if viewer in attached:  # not left meanwhile
                    viewer.push(pushes, now)
            del viewers[-_SLICE_CHECK:]
            if viewers and time.perf_counter() > stop:
                (self.later or asyncio.get_running_loop().call_soon)(self._continue_pass)
                return
        if self._again and self.attached:
            self._start_pass()
        else:
            self._passing = False


class FeedHub:
    """Creates a batch's feed for its first viewer and drops it after the last leaves."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        *,
        cache_size: int,
        progress_interval: float,
        poll_seconds: float = 1.0,
        storage_fault: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._poll_seconds = poll_seconds
        self._storage_fault = storage_fault
        self._cache_size = cache_size
        self._progress_interval = progress_interval
        self._feeds: dict[str, BatchFeed] = {}
        #: Feeds being started, shared by the viewers that arrive meanwhile.
        self._starting: SharedLookups[str, BatchFeed] = SharedLookups()
        self.closed = False

    @contextlib.asynccontextmanager
    async def watch(self, batch_id: str) -> AsyncIterator[BatchFeed]:
        feed = await self.join(batch_id)
        try:
            yield feed
        finally:
            self.leave(feed)

    async def join(self, batch_id: str) -> BatchFeed:
        """The batch's feed, counting one more viewer; :meth:`leave` it once."""
        feed = await self._acquire(batch_id)
        feed.viewers += 1
        return feed

    def leave(self, feed: BatchFeed) -> None:
        feed.viewers -= 1
        if feed.viewers == 0 and self._feeds.get(feed.batch_id) is feed:
            del self._feeds[feed.batch_id]
            feed.close()

    async def _acquire(self, batch_id: str) -> BatchFeed:
        feed = self._feeds.get(batch_id)
        if feed is not None:
            return feed
        return await self._starting.get(batch_id, lambda: self._start(batch_id))

    async def _start(self, batch_id: str) -> BatchFeed:
        feed = BatchFeed(
            batch_id,
            self._store,
            self._bus,
            cache_size=self._cache_size,
            progress_interval=self._progress_interval,
            poll_seconds=self._poll_seconds,
            storage_fault=self._storage_fault,
        )
        await feed.start()
        self._feeds[batch_id] = feed
        return feed

    def current(self, batch_id: str) -> BatchFeed | None:
        """The batch's feed if someone watches it in this process."""
        return self._feeds.get(batch_id)

    def close(self) -> None:
        """End every live stream (server shutdown); browsers reconnect elsewhere or later."""
        self.closed = True
        for feed in list(self._feeds.values()):
            feed.close()
        self._feeds.clear()

    @property
    def feeds(self) -> int:
        return len(self._feeds)
