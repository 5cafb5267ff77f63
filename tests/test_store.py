"""The SQL store on real SQLite files: counters, the event log, guards, recovery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulkgen.errors import Conflict, NotFound
from bulkgen.models import BatchConfig, BatchStatus, ItemError, ItemStatus
from bulkgen.store import ItemFinished, ItemStarted, SQLStore


def url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLStore]:
    opened = SQLStore(url(tmp_path / "store.db"))
    await opened.migrate()
    yield opened
    await opened.close()


async def running_batch(store: SQLStore, count: int = 5, owner: str = "ada") -> str:
    record = await store.create_batch(owner, BatchConfig(topic="Optics", count=count), 1.0)
    await store.mark_running(record.id, 2.0)
    return record.id


def done(
    batch_id: str, index: int, at: float, status: ItemStatus = ItemStatus.COMPLETED
) -> ItemFinished:
    error = None if status is ItemStatus.COMPLETED else ItemError(kind="timeout", message="slow")
    return ItemFinished(batch_id, index, status, at, error=error)


async def test_create_inserts_pending_items_and_a_queued_batch(store: SQLStore) -> None:
    record = await store.create_batch("ada", BatchConfig(topic="Optics", count=7), 1.0)
    assert record.status is BatchStatus.QUEUED
    assert (record.counts.total, record.counts.pending, record.last_seq) == (7, 7, 0)
    items, total = await store.list_items(
        record.id, "ada", status=ItemStatus.PENDING, limit=100, offset=0
    )
    assert total == 7 and [i.index for i in items] == list(range(7))


async def test_reads_are_scoped_by_owner(store: SQLStore) -> None:
    batch_id = await running_batch(store)
    with pytest.raises(NotFound):
        await store.get_batch(batch_id, "bob")
    with pytest.raises(NotFound):
        await store.list_items(batch_id, "bob", status=None, limit=10, offset=0)
    assert (await store.list_batches("bob", limit=10, offset=0))[1] == 0


async def test_apply_moves_counters_and_logs_contiguous_events(store: SQLStore) -> None:
    batch_id = await running_batch(store, count=3)
    await store.apply([ItemStarted(batch_id, i, 3.0) for i in range(3)], 3.0)
    mid = await store.get_batch(batch_id, None)
    assert (mid.counts.pending, mid.counts.in_progress, mid.last_seq) == (0, 3, 3)
    await store.apply([done(batch_id, 0, 4.0), done(batch_id, 1, 5.0, ItemStatus.FAILED)], 5.0)
    await store.apply([done(batch_id, 2, 6.0)], 6.0)
    final = await store.get_batch(batch_id, None)
    assert final.status is BatchStatus.COMPLETED
    assert (final.counts.completed, final.counts.failed, final.counts.in_progress) == (2, 1, 0)
    assert final.recent_finishes == (4.0, 5.0, 6.0)
    log = await store.read_events(batch_id, after=0)
    assert [e.seq for e in log] == list(range(1, 8))
    assert [e.type for e in log][-1] == "batch.complete"
    assert json.loads(log[-1].data)["completed"] == 2
    assert [e.seq for e in await store.read_events(batch_id, after=2, upto=4)] == [3, 4]


async def test_changes_for_items_in_the_wrong_state_are_skipped(store: SQLStore) -> None:
    batch_id = await running_batch(store, count=2)
    skipped = await store.apply([done(batch_id, 0, 3.0)], 3.0)  # finished without starting
    assert skipped.rejected == 1
    await store.apply([ItemStarted(batch_id, 0, 3.0)], 3.0)
    twice = await store.apply([ItemStarted(batch_id, 0, 3.5)], 3.5)
    assert twice.rejected == 1
    record = await store.get_batch(batch_id, None)
    assert (record.counts.in_progress, record.counts.pending, record.last_seq) == (1, 1, 1)


async def test_a_finish_after_cancel_is_not_counted(store: SQLStore) -> None:
    batch_id = await running_batch(store, count=4)
    await store.apply([ItemStarted(batch_id, 0, 3.0), ItemStarted(batch_id, 1, 3.0)], 3.0)
    cancelled = await store.cancel(batch_id, 4.0)
    assert cancelled.status is BatchStatus.CANCELLED
    assert (cancelled.counts.failed, cancelled.counts.pending, cancelled.counts.in_progress) == (
        2,
        2,
        0,
    )
    late = await store.apply([done(batch_id, 0, 5.0)], 5.0)
    assert late.rejected == 1
    assert (await store.get_batch(batch_id, None)).counts.completed == 0
    with pytest.raises(Conflict):
        await store.cancel(batch_id, 6.0)


async def test_requeue_failed_and_conflict_when_nothing_failed(store: SQLStore) -> None:
    batch_id = await running_batch(store, count=2)
    await store.apply([ItemStarted(batch_id, i, 3.0) for i in range(2)], 3.0)
    await store.apply([done(batch_id, 0, 4.0, ItemStatus.FAILED), done(batch_id, 1, 4.0)], 4.0)
    assert await store.requeue_failed(batch_id, 5.0) == 1
    record = await store.get_batch(batch_id, None)
    assert record.status is BatchStatus.QUEUED and record.finished_at is None
    assert (record.counts.pending, record.counts.failed, record.counts.completed) == (1, 0, 1)
    log = await store.read_events(batch_id, after=0)
    assert log[-1].type == "item.requeued" and json.loads(log[-1].data)["status"] == "pending"
    with pytest.raises(Conflict):
        await store.requeue_failed(batch_id, 6.0)


async def test_recover_puts_interrupted_items_back(store: SQLStore) -> None:
    batch_id = await running_batch(store, count=3)
    await store.apply([ItemStarted(batch_id, i, 3.0) for i in range(2)], 3.0)
    await store.apply([done(batch_id, 0, 4.0)], 4.0)
    assert await store.recover(10.0) == [batch_id]
    record = await store.get_batch(batch_id, None)
    assert (record.counts.pending, record.counts.in_progress, record.counts.completed) == (2, 0, 1)
    assert [e.type for e in await store.read_events(batch_id, after=3)] == ["item.requeued"]


async def test_two_stores_on_one_file_keep_sequence_numbers_contiguous(tmp_path: Path) -> None:
    first = SQLStore(url(tmp_path / "shared.db"))
    await first.migrate()
    second = SQLStore(url(tmp_path / "shared.db"))
    try:
        batch_id = await running_batch(first, count=200)
        writers = [first, second]

        async def start(index: int) -> None:
            await writers[index % 2].apply([ItemStarted(batch_id, index, 3.0)], 3.0)

        await asyncio.gather(*(start(i) for i in range(200)))
        log = await first.read_events(batch_id, after=0, limit=1000)
        assert [e.seq for e in log] == list(range(1, 201))
        assert sorted(json.loads(e.data)["index"] for e in log) == list(range(200))
        assert (await second.get_batch(batch_id, None)).counts.in_progress == 200
    finally:
        await first.close()
        await second.close()


async def test_migrate_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        store = SQLStore(url(tmp_path / "again.db"))
        await store.migrate()
        await store.close()
