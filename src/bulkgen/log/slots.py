"""Slots: how workers on many machines share one batch (PostgreSQL).

A batch with ``concurrency`` N has N slots. Each slot is one procrastinate job
(``bulkgen.run_slot``) that generates the batch's items one at a time: it *claims* the
next pending item (:func:`claim`), generates it, reports the finish, and claims again
until nothing is left or the batch stops running. So at most N items of a batch are in
flight across all workers, and work spreads over whichever workers are free.

Jobs are deferred inside the transaction that makes the batch runnable (create, resume,
retry; :func:`defer_slots`), straight into procrastinate's table with its own SQL
function, so a batch is never committed without its jobs nor jobs without their batch.
A slot's job carries ``lock`` = ``queueing_lock`` = ``bulkgen:<batch>:<slot>``:
procrastinate runs jobs of one lock one after the other and keeps at most one waiting.

A claim records the slot on the item. When a slot's job runs again after its worker died
(procrastinate retries stalled jobs; the janitor in :mod:`bulkgen.generation.workers`),
its first claim puts the items that slot left in progress back to pending. A claim is
also refused while the batch has N items in progress, so the bound holds even while a
dead worker's items wait to be put back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from procrastinate.schema import SchemaManager
from sqlalchemy import ColumnElement, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bulkgen.log.items import ItemState
from bulkgen.log.schema import batches, items
from bulkgen.log.state import BatchState
from bulkgen.log.store import StartItem
from bulkgen.log.transaction import item_states, lock_one, write_back
from bulkgen.models import BatchStatus, ItemStatus

QUEUE = "bulkgen"
SLOT_TASK = "bulkgen.run_slot"

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW("
    "CAST(:queue AS varchar), CAST(:task AS varchar), CAST(0 AS integer), "
    "CAST(:lock AS text), CAST(:lock AS text), CAST(:args AS jsonb), "
    "CAST(NULL AS timestamptz))::procrastinate_job_to_defer_v1]))"
)
_WAITING = text(
    "SELECT queueing_lock FROM procrastinate_jobs "
    "WHERE queueing_lock = ANY(:locks) AND status = ANY(:statuses)"
)
_SET_SLOT = (
    update(items)
    .where(items.c.batch_id == bindparam("b_batch_id"), items.c.idx == bindparam("b_idx"))
    .values(slot=bindparam("b_slot"))
)


async def apply_queue_schema(conn: AsyncConnection) -> None:
    """Create procrastinate's tables and functions once (inside the migration's lock)."""
    present = await conn.execute(text("SELECT to_regclass('procrastinate_jobs')"))
    if present.scalar() is not None:
        return
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    # procrastinate's schema as it ships, run by psycopg as one script.
    await driver.execute(SchemaManager.get_schema())


class ClaimOutcome(Enum):
    CLAIMED = "claimed"  # an item to generate
    BUSY = "busy"  # N items in progress (a dead worker's wait to be put back): try later
    DONE = "done"  # nothing pending: the slot's job ends
    STOPPED = "stopped"  # the batch is paused or finished: the slot's job ends


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: ClaimOutcome
    index: int = -1
    prior_attempts: int = 0
    #: Items of this slot a dead worker left in progress, put back to pending.
    recovered: int = 0


def slot_lock(batch_id: str, slot: int) -> str:
    return f"bulkgen:{batch_id}:{slot}"


async def defer_slots(
    conn: AsyncConnection, batch_id: str, concurrency: int, *, skip_running: bool = False
) -> int:
    """Defer a job for each slot of the batch that has none waiting (nor running, with
    ``skip_running``); inside the caller's transaction, which holds the batch's row lock.
    Returns how many were deferred."""
    locks = [slot_lock(batch_id, slot) for slot in range(concurrency)]
    statuses = ["todo", "doing"] if skip_running else ["todo"]
    found = await conn.execute(_WAITING, {"locks": locks, "statuses": statuses})
    taken = {row.queueing_lock for row in found}
    deferred = 0
    for slot, lock in enumerate(locks):
        if lock in taken:
            continue
        args = json.dumps({"batch_id": batch_id, "slot": slot})
        await conn.execute(_DEFER, {"queue": QUEUE, "task": SLOT_TASK, "lock": lock, "args": args})
        deferred += 1
    return deferred


async def claim(conn: AsyncConnection, batch_id: str, slot: int, now: float) -> Claim:
    """In one transaction: put back what this slot left in progress, start the batch if
    it was queued, and take the next pending item for the slot."""
    state = await lock_one(conn, batch_id)
    leftovers = await item_states(conn, batch_id, None, ItemStatus.IN_PROGRESS, slot=slot)
    if leftovers:
        state.items = dict(leftovers)
        state.recover(now)
    state.mark_running(now)
    outcome, item = await _next_item(conn, state, leftovers)
    if item is not None:
        state.items[item.index] = item
        state.apply(StartItem(batch_id, item.index, now), now)
    state.settle(now)
    await write_back(conn, {batch_id: state})
    if item is None:
        return Claim(outcome, recovered=len(leftovers))
    await conn.execute(_SET_SLOT, {"b_batch_id": batch_id, "b_idx": item.index, "b_slot": slot})
    return Claim(
        ClaimOutcome.CLAIMED,
        index=item.index,
        prior_attempts=len(json.loads(item.attempts)),
        recovered=len(leftovers),
    )


async def _next_item(
    conn: AsyncConnection, state: BatchState, leftovers: dict[int, ItemState]
) -> tuple[ClaimOutcome, ItemState | None]:
    if state.status is not BatchStatus.RUNNING:
        return ClaimOutcome.STOPPED, None
    if state.counts["in_progress"] >= state.config.concurrency:
        return ClaimOutcome.BUSY, None
    if leftovers:
        # The first of the items just put back (still in progress in the database).
        return ClaimOutcome.CLAIMED, leftovers[min(leftovers)]
    query = (
        select(items.c.idx, items.c.attempts)
        .where(items.c.batch_id == state.id, items.c.status == ItemStatus.PENDING.value)
        .order_by(items.c.idx)
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return ClaimOutcome.DONE, None
    return ClaimOutcome.CLAIMED, ItemState(
        index=row.idx, status=ItemStatus.PENDING.value, attempts=row.attempts
    )


async def reserve_request(
    conn: AsyncConnection, batch_id: str, interval: float, now: float
) -> float:
    """The batch's next free request slot (epoch seconds), taken for the caller: request
    slots ``interval`` apart, whichever worker asks."""
    row = (
        await conn.execute(
            update(batches)
            .where(batches.c.id == batch_id)
            .values(next_request_at=_later(batches.c.next_request_at, now, conn) + interval)
            .returning(batches.c.next_request_at)
        )
    ).first()
    return now if row is None else float(row.next_request_at) - interval


async def hold_requests(conn: AsyncConnection, batch_id: str, until: float) -> None:
    """No request slot of the batch before ``until`` (the provider asked to wait)."""
    await conn.execute(
        update(batches)
        .where(batches.c.id == batch_id)
        .values(next_request_at=_later(batches.c.next_request_at, until, conn))
    )


def _later(
    column: ColumnElement[float], floor: float, conn: AsyncConnection
) -> ColumnElement[float]:
    """The later of ``column`` (null: none) and ``floor``, in the connection's SQL."""
    biggest = func.greatest if conn.dialect.name == "postgresql" else func.max
    return biggest(func.coalesce(column, floor), floor)


class SlotMethods:
    """The store's methods for distributed workers (mixed into ``SQLStore``)."""

    _write: AsyncEngine
    _read: AsyncEngine

    async def _announce(
        self, conn: AsyncConnection, batch_ids: Iterable[str], *, urgent: bool
    ) -> None:
        raise NotImplementedError

    async def claim(self, batch_id: str, slot: int, now: float) -> Claim:
        async with self._write.begin() as conn:
            claimed = await claim(conn, batch_id, slot, now)
            if claimed.outcome is ClaimOutcome.CLAIMED or claimed.recovered:
                await self._announce(conn, [batch_id], urgent=False)
            return claimed

    async def ensure_slots(self, batch_id: str) -> int:
        """Defer jobs for the slots of a runnable batch that have none waiting or running
        (a job lost to a worker's shutdown); how many were deferred."""
        async with self._write.begin() as conn:
            state = await lock_one(conn, batch_id)
            if state.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING):
                return 0
            return await defer_slots(conn, batch_id, state.config.concurrency, skip_running=True)

    async def runnable_batches(self) -> list[str]:
        """Queued or running batches with items still to generate or in flight."""
        runnable = [BatchStatus.QUEUED.value, BatchStatus.RUNNING.value]
        async with self._read.connect() as conn:
            rows = await conn.execute(
                select(batches.c.id).where(
                    batches.c.status.in_(runnable),
                    (batches.c.pending > 0) | (batches.c.in_progress > 0),
                )
            )
            return [row.id for row in rows]

    async def reserve_request(self, batch_id: str, interval: float, now: float) -> float:
        async with self._write.begin() as conn:
            return await reserve_request(conn, batch_id, interval, now)

    async def hold_requests(self, batch_id: str, until: float) -> None:
        async with self._write.begin() as conn:
            await hold_requests(conn, batch_id, until)
