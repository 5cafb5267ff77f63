"""The Python client against a real bulkgen server (uvicorn in a thread, SQLite in tmp_path)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing
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
from bulkgen.models import BatchConfig, BatchStatus, ItemStatus

from helpers.api import FAST
from helpers.gate import Gate
from helpers.server import LiveServer


@pytest.fixture
def live_server(make_server: Callable[..., LiveServer]) -> LiveServer:
    return make_server(heartbeat_seconds=0.5, sse_retry_ms=50)


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


async def test_events_reconnect_across_a_server_restart(
    make_server: Callable[..., LiveServer],
) -> None:
    settings = {"heartbeat_seconds": 0.5, "sse_retry_ms": 50}
    live = make_server(gate=Gate(at=5), **settings)  # the batch cannot end before the restart
    notices: list[tuple[int, float, str]] = []

    def restart() -> None:
        live.stop()
        make_server(port=live.port, **settings)  # no gate: the batch runs to its end

    async with BulkgenClient(live.url, max_reconnects=50, max_backoff=0.2) as client:
        batch = await client.create_batch(config(count=40, concurrency=2))
        seen: list[StreamEvent] = []
        restarted = False
        events = client.events(batch.id, after=0, on_reconnect=lambda *n: notices.append(n))
        async for event in events:
            seen.append(event)
            if not restarted and len(durable_ids(seen)) >= 10:
                restarted = True
                await asyncio.to_thread(restart)

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


async def test_a_cursor_past_the_log_is_a_400(make_server: Callable[..., LiveServer]) -> None:
    live = make_server(gate=Gate(at=0))  # the batch stays running
    async with BulkgenClient(live.url) as client:
        batch = await client.create_batch(config(count=5))
        with pytest.raises(ClientError) as caught:
            await drain(client.events(batch.id, after=10_000))
        assert caught.value.status == 400
        assert "past the end" in str(caught.value)


async def test_cancel_and_retry(make_server: Callable[..., LiveServer]) -> None:
    gate = Gate(at=0)  # the first batch is running when it is cancelled
    live = make_server(gate=gate)
    async with BulkgenClient(live.url) as client:
        slow = await client.create_batch(config(count=50, concurrency=1))
        cancelled = await client.cancel(slow.id)
        assert cancelled.status is BatchStatus.CANCELLED
        events = await drain(client.events(cancelled.id))
        assert isinstance(events[-1], CompleteEvent)
        assert events[-1].snapshot.status is BatchStatus.CANCELLED
        gate.open()

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
