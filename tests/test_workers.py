"""Distributed workers on a real PostgreSQL: slot claims, the concurrency bound, the
shared request-rate limit, and viewers that get everything when no notification arrives."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import psycopg
import pytest
from sqlalchemy import text

from bulkgen.log import EventLog, FinishItem, LocalBus, SQLStore
from bulkgen.log.pgbus import PgBus, libpq_url
from bulkgen.log.slots import slot_lock
from bulkgen.log.store import ClaimOutcome
from bulkgen.models import BatchConfig, BatchStatus, ItemStatus

from helpers.api import batch_body, replay
from helpers.server import LiveServer, ServerProcess
from helpers.sse import open_stream, read_stream

BATCHES = "/api/generation/batch"


@pytest.fixture
def url(pg_url: str) -> str:
    return pg_url


@pytest.fixture
async def logs(url: str) -> AsyncIterator[list[EventLog]]:
    """Two event logs on two stores: two workers' writers, as in two processes."""
    stores = [SQLStore(url, origin=f"w{n}") for n in range(2)]
    opened = [EventLog(store, LocalBus(), max_group=100) for store in stores]
    for event_log in opened:
        event_log.start()
    yield opened
    for event_log in opened:
        await event_log.close()
    for store in stores:
        await store.close()


async def test_creating_a_batch_defers_one_job_per_slot_in_its_transaction(
    logs: list[EventLog], url: str
) -> None:
    record = await logs[0].create_batch("ada", BatchConfig(topic="Optics", count=5, concurrency=3))
    store = SQLStore(url)
    try:
        async with store._read.connect() as conn:
            rows = await conn.execute(
                text("SELECT lock, status FROM procrastinate_jobs ORDER BY lock")
            )
            jobs = [(row.lock, row.status) for row in rows]
    finally:
        await store.close()
    assert jobs == [(slot_lock(record.id, slot), "todo") for slot in range(3)]


async def test_claims_never_pass_the_concurrency_and_a_dead_slot_s_items_come_back(
    logs: list[EventLog], url: str
) -> None:
    first, second = logs
    record = await first.create_batch("ada", BatchConfig(topic="Optics", count=5, concurrency=2))
    one = await first.claim(record.id, 0)
    two = await second.claim(record.id, 1)
    assert (one.outcome, two.outcome) == (ClaimOutcome.CLAIMED, ClaimOutcome.CLAIMED)
    assert {one.index, two.index} == {0, 1}
    # A third claimer (a duplicate slot job) is refused: two items are in progress.
    assert (await second.claim(record.id, 2)).outcome is ClaimOutcome.BUSY
    # Slot 0's worker died; the slot's job runs again elsewhere and takes its item back.
    again = await second.claim(record.id, 0)
    assert (again.outcome, again.index, again.recovered) == (ClaimOutcome.CLAIMED, one.index, 1)
    # The dead worker's late finish still counts once: the item is in progress again.
    await first.submit(FinishItem(record.id, one.index, ItemStatus.COMPLETED, 10.0))
    await first.flush()
    await second.submit(FinishItem(record.id, one.index, ItemStatus.COMPLETED, 11.0))
    await second.flush()
    store = SQLStore(url)
    try:
        batch = await store.get_batch(record.id, None)
        events = await store.read_events(record.id, after=0)
    finally:
        await store.close()
    assert batch.counts.completed == 1
    assert batch.counts.in_progress == 1
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events].count("item.completed") == 1


async def test_a_paused_batch_stops_its_slots_and_an_empty_one_ends_them(
    logs: list[EventLog],
) -> None:
    event_log = logs[0]
    record = await event_log.create_batch("ada", BatchConfig(topic="Optics", count=2))
    await event_log.pause(record.id)
    assert (await event_log.claim(record.id, 0)).outcome is ClaimOutcome.STOPPED
    await event_log.resume(record.id)
    claims = [await event_log.claim(record.id, slot) for slot in range(2)]
    assert [c.outcome for c in claims] == [ClaimOutcome.CLAIMED] * 2
    for claim in claims:
        await event_log.submit(FinishItem(record.id, claim.index, ItemStatus.COMPLETED, 5.0))
    await event_log.flush()
    assert (await event_log.claim(record.id, 0)).outcome is ClaimOutcome.STOPPED


async def test_request_slots_are_shared_by_every_worker_of_a_batch(logs: list[EventLog]) -> None:
    record = await logs[0].create_batch("ada", BatchConfig(topic="Optics", count=1))
    interval = 0.25
    reserved = await asyncio.gather(
        *(logs[n % 2].reserve_request(record.id, interval) for n in range(20))
    )
    gaps = [b - a for a, b in itertools.pairwise(sorted(reserved))]
    assert gaps == pytest.approx([interval] * 19)
    # The provider asked to wait: no slot before that, whichever worker asks next.
    until = max(reserved) + 30
    await logs[1].hold_requests(record.id, until)
    assert await logs[0].reserve_request(record.id, interval) == pytest.approx(until)


@pytest.fixture
def replica(
    url: str, make_server: Callable[..., LiveServer]
) -> Iterator[tuple[LiveServer, ServerProcess]]:
    """An API replica in this process and one worker in a child process that runs two
    slot jobs at a time."""
    server = make_server(database_url=url, workers=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    worker = ServerProcess(
        env={
            "BULKGEN_DATABASE_URL": url,
            "BULKGEN_WORKER_STALLED_SECONDS": "3",
            "BULKGEN_METRICS_PORT": str(metrics_port),
            "BULKGEN_GLOBAL_CONCURRENCY": "2",
        },
        args=["worker"],
        ready="worker ready",
    )
    worker.start()
    try:
        yield server, worker
    finally:
        worker.kill()


def test_a_viewer_gets_every_event_when_no_notification_arrives(
    replica: tuple[LiveServer, ServerProcess],
) -> None:
    server, worker = replica
    bus = server.server.services.bus
    assert isinstance(bus, PgBus)
    server.call(bus.close())  # the replica hears nothing now
    with httpx.Client(base_url=server.url, timeout=60) as http:
        created = http.post(BATCHES, json=batch_body(count=30)).json()
        received = read_stream(http, created["id"], after=0)
        batch = http.get(f"{BATCHES}/{created['id']}").json()
    assert received.events("batch.complete")
    ids = [frame.id for frame in received.durable]
    assert ids == list(range(1, batch["last_event_id"] + 1))
    assert len(replay(received.durable)) == 30
    assert batch["status"] == BatchStatus.COMPLETED.value
    assert bus.received == 0
    # The worker counted the items it finished, on its own metrics port.
    port = worker.env["BULKGEN_METRICS_PORT"]
    scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=60).text
    assert 'bulkgen_items_finished_total{outcome="completed"} 30.0' in scraped


def test_a_cancel_aborts_the_slot_jobs_a_worker_is_running(
    replica: tuple[LiveServer, ServerProcess], url: str
) -> None:
    server, _worker = replica
    slow = {"seed": 1, "latency_ms": [60_000, 60_000], "fail_rate": 0.0, "invalid_rate": 0.0}
    with httpx.Client(base_url=server.url, timeout=60) as http:
        created = http.post(
            BATCHES, json=batch_body(count=4, concurrency=2, generator_options=slow)
        ).json()
        # Both slots are generating (each holds an item for a minute) ...
        with open_stream(http, created["id"], after=0) as stream:
            stream.read_until(lambda r: len(r.events("item.started")) == 2, what="2 starts")
        assert http.post(f"{BATCHES}/{created['id']}/cancel").status_code == 200
        # ... and the cancel makes the worker drop them: its two places free up long
        # before the items' minute is over, so a quick batch after it runs to its end.
        quick = http.post(BATCHES, json=batch_body(count=4, concurrency=2)).json()
        assert read_stream(http, quick["id"], after=0).events("batch.complete")
    query = "SELECT status::text FROM procrastinate_jobs WHERE lock LIKE %s"
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        statuses = {row[0] for row in conn.execute(query, (f"bulkgen:{created['id']}:%",))}
    assert statuses and statuses <= {"aborted", "cancelled"}, statuses
