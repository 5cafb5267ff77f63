"""The client of one bulkgen server: the batch API and a batch's resuming event stream.

Each call is one HTTP request, its answer validated into the server's models. ``events()``
follows a batch's SSE stream until ``batch.complete``. Once the stream has connected, a
dropped connection or a 5xx (a proxy or a restarting server) is resumed from the last event
id seen, after the server's ``retry:`` delay, backing off on each further failure; any other
error is raised at once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from httpx_sse import SSEError, aconnect_sse

from bulkgen.client.errors import ClientError, response_error, transport_error, transport_reason
from bulkgen.client.events import CompleteEvent, StreamEvent, parse_event
from bulkgen.export import ExportFormat, safe_filename
from bulkgen.models import Batch, BatchConfig, Item, ItemStatus, Page

__all__ = ["BulkgenClient", "ExportFile", "ReconnectHook"]

API = "/api/generation/batch"
_FILENAME = re.compile(r'filename="([^"]*)"')
#: Writing 10,000 items takes the server a few seconds.
_EXPORT_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class ExportFile:
    """A batch's passed items as a file: its bytes and what the server says about it.

    ``filename`` is the server's suggestion made safe to create in the current directory.
    """

    content: bytes
    filename: str
    media_type: str
    item_count: int | None


#: Told before each reconnect: (consecutive failures so far, seconds until the next
#: attempt, why the last connection ended).
ReconnectHook = Callable[[int, float, str], None]


class BulkgenClient:
    """The HTTP API of one bulkgen server. Use as ``async with`` (or call :meth:`aclose`).

    ``max_reconnects`` bounds the consecutive failed attempts :meth:`events` makes to
    resume a stream (a connection that delivers an event resets the count); between
    attempts it waits the server's ``retry:`` delay, doubled on each further failure up to
    ``max_backoff`` seconds. ``stream_timeout`` is the longest silence tolerated on a
    stream (the server sends heartbeats) before the connection counts as dropped.
    ``token`` is a personal API token (``bulkgen token create``), sent as
    ``Authorization: Bearer``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        stream_timeout: float = 60.0,
        max_reconnects: int = 5,
        max_backoff: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_reconnects = max_reconnects
        self.max_backoff = max_backoff
        self._stream_timeout = httpx.Timeout(timeout, read=stream_timeout)
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=sent,
            timeout=timeout,
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def page_url(self, batch_id: str) -> str:
        """The batch's live progress page."""
        return f"{self.base_url}/faculty/generate/batch/{quote(batch_id, safe='')}"

    def stream_url(self, batch_id: str) -> str:
        """The batch's SSE stream."""
        return f"{self.base_url}{_batch_path(batch_id)}/progress"

    async def create_batch(self, config: BatchConfig | Mapping[str, Any]) -> Batch:
        """Create a batch and start it; a plain mapping is validated by the server."""
        body = (
            config.model_dump(mode="json", exclude_unset=True)
            if isinstance(config, BatchConfig)
            else dict(config)
        )
        response = await self._request("POST", API, json=body)
        return Batch.model_validate(response.json())

    async def get_batch(self, batch_id: str) -> Batch:
        response = await self._request("GET", _batch_path(batch_id))
        return Batch.model_validate(response.json())

    async def list_batches(self, limit: int = 20, offset: int = 0) -> Page[Batch]:
        """The caller's batches, newest first."""
        response = await self._request("GET", API, params={"limit": limit, "offset": offset})
        return Page[Batch].model_validate(response.json())

    async def list_items(
        self,
        batch_id: str,
        status: ItemStatus | str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Item]:
        """Items in index order, optionally only those of one status."""
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if status is not None:
            params["status"] = str(status)
        response = await self._request("GET", f"{_batch_path(batch_id)}/items", params=params)
        return Page[Item].model_validate(response.json())

    async def cancel(self, batch_id: str) -> Batch:
        response = await self._request("POST", f"{_batch_path(batch_id)}/cancel")
        return Batch.model_validate(response.json())

    async def pause(self, batch_id: str) -> Batch:
        """Stop scheduling the batch's items; those being generated finish."""
        response = await self._request("POST", f"{_batch_path(batch_id)}/pause")
        return Batch.model_validate(response.json())

    async def resume(self, batch_id: str) -> Batch:
        """Run a paused batch again."""
        response = await self._request("POST", f"{_batch_path(batch_id)}/resume")
        return Batch.model_validate(response.json())

    async def retry(self, batch_id: str, reason: str | None = None) -> Batch:
        """Re-queue the batch's failed items (with ``reason``, only that group) and run it."""
        params = {} if reason is None else {"reason": reason}
        response = await self._request("POST", f"{_batch_path(batch_id)}/retry", params=params)
        return Batch.model_validate(response.json())

    async def export(self, batch_id: str, export_format: ExportFormat | str) -> ExportFile:
        """The batch's passed items as JSON Lines, CSV, Moodle XML or a QTI 2.1 ZIP."""
        fmt = ExportFormat(export_format)
        response = await self._request(
            "GET",
            f"{_batch_path(batch_id)}/export",
            params={"format": fmt.value},
            timeout=_EXPORT_TIMEOUT,
        )
        disposition = _FILENAME.search(response.headers.get("content-disposition", ""))
        fallback = f"{safe_filename(batch_id, 'batch')}.{fmt.extension}"
        count = response.headers.get("x-item-count", "")
        return ExportFile(
            content=response.content,
            filename=safe_filename(disposition[1], fallback) if disposition else fallback,
            media_type=response.headers.get("content-type", fmt.media_type),
            item_count=int(count) if count.isdigit() else None,
        )

    async def events(
        self,
        batch_id: str,
        *,
        after: int | None = None,
        on_reconnect: ReconnectHook | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """The batch's events until ``batch.complete``, resuming over dropped connections.

        Without ``after`` the stream starts with a snapshot of the current state; with it,
        every event after that id is replayed first. A consumer that stops early should
        close the generator (``contextlib.aclosing``) so the connection ends at once.
        """
        stream = _Stream(self._http, batch_id, after, self._stream_timeout)
        failures = 0
        while True:
            asked = 0.0  # the wait a busy server asked for
            try:
                async with aclosing(stream.connect()) as events:
                    async for event in events:
                        failures = 0
                        yield event
                        if isinstance(event, CompleteEvent):
                            return
                if stream.finished:
                    return
                reason = "the stream ended before the batch completed"
            except httpx.TransportError as error:
                if not stream.connected_once:
                    raise transport_error(self.base_url, error) from None
                reason = transport_reason(error)
            except ClientError as error:
                # A proxy or a restarting server may answer 5xx for a moment, and a busy
                # server says when to ask again (503 with Retry-After); anything else
                # (unknown batch, bad cursor) will not change by asking again.
                busy = error.status == 503 and error.retry_after is not None
                if not busy and (
                    not stream.connected_once or error.status is None or error.status < 500
                ):
                    raise
                reason = str(error)
                asked = error.retry_after or 0.0
            failures += 1
            if failures > self.max_reconnects:
                raise ClientError(
                    None,
                    f"lost the stream of batch {batch_id} after {self.max_reconnects} "
                    f"reconnect attempts: {reason}",
                )
            delay = max(min(stream.retry_seconds * 2 ** (failures - 1), self.max_backoff), asked)
            if on_reconnect is not None:
                on_reconnect(failures, delay, reason)
            await asyncio.sleep(delay)

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise transport_error(self.base_url, error) from None
        if response.is_error:
            raise response_error(response)
        return response


class _Stream:
    """One ``events()`` call's position: cursor, server retry delay, whether it ended."""

    def __init__(
        self, http: httpx.AsyncClient, batch_id: str, after: int | None, timeout: httpx.Timeout
    ) -> None:
        self._http = http
        self._batch_id = batch_id
        self._timeout = timeout
        self.cursor = after
        self.retry_seconds = 1.0
        self.connected_once = False
        self.finished = False

    async def connect(self) -> AsyncGenerator[StreamEvent, None]:
        """The events of one connection, from the cursor on."""
        headers = {} if self.cursor is None else {"Last-Event-ID": str(self.cursor)}
        async with aconnect_sse(
            self._http,
            "GET",
            f"{_batch_path(self._batch_id)}/progress",
            headers=headers,
            timeout=self._timeout,
        ) as source:
            response = source.response
            if response.status_code == 204:
                self.finished = True
                return
            if response.is_error:
                await response.aread()
                raise response_error(response)
            self.connected_once = True
            try:
                async for sse in source.aiter_sse():
                    if sse.retry is not None:
                        self.retry_seconds = sse.retry / 1000
                    event = parse_event(sse)
                    if event is None:
                        continue
                    if event.id is not None:
                        self.cursor = event.id
                    yield event
            except SSEError as error:
                raise ClientError(None, f"{response.url} is not an event stream: {error}") from None


def _batch_path(batch_id: str) -> str:
    return f"{API}/{quote(batch_id, safe='')}"
