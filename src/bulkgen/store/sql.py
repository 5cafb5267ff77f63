"""The SQL store: SQLAlchemy 2 Core over asyncio; SQLite (WAL) by default.

Writes go through one engine whose transactions take the database's write lock at BEGIN
(``BEGIN IMMEDIATE`` on SQLite), so sequence numbers read from the batch row and written
back in the same transaction stay contiguous even with several processes on one file.
Reads use a separate pool and never wait for writers (WAL).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, bindparam, event, func, select, update
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.compiler import SQLCompiler

from bulkgen.errors import Conflict, NotFound
from bulkgen.events import (
    BATCH_COMPLETE,
    BATCH_PAUSED,
    BATCH_RESUMED,
    ITEM_COMPLETED,
    ITEM_FAILED,
    ITEM_QUEUED,
    ITEM_REQUEUED,
    ITEM_STARTED,
)
from bulkgen.models import (
    Attempt,
    BatchConfig,
    BatchStatus,
    GeneratedItem,
    Item,
    ItemError,
    ItemStatus,
    ItemSummary,
    PauseInfo,
    PauseReason,
    ProgressSnapshot,
    RuleResult,
    from_epoch,
)
from bulkgen.progress import Counts, ValidTarget, append_finishes, snapshot, usage_of
from bulkgen.store.base import (
    Applied,
    BatchRecord,
    Change,
    EventRecord,
    ItemFinished,
    ItemStarted,
)
from bulkgen.store.schema import batches, events, items

STEM_PREVIEW = 200
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _create_engine(url: str, *, writer: bool) -> AsyncEngine:
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_size=1 if writer else 10)
    engine = create_async_engine(url, pool_size=1 if writer else 8, max_overflow=0)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def _dump(models: Iterable[Any]) -> str:
    return "[" + ",".join(model.model_dump_json() for model in models) + "]"


def _record(row: Row[Any]) -> BatchRecord:
    return BatchRecord(
        id=row.id,
        owner=row.owner,
        title=row.title,
        config=BatchConfig.model_validate_json(row.config),
        status=BatchStatus(row.status),
        counts=Counts(
            total=row.total,
            pending=row.pending,
            in_progress=row.in_progress,
            completed=row.completed,
            failed=row.failed,
        ),
        last_seq=row.last_seq,
        recent_finishes=tuple(json.loads(row.recent_finishes)),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        failure_reasons=json.loads(row.failure_reasons),
        usage=usage_of(row.prompt_tokens, row.completion_tokens, row.total_tokens),
        pause=PauseInfo.model_validate_json(row.pause) if row.pause else None,
        backoff_until=row.backoff_until,
    )


@dataclass(slots=True)
class _ItemState:
    """An item's columns while a transaction changes it."""

    index: int
    status: str
    attempts: str
    started_at: float | None
    finished_at: float | None = None
    result: str | None = None
    warnings: str | None = None
    error: str | None = None
    stem_key: str | None = None
    dirty: bool = False

    attempt_count: int = -1

    def attempts_made(self) -> int:
        if self.attempt_count < 0:
            self.attempt_count = 0 if self.attempts == "[]" else len(json.loads(self.attempts))
        return self.attempt_count

    def params(self, batch_id: str) -> dict[str, Any]:
        return {
            "b_batch_id": batch_id,
            "b_idx": self.index,
            "status": self.status,
            "attempts": self.attempts,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "result": self.result,
            "warnings": self.warnings,
            "error": self.error,
            "stem_key": self.stem_key,
        }


class _BatchTxn:
    """One batch's counters, log head and changed items inside a write transaction."""

    def __init__(self, row: Row[Any], item_states: dict[int, _ItemState]) -> None:
        self.row = row
        self.status = BatchStatus(row.status)
        self.total: int = row.total
        #: Rows of items this transaction creates (replacements in mode ``valid``).
        self.new_items: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {
            "pending": row.pending,
            "in_progress": row.in_progress,
            "completed": row.completed,
            "failed": row.failed,
        }
        self.last_seq: int = row.last_seq
        self.finishes: list[float] = json.loads(row.recent_finishes)
        self.finished_at: float | None = row.finished_at
        self.items = item_states
        self.events: list[dict[str, Any]] = []
        self.reasons: dict[str, int] = json.loads(row.failure_reasons)
        self.usage = [row.prompt_tokens, row.completion_tokens, row.total_tokens]
        self.pause: PauseInfo | None = (
            PauseInfo.model_validate_json(row.pause) if row.pause else None
        )
        self.early_stop_checked = bool(row.early_stop_checked)

    def count_failure(self, error: ItemError | None, delta: int) -> None:
        """Count a failed item under its reasons (``delta`` 1), or take it back (-1)."""
        for key in _reasons_of(error):
            count = self.reasons.get(key, 0) + delta
            if count > 0:
                self.reasons[key] = count
            else:
                self.reasons.pop(key, None)

    @cached_property
    def config(self) -> BatchConfig:
        """The batch's config, parsed only when needed."""
        return BatchConfig.model_validate_json(self.row.config)

    @cached_property
    def valid(self) -> ValidTarget | None:
        """The batch's target of valid items (mode ``valid``), read only when needed."""
        return ValidTarget.of(self.config)

    def snapshot(self, now: float) -> ProgressSnapshot:
        """The batch's progress as this transaction leaves it."""
        return snapshot(
            self.current_counts(),
            status=self.status,
            finishes=self.finishes,
            started_at=self.row.started_at,
            finished_at=self.finished_at,
            now=now,
            failure_reasons=self.reasons,
            usage=usage_of(*self.usage),
            valid=self.valid,
            pause=self.pause,
        )

    def pause_with(self, reason: PauseReason, message: str, now: float) -> None:
        """Pause the batch and log ``batch.paused`` with why and the snapshot."""
        self.status = BatchStatus.PAUSED
        self.pause = PauseInfo(reason=reason, message=message, at=_when(now))
        data = {
            "reason": reason,
            "message": message,
            "snapshot": self.snapshot(now).model_dump(mode="json"),
        }
        self.log(BATCH_PAUSED, json.dumps(data), now)

    def judge_early_stop(self, now: float) -> None:
        """Pause a running batch whose first finished items failed too often (once only).

        Judged at the first commit that brings ``completed + failed`` to ``min_finished``
        or more; a batch with nothing left to schedule is not paused (it is about to end).
        """
        rule = self.config.early_stop
        if self.early_stop_checked or rule is None or not rule.enabled:
            return
        if self.status is not BatchStatus.RUNNING:
            return
        failed, finished = self.counts["failed"], self.counts["completed"] + self.counts["failed"]
        if finished < rule.min_finished:
            return
        self.early_stop_checked = True
        rate = failed / finished
        if rate < rule.max_failure_rate or self.counts["pending"] == 0:
            return
        message = (
            f"{failed} of the first {finished} finished items failed "
            f"({_percent(rate)} ≥ {_percent(rule.max_failure_rate)}): "
            "check the provider settings, then resume or cancel"
        )
        self.pause_with("early_stop", message, now)

    def queue_replacement(self, now: float) -> None:
        """After a failure in mode ``valid``: append a new pending item when the items
        already queued can no longer reach the target and the attempt cap allows one.

        Replacements are only queued while ``completed + pending + in_progress < target``,
        so at most ``target`` items can ever pass.
        """
        valid = self.valid
        if valid is None or self.total >= valid.max_items:
            return
        counts = self.counts
        if counts["completed"] + counts["pending"] + counts["in_progress"] >= valid.target:
            return
        item = _ItemState(
            index=self.total, status=ItemStatus.PENDING.value, attempts="[]", started_at=None
        )
        self.new_items.append(
            {"batch_id": self.row.id, "idx": item.index, "status": item.status, "attempts": "[]"}
        )
        self.total += 1
        counts["pending"] += 1
        self.log_item(ITEM_QUEUED, item, now)

    def needed(self) -> int | None:
        """Mode ``valid``: how many more items must be queued to reach the target."""
        valid = self.valid
        if valid is None:
            return None
        counts = self.counts
        return max(
            valid.target - counts["completed"] - counts["pending"] - counts["in_progress"], 0
        )

    def add_usage(self, result: GeneratedItem | None) -> None:
        if result is not None and result.usage is not None:
            used = result.usage
            self.usage[0] += used.prompt_tokens
            self.usage[1] += used.completion_tokens
            self.usage[2] += used.total_tokens

    def move(self, item: _ItemState, status: ItemStatus) -> None:
        self.counts[item.status] -= 1
        self.counts[status.value] += 1
        item.status = status.value
        item.dirty = True

    def log(self, event_type: str, data: str, now: float) -> None:
        self.last_seq += 1
        self.events.append(
            {
                "batch_id": self.row.id,
                "seq": self.last_seq,
                "type": event_type,
                "data": data,
                "created_at": now,
            }
        )

    def log_item(
        self,
        event_type: str,
        item: _ItemState,
        now: float,
        *,
        result: GeneratedItem | None = None,
        warnings: Sequence[RuleResult] = (),
        error: ItemError | None = None,
    ) -> None:
        summary = _summary(item, result, warnings, error)
        self.log(event_type, summary.model_dump_json(), now)

    def finish(self, status: BatchStatus, now: float) -> None:
        """End the batch and log ``batch.complete`` with its final snapshot."""
        self.status = status
        self.finished_at = now
        self.pause = None
        self.log(BATCH_COMPLETE, self.snapshot(now).model_dump_json(), now)

    def current_counts(self) -> Counts:
        return Counts(total=self.total, **self.counts)

    def batch_values(self) -> dict[str, Any]:
        return {
            **self.counts,
            "total": self.total,
            "status": self.status.value,
            "last_seq": self.last_seq,
            "recent_finishes": json.dumps(self.finishes),
            "finished_at": self.finished_at,
            "failure_reasons": json.dumps(self.reasons, sort_keys=True),
            "prompt_tokens": self.usage[0],
            "completion_tokens": self.usage[1],
            "total_tokens": self.usage[2],
            "pause": None if self.pause is None else self.pause.model_dump_json(),
            "early_stop_checked": int(self.early_stop_checked),
        }


def _when(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def _percent(share: float) -> str:
    return f"{round(100.0 * share, 1):g}%"


def _summary(
    item: _ItemState,
    result: GeneratedItem | None = None,
    warnings: Sequence[RuleResult] = (),
    error: ItemError | None = None,
) -> ItemSummary:
    """The summary item events carry; the models come from the change, not re-parsed."""
    duration = None
    if item.started_at is not None and item.finished_at is not None:
        duration = round((item.finished_at - item.started_at) * 1000.0, 1)
    return ItemSummary(
        index=item.index,
        status=ItemStatus(item.status),
        attempts=item.attempts_made(),
        started_at=from_epoch(item.started_at),
        finished_at=from_epoch(item.finished_at),
        duration_ms=duration,
        stem_preview=None if result is None else result.stem[:STEM_PREVIEW],
        answer=None if result is None else result.answer,
        warnings=list(warnings),
        error=error,
    )


def _item(row: Row[Any]) -> Item:
    started, finished = row.started_at, row.finished_at
    return Item(
        index=row.idx,
        status=ItemStatus(row.status),
        attempts=[Attempt.model_validate(a) for a in json.loads(row.attempts)],
        started_at=from_epoch(started),
        finished_at=from_epoch(finished),
        duration_ms=(
            None if started is None or finished is None else round((finished - started) * 1000.0, 1)
        ),
        result=GeneratedItem.model_validate_json(row.result) if row.result else None,
        warnings=[RuleResult.model_validate(w) for w in json.loads(row.warnings or "[]")],
        error=ItemError.model_validate_json(row.error) if row.error else None,
    )


_UPDATE_ITEM = (
    update(items)
    .where(items.c.batch_id == bindparam("b_batch_id"), items.c.idx == bindparam("b_idx"))
    .values(
        status=bindparam("status"),
        attempts=bindparam("attempts"),
        started_at=bindparam("started_at"),
        finished_at=bindparam("finished_at"),
        result=bindparam("result"),
        warnings=bindparam("warnings"),
        error=bindparam("error"),
        stem_key=bindparam("stem_key"),
    )
)

_INSERT_EVENT = events.insert()


async def _execute_many(conn: AsyncConnection, statement: Any, rows: list[dict[str, Any]]) -> None:
    """executemany straight to the driver, skipping per-row parameter processing.

    On the hot path SQLAlchemy's per-row parameter handling costs more than SQLite's own
    work; the statement is still compiled by SQLAlchemy for the connection's dialect.
    """
    compiled = _compiled(statement, conn.dialect)
    if compiled.positiontup is not None:
        order = compiled.positiontup
        await conn.exec_driver_sql(compiled.string, [tuple(row[k] for k in order) for row in rows])
    else:
        await conn.exec_driver_sql(compiled.string, rows)


_COMPILED: dict[tuple[int, str], SQLCompiler] = {}


def _compiled(statement: Any, dialect: Dialect) -> SQLCompiler:
    key = (id(statement), dialect.name)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = statement.compile(dialect=dialect)
    return found


# What a transaction needs to know of an item it changes. The result columns are not
# read: only a finish sets them, and an item in any other state has none (a retry and a
# recovery clear them), so writing them back empty is exact.
_ITEM_COLUMNS = (
    items.c.idx,
    items.c.status,
    items.c.attempts,
    items.c.started_at,
    items.c.finished_at,
)


class SQLStore:
    """The store on a SQL database (SQLite file by default)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._write = _create_engine(url, writer=True)
        self._read = _create_engine(url, writer=False)

    async def migrate(self) -> None:
        if self.url.startswith("sqlite"):
            database = self.url.split("///", 1)[-1]
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        async with self._write.begin() as conn:
            await conn.run_sync(_upgrade)

    async def ping(self) -> None:
        async with self._read.connect() as conn:
            await conn.execute(select(1))

    async def close(self) -> None:
        await self._write.dispose()
        await self._read.dispose()

    # -- batches -----------------------------------------------------------------------

    async def create_batch(self, owner: str, config: BatchConfig, now: float) -> BatchRecord:
        batch_id = uuid.uuid4().hex
        async with self._write.begin() as conn:
            await conn.execute(
                batches.insert().values(
                    id=batch_id,
                    owner=owner,
                    title=config.title,
                    config=config.model_dump_json(),
                    status=BatchStatus.QUEUED.value,
                    total=config.count,
                    pending=config.count,
                    in_progress=0,
                    completed=0,
                    failed=0,
                    last_seq=0,
                    recent_finishes="[]",
                    failure_reasons="{}",
                    created_at=now,
                )
            )
            await conn.execute(
                items.insert(),
                [
                    {"batch_id": batch_id, "idx": i, "status": "pending", "attempts": "[]"}
                    for i in range(config.count)
                ],
            )
            return await self._batch_in(conn, batch_id, None)

    async def get_batch(self, batch_id: str, owner: str | None) -> BatchRecord:
        async with self._read.connect() as conn:
            return await self._batch_in(conn, batch_id, owner)

    @staticmethod
    async def _batch_in(conn: AsyncConnection, batch_id: str, owner: str | None) -> BatchRecord:
        query = select(batches).where(batches.c.id == batch_id)
        if owner is not None:
            query = query.where(batches.c.owner == owner)
        row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"no batch {batch_id}")
        return _record(row)

    async def list_batches(
        self, owner: str, *, limit: int, offset: int
    ) -> tuple[list[BatchRecord], int]:
        async with self._read.connect() as conn:
            total = (
                await conn.execute(
                    select(func.count()).select_from(batches).where(batches.c.owner == owner)
                )
            ).scalar_one()
            rows = await conn.execute(
                select(batches)
                .where(batches.c.owner == owner)
                .order_by(batches.c.created_at.desc(), batches.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [_record(row) for row in rows], total

    async def list_items(
        self,
        batch_id: str,
        owner: str,
        *,
        status: ItemStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Item], int]:
        async with self._read.connect() as conn:
            await self._batch_in(conn, batch_id, owner)
            where = [items.c.batch_id == batch_id]
            if status is not None:
                where.append(items.c.status == status.value)
            total = (
                await conn.execute(select(func.count()).select_from(items).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                select(items).where(*where).order_by(items.c.idx).limit(limit).offset(offset)
            )
            return [_item(row) for row in rows], total

    async def batch_with_items(
        self, batch_id: str, owner: str, *, limit: int
    ) -> tuple[BatchRecord, list[Item]]:
        """The batch and its latest ``limit`` started items, read in one snapshot.

        A page renders both and then follows the stream from the batch's ``last_seq``, so
        they must describe the same moment of the log.
        """
        async with self._read.connect() as conn:
            record = await self._batch_in(conn, batch_id, owner)
            rows = await conn.execute(
                select(items)
                .where(items.c.batch_id == batch_id, items.c.status != ItemStatus.PENDING.value)
                .order_by(items.c.idx.desc())
                .limit(limit)
            )
            return record, [_item(row) for row in reversed(rows.all())]

    async def read_events(
        self, batch_id: str, *, after: int, upto: int | None = None, limit: int = 500
    ) -> list[EventRecord]:
        query = select(events.c.seq, events.c.type, events.c.data, events.c.created_at).where(
            events.c.batch_id == batch_id, events.c.seq > after
        )
        if upto is not None:
            query = query.where(events.c.seq <= upto)
        async with self._read.connect() as conn:
            rows = await conn.execute(query.order_by(events.c.seq).limit(limit))
            return [EventRecord(r.seq, r.type, r.data, r.created_at) for r in rows]

    async def pending_indices(self, batch_id: str, *, after: int, limit: int) -> list[int]:
        async with self._read.connect() as conn:
            rows = await conn.execute(
                select(items.c.idx)
                .where(
                    items.c.batch_id == batch_id,
                    items.c.status == ItemStatus.PENDING.value,
                    items.c.idx > after,
                )
                .order_by(items.c.idx)
                .limit(limit)
            )
            return [row.idx for row in rows]

    async def prior_attempts(self, batch_id: str, indices: Sequence[int]) -> dict[int, int]:
        """How many attempts each item already had (items that were retried)."""
        async with self._read.connect() as conn:
            rows = await conn.execute(
                select(items.c.idx, items.c.attempts).where(
                    items.c.batch_id == batch_id,
                    items.c.idx.in_(indices),
                    items.c.attempts != "[]",
                )
            )
            return {row.idx: len(json.loads(row.attempts)) for row in rows}

    async def passed_stem_keys(self, batch_id: str) -> set[str]:
        async with self._read.connect() as conn:
            rows = await conn.execute(
                select(items.c.stem_key).where(
                    items.c.batch_id == batch_id,
                    items.c.status == ItemStatus.COMPLETED.value,
                    items.c.stem_key.is_not(None),
                )
            )
            return {row.stem_key for row in rows}

    async def mark_running(self, batch_id: str, now: float) -> BatchRecord:
        async with self._write.begin() as conn:
            record = await self._batch_in(conn, batch_id, None)
            if record.status is BatchStatus.QUEUED:
                await conn.execute(
                    update(batches)
                    .where(batches.c.id == batch_id)
                    .values(
                        status=BatchStatus.RUNNING.value,
                        started_at=record.started_at if record.started_at else now,
                    )
                )
                record = await self._batch_in(conn, batch_id, None)
            return record

    async def pause(self, batch_id: str, now: float) -> BatchRecord:
        async with self._write.begin() as conn:
            txn = (await self._lock(conn, [batch_id]))[batch_id]
            if txn.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING):
                raise Conflict(
                    f"batch {batch_id} is {txn.status.value}: only a queued or "
                    "running batch can be paused"
                )
            if txn.counts["pending"] == 0:
                raise Conflict(f"batch {batch_id} has no pending items left to pause")
            txn.pause_with("manual", "paused by a user: resume or cancel", now)
            await self._write_back(conn, {batch_id: txn})
            return await self._batch_in(conn, batch_id, None)

    async def resume(self, batch_id: str, now: float) -> BatchRecord:
        async with self._write.begin() as conn:
            txn = (await self._lock(conn, [batch_id]))[batch_id]
            if txn.status is not BatchStatus.PAUSED:
                raise Conflict(f"batch {batch_id} is {txn.status.value}, not paused")
            txn.status = BatchStatus.RUNNING
            txn.pause = None
            # The rate of the new run is not mixed with the gap of the pause.
            txn.finishes = []
            started = txn.row.started_at if txn.row.started_at is not None else now
            resumed = {"snapshot": txn.snapshot(now).model_dump(mode="json")}
            txn.log(BATCH_RESUMED, json.dumps(resumed), now)
            if txn.counts["pending"] == 0 and txn.counts["in_progress"] == 0:
                txn.finish(BatchStatus.COMPLETED, now)
            await self._write_back(conn, {batch_id: txn}, extra={"started_at": started})
            return await self._batch_in(conn, batch_id, None)

    async def set_backoff(self, batch_id: str, until: float) -> None:
        async with self._write.begin() as conn:
            await conn.execute(
                update(batches)
                .where(
                    batches.c.id == batch_id,
                    (batches.c.backoff_until.is_(None)) | (batches.c.backoff_until < until),
                )
                .values(backoff_until=until)
            )

    async def fail_batch(self, batch_id: str, message: str, now: float) -> None:
        async with self._write.begin() as conn:
            txn = (await self._lock(conn, [batch_id]))[batch_id]
            if txn.status.finished:
                return
            txn.finish(BatchStatus.FAILED, now)
            await self._write_back(conn, {batch_id: txn}, extra={"error": message[:2000]})

    # -- the hot path --------------------------------------------------------------------

    async def apply(self, changes: Sequence[Change], now: float) -> Applied:
        wanted: dict[str, set[int]] = {}
        for change in changes:
            wanted.setdefault(change.batch_id, set()).add(change.index)
        applied = Applied()
        async with self._write.begin() as conn:
            txns = await self._lock(conn, list(wanted))
            for batch_id, txn in txns.items():
                txn.items = await self._item_states(conn, batch_id, wanted[batch_id])
            for change in changes:
                txn_for = txns.get(change.batch_id)
                item = None if txn_for is None else txn_for.items.get(change.index)
                if txn_for is None or item is None or not _apply_one(txn_for, item, change, now):
                    applied.rejected += 1
            for batch_id, txn in txns.items():
                if txn.events:
                    txn.judge_early_stop(now)
                if txn.status is BatchStatus.PAUSED and txn.row.status != txn.status:
                    applied.paused.add(batch_id)
                # A paused batch whose last items finish with nothing pending is done too.
                if (
                    txn.status in (BatchStatus.RUNNING, BatchStatus.PAUSED)
                    and txn.counts["pending"] == 0
                    and txn.counts["in_progress"] == 0
                ):
                    txn.finish(BatchStatus.COMPLETED, now)
                if txn.events:
                    applied.batches.add(batch_id)
            await self._write_back(conn, txns)
        return applied

    async def cancel(self, batch_id: str, now: float) -> BatchRecord:
        async with self._write.begin() as conn:
            txn = (await self._lock(conn, [batch_id]))[batch_id]
            if txn.status.finished:
                raise Conflict(f"batch {batch_id} is already {txn.status.value}")
            txn.items = await self._item_states(conn, batch_id, None, ItemStatus.IN_PROGRESS)
            cancelled = ItemError(kind="cancelled", message="the batch was cancelled")
            for item in txn.items.values():
                item.finished_at = now
                item.error = cancelled.model_dump_json()
                txn.move(item, ItemStatus.FAILED)
                txn.count_failure(cancelled, 1)
                txn.log_item(ITEM_FAILED, item, now, error=cancelled)
            txn.finish(BatchStatus.CANCELLED, now)
            await self._write_back(conn, {batch_id: txn})
            return await self._batch_in(conn, batch_id, None)

    async def requeue_failed(self, batch_id: str, now: float, reason: str | None = None) -> int:
        async with self._write.begin() as conn:
            txn = (await self._lock(conn, [batch_id]))[batch_id]
            failed = await self._item_states(
                conn, batch_id, None, ItemStatus.FAILED, with_error=True
            )
            errors = {
                index: None if item.error is None else ItemError.model_validate_json(item.error)
                for index, item in failed.items()
            }
            if reason is not None:
                failed = {
                    index: item
                    for index, item in failed.items()
                    if reason in _reasons_of(errors[index])
                }
                if not failed:
                    raise Conflict(f"batch {batch_id} has no failed items with reason {reason}")
            needed = txn.needed()
            if needed is not None and len(failed) > needed:
                # Mode valid: only as many as can still be needed, so the target is not passed.
                if needed == 0 and not _resumable(txn):
                    raise Conflict(f"batch {batch_id} already has its target of valid items queued")
                failed = {index: failed[index] for index in sorted(failed)[:needed]}
            if not failed and not _resumable(txn):
                raise Conflict(f"batch {batch_id} has no failed items to retry")
            txn.items = failed
            for item in txn.items.values():
                txn.count_failure(errors[item.index], -1)
                item.started_at = item.finished_at = None
                item.result = item.warnings = item.error = item.stem_key = None
                txn.move(item, ItemStatus.PENDING)
                txn.log_item(ITEM_REQUEUED, item, now)
            txn.finishes = []
            if txn.status.finished:
                txn.status = BatchStatus.QUEUED
                txn.finished_at = None
            await self._write_back(conn, {batch_id: txn}, extra={"error": None})
            return len(txn.items)

    async def recover(self, now: float) -> list[str]:
        async with self._write.begin() as conn:
            rows = await conn.execute(
                select(batches.c.id, batches.c.status).where(
                    batches.c.status.in_(
                        [
                            s.value
                            for s in (BatchStatus.QUEUED, BatchStatus.RUNNING, BatchStatus.PAUSED)
                        ]
                    )
                )
            )
            found = rows.all()
            ids = [row.id for row in found]
            if not ids:
                return []
            txns = await self._lock(conn, ids)
            for batch_id, txn in txns.items():
                txn.items = await self._item_states(conn, batch_id, None, ItemStatus.IN_PROGRESS)
                for item in txn.items.values():
                    item.started_at = None
                    txn.move(item, ItemStatus.PENDING)
                    txn.log_item(ITEM_REQUEUED, item, now)
                if txn.items:
                    txn.finishes = []
            await self._write_back(conn, txns)
            # A paused batch stays paused until a user resumes it.
            return [row.id for row in found if row.status != BatchStatus.PAUSED.value]

    # -- transaction helpers -------------------------------------------------------------

    @staticmethod
    async def _lock(conn: AsyncConnection, batch_ids: list[str]) -> dict[str, _BatchTxn]:
        rows = await conn.execute(
            select(batches).where(batches.c.id.in_(batch_ids)).with_for_update()
        )
        found = {row.id: _BatchTxn(row, {}) for row in rows}
        missing = set(batch_ids) - set(found)
        if missing and len(batch_ids) == 1:
            raise NotFound(f"no batch {batch_ids[0]}")
        return found

    @staticmethod
    async def _item_states(
        conn: AsyncConnection,
        batch_id: str,
        indices: set[int] | None,
        status: ItemStatus | None = None,
        *,
        with_error: bool = False,
    ) -> dict[int, _ItemState]:
        columns = (*_ITEM_COLUMNS, items.c.error) if with_error else _ITEM_COLUMNS
        query = select(*columns).where(items.c.batch_id == batch_id)
        if indices is not None:
            query = query.where(items.c.idx.in_(sorted(indices)))
        if status is not None:
            query = query.where(items.c.status == status.value)
        rows = await conn.execute(query)
        return {
            row.idx: _ItemState(
                index=row.idx,
                status=row.status,
                attempts=row.attempts,
                started_at=row.started_at,
                finished_at=row.finished_at,
                error=row.error if with_error else None,
            )
            for row in rows
        }

    @staticmethod
    async def _write_back(
        conn: AsyncConnection,
        txns: dict[str, _BatchTxn],
        extra: dict[str, Any] | None = None,
    ) -> None:
        item_params = [
            item.params(batch_id)
            for batch_id, txn in txns.items()
            for item in txn.items.values()
            if item.dirty
        ]
        if item_params:
            await _execute_many(conn, _UPDATE_ITEM, item_params)
        new_items = [row for txn in txns.values() for row in txn.new_items]
        if new_items:
            await conn.execute(items.insert(), new_items)
        log = [row for txn in txns.values() for row in txn.events]
        if log:
            await _execute_many(conn, _INSERT_EVENT, log)
        for batch_id, txn in txns.items():
            if txn.events or extra:
                await conn.execute(
                    update(batches)
                    .where(batches.c.id == batch_id)
                    .values(**txn.batch_values(), **(extra or {}))
                )


def _apply_one(txn: _BatchTxn, item: _ItemState, change: Change, now: float) -> bool:
    """Apply one change if the item is in the state it expects; False when skipped."""
    if txn.status.finished:
        return False
    if isinstance(change, ItemStarted):
        if item.status != ItemStatus.PENDING.value:
            return False
        item.started_at = change.at
        item.finished_at = None
        txn.move(item, ItemStatus.IN_PROGRESS)
        txn.log_item(ITEM_STARTED, item, now)
        return True
    if item.status != ItemStatus.IN_PROGRESS.value:
        return False
    _finish(item, change)
    txn.move(item, change.status)
    if change.status is ItemStatus.FAILED:
        txn.count_failure(change.error, 1)
    txn.add_usage(change.result)
    txn.finishes = append_finishes(txn.finishes, [change.at])
    txn.log_item(
        ITEM_COMPLETED if change.status is ItemStatus.COMPLETED else ITEM_FAILED,
        item,
        now,
        result=change.result,
        warnings=change.warnings,
        error=change.error,
    )
    if change.status is ItemStatus.FAILED:
        txn.queue_replacement(now)
    return True


def _resumable(txn: _BatchTxn) -> bool:
    """A cancelled batch with pending items runs again on a retry even with nothing failed."""
    return txn.status is BatchStatus.CANCELLED and txn.counts["pending"] > 0


def _reasons_of(error: ItemError | None) -> list[str]:
    """The reason keys a failed item is counted under (an item without error: unknown)."""
    return ["kind:unknown"] if error is None else error.reasons()


def _finish(item: _ItemState, change: ItemFinished) -> None:
    item.finished_at = change.at
    if change.attempts:
        if item.attempts == "[]":
            item.attempts = _dump(change.attempts)
            item.attempt_count = len(change.attempts)
        else:
            previous = json.loads(item.attempts)
            new = [a.model_dump(mode="json") for a in change.attempts]
            item.attempts = json.dumps([*previous, *new])
            item.attempt_count = len(previous) + len(new)
    item.result = None if change.result is None else change.result.model_dump_json()
    item.warnings = _dump(change.warnings) if change.warnings else None
    item.error = None if change.error is None else change.error.model_dump_json()
    item.stem_key = change.stem_key


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
