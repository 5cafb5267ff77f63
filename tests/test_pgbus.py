"""Wake-ups across processes on a real PostgreSQL: NOTIFY sent inside the writing
transaction, delivered on commit only, skipped by the process that sent it, and a
listener that comes back by itself after the database server restarted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from bulkgen.log import PgBus, SQLStore, StartItem
from bulkgen.log.pgbus import CHANNEL, notification, parse_notification
from bulkgen.models import BatchConfig

from helpers.postgres import Postgres

#: A bound for waits that must end without a wake-up (no notification is coming).
NOTHING_COMES = 0.2
#: A bound for waits that a wake-up ends; only reached if the bus is broken.
GUARD = 60.0


@pytest.fixture
def url(pg_url: str) -> str:
    return pg_url


@pytest.fixture
async def writer(url: str) -> AsyncIterator[SQLStore]:
    store = SQLStore(url, origin="writer")
    yield store
    await store.close()


@pytest.fixture
async def listener(url: str) -> AsyncIterator[PgBus]:
    bus = PgBus(url, origin="viewer")
    await bus.start()
    yield bus
    await bus.close()


async def running_batch(store: SQLStore, count: int = 3) -> str:
    record = await store.create_batch("ada", BatchConfig(topic="Optics", count=count), 1.0)
    return record.id


def test_payloads_round_trip_and_foreign_ones_are_ignored() -> None:
    assert parse_notification(notification("b1", True, "p1")) == ("b1", True, "p1")
    assert parse_notification(notification("b1", False, "p1")) == ("b1", False, "p1")
    assert parse_notification("hello") is None
    assert parse_notification("b1 2 p1") is None


async def test_a_commit_in_another_process_wakes_the_subscriber(
    writer: SQLStore, listener: PgBus
) -> None:
    batch_id = await running_batch(writer)
    with listener.subscribe(batch_id) as subscription:
        await writer.mark_running(batch_id, 2.0)
        assert await subscription.wait(GUARD) is True
        await writer.apply([StartItem(batch_id, 0, 3.0)], 3.0)
        assert await subscription.wait(GUARD) is True
        assert listener.received == 2


async def test_a_control_action_arrives_urgent(writer: SQLStore, listener: PgBus) -> None:
    batch_id = await running_batch(writer)
    with listener.subscribe(batch_id) as subscription:
        await writer.mark_running(batch_id, 2.0)
        # An urgent wake-up ends the coalescing pause at once; GUARD is never reached.
        await asyncio.wait_for(subscription.pause(GUARD), GUARD / 2)


async def test_nothing_is_sent_before_commit_or_for_a_rollback(url: str, listener: PgBus) -> None:
    store = SQLStore(url, origin="writer")
    try:
        batch_id = await running_batch(store)
        with listener.subscribe(batch_id) as subscription:
            engine = store._write  # the store's own writer engine, as a transaction uses it
            async with engine.connect() as conn:
                transaction = await conn.begin()
                await conn.execute(
                    text("SELECT pg_notify(:c, :p)"),
                    {"c": CHANNEL, "p": notification(batch_id, False, "writer")},
                )
                assert await subscription.wait(NOTHING_COMES) is False  # not yet committed
                await transaction.rollback()
            assert await subscription.wait(NOTHING_COMES) is False  # rolled back: never
    finally:
        await store.close()


async def test_the_process_that_wrote_skips_its_own_notifications(url: str) -> None:
    store = SQLStore(url, origin="same")
    bus = PgBus(url, origin="same")
    await bus.start()
    try:
        batch_id = await running_batch(store)
        with bus.subscribe(batch_id) as subscription:
            await store.mark_running(batch_id, 2.0)
            # Its event log publishes locally instead; the NOTIFY is for other processes.
            assert await subscription.wait(NOTHING_COMES) is False
            assert bus.received == 0
    finally:
        await bus.close()
        await store.close()


async def test_the_listener_reconnects_after_a_database_restart(
    postgres: Postgres, url: str
) -> None:
    bus = PgBus(url, origin="viewer")
    await bus.start()
    try:
        store = SQLStore(url, origin="writer")
        batch_id = await running_batch(store)
        await store.close()
        with bus.subscribe(batch_id) as subscription:
            await asyncio.to_thread(postgres.restart)
            # Back online, the bus wakes every subscriber: notifications sent while it was
            # away are lost, so viewers re-read the log from their cursors.
            assert await subscription.wait(GUARD) is True
            store = SQLStore(url, origin="writer")
            try:
                await store.mark_running(batch_id, 2.0)
                assert await subscription.wait(GUARD) is True
            finally:
                await store.close()
    finally:
        await bus.close()
