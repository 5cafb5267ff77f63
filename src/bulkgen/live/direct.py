"""Viewers written to by the feed itself: no wake-up, no task step per viewer and event.

A viewer that has caught up with its batch's feed is *attached* to it: when the feed
gains frames, it writes them to every attached viewer's connection in one pass
(:meth:`BatchFeed._notify` → :meth:`DirectViewer.push`), the same bytes and the same
HTTP chunk for every viewer at the same cursor. The viewer's own coroutine sleeps on one
future meanwhile and only runs again to end the stream, or to catch up through ordinary
awaited writes when it fell behind::

    retry: and the start (snapshot, or events after the cursor), awaited writes
    loop:
      behind the feed's ring   → a page from the store, awaited write
      behind the feed's high   → the ring's frames, awaited write
      caught up                → attach; sleep until detached:
                                   END   the batch finished (batch.complete written) or the
                                         server shuts down → end the stream
                                   LOST  the client went away → stop
                                   BEHIND the connection took no more (its buffer is full)
                                         → wait until it drains, catch up, attach again

Heartbeats of an attached viewer come from one timer per viewer that fires once per
heartbeat period and writes a comment only when nothing else went out meanwhile.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from bulkgen.live.sse import encode_comment, encode_logged, encode_retry
from bulkgen.log import Store
from bulkgen.logs import working_on

if TYPE_CHECKING:
    from bulkgen.live.feed import BatchFeed, FeedHub

_CATCH_UP_PAGE = 500
_HEARTBEAT = encode_comment("heartbeat")


class Sink(Protocol):
    """A streaming response's connection, written to without awaiting."""

    @property
    def lost(self) -> bool:
        """The client went away."""
        ...

    def write(self, chunk: bytes, framed: bytes) -> bool:
        """Write ``chunk`` (``framed``: the same as one HTTP/1.1 chunk) if the connection
        takes it now; False when it is lost or its buffer is full."""
        ...

    async def drain(self) -> None:
        """Wait until the connection's buffer has room again (or it is lost)."""
        ...

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once when the client goes away."""
        ...


class Detached(enum.Enum):
    END = "end"
    LOST = "lost"
    BEHIND = "behind"


def http_chunk(chunk: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(chunk), chunk)


#: What every attached viewer at one (cursor, progress version) gets from one push:
#: the bytes, framed, the new cursor and progress version, and whether the stream ends.
Push = tuple[bytes, bytes, int, int, bool]


class DirectViewer:
    """One attached viewer's place in the feed and the future its coroutine waits on."""

    __slots__ = ("_heartbeat", "_timer", "_waiter", "cursor", "last_write", "sent_progress", "sink")

    def __init__(self, sink: Sink, cursor: int, sent_progress: int, heartbeat: float) -> None:
        self.sink = sink
        self.cursor = cursor
        self.sent_progress = sent_progress
        self.last_write = time.monotonic()
        self._heartbeat = heartbeat
        self._waiter: asyncio.Future[Detached] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def attach(self, feed: BatchFeed) -> asyncio.Future[Detached]:
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        feed.attached.add(self)
        self._timer = loop.call_at(loop.time() + self._quiet_left(), self._beat, feed)
        return self._waiter

    def detach(self, feed: BatchFeed, why: Detached) -> None:
        feed.attached.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(why)
        self._waiter = None

    def push(self, feed: BatchFeed, pushes: dict[tuple[int, int], Push], now: float) -> None:
        """Write what the feed gained since this viewer's cursor (see the module's doc)."""
        if feed.closed:
            self.detach(feed, Detached.END)
            return
        if self.cursor < feed.low:
            self.detach(feed, Detached.BEHIND)
            return
        key = (self.cursor, self.sent_progress)
        push = pushes.get(key)
        if push is None:
            push = pushes[key] = _next_push(feed, self.cursor, self.sent_progress)
        chunk, framed, cursor, sent, end = push
        if chunk:
            if not self.sink.write(chunk, framed):
                self.detach(feed, Detached.LOST if self.sink.lost else Detached.BEHIND)
                return
            self.cursor, self.sent_progress, self.last_write = cursor, sent, now
        if end:
            self.detach(feed, Detached.END)

    def _quiet_left(self) -> float:
        return max(0.0, self._heartbeat - (time.monotonic() - self.last_write))

    def _beat(self, feed: BatchFeed) -> None:
        self._timer = None
        if self._waiter is None:
            return
        if self._quiet_left() <= 0:
            if not self.sink.write(_HEARTBEAT, http_chunk(_HEARTBEAT)):
                self.detach(feed, Detached.LOST if self.sink.lost else Detached.BEHIND)
                return
            self.last_write = time.monotonic()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + self._quiet_left(), self._beat, feed)


def _next_push(feed: BatchFeed, cursor: int, sent_progress: int) -> Push:
    chunk, new_cursor = feed.frames_after(cursor)
    progress = feed.progress
    # A finished batch's final progress already went out just before batch.complete.
    fresh = progress.version != sent_progress and progress.event_id == new_cursor
    if fresh and not feed.finished:
        chunk += progress.frame
        sent_progress = progress.version
    end = feed.finished and new_cursor >= feed.high
    return chunk, http_chunk(chunk) if chunk else b"", new_cursor, sent_progress, end


async def follow(
    hub: FeedHub,
    store: Store,
    batch_id: str,
    cursor: int | None,
    write: Callable[[bytes], Awaitable[None]],
    sink: Sink,
    *,
    retry_ms: int,
    heartbeat: float,
) -> None:
    """Send one viewer its stream from ``cursor`` (or a snapshot) to the end: ``write``
    awaits the connection, ``sink`` is written to by the feed while the viewer keeps up."""
    working_on(batch_id)
    await write(encode_retry(retry_ms))
    async with hub.watch(batch_id) as feed:
        sent_progress = 0
        if cursor is None:
            if feed.finished:
                final = await store.read_events(batch_id, after=feed.high - 1, upto=feed.high)
                await write(b"".join(encode_logged(e.seq, e.type, e.data) for e in final))
                return
            progress = feed.progress
            await write(progress.frame)
            cursor, sent_progress = progress.event_id, progress.version
        viewer = DirectViewer(sink, cursor, sent_progress, heartbeat)
        sink.on_lost(lambda: viewer.detach(feed, Detached.LOST))
        while not feed.closed and not sink.lost:
            if viewer.cursor < feed.low:
                page = await store.read_events(
                    batch_id, after=viewer.cursor, upto=feed.high, limit=_CATCH_UP_PAGE
                )
                viewer.cursor = page[-1].seq if page else feed.high
                await write(b"".join(encode_logged(e.seq, e.type, e.data) for e in page))
                continue
            chunk, _framed, cursor, sent, end = _next_push(
                feed, viewer.cursor, viewer.sent_progress
            )
            if chunk:
                viewer.cursor, viewer.sent_progress = cursor, sent
                viewer.last_write = time.monotonic()
                await write(chunk)
                continue
            if end:
                return
            why = await viewer.attach(feed)
            if why is not Detached.BEHIND:
                return
            await sink.drain()
