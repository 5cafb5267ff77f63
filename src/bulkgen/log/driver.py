"""One trip to SQLite's thread per statement of a write transaction.

SQLAlchemy's aiosqlite adapter makes three or four trips to the database thread for every
statement (open a cursor, execute, fetch, close); aiosqlite's own ``execute_fetchall``,
``executemany`` and ``execute`` make one. The statements a write transaction repeats (lock
the batch rows, read the items, write items, events and counters back) go straight to the
driver on SQLite, inside the transaction SQLAlchemy began; PostgreSQL keeps SQLAlchemy's
path. Errors come out as SQLAlchemy's ``DBAPIError`` subclasses, as the adapter raises
them, so the event log's retry and its fault reporting see the same exceptions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, column, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

#: The aiosqlite connection under SQLAlchemy's (typed loosely: aiosqlite is the driver).
Driver = Any


async def sqlite_driver(conn: AsyncConnection) -> Driver | None:
    """The aiosqlite connection of ``conn`` on SQLite; None on any other database."""
    if conn.dialect.name != "sqlite":
        return None
    raw = await conn.get_raw_connection()
    return raw.driver_connection


def json_values(name: str) -> Any:
    """``SELECT value FROM json_each(:name)``: a list bound as one JSON parameter."""
    return select(column("value")).select_from(func.json_each(bindparam(name)))


_COMPILED: dict[tuple[int, str], tuple[str, tuple[str, ...]]] = {}


def compiled(statement: Any, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """The statement's SQL for ``dialect`` and its parameters' names in order (cached: the
    statements are module constants, or cached themselves)."""
    key = (id(statement), dialect.name)
    found = _COMPILED.get(key)
    if found is None:
        sql = statement.compile(dialect=dialect)
        found = _COMPILED[key] = (sql.string, tuple(sql.positiontup or ()))
    return found


async def fetch(driver: Driver, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    try:
        return list(await driver.execute_fetchall(sql, params))
    except sqlite3.Error as error:
        raise _wrapped(sql, params, error) from error


async def execute(driver: Driver, sql: str, params: Sequence[Any]) -> None:
    try:
        await driver.execute(sql, params)
    except sqlite3.Error as error:
        raise _wrapped(sql, params, error) from error


async def execute_many(driver: Driver, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    try:
        await driver.executemany(sql, rows)
    except sqlite3.Error as error:
        raise _wrapped(sql, rows, error) from error


def _wrapped(sql: str, params: Any, error: sqlite3.Error) -> DBAPIError:
    wrapped = DBAPIError.instance(sql, params, error, sqlite3.Error)
    assert isinstance(wrapped, DBAPIError)
    return wrapped
