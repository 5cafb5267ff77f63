"""Viewers written to by the feed itself: no task and no wake-up per viewer and event.

A viewer that has caught up with its batch's feed is *attached* to it: when the feed
gains frames, it writes them to every attached viewer's connection in one pass
(:meth:`BatchFeed._notify` → :meth:`DirectViewer.push`), the same bytes and the same
HTTP chunk for every viewer at the same cursor. Once attached, the request's ASGI task
ends (the connection carries on, :meth:`Sink.hand_off`): a quiet viewer is a few objects
and a socket, not a task with a stack of coroutines. A task runs again only to catch up
when the viewer fell behind::

    request task: retry: and the start (snapshot, or events after the cursor), caught up
                  with awaited writes → attach, hand the connection off, return
    feed pass:    frames written to each attached viewer, then for one that is
                    END    at the end of a finished batch (or the server shuts down)
                           → the last chunk, the exchange is complete
                    LOST   gone (the client left) → forgotten
                    BEHIND its connection took no more (buffer full)
                           → a task waits until it drains, catches up, attaches again

Heartbeats of an attached viewer come from one timer per viewer that fires once per
heartbeat period and writes a comment only when nothing else went out meanwhile.
"""

from __future__ import annotations

import asyncio
import enum
import logging
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
_HEARTBEAT_CHUNK = b"%x\r\n%b\r\n" % (len(_HEARTBEAT), _HEARTBEAT)
log = logging.getLogger(__name__)


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

    def hand_off(self) -> bool:
        """Let the request's task end while the response goes on; False if it cannot."""
        ...

    def finish(self) -> None:
        """End the response of a handed-off connection (the last chunk)."""
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
    """One viewer of a batch's stream: its place in the feed and what ends it."""

    __slots__ = (
        "_end",
        "_heartbeat",
        "_timer",
        "_write",
        "cursor",
        "feed",
        "handed_off",
        "last_write",
        "sent_progress",
        "sink",
        "store",
    )

    def __init__(
        self,
        feed: BatchFeed,
        store: Store,
        sink: Sink,
        cursor: int,
        sent_progress: int,
        heartbeat: float,
        end: Callable[[], None],
    ) -> None:
        self.feed = feed
        self.store = store
        self.sink = sink
        self.cursor = cursor
        self.sent_progress = sent_progress
        self.last_write = time.monotonic()
        self.handed_off = False
        self._heartbeat = heartbeat
        self._timer: asyncio.TimerHandle | None = None
        self._end: Callable[[], None] | None = end

    async def catch_up(self, write: Callable[[bytes], Awaitable[None]]) -> bool:
        """Send what the viewer lacks with awaited writes; True at the end of the stream."""
        feed = self.feed
        while not feed.closed and not self.sink.lost:
            if self.cursor < feed.low:
                await feed.backfill(self.cursor)
            if self.cursor < feed.low:
                page = await self.store.read_events(
                    feed.batch_id, after=self.cursor, upto=feed.high, limit=_CATCH_UP_PAGE
                )
                self.cursor = page[-1].seq if page else feed.high
                await write(b"".join(encode_logged(e.seq, e.type, e.data) for e in page))
                continue
            chunk, _framed, cursor, sent, end = _next_push(feed, self.cursor, self.sent_progress)
            if chunk:
                self.cursor, self.sent_progress = cursor, sent
                self.last_write = time.monotonic()
                await write(chunk)
                continue
            return end
        return True

    def attach(self) -> None:
        loop = asyncio.get_running_loop()
        self.feed.attached.add(self)
        self._timer = loop.call_at(loop.time() + self._quiet_left(), self._beat)

    def detach(self, why: Detached) -> None:
        self.feed.attached.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if why is Detached.BEHIND and not self.sink.lost:
            task = asyncio.get_running_loop().create_task(self._resume())
            _resuming.add(task)
            task.add_done_callback(_resuming.discard)
            return
        if why is Detached.END and self.handed_off and not self.sink.lost:
            self.sink.finish()
        self.ended()

    def ended(self) -> None:
        """Leave the feed and release the stream, once."""
        end, self._end = self._end, None
        if end is not None:
            end()

    async def _resume(self) -> None:
        try:
            await self.sink.drain()
            if await self.catch_up(self._write_direct):
                self.detach(Detached.END)
            else:
                self.attach()
        except Exception:
            log.exception("a live stream of batch %s failed", self.feed.batch_id)
            self.ended()

    async def _write_direct(self, chunk: bytes) -> None:
        framed = http_chunk(chunk)
        while chunk and not self.sink.write(chunk, framed):
            if self.sink.lost:
                return
            await self.sink.drain()

    def push(self, pushes: dict[tuple[int, int], Push], now: float) -> None:
        """Write what the feed gained since this viewer's cursor (see the module's doc)."""
        feed = self.feed
        if feed.closed:
            self.detach(Detached.END)
            return
        if self.cursor < feed.low:
            self.detach(Detached.BEHIND)
            return
        key = (self.cursor, self.sent_progress)
        push = pushes.get(key)
        if push is None:
            push = pushes[key] = _next_push(feed, self.cursor, self.sent_progress)
        chunk, framed, cursor, sent, end = push
        if chunk:
            if not self.sink.write(chunk, framed):
                self.detach(Detached.LOST if self.sink.lost else Detached.BEHIND)
                return
            self.cursor, self.sent_progress, self.last_write = cursor, sent, now
        if end:
            self.detach(Detached.END)

    def _quiet_left(self) -> float:
        return max(0.0, self._heartbeat - (time.monotonic() - self.last_write))

    def _beat(self) -> None:
        self._timer = None
        if self._quiet_left() <= 0:
            if not self.sink.write(_HEARTBEAT, _HEARTBEAT_CHUNK):
                self.detach(Detached.LOST if self.sink.lost else Detached.BEHIND)
                return
            self.last_write = time.monotonic()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + self._quiet_left(), self._beat)


#: Catch-up tasks of handed-off viewers (held so they are not collected while they run).
_resuming: set[asyncio.Task[None]] = set()


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
    end: Callable[[], None],
) -> bool:
    """Start one viewer's stream from ``cursor`` (or a snapshot) with ``write`` (awaited,
    the request's own writes), then attach it to the feed and hand the connection off.

    True when the stream was handed off: it goes on without the caller, and ``end`` is
    called once when it is over. False when it is already over (``end`` was called):
    the caller ends the response."""
    working_on(batch_id)
    try:
        await write(encode_retry(retry_ms))
        feed = await hub.join(batch_id)
    except BaseException:
        end()
        raise

    def leave() -> None:
        hub.leave(feed)
        end()

    if cursor is None and feed.finished:
        try:
            final = await store.read_events(batch_id, after=feed.high - 1, upto=feed.high)
            await write(b"".join(encode_logged(e.seq, e.type, e.data) for e in final))
        finally:
            leave()
        return False
    sent_progress = 0
    first = b""
    if cursor is None:
        progress = feed.progress
        cursor, sent_progress, first = progress.event_id, progress.version, progress.frame
    viewer = DirectViewer(feed, store, sink, cursor, sent_progress, heartbeat, leave)
    try:
        if first:
            await write(first)
        if await viewer.catch_up(write) or not sink.hand_off():
            viewer.ended()
            return False
    except BaseException:
        viewer.ended()
        raise
    viewer.handed_off = True
    sink.on_lost(lambda: viewer.detach(Detached.LOST))
    viewer.attach()
    return True
