"""The Python client against a real bulkgen server (uvicorn in a thread, SQLite in tmp_path).

``LiveServer`` and the ``live_server`` fixture are reusable by other test modules.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from bulkgen.client import (
    BulkgenClient,
    ClientError,
    CompleteEvent,
    ItemEvent,
    ProgressEvent,
    StreamEvent,
)
from bulkgen.errors import BulkgenError
from bulkgen.http.server import Server, build_server
from bulkgen.models import BatchConfig, BatchStatus, ItemStatus
from bulkgen.settings import Settings

#: Quick demo batches: a few ms per item, some generation errors and some invalid items.
FAST: dict[str, Any] = {"seed": 7, "latency_ms": [5, 20], "fail_rate": 0.2, "invalid_rate": 0.2}


class LiveServer:
    """A real bulkgen server on a free port, run by uvicorn in a thread of its own."""

    def __init__(self, database: Path, **settings: Any) -> None:
        self.database = database
        self.settings: dict[str, Any] = {
            "heartbeat_seconds": 0.5,
            "sse_retry_ms": 50,
            "retry_backoff_seconds": 0.01,
            "log_level": "warning",
            **settings,
        }
        self.port = 0
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        settings = Settings(database=self.database, port=self.port, **self.settings)
        server = build_server(settings)
        thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        # Port 0 on the first start; a restart binds the same port again.
        self.port = server.servers[0].sockets[0].getsockname()[1]
        self._server, self._thread = server, thread

    def stop(self) -> None:
        """Shut down: live streams end without ``batch.complete``, the runner stops."""
        if self._server is None or self._thread is None:
            return
        self._server.stop()
        self._thread.join(timeout=10)
        self._server = self._thread = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "bulkgen.db")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def config(count: int = 12, **overrides: Any) -> dict[str, Any]:
    return {
        "topic": "Cardiac physiology",
        "count": count,
        "concurrency": 4,
        "generator_options": FAST,
        **overrides,
    }


async def drain(events: Any) -> list[StreamEvent]:
    return [event async for event in events]


def durable_ids(events: list[StreamEvent]) -> list[int]:
    """Ids of the logged events (``batch.progress`` only repeats the id it reflects)."""
    return [e.id for e in events if isinstance(e, ItemEvent | CompleteEvent)]


async def item_states(client: BulkgenClient, batch_id: str) -> dict[int, ItemStatus]:
    page = await client.list_items(batch_id, limit=500)
    assert page.total == len(page.items)
    return {item.index: item.status for item in page.items}


def replay(events: list[StreamEvent]) -> dict[int, ItemStatus]:
    states: dict[int, ItemStatus] = {}
    for event in events:
        if isinstance(event, ItemEvent):
            states[event.item.index] = event.item.status
    return states


async def test_create_get_list_and_items_round_trip(live_server: LiveServer) -> None:
    async with BulkgenClient(live_server.url) as client:
        created = await client.create_batch(BatchConfig.model_validate(config(title="Round trip")))
        assert created.config.count == 12
        assert created.title == "Round trip"

        fetched = await client.get_batch(created.id)
        assert fetched.id == created.id
        assert fetched.config == created.config

        other = await client.create_batch(config(count=3))
        page = await client.list_batches(limit=10)
        assert [batch.id for batch in page.items] == [other.id, created.id]
        assert page.total == 2

        second = await client.list_batches(limit=1, offset=1)
        assert [batch.id for batch in second.items] == [created.id]

        await drain(client.events(created.id))
        items = await client.list_items(created.id, limit=5, offset=5)
        assert [item.index for item in items.items] == [5, 6, 7, 8, 9]
        assert items.total == 12
        failed = await client.list_items(created.id, status=ItemStatus.FAILED)
        assert failed.items, "the seed's fault rates fail some items"
        assert all(item.status is ItemStatus.FAILED and item.error for item in failed.items)


async def test_events_of_a_whole_batch_rebuild_its_item_states(live_server: LiveServer) -> None:
    async with BulkgenClient(live_server.url) as client:
        batch = await client.create_batch(config(count=20))
        events = await drain(client.events(batch.id, after=0))

        final = events[-1]
        assert isinstance(final, CompleteEvent)
        ids = durable_ids(events)
        assert ids == list(range(1, ids[-1] + 1))
        assert replay(events) == await item_states(client, batch.id)
        assert final.snapshot.status is BatchStatus.COMPLETED
        statuses = list(replay(events).values())
        assert final.snapshot.completed == statuses.count(ItemStatus.COMPLETED)
        assert final.snapshot.failed == statuses.count(ItemStatus.FAILED)
        # The final state arrives as progress too, just before batch.complete.
        assert isinstance(events[-2], ProgressEvent)
        assert events[-2].snapshot.model_dump() == final.snapshot.model_dump()


async def test_events_without_a_cursor_start_from_a_snapshot(live_server: LiveServer) -> None:
    async with BulkgenClient(live_server.url) as client:
        batch = await client.create_batch(config(count=20))
        events = await drain(client.events(batch.id))
        assert isinstance(events[0], ProgressEvent)
        assert isinstance(events[-1], CompleteEvent)
        # Opened again once finished: the final snapshot and batch.complete only.
        again = await drain(client.events(batch.id))
        assert [type(e) for e in again] == [ProgressEvent, CompleteEvent]


async def test_resuming_after_a_dropped_connection_misses_and_repeats_nothing(
    live_server: LiveServer,
) -> None:
    async with BulkgenClient(live_server.url) as client:
        batch = await client.create_batch(
            config(count=30, concurrency=2, generator_options={**FAST, "latency_ms": [10, 30]})
        )
        first: list[StreamEvent] = []
        async with aclosing(client.events(batch.id, after=0)) as events:
            async for event in events:
                first.append(event)
                if len(durable_ids(first)) == 7:
                    break
        assert not isinstance(first[-1], CompleteEvent)
        last_id = first[-1].id
        assert last_id is not None

        rest = await drain(client.events(batch.id, after=last_id))
        assert isinstance(rest[-1], CompleteEvent)
        ids = durable_ids(first + rest)
        assert ids == list(range(1, ids[-1] + 1))
        assert replay(first + rest) == await item_states(client, batch.id)


async def test_a_cursor_at_the_end_of_a_finished_batch_yields_nothing(
    live_server: LiveServer,
) -> None:
    async with BulkgenClient(live_server.url) as client:
        batch = await client.create_batch(config(count=3))
        await drain(client.events(batch.id))
        finished = await client.get_batch(batch.id)
        assert await drain(client.events(batch.id, after=finished.last_event_id)) == []


async def test_events_reconnect_across_a_server_restart(live_server: LiveServer) -> None:
    notices: list[tuple[int, float, str]] = []
    async with BulkgenClient(live_server.url, max_reconnects=50, max_backoff=0.2) as client:
        batch = await client.create_batch(
            config(count=40, concurrency=2, generator_options={**FAST, "latency_ms": [20, 40]})
        )
        seen: list[StreamEvent] = []
        restarted = False
        events = client.events(batch.id, after=0, on_reconnect=lambda *n: notices.append(n))
        async for event in events:
            seen.append(event)
            if not restarted and len(durable_ids(seen)) >= 10:
                restarted = True
                await asyncio.to_thread(live_server.restart)

        assert notices, "the client said it was reconnecting"
        assert isinstance(seen[-1], CompleteEvent)
        ids = durable_ids(seen)
        assert ids == list(range(1, ids[-1] + 1))
        assert replay(seen) == await item_states(client, batch.id)


async def test_unknown_batch_is_a_404_client_error(live_server: LiveServer) -> None:
    async with BulkgenClient(live_server.url) as client:
        with pytest.raises(ClientError) as caught:
            await client.get_batch("nope")
        assert caught.value.status == 404
        assert "nope" in str(caught.value)
        assert isinstance(caught.value, BulkgenError)

        with pytest.raises(ClientError) as streamed:
            await drain(client.events("nope"))
        assert streamed.value.status == 404


async def test_invalid_config_is_a_422_naming_the_field(live_server: LiveServer) -> None:
    async with BulkgenClient(live_server.url) as client:
        with pytest.raises(ClientError) as caught:
            await client.create_batch(config(count=20_000))
        assert caught.value.status == 422
        assert str(caught.value) == "count: Input should be less than or equal to 10000"

        with pytest.raises(ClientError) as nested:
            await client.create_batch(config(generator_options={"latency_ms": [5, -1]}))
        assert "generator_options.latency_ms.1:" in str(nested.value)


async def test_a_cursor_past_the_log_is_a_400(live_server: LiveServer) -> None:
    async with BulkgenClient(live_server.url) as client:
        batch = await client.create_batch(
            config(count=200, concurrency=1, generator_options={"latency_ms": [1000, 1000]})
        )
        with pytest.raises(ClientError) as caught:
            await drain(client.events(batch.id, after=10_000))
        assert caught.value.status == 400
        await client.cancel(batch.id)


async def test_cancel_and_retry(live_server: LiveServer) -> None:
    async with BulkgenClient(live_server.url) as client:
        slow = await client.create_batch(
            config(count=50, concurrency=1, generator_options={"latency_ms": [200, 200]})
        )
        cancelled = await client.cancel(slow.id)
        events = await drain(client.events(cancelled.id))
        assert isinstance(events[-1], CompleteEvent)
        assert events[-1].snapshot.status is BatchStatus.CANCELLED

        batch = await client.create_batch(config(count=12))
        await drain(client.events(batch.id))
        failed = (await client.get_batch(batch.id)).progress.failed
        assert failed > 0
        again = await client.retry(batch.id)
        assert again.status in (BatchStatus.QUEUED, BatchStatus.RUNNING)
        assert again.progress.failed + again.progress.completed < 12
        assert isinstance((await drain(client.events(batch.id)))[-1], CompleteEvent)


async def test_an_unreachable_server_is_a_client_error(unused_tcp_port: int) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}"
    async with BulkgenClient(url) as client:
        with pytest.raises(ClientError) as caught:
            await client.list_batches()
        assert str(caught.value) == f"the bulkgen server is not reachable at {url}"
        assert caught.value.status is None
        with pytest.raises(ClientError, match="not reachable"):
            await drain(client.events("any"))
