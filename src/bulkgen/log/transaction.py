"""The SQL of one write transaction: lock the batch rows, read the items a write changes,
write back what the batch state (:mod:`bulkgen.log.state`) decided.

Between BEGIN and COMMIT the store locks the batch rows (:func:`lock`), reads the items it
changes (:func:`item_states`), lets each :class:`~bulkgen.log.state.BatchState` apply the
write and stores the result in a few statements (:func:`write_back`): the dirty items,
the new items, the events with their sequence numbers and the batch's counters. Events
are appended in the same transaction, so they are published only after the commit.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

from bulkgen.cost import BatchPrice
from bulkgen.errors import NotFound
from bulkgen.log.items import ItemState
from bulkgen.log.schema import batches, events, items
from bulkgen.log.state import BatchState
from bulkgen.models import BatchStatus, ItemStatus, PauseInfo

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


def state_of(row: Row[Any]) -> BatchState:
    """A locked batch row as the state a transaction changes."""
    return BatchState(
        id=row.id,
        status=BatchStatus(row.status),
        total=row.total,
        counts={
            "pending": row.pending,
            "in_progress": row.in_progress,
            "completed": row.completed,
            "failed": row.failed,
        },
        last_seq=row.last_seq,
        config_json=row.config,
        finishes=json.loads(row.recent_finishes),
        started_at=row.started_at,
        finished_at=row.finished_at,
        reasons=json.loads(row.failure_reasons),
        usage=[row.prompt_tokens, row.completion_tokens, row.total_tokens],
        pause=PauseInfo.model_validate_json(row.pause) if row.pause else None,
        early_stop_checked=bool(row.early_stop_checked),
        backoff_until=row.backoff_until,
        error=row.error,
        price=BatchPrice.model_validate_json(row.price) if row.price else None,
        cost=row.cost,
    )


async def lock(conn: AsyncConnection, batch_ids: list[str]) -> dict[str, BatchState]:
    """Lock the batch rows for this transaction; NotFound when a single batch is missing."""
    # In id order, so two transactions that lock the same batches cannot deadlock.
    query = select(batches).where(batches.c.id.in_(batch_ids)).order_by(batches.c.id)
    rows = await conn.execute(query.with_for_update())
    found = {row.id: state_of(row) for row in rows}
    missing = set(batch_ids) - set(found)
    if missing and len(batch_ids) == 1:
        raise NotFound(f"no batch {batch_ids[0]}")
    return found


async def lock_one(conn: AsyncConnection, batch_id: str) -> BatchState:
    return (await lock(conn, [batch_id]))[batch_id]


async def item_states(
    conn: AsyncConnection,
    batch_id: str,
    indices: set[int] | None,
    status: ItemStatus | None = None,
    *,
    with_error: bool = False,
) -> dict[int, ItemState]:
    """The items of a batch a write changes: by index, or all of one status."""
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


async def write_back(conn: AsyncConnection, states: dict[str, BatchState]) -> None:
    """Store what the transaction changed: items, new items, events, batch rows."""
    item_params = [
        _item_params(batch_id, item)
        for batch_id, state in states.items()
        for item in state.items.values()
        if item.dirty
    ]
    if item_params:
        await _execute_many(conn, _UPDATE_ITEM, item_params)
    new_items = [
        {"batch_id": batch_id, "idx": item.index, "status": item.status, "attempts": "[]"}
        for batch_id, state in states.items()
        for item in state.new_items
    ]
    if new_items:
        await conn.execute(items.insert(), new_items)
    logged = [
        {
            "batch_id": batch_id,
            "seq": event.seq,
            "type": event.type,
            "data": event.data,
            "created_at": event.created_at,
        }
        for batch_id, state in states.items()
        for event in state.events
    ]
    if logged:
        await _execute_many(conn, _INSERT_EVENT, logged)
    for batch_id, state in states.items():
        if state.events or state.changed or state.status is not state.initial_status:
            await conn.execute(
                update(batches).where(batches.c.id == batch_id).values(**_batch_values(state))
            )


def _batch_values(state: BatchState) -> dict[str, Any]:
    values: dict[str, Any] = {
        **state.counts,
        "total": state.total,
        "status": state.status.value,
        "last_seq": state.last_seq,
        "recent_finishes": json.dumps(state.finishes),
        "finished_at": state.finished_at,
        "failure_reasons": json.dumps(state.reasons, sort_keys=True),
        "prompt_tokens": state.usage[0],
        "completion_tokens": state.usage[1],
        "total_tokens": state.usage[2],
        "pause": None if state.pause is None else state.pause.model_dump_json(),
        "early_stop_checked": int(state.early_stop_checked),
        "cost": state.cost,
    }
    for column in state.changed:
        values[column] = getattr(state, column)
    return values


def _item_params(batch_id: str, item: ItemState) -> dict[str, Any]:
    return {
        "b_batch_id": batch_id,
        "b_idx": item.index,
        "status": item.status,
        "attempts": item.attempts,
        "started_at": item.started_at,
        "finished_at": item.finished_at,
        "result": item.result,
        "warnings": item.warnings,
        "error": item.error,
        "stem_key": item.stem_key,
    }


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
