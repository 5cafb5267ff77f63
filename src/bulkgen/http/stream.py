"""The SSE endpoint and the loop that feeds one viewer.

Connection lifecycle lives here; framing is in ``bulkgen.live.sse`` and reading the log in
``bulkgen.live.feed``. One viewer's loop::

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
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.sse import EventSourceResponse

from bulkgen.errors import InvalidCursor
from bulkgen.events import BATCHES_PROGRESS
from bulkgen.http.deps import OwnerDep, ServicesDep
from bulkgen.live.feed import FeedHub
from bulkgen.live.sse import encode_comment, encode_event, encode_logged, encode_retry
from bulkgen.log.store import Store

router = APIRouter(tags=["stream"])

MAX_CURSOR = 2**53
_CATCH_UP_PAGE = 500

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def parse_cursor(value: str | None) -> int | None:
    """A resume cursor from ``Last-Event-ID`` or ``?after=``: a sequence number >= 0."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not text.isdigit() or int(text) > MAX_CURSOR:
        raise InvalidCursor(
            f"invalid event id {value[:40]!r}: expected a non-negative integer event id"
        )
    return int(text)


@router.get(
    "/api/generation/batch/{batch_id}/progress",
    response_class=Response,
    responses={
        200: {
            "description": "The batch's events as Server-Sent Events",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        204: {"description": "The cursor is at the end of a finished batch: stop"},
        400: {"description": "Malformed cursor"},
        404: {"description": "No such batch, or not one of the caller's"},
    },
)
async def progress_stream(
    batch_id: str,
    owner: OwnerDep,
    services: ServicesDep,
    after: Annotated[str | None, Query(description="Resume after this event id")] = None,
    last_event_id: Annotated[str | None, Header(description="Resume cursor")] = None,
) -> Response:
    """Stream the batch's events; resume with ``Last-Event-ID`` or ``?after=``."""
    # The header wins: a browser reconnecting to a URL that carries ?after= sends the
    # newer position in Last-Event-ID.
    cursor = parse_cursor(last_event_id) if last_event_id else parse_cursor(after)
    record = await services.store.get_batch(batch_id, owner)
    if cursor is not None and cursor >= record.last_seq:
        if record.status.finished:
            return Response(status_code=204, headers=STREAM_HEADERS)
        if cursor > record.last_seq:
            raise InvalidCursor(
                f"event id {cursor} is past the end of the batch's log "
                f"(last event id {record.last_seq})"
            )
    settings = services.settings
    return EventSourceResponse(
        viewer_frames(
            services.hub,
            services.store,
            batch_id,
            cursor,
            retry_ms=settings.sse_retry_ms,
            heartbeat=settings.heartbeat_seconds,
        ),
        headers=STREAM_HEADERS,
    )


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


MAX_WATCHED = 20


@router.get(
    "/api/generation/progress",
    response_class=Response,
    responses={
        200: {
            "description": "`batches.progress` events for several batches (the history page)",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        204: {"description": "Every watched batch is finished: stop"},
        404: {"description": "A batch that does not exist or is not the caller's"},
    },
)
async def batches_progress_stream(
    owner: OwnerDep,
    services: ServicesDep,
    batch: Annotated[list[str], Query(min_length=1, max_length=MAX_WATCHED)],
) -> Response:
    """Progress of several batches on one connection, starting with their current state."""
    batch_ids = list(dict.fromkeys(batch))
    records = [await services.store.get_batch(batch_id, owner) for batch_id in batch_ids]
    if all(record.status.finished for record in records):
        return Response(status_code=204, headers=STREAM_HEADERS)
    settings = services.settings
    return EventSourceResponse(
        batches_frames(
            services.hub,
            batch_ids,
            retry_ms=settings.sse_retry_ms,
            heartbeat=settings.heartbeat_seconds,
        ),
        headers=STREAM_HEADERS,
    )


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
                    data = f'{{"batch_id":"{feed.batch_id}","progress":{progress.data}}}'
                    chunk += encode_event(BATCHES_PROGRESS, data)
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
