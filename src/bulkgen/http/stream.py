"""The SSE routes: a batch's progress stream and the history page's stream.

The routes parse the cursor and answer 204/400/404; the loops that feed a viewer are in
:mod:`bulkgen.live.viewer`, reached through :class:`~bulkgen.services.Services`.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.sse import EventSourceResponse
from starlette.types import Receive, Scope, Send

from bulkgen.errors import InvalidCursor
from bulkgen.http.deps import OwnerDep, ServicesDep
from bulkgen.live.direct import Sink
from bulkgen.services import LiveStream

router = APIRouter(tags=["stream"])

MAX_CURSOR = 2**53
#: A cursor is ASCII digits, at most as many as MAX_CURSOR has; empty is no cursor.
#: Checked by parse_cursor (a 400, as the stream's contract says), described in OpenAPI.
CURSOR_TEXT = re.compile(r"[0-9]{0,16}")
CURSOR: dict[str, object] = {"pattern": f"^{CURSOR_TEXT.pattern}$"}
MAX_WATCHED = 20

#: One event of a stream, as the OpenAPI document describes it (``data`` is one line of
#: JSON; the event names and their data are in docs/events.md).
SSE_EVENT: dict[str, object] = {
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string"},
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "retry": {"type": "integer", "minimum": 0},
    },
}
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def parse_cursor(value: str) -> int | None:
    """A resume cursor from ``Last-Event-ID`` or ``?after=``: a sequence number >= 0 in
    ASCII digits (``isdigit`` would take "²" or Arabic-Indic digits); "" is no cursor."""
    if not CURSOR_TEXT.fullmatch(value) or (value and int(value) > MAX_CURSOR):
        shown = ascii(value[:40])
        raise InvalidCursor(f"invalid event id {shown}: expected a non-negative integer event id")
    return int(value) if value else None


class DirectStreamResponse(Response):
    """A batch's stream whose body the feed writes to the connection itself while the
    viewer keeps up (see :mod:`bulkgen.live.direct`); the headers are
    :class:`EventSourceResponse`'s."""

    media_type = "text/event-stream"

    def __init__(self, stream: LiveStream, sink: Sink) -> None:
        self.status_code = 200
        self.background = None
        self._stream = stream
        self._sink = sink
        self.init_headers(STREAM_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})

        async def write(chunk: bytes) -> None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

        handed_off = await self._stream.follow(write, self._sink)
        if not handed_off and not self._sink.lost:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


@router.get(
    "/api/generation/batch/{batch_id}/progress",
    response_class=Response,
    responses={
        200: {
            "description": "The batch's events as Server-Sent Events",
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
        },
        204: {"description": "The cursor is at the end of a finished batch: stop"},
        400: {"description": "Malformed cursor"},
        404: {"description": "No such batch, or not one of the caller's"},
    },
)
async def progress_stream(
    request: Request,
    batch_id: str,
    owner: OwnerDep,
    services: ServicesDep,
    after: Annotated[
        str, Query(description="Resume after this event id", json_schema_extra=CURSOR)
    ] = "",
    last_event_id: Annotated[
        str, Header(description="Resume cursor", json_schema_extra=CURSOR)
    ] = "",
) -> Response:
    """Stream the batch's events; resume with ``Last-Event-ID`` or ``?after=``."""
    # The header wins: a browser reconnecting to a URL that carries ?after= sends the
    # newer position in Last-Event-ID.
    header, query = parse_cursor(last_event_id), parse_cursor(after)
    cursor = header if header is not None else query
    stream = await services.stream(owner, batch_id, cursor)
    if stream is None:
        return Response(status_code=204, headers=STREAM_HEADERS)
    # Served by bulkgen's own protocol over HTTP/1.1 (chunked): the direct path.
    direct = request.scope.get("extensions", {}).get("bulkgen.body")
    if direct is not None and request.scope.get("http_version") == "1.1":
        return DirectStreamResponse(stream, direct())
    return EventSourceResponse(stream.frames(), headers=STREAM_HEADERS)


@router.get(
    "/api/generation/progress",
    response_class=Response,
    responses={
        200: {
            "description": "`batches.progress` events for several batches (the history page)",
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
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
    frames = await services.stream_batches(owner, list(dict.fromkeys(batch)))
    if frames is None:
        return Response(status_code=204, headers=STREAM_HEADERS)
    return EventSourceResponse(frames, headers=STREAM_HEADERS)
