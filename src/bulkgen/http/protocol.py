"""uvicorn's HTTP protocol with the limits a public edge needs, each answered in JSON.

uvicorn (httptools) reads request headers of any size, waits for them forever, and keeps
writing to a socket whose reader stopped reading for as long as it stays open. A
connection of :class:`GuardedProtocol`:

- past ``max_connections`` open connections, gets a ``503`` with ``Retry-After`` for its
  request (the process keeps file descriptors for the database and new work);
- sending more than ``max_header_bytes`` of request line and headers, gets a ``431`` and
  is closed;
- taking longer than ``header_timeout_seconds`` to send them (from the connection, or from
  the first byte of the next request on a kept-alive one), gets a ``408`` and is closed;
- whose socket accepts nothing for ``send_timeout_seconds`` while a response waits to be
  written, is dropped. A live viewer dropped so reconnects with its cursor and misses
  nothing; a viewer that stopped reading no longer holds memory or delays a shutdown.

A request's scope also carries ``extensions["bulkgen.body"]``: a factory of the
:class:`DirectBody` through which a live stream's feed writes to the connection without
an ASGI message per write (:mod:`bulkgen.live.direct`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from bulkgen.live.limits import RETRY_AFTER_SECONDS

__all__ = ["DirectBody", "EdgeLimits", "GuardedProtocol", "guarded_protocol"]

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class EdgeLimits:
    """The numbers a :class:`GuardedProtocol` enforces (see :mod:`bulkgen.settings`)."""

    def __init__(
        self,
        *,
        max_connections: int,
        max_header_bytes: int,
        header_timeout: float,
        send_timeout: float,
    ) -> None:
        self.max_connections = max_connections
        self.max_header_bytes = max_header_bytes
        self.header_timeout = header_timeout
        self.send_timeout = send_timeout


def _answer(status: int, message: str, retry_after: int | None = None) -> Any:
    """An ASGI app that answers every request ``status`` with ``message`` in JSON and
    closes the connection."""
    body = json.dumps({"detail": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))

    async def answer(_scope: Scope, _receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return answer


_BUSY = _answer(
    503,
    f"the server has as many connections as it may; try again in {RETRY_AFTER_SECONDS} s",
    RETRY_AFTER_SECONDS,
)


class DirectBody:
    """The body of one streaming response, written to its transport without ASGI
    messages (a :class:`bulkgen.live.direct.Sink`). Once handed off, the request's ASGI
    task may end: for uvicorn the exchange is complete, and the body goes on until
    :meth:`finish` writes its last chunk."""

    __slots__ = ("_cycle", "_on_lost", "_protocol", "streaming")

    def __init__(self, protocol: GuardedProtocol, cycle: RequestResponseCycle) -> None:
        self._protocol = protocol
        self._cycle = cycle
        self._on_lost: list[Callable[[], None]] = []
        self.streaming = False  # handed off and not finished
        protocol.direct = self

    @property
    def lost(self) -> bool:
        cycle = self._cycle
        done = cycle.response_complete and not self.streaming
        return cycle.disconnected or done or cycle.transport.is_closing()

    def write(self, chunk: bytes, framed: bytes) -> bool:
        cycle = self._cycle
        if self._protocol.flow.write_paused or self.lost or not cycle.response_started:
            return False
        cycle.transport.write(framed if cycle.chunked_encoding else chunk)
        return True

    async def drain(self) -> None:
        await self._protocol.flow.drain()

    def on_lost(self, callback: Callable[[], None]) -> None:
        self._on_lost.append(callback)

    def hand_off(self) -> bool:
        cycle = self._cycle
        if self.lost or not cycle.response_started or not cycle.chunked_encoding:
            return False
        # What uvicorn's cycle does on the last body message, but the last chunk: the
        # request's task may return, the connection stays this stream's.
        cycle.response_complete = True
        cycle.message_event.set()
        self.streaming = True
        task = asyncio.current_task()
        if task is not None:
            # The request's scope holds what the framework kept for the request (its
            # exit stacks, the route, the request state): nothing the stream needs.
            scope: dict[str, Any] = cycle.scope  # type: ignore[assignment]
            task.add_done_callback(lambda _task: scope.clear())
        return True

    def finish(self) -> None:
        if not self.streaming:
            return
        self.streaming = False
        cycle, protocol = self._cycle, self._protocol
        if cycle.disconnected or cycle.transport.is_closing():
            return
        cycle.transport.write(b"0\r\n\r\n")
        if cycle.keep_alive:
            protocol.on_response_complete()
        else:
            cycle.transport.close()

    def connection_lost(self) -> None:
        self.streaming = False
        callbacks, self._on_lost = self._on_lost, []
        for callback in callbacks:
            callback()


class GuardedProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with the limits of :class:`EdgeLimits`."""

    limits: EdgeLimits

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0  # received while the head is incomplete
        self._header_size = 0  # of the request line and headers parsed so far
        self._in_head = True
        self._discarding = False  # an answer was sent before the request was read
        self._head_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self.direct: DirectBody | None = None

    # -- connections --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self.app = _BUSY
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)
        if self.direct is not None:
            self.direct.connection_lost()

    # -- request heads -------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._discarding or (self.direct is not None and self.direct.streaming):
            return  # nothing more is read from a client while its stream goes on
        if self._in_head and self._head_timer is None:
            self._start_head_timer()  # the next request of a kept-alive connection
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header_bytes:
                # No end of the head within the limit: stop reading it into memory.
                self._refuse(431, self._too_long())

    def on_url(self, url: bytes) -> None:
        self._header_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_size += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self._header_size <= self.limits.max_header_bytes:
            scope = self.scope
            super().on_headers_complete()
            if self.cycle is not None and self.cycle.scope is scope:
                extensions: dict[str, Any] = scope.setdefault("extensions", {})
                extensions["bulkgen.body"] = partial(DirectBody, self, self.cycle)
            return
        app = self.app
        self.app = _answer(431, self._too_long())
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def on_response_complete(self) -> None:
        # The next request on this connection starts a new head.
        self._in_head = True
        self._head_bytes = self._header_size = 0
        super().on_response_complete()

    def _too_long(self) -> str:
        return f"the request line and headers are longer than {self.limits.max_header_bytes} bytes"

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_late)

    def _head_late(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            if self._head_bytes:
                self._refuse(
                    408,
                    f"the request's headers did not arrive within {self.limits.header_timeout:g} s",
                )
            else:
                self.transport.close()  # an idle connection: nothing to answer

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with ``message`` in JSON and close, before any app runs."""
        self._cancel_timers()
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # a response is being written: say nothing more
            return
        body = json.dumps({"detail": message}).encode()
        head = (
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n" % (status, _REASONS[status], len(body))
        )
        self.transport.write(head + body)
        # Close gently: stop reading and answering, but keep the socket until the client
        # closes (or for the header timeout). Closing with its request still unread would
        # reset the connection, and the client might never see the answer.
        self._discarding = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self.transport.close)

    # -- responses -----------------------------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.limits.send_timeout, self._stuck)

    def resume_writing(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
        super().resume_writing()

    def _stuck(self) -> None:
        """The reader took nothing for ``send_timeout``: drop it, unsent bytes and all."""
        self._send_timer = None
        self.logger.info("dropped a connection that read nothing for %gs", self.limits.send_timeout)
        self.transport.abort()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._send_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._send_timer = None


def guarded_protocol(limits: EdgeLimits) -> type[GuardedProtocol]:
    """A :class:`GuardedProtocol` class bound to ``limits`` (uvicorn builds one per
    connection from the class)."""
    return type("BulkgenProtocol", (GuardedProtocol,), {"limits": limits})
