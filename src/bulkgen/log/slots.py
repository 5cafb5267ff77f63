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

from procrastinate.schema import SchemaManager
from sqlalchemy import ColumnElement, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bulkgen.log.items import ItemState
from bulkgen.log.schema import batches, items
from bulkgen.log.state import BatchState
from bulkgen.log.store import Claim, ClaimOutcome, StartItem
from bulkgen.log.transaction import lock_one
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


_ABORT = text(
    "SELECT procrastinate_cancel_job_v1(id, true, false) FROM procrastinate_jobs "
    "WHERE lock = ANY(:locks) AND status IN ('todo', 'doing')"
)


async def abort_slots(conn: AsyncConnection, batch_id: str, concurrency: int) -> None:
    """A cancel: waiting slot jobs are cancelled and running ones asked to abort, so a
    worker stops generating the batch's items at once (procrastinate cancels the job's
    task within its abort polling interval), inside the cancel's transaction."""
    locks = [slot_lock(batch_id, slot) for slot in range(concurrency)]
    await conn.execute(_ABORT, {"locks": locks})


async def refresh_statistics(conn: AsyncConnection, added: int) -> None:
    """ANALYZE the items table when a batch grew it by a fifth or more.

    Claims find the next pending item through an index; with statistics from when the
    table was much smaller, PostgreSQL scans the whole table for each claim instead
    (measured: the first 10,000-item batch after a 200-item one ran at a quarter of the
    speed). Autovacuum would catch up only minutes later."""
    known = await conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'items'"))
    rows = known.scalar() or 0
    if added >= 1000 and added > 0.2 * max(rows, 0):
        await conn.execute(text("ANALYZE items"))


async def claim_items(
    conn: AsyncConnection, state: BatchState, slots: list[int], now: float
) -> tuple[dict[int, Claim], list[tuple[int, int]]]:
    """Answer the claims of ``slots`` in the locked batch's transaction, after the item
    changes queued before them were applied to ``state``: put back what each slot left in
    progress (a dead worker's), start the batch if it was queued, and give each slot the
    next pending item while fewer than ``concurrency`` are in progress.

    Returns the claims by slot and the (index, slot) pairs to record on the items.
    """
    leftovers = await _leftovers(conn, state, slots)
    recovered: dict[int, int] = {}
    for slot, item in leftovers:
        recovered[slot] = recovered.get(slot, 0) + 1
        state.items[item.index] = item
    state.recover(now, [item for _slot, item in leftovers])
    state.mark_running(now)
    claims: dict[int, Claim] = {}
    if state.status is not BatchStatus.RUNNING:
        claims = {s: Claim(ClaimOutcome.STOPPED, recovered=recovered.get(s, 0)) for s in slots}
        return claims, []
    room = max(0, state.config.concurrency - state.counts["in_progress"])
    judging = state.judging_room()
    if judging is not None:
        room = min(room, judging)  # BUSY until the early stop has judged the batch
    wanted = min(room, len(slots))
    # The items just put back come first (in the database they are still in progress).
    candidates = sorted((item for _slot, item in leftovers), key=lambda item: item.index)
    if len(candidates) < wanted:
        candidates += await _pending(conn, state, wanted - len(candidates))
    taken: list[tuple[int, int]] = []
    for slot in slots:
        count = recovered.get(slot, 0)
        if not candidates or len(taken) >= wanted:
            outcome = ClaimOutcome.BUSY if len(taken) >= room else ClaimOutcome.DONE
            claims[slot] = Claim(outcome, recovered=count)
            continue
        item = candidates.pop(0)
        state.items[item.index] = item
        state.apply(StartItem(state.id, item.index, now), now)
        taken.append((item.index, slot))
        prior = len(json.loads(item.attempts))
        claims[slot] = Claim(ClaimOutcome.CLAIMED, item.index, prior, recovered=count)
    return claims, taken


async def record_slots(conn: AsyncConnection, batch_id: str, taken: list[tuple[int, int]]) -> None:
    """Write which slot claimed each item (after the items were written back)."""
    if taken:
        await conn.execute(
            _SET_SLOT, [{"b_batch_id": batch_id, "b_idx": i, "b_slot": s} for i, s in taken]
        )


async def _leftovers(
    conn: AsyncConnection, state: BatchState, slots: list[int]
) -> list[tuple[int, ItemState]]:
    """Items the claiming slots left in progress, as the transaction sees them now."""
    query = select(items.c.idx, items.c.slot, items.c.attempts).where(
        items.c.batch_id == state.id,
        items.c.status == ItemStatus.IN_PROGRESS.value,
        items.c.slot.in_(slots),
    )
    found: list[tuple[int, ItemState]] = []
    for row in await conn.execute(query):
        current = state.items.get(row.idx)
        if current is None:
            current = ItemState(row.idx, ItemStatus.IN_PROGRESS.value, row.attempts)
        elif current.status != ItemStatus.IN_PROGRESS.value:
            continue  # finished earlier in this transaction
        found.append((row.slot, current))
    return found


async def _pending(conn: AsyncConnection, state: BatchState, limit: int) -> list[ItemState]:
    query = (
        select(items.c.idx, items.c.attempts)
        .where(items.c.batch_id == state.id, items.c.status == ItemStatus.PENDING.value)
        .order_by(items.c.idx)
        .limit(limit + len(state.items))
    )
    found = []
    for row in await conn.execute(query):
        current = state.items.get(row.idx)
        if current is not None and current.status != ItemStatus.PENDING.value:
            continue  # changed earlier in this transaction
        found.append(current or ItemState(row.idx, ItemStatus.PENDING.value, row.attempts))
        if len(found) == limit:
            break
    return found


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
