"""The SQL of one write transaction: lock the batch rows, read the items a write changes,
write back what the batch state (:mod:`bulkgen.log.state`) decided.

Between BEGIN and COMMIT the store locks the batch rows (:func:`lock`), reads the items it
changes (:func:`item_states`), lets each :class:`~bulkgen.log.state.BatchState` apply the
write and stores the result in a few statements (:func:`write_back`): the dirty items,
the new items, the events with their sequence numbers and the batch's counters. Events
are appended in the same transaction, so they are published only after the commit.
"""

from __future__ import annotations

import functools
import json
from collections import namedtuple
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

from bulkgen.cost import BatchPrice
from bulkgen.errors import NotFound
from bulkgen.log.driver import (
    Driver,
    compiled,
    execute,
    execute_many,
    fetch,
    json_values,
    sqlite_driver,
)
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


#: On SQLite the batch row is read straight from the driver (:mod:`bulkgen.log.driver`):
#: a tuple of every column in table order, read by name like SQLAlchemy's rows.
_BatchRow = namedtuple("_BatchRow", [column.name for column in batches.c])  # type: ignore[misc]
# The driver's statements take a list of ids or indices as one JSON parameter, so each
# has one SQL text whatever the list's length.
_LOCK_DRIVER = select(batches).where(batches.c.id.in_(json_values("ids"))).order_by(batches.c.id)


def state_of(row: Row[Any] | Any) -> BatchState:
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
    driver = await sqlite_driver(conn)
    if driver is not None:
        sql, _ = compiled(_LOCK_DRIVER, conn.dialect)
        rows: Any = map(_BatchRow._make, await fetch(driver, sql, [json.dumps(batch_ids)]))
    else:
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
    driver = await sqlite_driver(conn)
    if driver is not None:
        sql, _ = compiled(
            _items_query(columns, indices is not None, status is not None), conn.dialect
        )
        params: list[Any] = [batch_id]
        if indices is not None:
            params.append(json.dumps(sorted(indices)))
        if status is not None:
            params.append(status.value)
        rows: Any = await fetch(driver, sql, params)
    else:
        query = select(*columns).where(items.c.batch_id == batch_id)
        if indices is not None:
            query = query.where(items.c.idx.in_(sorted(indices)))
        if status is not None:
            query = query.where(items.c.status == status.value)
        rows = await conn.execute(query)
    return {
        row[0]: ItemState(
            index=row[0],
            status=row[1],
            attempts=row[2],
            started_at=row[3],
            finished_at=row[4],
            error=row[5] if with_error else None,
        )
        for row in rows
    }


@functools.cache
def _items_query(columns: tuple[Any, ...], by_index: bool, by_status: bool) -> Any:
    """The driver's statement of :func:`item_states`: the same columns, in that order;
    parameters batch id, then the indices as JSON, then the status."""
    query = select(*columns).where(items.c.batch_id == bindparam("batch_id"))
    if by_index:
        query = query.where(items.c.idx.in_(json_values("indices")))
    if by_status:
        query = query.where(items.c.status == bindparam("status"))
    return query


async def write_back(conn: AsyncConnection, states: dict[str, BatchState]) -> None:
    """Store what the transaction changed: items, new items, events, batch rows."""
    driver = await sqlite_driver(conn)
    item_params = [
        _item_params(batch_id, item)
        for batch_id, state in states.items()
        for item in state.items.values()
        if item.dirty
    ]
    if item_params:
        await _execute_many(conn, driver, _UPDATE_ITEM, item_params)
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
        await _execute_many(conn, driver, _INSERT_EVENT, logged)
    for batch_id, state in states.items():
        if state.events or state.changed or state.status is not state.initial_status:
            values = _batch_values(state)
            if driver is not None:
                sql, order = compiled(_update_batch(tuple(values)), conn.dialect)
                values["b_id"] = batch_id
                await execute(driver, sql, [values[name] for name in order])
            else:
                await conn.execute(update(batches).where(batches.c.id == batch_id).values(**values))


@functools.cache
def _update_batch(columns: tuple[str, ...]) -> Any:
    """UPDATE of these columns of one batch row (parameter ``b_id``), for the driver."""
    return (
        update(batches)
        .where(batches.c.id == bindparam("b_id"))
        .values({name: bindparam(name) for name in columns})
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


async def _execute_many(
    conn: AsyncConnection, driver: Driver | None, statement: Any, rows: list[dict[str, Any]]
) -> None:
    """executemany straight to the driver, skipping per-row parameter processing.

    On the hot path SQLAlchemy's per-row parameter handling costs more than SQLite's own
    work; the statement is still compiled by SQLAlchemy for the connection's dialect. On
    SQLite it is one trip to the database thread (:mod:`bulkgen.log.driver`).
    """
    compiled = _compiled(statement, conn.dialect)
    if driver is not None and compiled.positiontup is not None:
        order = compiled.positiontup
        await execute_many(driver, compiled.string, [tuple(row[k] for k in order) for row in rows])
    elif compiled.positiontup is not None:
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
