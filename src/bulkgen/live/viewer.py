"""The loops that feed viewers: one batch's stream from a cursor, and the history stream.

Connection lifecycle lives here; framing is in :mod:`bulkgen.live.sse` and reading the
log in :mod:`bulkgen.live.feed`. One viewer's loop::

    retry: frame
    no cursor  → the feed's latest batch.progress (its id becomes the cursor)
    loop:
      cursor < feed.low   → page of events from the store (a viewer far behind)
      cursor < feed.high  → frames from the feed's ring, one write for the burst
      progress newer and reflecting exactly the cursor → batch.progress
      finished and at the end → return (the stream ends after batch.complete)
      otherwise wait for the feed's tick, or send a heartbeat comment
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack

from bulkgen.events import BatchesProgress, dump
from bulkgen.live.feed import FeedHub
from bulkgen.live.sse import encode_comment, encode_event, encode_logged, encode_retry
from bulkgen.log import Store
from bulkgen.logs import working_on

_CATCH_UP_PAGE = 500


async def viewer_frames(
    hub: FeedHub,
    store: Store,
    batch_id: str,
    cursor: int | None,
    *,
    retry_ms: int,
    heartbeat: float,
) -> AsyncIterator[bytes]:
    """The bytes one viewer receives, from ``cursor`` (or a snapshot) to the end."""
    working_on(batch_id)
    yield encode_retry(retry_ms)
    async with hub.watch(batch_id) as feed:
        sent_progress = 0
        if cursor is None:
            if feed.finished:
                final = await store.read_events(batch_id, after=feed.high - 1, upto=feed.high)
                for event in final:
                    yield encode_logged(event.seq, event.type, event.data)
                return
            progress = feed.progress
            yield progress.frame
            cursor, sent_progress = progress.event_id, progress.version
        last_write = time.monotonic()
        while not feed.closed:
            tick = feed.tick
            chunk = b""
            if cursor < feed.low:
                page = await store.read_events(
                    batch_id, after=cursor, upto=feed.high, limit=_CATCH_UP_PAGE
                )
                chunk = b"".join(encode_logged(e.seq, e.type, e.data) for e in page)
                cursor = page[-1].seq if page else feed.high
            elif cursor < feed.high:
                chunk, cursor = feed.frames_after(cursor)
            progress = feed.progress
            # A finished batch's final progress already went out just before batch.complete.
            fresh = progress.version != sent_progress and progress.event_id == cursor
            if fresh and not feed.finished:
                chunk += progress.frame
                sent_progress = progress.version
            if chunk:
                yield chunk
                last_write = time.monotonic()
                continue
            if feed.finished and cursor >= feed.high:
                return
            quiet_for = heartbeat - (time.monotonic() - last_write)
            if quiet_for <= 0:
                yield encode_comment("heartbeat")
                last_write = time.monotonic()
                continue
            try:
                async with asyncio.timeout(quiet_for):
                    await tick.wait()
            except TimeoutError:
                pass


async def batches_frames(
    hub: FeedHub, batch_ids: Sequence[str], *, retry_ms: int, heartbeat: float
) -> AsyncIterator[bytes]:
    """Each watched batch's latest progress whenever it changes; ends when all finished."""
    yield encode_retry(retry_ms)
    async with AsyncExitStack() as stack:
        feeds = [await stack.enter_async_context(hub.watch(b)) for b in batch_ids]
        sent = dict.fromkeys(batch_ids, 0)
        last_write = time.monotonic()
        while not any(feed.closed for feed in feeds):
            ticks = [feed.tick for feed in feeds]
            chunk = b""
            for feed in feeds:
                progress = feed.progress
                if progress.version != sent[feed.batch_id]:
                    if progress.snapshot is not None:
                        event = BatchesProgress(batch_id=feed.batch_id, progress=progress.snapshot)
                        chunk += encode_event(event.name, dump(event))
                    sent[feed.batch_id] = progress.version
            if chunk:
                yield chunk
                last_write = time.monotonic()
                continue
            if all(feed.finished for feed in feeds):
                return
            quiet_for = heartbeat - (time.monotonic() - last_write)
            if quiet_for <= 0:
                yield encode_comment("heartbeat")
                last_write = time.monotonic()
                continue
            waiters = [asyncio.ensure_future(tick.wait()) for tick in ticks]
            _done, pending = await asyncio.wait(
                waiters, timeout=quiet_for, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()
