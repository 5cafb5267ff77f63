"""The stems of passed items, read back for the duplicate rules when a run starts.

The index of stems lives in the run's memory; after a restart, or in another worker, it is
rebuilt from what these reads return: the stem of each completed item (taken from its
stored result inside the database, so only stems travel) of the batch itself and of the
owner's earlier batches on the same topic.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ColumnElement, cast, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bulkgen.log.schema import batches, items
from bulkgen.log.store import PassedStem
from bulkgen.models import ItemStatus

#: How many of the owner's latest batches are looked at for one on the same topic.
BATCHES_SCANNED = 500


def topic_key(topic: str) -> str:
    """Topics are the same when they differ only in case and spacing."""
    return " ".join(topic.casefold().split())


def _json_field(conn: AsyncConnection, column: Any, name: str) -> ColumnElement[str]:
    """A field of a JSON text column, read by the database (SQLite's JSON_EXTRACT reads
    text as it is; PostgreSQL needs the text cast to JSON first)."""
    document: ColumnElement[Any] = (
        cast(column, JSON) if conn.dialect.name == "postgresql" else type_coerce(column, JSON)
    )
    field: ColumnElement[str] = document[name].as_string()
    return field


class StemMethods:
    """The store's reads of passed stems (mixed into ``SQLStore``)."""

    _read: AsyncEngine

    async def passed_stems(self, batch_id: str) -> list[PassedStem]:
        async with self._read.connect() as conn:
            return await _stems_of(conn, batch_id)

    async def earlier_stems(self, batch_id: str, *, limit: int) -> list[PassedStem]:
        async with self._read.connect() as conn:
            topic = _json_field(conn, batches.c.config, "topic").label("topic")
            this = (
                await conn.execute(
                    select(batches.c.owner, batches.c.created_at, topic).where(
                        batches.c.id == batch_id
                    )
                )
            ).one_or_none()
            if this is None or limit <= 0:
                return []
            earlier = await conn.execute(
                select(batches.c.id, batches.c.title, batches.c.created_at, topic)
                .where(
                    batches.c.owner == this.owner,
                    batches.c.created_at < this.created_at,
                    batches.c.completed > 0,
                )
                .order_by(batches.c.created_at.desc())
                .limit(BATCHES_SCANNED)
            )
            wanted = topic_key(this.topic or "")
            found: list[PassedStem] = []
            for batch in earlier.all():
                if topic_key(batch.topic or "") != wanted:
                    continue
                stems = await _stems_of(conn, batch.id, limit=limit - len(found), latest=True)
                found += [
                    PassedStem(s.batch_id, s.index, s.stem, batch.title, batch.created_at)
                    for s in stems
                ]
                if len(found) >= limit:
                    break
            return found


async def _stems_of(
    conn: AsyncConnection, batch_id: str, *, limit: int | None = None, latest: bool = False
) -> list[PassedStem]:
    stem = _json_field(conn, items.c.result, "stem").label("stem")
    query = (
        select(items.c.idx, stem)
        .where(
            items.c.batch_id == batch_id,
            items.c.status == ItemStatus.COMPLETED.value,
            items.c.result.is_not(None),
        )
        .order_by(items.c.idx.desc() if latest else items.c.idx)
        .limit(limit)
    )
    rows = await conn.execute(query)
    return [PassedStem(batch_id, row.idx, row.stem) for row in rows if row.stem]
