"""One runner per batch: leases that keep a second process off a batch a live one runs.

The embedded runner (:class:`~bulkgen.generation.runner.Runner`) of each process has an
id. Before it runs a batch it claims the batch's lease (``batches.runner`` and
``batches.lease_until``), and renews it while the run lasts. A claim succeeds when no
process holds the lease, the claimant already does, or the holder's lease has run out —
so while one process is alive no other re-runs, or puts back to pending, the items it is
generating; once it has died, another takes the batch over after at most one lease.

:meth:`LeaseMethods.recover` is the takeover: the batches nobody holds (or whose holder
died) get their in-flight items back to pending and a new holder, in one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bulkgen.log.schema import batches
from bulkgen.log.transaction import item_states, lock, write_back
from bulkgen.models import BatchStatus, ItemStatus

_UNFINISHED = [BatchStatus.QUEUED.value, BatchStatus.RUNNING.value, BatchStatus.PAUSED.value]


def _free(runner: str | None, now: float) -> ColumnElement[bool]:
    """Rows whose lease ``runner`` may take: nobody's, its own, or run out."""
    taken = [batches.c.runner.is_(None), batches.c.lease_until < now]
    if runner is not None:
        taken.append(batches.c.runner == runner)
    return or_(*taken)


class LeaseMethods:
    """The store's leases on batch runs (mixed into ``SQLStore``)."""

    _write: AsyncEngine
    _read: AsyncEngine
    _announce: Callable[[AsyncConnection, Iterable[str], bool], Awaitable[None]]

    async def recover(
        self, now: float, runner: str | None = None, until: float | None = None
    ) -> list[str]:
        """Batches no live process runs: in-flight items back to pending, the lease to
        ``runner`` (until ``until``) for those to run again (queued or running; a paused
        batch stays paused, and unheld, until a user resumes it)."""
        interrupted = or_(batches.c.status != BatchStatus.PAUSED.value, batches.c.in_progress > 0)
        unheld = or_(batches.c.runner.is_(None), batches.c.lease_until < now)
        if runner is not None:
            unheld = and_(unheld, or_(batches.c.runner.is_(None), batches.c.runner != runner))
        async with self._write.begin() as conn:
            rows = await conn.execute(
                select(batches.c.id, batches.c.status).where(
                    batches.c.status.in_(_UNFINISHED), interrupted, unheld
                )
            )
            found = rows.all()
            if not found:
                return []
            states = await lock(conn, [row.id for row in found])
            for batch_id, state in states.items():
                state.items = await item_states(conn, batch_id, None, ItemStatus.IN_PROGRESS)
                state.recover(now)
            await write_back(conn, states)
            again = [row.id for row in found if row.status != BatchStatus.PAUSED.value]
            if again and runner is not None:
                await conn.execute(
                    update(batches)
                    .where(batches.c.id.in_(again))
                    .values(runner=runner, lease_until=until)
                )
            await self._announce(conn, sorted(states), True)
            return again

    async def claim_run(self, batch_id: str, runner: str, now: float, until: float) -> bool:
        """Take the batch's lease for ``runner``; False when a live process holds it."""
        async with self._write.begin() as conn:
            claimed = await conn.execute(
                update(batches)
                .where(batches.c.id == batch_id, _free(runner, now))
                .values(runner=runner, lease_until=until)
            )
            return bool(claimed.rowcount)

    async def renew_leases(self, runner: str, batch_ids: list[str], until: float) -> None:
        """Extend ``runner``'s leases on these batches (those it still holds)."""
        if not batch_ids:
            return
        async with self._write.begin() as conn:
            await conn.execute(
                update(batches)
                .where(batches.c.id.in_(batch_ids), batches.c.runner == runner)
                .values(lease_until=until)
            )

    async def lease_holders(self, now: float) -> list[str]:
        """The runners whose leases still hold."""
        async with self._read.connect() as conn:
            rows = await conn.execute(
                select(batches.c.runner)
                .where(batches.c.runner.is_not(None), batches.c.lease_until >= now)
                .distinct()
            )
            return [row.runner for row in rows]

    async def release_lease(self, runner: str, batch_ids: list[str] | None) -> None:
        """Give up ``runner``'s leases on these batches (None: on all of them, for a
        process known to be dead): another process may run them now."""
        if batch_ids == []:
            return
        held = batches.c.runner == runner
        if batch_ids is not None:
            held = and_(held, batches.c.id.in_(batch_ids))
        async with self._write.begin() as conn:
            await conn.execute(update(batches).where(held).values(runner=None, lease_until=None))
