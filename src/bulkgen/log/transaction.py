"""One write transaction: what happens to a batch and its items between BEGIN and COMMIT.

The store's write methods lock the batch rows (:func:`lock`), read the items they change
(:func:`item_states`), change them through a :class:`BatchTxn` (counters, log head,
failure reasons, replacements, early stop) and write everything back in a few statements
(:func:`write_back`). Events are appended to the log in the same transaction, so they are
published only after the store commits them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

from bulkgen.errors import NotFound
from bulkgen.events import (
    BATCH_COMPLETE,
    BATCH_PAUSED,
    ITEM_COMPLETED,
    ITEM_FAILED,
    ITEM_QUEUED,
    ITEM_STARTED,
)
from bulkgen.log.schema import batches, events, items
from bulkgen.log.store import Change, ItemFinished, ItemStarted
from bulkgen.models import (
    BatchConfig,
    BatchStatus,
    GeneratedItem,
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

STEM_PREVIEW = 200


def _dump(models: Iterable[Any]) -> str:
    return "[" + ",".join(model.model_dump_json() for model in models) + "]"


@dataclass(slots=True)
class ItemState:
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


class BatchTxn:
    """One batch's counters, log head and changed items inside a write transaction."""

    def __init__(self, row: Row[Any], item_states: dict[int, ItemState]) -> None:
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
        for key in reasons_of(error):
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
        item = ItemState(
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

    def move(self, item: ItemState, status: ItemStatus) -> None:
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
        item: ItemState,
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
    item: ItemState,
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


async def lock(conn: AsyncConnection, batch_ids: list[str]) -> dict[str, BatchTxn]:
    rows = await conn.execute(select(batches).where(batches.c.id.in_(batch_ids)).with_for_update())
    found = {row.id: BatchTxn(row, {}) for row in rows}
    missing = set(batch_ids) - set(found)
    if missing and len(batch_ids) == 1:
        raise NotFound(f"no batch {batch_ids[0]}")
    return found


async def item_states(
    conn: AsyncConnection,
    batch_id: str,
    indices: set[int] | None,
    status: ItemStatus | None = None,
    *,
    with_error: bool = False,
) -> dict[int, ItemState]:
    columns = (*_ITEM_COLUMNS, items.c.error) if with_error else _ITEM_COLUMNS
    query = select(*columns).where(items.c.batch_id == batch_id)
    if indices is not None:
        query = query.where(items.c.idx.in_(sorted(indices)))
    if status is not None:
        query = query.where(items.c.status == status.value)
    rows = await conn.execute(query)
    return {
        row.idx: ItemState(
            index=row.idx,
            status=row.status,
            attempts=row.attempts,
            started_at=row.started_at,
            finished_at=row.finished_at,
            error=row.error if with_error else None,
        )
        for row in rows
    }


async def write_back(
    conn: AsyncConnection,
    txns: dict[str, BatchTxn],
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


def apply_one(txn: BatchTxn, item: ItemState, change: Change, now: float) -> bool:
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


def resumable(txn: BatchTxn) -> bool:
    """A cancelled batch with pending items runs again on a retry even with nothing failed."""
    return txn.status is BatchStatus.CANCELLED and txn.counts["pending"] > 0


def reasons_of(error: ItemError | None) -> list[str]:
    """The reason keys a failed item is counted under (an item without error: unknown)."""
    return ["kind:unknown"] if error is None else error.reasons()


def _finish(item: ItemState, change: ItemFinished) -> None:
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
