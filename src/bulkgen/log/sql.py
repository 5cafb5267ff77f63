"""The SQL store: SQLAlchemy 2 Core over asyncio; SQLite (WAL) by default, PostgreSQL
(psycopg 3) for several processes.

Every write transaction locks the rows of the batches it changes (``SELECT … FOR UPDATE``
in batch-id order on PostgreSQL; SQLite takes its one write lock at ``BEGIN IMMEDIATE``),
so sequence numbers read from the batch row and written back in the same transaction stay
contiguous with any number of writers in any number of processes. Reads use a separate
pool and never wait for writers.

On PostgreSQL each write transaction also sends a ``NOTIFY`` for every batch it changed
(:mod:`bulkgen.log.pgbus`): it is delivered on commit, never before, and never for a
transaction that rolled back.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bulkgen.cost import BatchPrice
from bulkgen.errors import NotFound
from bulkgen.log.accounts import AccountMethods
from bulkgen.log.engine import Synchronous, create_engine, upgrade
from bulkgen.log.leases import LeaseMethods
from bulkgen.log.pgbus import CHANNEL, notification
from bulkgen.log.rows import PROGRESS_COLUMNS, item_of, progress_of, record_of
from bulkgen.log.schema import batches, events, items
from bulkgen.log.slots import (
    SlotMethods,
    abort_slots,
    apply_queue_schema,
    claim_items,
    defer_slots,
    record_slots,
    refresh_statistics,
)
from bulkgen.log.stems import StemMethods
from bulkgen.log.store import Applied, BatchRecord, Change, ClaimItem, EventRecord
from bulkgen.log.transaction import item_states, lock, lock_one, write_back
from bulkgen.models import BatchConfig, BatchStatus, Item, ItemStatus, PauseReason
from bulkgen.progress import ProgressState

_MIGRATE_KEY = 0x62756C6B67656E  # "bulkgen": the advisory lock migrations take
_MIGRATE_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")

#: What a batch id can be (bulkgen makes 32 hex digits); any other id names no batch.
BATCH_ID = re.compile(r"[!-~]{1,64}")


class SQLStore(SlotMethods, StemMethods, LeaseMethods, AccountMethods):
    """The store on a SQL database (SQLite file by default)."""

    def __init__(self, url: str, *, origin: str = "", synchronous: Synchronous = "full") -> None:
        self.url = url
        self.postgres = url.startswith("postgresql")
        #: PostgreSQL: batches run as slot jobs of distributed workers (:mod:`.slots`),
        #: deferred in the transactions that make a batch runnable.
        self.jobs = self.postgres
        #: Names this process in its notifications, so its own bus can skip them.
        self.origin = origin
        self._write = create_engine(url, writer=True, synchronous=synchronous)
        self._read = create_engine(url, writer=False, synchronous=synchronous)

    async def _announce(
        self, conn: AsyncConnection, batch_ids: Iterable[str], urgent: bool
    ) -> None:
        """Inside the write transaction: wake other processes' viewers once it commits."""
        if not self.postgres:
            return
        for batch_id in batch_ids:
            await conn.execute(
                _NOTIFY,
                {"channel": CHANNEL, "payload": notification(batch_id, urgent, self.origin)},
            )

    async def migrate(self) -> None:
        if self.url.startswith("sqlite"):
            database = self.url.split("///", 1)[-1]
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        async with self._write.begin() as conn:
            if self.postgres:
                # Processes starting together migrate one after the other.
                await conn.execute(_MIGRATE_LOCK, {"key": _MIGRATE_KEY})
            await conn.run_sync(upgrade)
            if self.jobs:
                await apply_queue_schema(conn)

    async def ping(self) -> None:
        async with self._read.connect() as conn:
            await conn.execute(select(1))

    async def close(self) -> None:
        await self._write.dispose()
        await self._read.dispose()

    # -- batches -----------------------------------------------------------------------

    async def create_batch(
        self, owner: str, config: BatchConfig, now: float, price: BatchPrice | None = None
    ) -> BatchRecord:
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
                    price=None if price is None else price.model_dump_json(),
                )
            )
            await conn.execute(
                items.insert(),
                [
                    {"batch_id": batch_id, "idx": i, "status": "pending", "attempts": "[]"}
                    for i in range(config.count)
                ],
            )
            if self.jobs:
                await defer_slots(conn, batch_id, config.concurrency)
                await refresh_statistics(conn, config.count)
            return await self._batch_in(conn, batch_id, None)

    async def get_batch(self, batch_id: str, owner: str | None) -> BatchRecord:
        async with self._read.connect() as conn:
            return await self._batch_in(conn, batch_id, owner)

    async def progress_state(self, batch_id: str) -> ProgressState:
        async with self._read.connect() as conn:
            query = select(*PROGRESS_COLUMNS).where(batches.c.id == batch_id)
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"no batch {batch_id}")
        return progress_of(row)

    async def count_by_status(self) -> dict[BatchStatus, tuple[int, int]]:
        query = select(batches.c.status, func.count(), func.sum(batches.c.pending))
        async with self._read.connect() as conn:
            rows = await conn.execute(query.group_by(batches.c.status))
            return {BatchStatus(status): (count, pending or 0) for status, count, pending in rows}

    async def usage_since(self, owner: str, since: float) -> tuple[int, int, float | None]:
        query = select(
            func.coalesce(func.sum(batches.c.total), 0),
            func.coalesce(func.sum(batches.c.total_tokens), 0),
            func.min(batches.c.created_at),
        ).where(batches.c.owner == owner, batches.c.created_at >= since)
        async with self._read.connect() as conn:
            items_, tokens, oldest = (await conn.execute(query)).one()
            return int(items_), int(tokens), oldest

    @staticmethod
    async def _batch_in(conn: AsyncConnection, batch_id: str, owner: str | None) -> BatchRecord:
        if not BATCH_ID.fullmatch(batch_id):  # nothing odd reaches the database or JSON
            raise NotFound("no batch with this id")
        query = select(batches).where(batches.c.id == batch_id)
        if owner is not None:
            query = query.where(batches.c.owner == owner)
        row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"no batch {batch_id}")
        return record_of(row)

    async def list_batches(
        self, owner: str | None, *, limit: int, offset: int
    ) -> tuple[list[BatchRecord], int]:
        mine = [] if owner is None else [batches.c.owner == owner]
        async with self._read.connect() as conn:
            total = (
                await conn.execute(select(func.count()).select_from(batches).where(*mine))
            ).scalar_one()
            rows = await conn.execute(
                select(batches)
                .where(*mine)
                .order_by(batches.c.created_at.desc(), batches.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [record_of(row) for row in rows], total

    async def list_items(
        self,
        batch_id: str,
        owner: str | None,
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
            return [item_of(row) for row in rows], total

    async def batch_with_items(
        self, batch_id: str, owner: str | None, *, limit: int
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
            return record, [item_of(row) for row in reversed(rows.all())]

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

    async def mark_running(self, batch_id: str, now: float) -> BatchRecord:
        async with self._write.begin() as conn:
            state = await lock_one(conn, batch_id)
            state.mark_running(now)
            await write_back(conn, {batch_id: state})
            await self._announce(conn, [batch_id], urgent=True)
            return await self._batch_in(conn, batch_id, None)

    async def pause(
        self, batch_id: str, now: float, reason: PauseReason = "manual", message: str = ""
    ) -> BatchRecord:
        async with self._write.begin() as conn:
            state = await lock_one(conn, batch_id)
            state.pause_by_hand(now, reason, message)
            await write_back(conn, {batch_id: state})
            await self._announce(conn, [batch_id], urgent=True)
            return await self._batch_in(conn, batch_id, None)

    async def resume(self, batch_id: str, now: float) -> BatchRecord:
        async with self._write.begin() as conn:
            state = await lock_one(conn, batch_id)
            state.resume(now)
            await write_back(conn, {batch_id: state})
            if self.jobs:
                await defer_slots(conn, batch_id, state.config.concurrency)
            await self._announce(conn, [batch_id], urgent=True)
            return await self._batch_in(conn, batch_id, None)

    async def set_provider_state(self, batch_id: str, state: str) -> None:
        async with self._write.begin() as conn:
            query = update(batches).where(batches.c.id == batch_id)
            await conn.execute(query.values(provider_batch=state))
            await self._announce(conn, [batch_id], urgent=True)

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
            await self._announce(conn, [batch_id], urgent=True)

    async def fail_batch(self, batch_id: str, message: str, now: float) -> bool:
        async with self._write.begin() as conn:
            state = await lock_one(conn, batch_id)
            failed = state.fail(message, now)
            await write_back(conn, {batch_id: state})
            if failed:
                await self._announce(conn, [batch_id], urgent=True)
            return failed

    # -- the hot path --------------------------------------------------------------------

    async def apply(self, changes: Sequence[Change], now: float) -> Applied:
        wanted: dict[str, set[int]] = {}
        claims: dict[str, list[int]] = {}
        for change in changes:
            if isinstance(change, ClaimItem):
                claims.setdefault(change.batch_id, []).append(change.slot)
                wanted.setdefault(change.batch_id, set())
            else:
                wanted.setdefault(change.batch_id, set()).add(change.index)
        applied = Applied()
        async with self._write.begin() as conn:
            states = await lock(conn, list(wanted))
            for batch_id, state in states.items():
                if wanted[batch_id]:
                    state.items = await item_states(conn, batch_id, wanted[batch_id])
            for change in changes:
                if isinstance(change, ClaimItem):
                    continue
                target = states.get(change.batch_id)
                if target is None or not target.apply(change, now):
                    applied.rejected += 1
            taken: dict[str, list[tuple[int, int]]] = {}
            # Claims after the item changes: a slot's finish frees its place first.
            for batch_id, slots in claims.items():
                if batch_id in states:
                    answers, taken[batch_id] = await claim_items(conn, states[batch_id], slots, now)
                    applied.claims.update(((batch_id, s), c) for s, c in answers.items())
            for batch_id, state in states.items():
                state.settle(now)
                if state.paused_now:
                    applied.paused.add(batch_id)
                if state.events:
                    applied.batches.add(batch_id)
            await write_back(conn, states)
            for batch_id, pairs in taken.items():
                await record_slots(conn, batch_id, pairs)
            await self._announce(conn, sorted(applied.batches), urgent=False)
        return applied

    async def cancel(self, batch_id: str, now: float) -> BatchRecord:
        async with self._write.begin() as conn:
            state = await lock_one(conn, batch_id)
            state.items = await item_states(conn, batch_id, None, ItemStatus.IN_PROGRESS)
            state.cancel(now)
            await write_back(conn, {batch_id: state})
            if self.jobs:
                await abort_slots(conn, batch_id, state.config.concurrency)
            await self._announce(conn, [batch_id], urgent=True)
            return await self._batch_in(conn, batch_id, None)

    async def requeue_failed(self, batch_id: str, now: float, reason: str | None = None) -> int:
        async with self._write.begin() as conn:
            state = await lock_one(conn, batch_id)
            failed = await item_states(conn, batch_id, None, ItemStatus.FAILED, with_error=True)
            requeued = state.requeue(failed, reason, now)
            await write_back(conn, {batch_id: state})
            if self.jobs:
                await defer_slots(conn, batch_id, state.config.concurrency)
            await self._announce(conn, [batch_id], urgent=True)
            return requeued
