"""The Python peers of ``fanout_peers.py``: SSE servers with a queue per viewer.

Both are written as their documentation shows and run under ``uvicorn`` with its
defaults (uvloop and httptools when installed, as here). An event is published with
``POST /pub`` (data in the body, its sequence number in ``X-Seq``, its name in
``X-Event``); every viewer of ``GET /sub`` gets it on its own queue.

- ``sse_starlette_app``: sse-starlette's ``EventSourceResponse`` over an async generator
  that yields a dict per event (sse-starlette encodes each event for each viewer).
- ``starlette_app``: Starlette's ``StreamingResponse`` over an async generator that
  yields the frame, encoded once at publish time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Channel:
    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[Any]] = set()

    def publish(self, item: Any) -> None:
        for queue in self.queues:
            queue.put_nowait(item)

    async def follow(self, queue: asyncio.Queue[Any]) -> AsyncIterator[Any]:
        try:
            while True:
                yield await queue.get()
        finally:
            self.queues.discard(queue)

    def subscribe(self) -> asyncio.Queue[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.queues.add(queue)
        return queue


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


def _sse_starlette() -> Starlette:
    channel = Channel()

    async def pub(request: Request) -> Response:
        data = (await request.body()).decode()
        channel.publish({"id": request.headers["x-seq"], "event": request.headers["x-event"],
                         "data": data})  # fmt: skip
        return Response(status_code=204)

    async def sub(_request: Request) -> Response:
        return EventSourceResponse(channel.follow(channel.subscribe()), headers=HEADERS)

    return Starlette(
        routes=[Route("/health", health), Route("/pub", pub, methods=["POST"]), Route("/sub", sub)]
    )


def _starlette() -> Starlette:
    channel = Channel()

    async def pub(request: Request) -> Response:
        data = await request.body()
        seq, event = request.headers["x-seq"].encode(), request.headers["x-event"].encode()
        channel.publish(b"id: %s\nevent: %s\ndata: %s\n\n" % (seq, event, data))
        return Response(status_code=204)

    async def frames(queue: asyncio.Queue[bytes]) -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        async for frame in channel.follow(queue):
            yield frame

    async def sub(_request: Request) -> Response:
        return StreamingResponse(
            frames(channel.subscribe()), media_type="text/event-stream", headers=HEADERS
        )

    return Starlette(
        routes=[Route("/health", health), Route("/pub", pub, methods=["POST"]), Route("/sub", sub)]
    )


sse_starlette_app = _sse_starlette()
starlette_app = _starlette()
