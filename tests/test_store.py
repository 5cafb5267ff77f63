"""The SQL store on real databases (SQLite files and PostgreSQL): counters, the event log,
guards, recovery."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from bulkgen.errors import Conflict, NotFound
from bulkgen.log import FinishItem, SQLStore, StartItem
from bulkgen.log.engine import MIGRATIONS
from bulkgen.models import (
    BatchConfig,
    BatchStatus,
    GeneratedItem,
    ItemError,
    ItemStatus,
    Option,
    RuleResult,
    Severity,
    TokenUsage,
)
from bulkgen.services import batch_view


def url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


pytestmark = pytest.mark.databases


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SQLStore]:
    opened = SQLStore(database_url)
    await opened.migrate()
    yield opened
    await opened.close()


async def running_batch(store: SQLStore, count: int = 5, owner: str = "ada") -> str:
    record = await store.create_batch(owner, BatchConfig(topic="Optics", count=count), 1.0)
    await store.mark_running(record.id, 2.0)
    return record.id


def done(
    batch_id: str, index: int, at: float, status: ItemStatus = ItemStatus.COMPLETED
) -> FinishItem:
    error = None if status is ItemStatus.COMPLETED else ItemError(kind="timeout", message="slow")
    return FinishItem(batch_id, index, status, at, error=error)


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
    await store.apply([StartItem(batch_id, i, 3.0) for i in range(3)], 3.0)
    mid = await store.get_batch(batch_id, None)
    assert (mid.counts.pending, mid.counts.in_progress, mid.last_seq) == (0, 3, 3)
    await store.apply([done(batch_id, 0, 4.0), done(batch_id, 1, 5.0, ItemStatus.FAILED)], 5.0)
    await store.apply([done(batch_id, 2, 6.0)], 6.0)
    final = await store.get_batch(batch_id, None)
    assert final.status is BatchStatus.COMPLETED
    assert (final.counts.completed, final.counts.failed, final.counts.in_progress) == (2, 1, 0)
    assert final.progress.finishes == (4.0, 5.0, 6.0)
    log = await store.read_events(batch_id, after=0)
    assert [e.seq for e in log] == list(range(1, 8))
    assert [e.type for e in log][-1] == "batch.complete"
    assert json.loads(log[-1].data)["completed"] == 2
    assert [e.seq for e in await store.read_events(batch_id, after=2, upto=4)] == [3, 4]


async def test_changes_for_items_in_the_wrong_state_are_skipped(store: SQLStore) -> None:
    batch_id = await running_batch(store, count=2)
    skipped = await store.apply([done(batch_id, 0, 3.0)], 3.0)  # finished without starting
    assert skipped.rejected == 1
    await store.apply([StartItem(batch_id, 0, 3.0)], 3.0)
    twice = await store.apply([StartItem(batch_id, 0, 3.5)], 3.5)
    assert twice.rejected == 1
    record = await store.get_batch(batch_id, None)
    assert (record.counts.in_progress, record.counts.pending, record.last_seq) == (1, 1, 1)


async def test_a_finish_after_cancel_is_not_counted(store: SQLStore) -> None:
    batch_id = await running_batch(store, count=4)
    await store.apply([StartItem(batch_id, 0, 3.0), StartItem(batch_id, 1, 3.0)], 3.0)
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
    await store.apply([StartItem(batch_id, i, 3.0) for i in range(2)], 3.0)
    await store.apply([done(batch_id, 0, 4.0, ItemStatus.FAILED), done(batch_id, 1, 4.0)], 4.0)
    assert await store.requeue_failed(batch_id, 5.0) == 1
    record = await store.get_batch(batch_id, None)
    assert record.status is BatchStatus.QUEUED and record.progress.finished_at is None
    assert (record.counts.pending, record.counts.failed, record.counts.completed) == (1, 0, 1)
    log = await store.read_events(batch_id, after=0)
    assert log[-1].type == "item.requeued" and json.loads(log[-1].data)["status"] == "pending"
    with pytest.raises(Conflict):
        await store.requeue_failed(batch_id, 6.0)


async def test_recover_puts_interrupted_items_back(store: SQLStore) -> None:
    batch_id = await running_batch(store, count=3)
    await store.apply([StartItem(batch_id, i, 3.0) for i in range(2)], 3.0)
    await store.apply([done(batch_id, 0, 4.0)], 4.0)
    assert await store.recover(10.0) == [batch_id]
    record = await store.get_batch(batch_id, None)
    assert (record.counts.pending, record.counts.in_progress, record.counts.completed) == (2, 0, 1)
    assert [e.type for e in await store.read_events(batch_id, after=3)] == ["item.requeued"]


async def test_two_stores_on_one_database_keep_sequence_numbers_contiguous(
    database_url: str,
) -> None:
    first = SQLStore(database_url)
    await first.migrate()
    second = SQLStore(database_url)
    try:
        batch_id = await running_batch(first, count=200)
        writers = [first, second]

        async def start(index: int) -> None:
            await writers[index % 2].apply([StartItem(batch_id, index, 3.0)], 3.0)

        await asyncio.gather(*(start(i) for i in range(200)))
        log = await first.read_events(batch_id, after=0, limit=1000)
        assert [e.seq for e in log] == list(range(1, 201))
        assert sorted(json.loads(e.data)["index"] for e in log) == list(range(200))
        assert (await second.get_batch(batch_id, None)).counts.in_progress == 200
    finally:
        await first.close()
        await second.close()


async def test_migrate_is_idempotent(database_url: str) -> None:
    for _ in range(2):
        store = SQLStore(database_url)
        await store.migrate()
        await store.close()


# -- failure reasons and usage -------------------------------------------------------------


def rule(rule_id: str, severity: Severity = Severity.ERROR) -> RuleResult:
    return RuleResult(rule=rule_id, severity=severity, message=f"broke {rule_id}")


def failed(batch_id: str, index: int, at: float, error: ItemError) -> FinishItem:
    return FinishItem(batch_id, index, ItemStatus.FAILED, at, error=error)


async def recount(store: SQLStore, batch_id: str) -> dict[str, int]:
    """The reasons recomputed from the failed items the store lists."""
    found, _ = await store.list_items(
        batch_id, "ada", status=ItemStatus.FAILED, limit=500, offset=0
    )
    counts: Counter[str] = Counter()
    for item in found:
        assert item.error is not None
        counts.update(item.error.reasons())
    return dict(counts)


async def check_reasons(store: SQLStore, batch_id: str) -> dict[str, int]:
    record = await store.get_batch(batch_id, None)
    expected = await recount(store, batch_id)
    assert record.progress.failure_reasons == expected
    assert batch_view(record, 100.0).progress.failure_reasons == expected
    return expected


def test_reason_keys() -> None:
    two = ItemError(
        kind="validation",
        message="flawed",
        rules=[rule("stem.length"), rule("options.unique"), rule("stem.length")],
    )
    assert two.reasons() == ["rule:stem.length", "rule:options.unique"]
    assert ItemError(kind="timeout", message="slow").reasons() == ["kind:timeout"]
    assert ItemError(kind="cancelled", message="stop").reasons() == ["kind:cancelled"]
    only_warning = ItemError(
        kind="validation", message="?", rules=[rule("answer.longest", Severity.WARNING)]
    )
    assert only_warning.reasons() == ["kind:validation"]


async def test_failure_reasons_always_equal_a_recount_of_the_failed_items(
    store: SQLStore,
) -> None:
    batch_id = await running_batch(store, count=10)
    await store.apply([StartItem(batch_id, i, 3.0) for i in range(10)], 3.0)
    both = ItemError(
        kind="validation",
        message="flawed",
        rules=[
            rule("stem.length"),
            rule("options.unique"),
            rule("answer.longest", Severity.WARNING),
        ],
    )
    short = ItemError(kind="validation", message="flawed", rules=[rule("stem.length")])
    timeout = ItemError(kind="timeout", message="slow", transient=True)
    malformed = ItemError(kind="malformed_output", message="not JSON")
    await store.apply(
        [
            failed(batch_id, 0, 4.0, both),
            failed(batch_id, 1, 4.0, short),
            failed(batch_id, 2, 4.0, timeout),
            failed(batch_id, 3, 4.1, timeout),
            failed(batch_id, 4, 4.1, malformed),
            done(batch_id, 5, 4.2),
        ],
        4.2,
    )
    assert await check_reasons(store, batch_id) == {
        "rule:stem.length": 2,
        "rule:options.unique": 1,
        "kind:timeout": 2,
        "kind:malformed_output": 1,
    }
    await store.cancel(batch_id, 5.0)  # items 6–9 are in progress: failed as cancelled
    assert (await check_reasons(store, batch_id))["kind:cancelled"] == 4
    final = json.loads((await store.read_events(batch_id, after=0, limit=100))[-1].data)
    assert final["failure_reasons"] == await recount(store, batch_id)

    assert await store.requeue_failed(batch_id, 6.0, reason="kind:timeout") == 2
    assert "kind:timeout" not in await check_reasons(store, batch_id)
    requeued = await store.list_items(
        batch_id, "ada", status=ItemStatus.PENDING, limit=50, offset=0
    )
    assert [i.index for i in requeued[0]] == [2, 3]

    with pytest.raises(Conflict):
        await store.requeue_failed(batch_id, 6.5, reason="kind:timeout")
    with pytest.raises(Conflict):
        await store.requeue_failed(batch_id, 6.5, reason="rule:schema.stem")

    # The run goes on: the re-queued items fail again, one of them on a rule.
    await store.mark_running(batch_id, 7.0)
    await store.apply([StartItem(batch_id, i, 7.0) for i in (2, 3)], 7.0)
    await store.apply([failed(batch_id, 2, 8.0, short), done(batch_id, 3, 8.0)], 8.0)
    assert await check_reasons(store, batch_id) == {
        "rule:stem.length": 3,
        "rule:options.unique": 1,
        "kind:malformed_output": 1,
        "kind:cancelled": 4,
    }
    # A group of a rule: the item failing two rules goes back, and leaves both counts.
    assert await store.requeue_failed(batch_id, 9.0, reason="rule:options.unique") == 1
    assert await check_reasons(store, batch_id) == {
        "rule:stem.length": 2,
        "kind:malformed_output": 1,
        "kind:cancelled": 4,
    }
    assert await store.requeue_failed(batch_id, 10.0) == 7
    assert await check_reasons(store, batch_id) == {}
    assert (await store.get_batch(batch_id, None)).counts.failed == 0


async def test_usage_is_summed_over_finished_results(store: SQLStore) -> None:
    batch_id = await running_batch(store, count=3)
    assert batch_view(await store.get_batch(batch_id, None), 3.0).usage is None

    def made(prompt: int, completion: int) -> GeneratedItem:
        return GeneratedItem(
            stem="Which chamber pumps blood into the aorta?",
            options=[Option(key="A", text="Left ventricle"), Option(key="B", text="Atrium")],
            answer="A",
            rationale="The left ventricle ejects into the aorta.",
            usage=TokenUsage(
                prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
            ),
        )

    await store.apply([StartItem(batch_id, i, 3.0) for i in range(3)], 3.0)
    short = ItemError(kind="validation", message="flawed", rules=[rule("stem.length")])
    await store.apply(
        [
            FinishItem(batch_id, 0, ItemStatus.COMPLETED, 4.0, result=made(100, 20)),
            FinishItem(batch_id, 1, ItemStatus.FAILED, 4.0, result=made(90, 10), error=short),
            failed(batch_id, 2, 4.0, ItemError(kind="timeout", message="slow")),
        ],
        4.0,
    )
    record = await store.get_batch(batch_id, None)
    expected = {"prompt_tokens": 190, "completion_tokens": 30, "total_tokens": 220}
    assert record.progress.usage is not None and record.progress.usage.model_dump() == expected
    api = batch_view(record, 5.0)
    assert api.usage == record.progress.usage and api.progress.usage == record.progress.usage
    final = json.loads((await store.read_events(batch_id, after=0))[-1].data)
    assert final["usage"] == expected


async def test_migration_0002_counts_reasons_and_usage_of_existing_batches(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            text(
                "INSERT INTO batches (id, owner, config, status, total, pending, in_progress, "
                "completed, failed, last_seq, recent_finishes, created_at) VALUES ('b1', 'ada', "
                ":config, 'completed', 3, 0, 0, 1, 2, 0, '[]', 1.0)"
            ),
            {"config": BatchConfig(topic="Optics", count=3).model_dump_json()},
        )
        usage = '{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}'
        result = '{"stem": "s", "options": [], "answer": "A", "rationale": "r", "usage": %s}'
        two_rules = ItemError(
            kind="validation", message="m", rules=[rule("stem.length"), rule("options.unique")]
        )
        for idx, status, res, error in [
            (0, "completed", result % usage, None),
            (1, "failed", result % usage, two_rules.model_dump_json()),
            (2, "failed", None, ItemError(kind="timeout", message="t").model_dump_json()),
        ]:
            conn.execute(
                text(
                    "INSERT INTO items (batch_id, idx, status, attempts, result, error) "
                    "VALUES ('b1', :idx, :status, '[]', :result, :error)"
                ),
                {"idx": idx, "status": status, "result": res, "error": error},
            )
    engine.dispose()
    store = SQLStore(url(path))
    try:
        await store.migrate()
        record = await store.get_batch("b1", None)
        assert record.progress.failure_reasons == await recount(store, "b1")
        assert record.progress.failure_reasons == {
            "rule:stem.length": 1,
            "rule:options.unique": 1,
            "kind:timeout": 1,
        }
        assert record.progress.usage == TokenUsage(
            prompt_tokens=20, completion_tokens=10, total_tokens=30
        )
    finally:
        await store.close()
