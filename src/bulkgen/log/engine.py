"""Engines and migrations of the SQL store.

SQLite: WAL with ``synchronous=FULL`` by default, and BEGIN IMMEDIATE on the writer so a
write transaction holds the database's one write lock from its first statement.
PostgreSQL (psycopg 3): pooled connections that are checked before use, so a pool
outlives a restart of the database server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


#: SQLite's ``synchronous``: FULL syncs the WAL at every commit, so an acknowledged write
#: survives a power loss; NORMAL may lose the last commits (never corrupts). Group commit
#: makes one sync cover many items, so FULL is the default (bench/pipeline_throughput.py).
Synchronous = Literal["full", "normal"]


def create_engine(url: str, *, writer: bool, synchronous: Synchronous = "full") -> AsyncEngine:
    if not url.startswith("sqlite"):
        # pre_ping: after the database server restarted, a pooled connection is found
        # dead and replaced before use instead of failing the next statement.
        return create_async_engine(
            url, pool_size=1 if writer else 10, max_overflow=2, pool_pre_ping=True
        )
    engine = create_async_engine(url, pool_size=1 if writer else 8, max_overflow=0)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
