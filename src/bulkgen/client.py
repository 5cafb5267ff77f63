"""An async Python client of a running bulkgen server: the HTTP API and the SSE stream.

    async with BulkgenClient("http://127.0.0.1:8000") as client:
        batch = await client.create_batch({"topic": "Cardiac physiology", "count": 20})
        async for event in client.events(batch.id):
            ...

Every failure the caller can act on is a :class:`ClientError`: an error response of the
server (with its status and ``detail``) or a server that cannot be reached.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from httpx_sse import ServerSentEvent, SSEError, aconnect_sse
from pydantic import ValidationError

from bulkgen import events
from bulkgen.errors import BulkgenError
from bulkgen.export import ExportFormat, safe_filename
from bulkgen.models import Batch, BatchConfig, Item, ItemStatus, ItemSummary, Page, ProgressSnapshot

__all__ = [
    "BulkgenClient",
    "ClientError",
    "CompleteEvent",
    "ExportFile",
    "ItemEvent",
    "ProgressEvent",
    "ReconnectHook",
    "StreamEvent",
]

API = "/api/generation/batch"
# Where a 422's `loc` starts; the rest of the path is what the user typed.
_LOC_SOURCES = frozenset({"body", "query", "path", "header"})
_FILENAME = re.compile(r'filename="([^"]*)"')
#: Writing 10,000 items takes the server a few seconds.
_EXPORT_TIMEOUT = 120.0


class ClientError(BulkgenError):
    """The server answered with an error, or could not be reached (``status`` is None)."""

    def __init__(self, status: int | None, detail: Any) -> None:
        self.status = status
        self.detail = detail
        super().__init__(describe_detail(detail))


def describe_detail(detail: Any) -> str:
    """A readable one-line message from an error's ``detail``, naming the fields of a 422."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        problems = [_describe_problem(problem) for problem in detail]
        return "; ".join(problems) if problems else "invalid request"
    return json.dumps(detail)


def _describe_problem(problem: Any) -> str:
    if not isinstance(problem, dict):
        return str(problem)
    message = str(problem.get("msg", "invalid value"))
    loc = [str(part) for part in problem.get("loc", [])]
    if loc and loc[0] in _LOC_SOURCES:
        loc = loc[1:]
    return f"{'.'.join(loc)}: {message}" if loc else message


@dataclass(frozen=True, slots=True)
class ItemEvent:
    """``item.started`` / ``completed`` / ``failed`` / ``requeued`` / ``queued``: an item changed
    state (``queued``: a replacement item was added, pending)."""

    id: int
    name: str
    item: ItemSummary


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """``batch.progress``: where the batch stands, as of durable event ``id``."""

    id: int | None
    snapshot: ProgressSnapshot


@dataclass(frozen=True, slots=True)
class CompleteEvent:
    """``batch.complete``: the batch reached a final state; the stream ends after it."""

    id: int
    snapshot: ProgressSnapshot


StreamEvent = ItemEvent | ProgressEvent | CompleteEvent


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
    """

    def __init__(
        self,
        base_url: str,
        *,
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
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=dict(headers or {}),
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
                    raise _transport_error(self.base_url, error) from None
                reason = _reason(error)
            except ClientError as error:
                # A proxy or a restarting server may answer 5xx for a moment; anything
                # else (unknown batch, bad cursor) will not change by asking again.
                if not stream.connected_once or error.status is None or error.status < 500:
                    raise
                reason = str(error)
            failures += 1
            if failures > self.max_reconnects:
                raise ClientError(
                    None,
                    f"lost the stream of batch {batch_id} after {self.max_reconnects} "
                    f"reconnect attempts: {reason}",
                )
            delay = min(stream.retry_seconds * 2 ** (failures - 1), self.max_backoff)
            if on_reconnect is not None:
                on_reconnect(failures, delay, reason)
            await asyncio.sleep(delay)

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise _transport_error(self.base_url, error) from None
        if response.is_error:
            raise _response_error(response)
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
                raise _response_error(response)
            self.connected_once = True
            try:
                async for sse in source.aiter_sse():
                    if sse.retry is not None:
                        self.retry_seconds = sse.retry / 1000
                    event = _parse(sse)
                    if event is None:
                        continue
                    if event.id is not None:
                        self.cursor = event.id
                    yield event
            except SSEError as error:
                raise ClientError(None, f"{response.url} is not an event stream: {error}") from None


def _parse(sse: ServerSentEvent) -> StreamEvent | None:
    """A typed event, or None for frames that carry none (``retry:``, unknown names)."""
    event_id = int(sse.id) if sse.id.isdigit() else None
    if sse.event not in events.EVENTS:
        # Newer servers may add event types; old clients skip what they do not know.
        return None
    try:
        event = events.parse(sse.event, sse.data)
    except ValidationError as error:
        raise ClientError(None, f"malformed {sse.event} event {sse.id}: {error}") from None
    if isinstance(event, events.ItemEvent) and event_id is not None:
        return ItemEvent(event_id, sse.event, event)
    if isinstance(event, events.BatchProgress):
        return ProgressEvent(event_id, event)
    if isinstance(event, events.BatchComplete) and event_id is not None:
        return CompleteEvent(event_id, event)
    return None


def _batch_path(batch_id: str) -> str:
    return f"{API}/{quote(batch_id, safe='')}"


def _response_error(response: httpx.Response) -> ClientError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "detail" in body:
        detail = body["detail"]
    else:
        detail = response.text.strip()[:200] or response.reason_phrase
        detail = f"HTTP {response.status_code}: {detail}"
    return ClientError(response.status_code, detail)


def _transport_error(base_url: str, error: httpx.TransportError) -> ClientError:
    if isinstance(error, httpx.ConnectError):
        return ClientError(None, f"the bulkgen server is not reachable at {base_url}")
    if isinstance(error, httpx.UnsupportedProtocol):
        return ClientError(
            None, f"invalid server URL {base_url!r}: it must start with http:// or https://"
        )
    return ClientError(None, f"request to {base_url} failed: {_reason(error)}")


def _reason(error: httpx.TransportError) -> str:
    return str(error) or type(error).__name__
