"""The one seam through which every durable event is written: commit, then wake viewers.

Item changes from every worker are group-committed: :meth:`EventLog.submit` queues a
change and returns at once, and one task commits whatever accumulated while the previous
transaction ran, so the number of transactions adapts to the load (one per change when
quiet, thousands of changes per transaction under a burst). Control actions (create, mark
running, cancel, pause, resume, retry, fail, recover, a provider's back-off) go through
the same queue, in order, each in its own transaction, and their callers wait for them.

After every commit the batches whose log or state changed are published on the bus, so a
cancel reaches an open stream exactly as fast as an item event. (A store whose database
can notify inside the transaction, such as PostgreSQL's NOTIFY, fires on commit instead.)

The log never calls up. It returns what it applied (:class:`~bulkgen.log.store.Applied`:
for an item change through the receipt :meth:`submit_with_receipt` returns) and the caller
decides what follows, for example the runner holds a batch that the early stop paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError

from bulkgen.cost import BatchPrice
from bulkgen.errors import StorageUnavailable
from bulkgen.log.bus import Bus
from bulkgen.log.faults import DatabaseFile, StorageFault, storage_problem
from bulkgen.log.store import (
    Applied,
    BatchRecord,
    Change,
    Claim,
    ClaimItem,
    FinishItem,
    StartItem,
    Store,
)
from bulkgen.models import BatchConfig, PauseReason

log = logging.getLogger(__name__)

T = TypeVar("T")

_RETRY_CAP_SECONDS = 5.0
#: How often a closing log looks again whether a storage fault holds its last writes.
_CLOSE_CHECK_SECONDS = 1.0

#: What :meth:`EventLog.submit` returns: resolved with what the commit applied.
Receipt = asyncio.Future[Applied]


@dataclass(slots=True)
class _Receipted:
    """A change whose submitter wants to know what its commit applied."""

    change: Change
    receipt: Receipt


@dataclass(slots=True)
class _Flush:
    """A marker in the queue: resolved once everything before it is committed."""

    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(slots=True)
class _Command(Generic[T]):
    """A control action: one transaction of its own, in queue order."""

    run: Callable[[float], Awaitable[T]]
    batch_ids: Callable[[T], list[str]]
    urgent: bool = True
    done: asyncio.Future[T] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


_Entry = StartItem | FinishItem | ClaimItem | _Receipted | _Flush | _Command[Any]


class EventLog:
    """The single writer of batches, items and their event logs in this process."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        *,
        max_group: int,
        clock: Callable[[], float] = time.time,
        database_file: DatabaseFile | None = None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._max_group = max_group
        self._clock = clock
        # Bounded so a database that stalls pushes back on the workers instead of
        # letting the queue grow without limit.
        self._queue: asyncio.Queue[_Entry] = asyncio.Queue(maxsize=max_group * 4)
        self._task: asyncio.Task[None] | None = None
        #: Transactions and item changes committed (for benchmarks and tests).
        self.transactions = 0
        self.changes = 0
        #: Writes are failing (a full disk, a read-only or deleted file): why, since when.
        self.fault: StorageFault | None = None
        self._file = database_file
        #: The writer holds a group it could not write and tries again.
        self._retrying = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="bulkgen-event-log")

    async def close(self) -> None:
        """Commit what is queued, then stop; while the database takes no writes, stop
        without them (items left in progress are put back to pending at the next start)."""
        if self._task is None:
            return
        marker = _Flush()
        await self._queue.put(marker)
        while not marker.done.done():
            await asyncio.wait([marker.done], timeout=_CLOSE_CHECK_SECONDS)
            if not marker.done.done() and self._retrying and self.fault is not None:
                log.error(
                    "stopping with %d writes not done: %s", self._queue.qsize(), self.fault.reason
                )
                break
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    # -- item changes ------------------------------------------------------------------

    async def submit(self, change: Change) -> None:
        """Queue an item change and go on; it is committed with the next group."""
        await self._queue.put(change)

    async def submit_with_receipt(self, change: Change) -> Receipt:
        """Queue an item change; the receipt resolves with what its commit applied."""
        receipt: Receipt = asyncio.get_running_loop().create_future()
        await self._queue.put(_Receipted(change, receipt))
        return receipt

    async def flush(self) -> None:
        """Return once everything queued before this call is committed."""
        marker = _Flush()
        await self._queue.put(marker)
        await marker.done

    # -- control actions ---------------------------------------------------------------

    async def create_batch(
        self, owner: str, config: BatchConfig, price: BatchPrice | None = None
    ) -> BatchRecord:
        return await self._command(
            lambda now: self._store.create_batch(owner, config, now, price), lambda _: []
        )

    async def mark_running(self, batch_id: str) -> BatchRecord:
        return await self._command(
            lambda now: self._store.mark_running(batch_id, now), lambda _: [batch_id]
        )

    async def cancel(self, batch_id: str) -> BatchRecord:
        """Fail the in-flight items as cancelled and end the batch ``cancelled``."""
        return await self._command(
            lambda now: self._store.cancel(batch_id, now), lambda _: [batch_id]
        )

    async def pause(
        self, batch_id: str, reason: PauseReason = "manual", message: str = ""
    ) -> BatchRecord:
        return await self._command(
            lambda now: self._store.pause(batch_id, now, reason, message), lambda _: [batch_id]
        )

    async def resume(self, batch_id: str) -> BatchRecord:
        return await self._command(
            lambda now: self._store.resume(batch_id, now), lambda _: [batch_id]
        )

    async def requeue_failed(self, batch_id: str, reason: str | None = None) -> int:
        """Put failed items (with ``reason``: that group) back to pending; how many."""
        return await self._command(
            lambda now: self._store.requeue_failed(batch_id, now, reason=reason),
            lambda _: [batch_id],
        )

    async def fail_batch(self, batch_id: str, message: str) -> bool:
        return await self._command(
            lambda now: self._store.fail_batch(batch_id, message, now),
            lambda failed: [batch_id] if failed else [],
        )

    async def set_backoff(self, batch_id: str, until: float) -> None:
        await self._command(
            lambda _now: self._store.set_backoff(batch_id, until), lambda _: [batch_id]
        )

    async def set_provider_state(self, batch_id: str, state: str) -> None:
        """Delivery ``provider_batch``: store the provider batch the batch follows."""
        await self._command(
            lambda _now: self._store.set_provider_state(batch_id, state), lambda _: [batch_id]
        )

    async def recover(self, runner: str | None = None, lease: float = 0.0) -> list[str]:
        """In-flight items of the batches no live process runs back to pending; the
        batches to run again, leased to ``runner`` for ``lease`` seconds."""
        return await self._command(
            lambda now: self._store.recover(now, runner, now + lease), lambda ids: list(ids)
        )

    # -- run leases (one runner per batch; see bulkgen.log.leases) -------------------------

    async def claim_run(self, batch_id: str, runner: str, lease: float) -> bool:
        return await self._command(
            lambda now: self._store.claim_run(batch_id, runner, now, now + lease),
            lambda _: [],
        )

    async def renew_leases(self, runner: str, batch_ids: list[str], lease: float) -> None:
        await self._command(
            lambda now: self._store.renew_leases(runner, batch_ids, now + lease), lambda _: []
        )

    async def release_lease(self, runner: str, batch_ids: list[str] | None) -> None:
        await self._command(lambda _now: self._store.release_lease(runner, batch_ids), lambda _: [])

    # -- distributed workers (PostgreSQL; see bulkgen.log.slots) ---------------------------

    async def claim(self, batch_id: str, slot: int) -> Claim:
        """The next item for ``slot`` of the batch, after putting back what it left.

        Claims are group-committed with item changes, in queue order: the finish a slot
        submitted before claiming is applied first."""
        receipt = await self.submit_with_receipt(ClaimItem(batch_id, slot, self._clock()))
        applied = await receipt
        answer = applied.claims.get((batch_id, slot))
        if answer is None:
            raise RuntimeError(f"the claim of slot {slot} of batch {batch_id} was not written")
        return answer

    async def ensure_slots(self, batch_id: str) -> int:
        return await self._command(lambda _now: self._store.ensure_slots(batch_id), lambda _: [])

    async def reserve_request(self, batch_id: str, interval: float) -> float:
        return await self._command(
            lambda now: self._store.reserve_request(batch_id, interval, now), lambda _: []
        )

    async def hold_requests(self, batch_id: str, until: float) -> None:
        await self._command(lambda _now: self._store.hold_requests(batch_id, until), lambda _: [])

    async def _command(
        self,
        run: Callable[[float], Awaitable[T]],
        batch_ids: Callable[[T], list[str]],
        *,
        urgent: bool = True,
    ) -> T:
        if self._retrying and self.fault is not None:
            # Behind a group the database will not take, the command would wait for as
            # long as the fault lasts: the caller hears about the fault now instead.
            raise StorageUnavailable(self.fault.reason)
        command = _Command(run, batch_ids, urgent)
        await self._queue.put(command)
        return await command.done

    # -- the writer task ---------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            entries = [await self._queue.get()]
            changes = 0
            while changes < self._max_group and not self._queue.empty():
                entry = self._queue.get_nowait()
                entries.append(entry)
                changes += not isinstance(entry, _Flush | _Command)
            await self._process(entries)

    async def _process(self, entries: list[_Entry]) -> None:
        """Commit the changes in one transaction; markers and commands keep their place."""
        group: list[Change | _Receipted] = []
        for entry in entries:
            if not isinstance(entry, _Flush | _Command):
                group.append(entry)
                continue
            if group:
                await self._commit(group)
                group = []
            if isinstance(entry, _Flush):
                if not entry.done.done():
                    entry.done.set_result(None)
            else:
                await self._execute(entry)
        if group:
            await self._commit(group)

    async def _commit(self, group: list[Change | _Receipted]) -> None:
        changes = [e.change if isinstance(e, _Receipted) else e for e in group]
        delay = 0.05
        while True:
            try:
                self._check_file()
                applied = await self._store.apply(changes, self._clock())
                self._recovered()
                break
            except (DBAPIError, StorageUnavailable) as error:
                # Nothing is dropped: the same group is written again once the database
                # answers (a locked or full disk, a restarting database server).
                self._failing(error)
                self._retrying = True
                log.error("writing %d changes failed; retrying in %.2fs", len(changes), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_CAP_SECONDS)
            except Exception:
                # A bug, not an outage: retrying would block every batch behind this group.
                # The items stay in_progress and are put back to pending at the next start.
                log.exception("dropping %d changes that cannot be written", len(changes))
                applied = Applied(rejected=len(changes))
                break
        self.transactions += 1
        self.changes += len(changes)
        if applied.rejected:
            log.debug("skipped %d changes for items no longer in that state", applied.rejected)
        await self._publish(applied.batches, urgent=False)
        for entry in group:
            if isinstance(entry, _Receipted) and not entry.receipt.done():
                entry.receipt.set_result(applied)

    async def _execute(self, command: _Command[Any]) -> None:
        try:
            self._check_file()
            result = await command.run(self._clock())
            self._recovered()
        except asyncio.CancelledError:
            command.done.cancel()
            raise
        except (DBAPIError, StorageUnavailable) as error:
            self._failing(error)
            if not command.done.done():
                command.done.set_exception(StorageUnavailable(self.fault_reason() or ""))
            return
        except Exception as error:
            # Conflict, NotFound, a database error: the caller's to handle.
            if not command.done.done():
                command.done.set_exception(error)
            return
        self.transactions += 1
        # Viewers are woken before the caller hears back: when a cancel returns, its
        # events are on their way to every open stream.
        await self._publish(command.batch_ids(result), urgent=command.urgent)
        if not command.done.done():
            command.done.set_result(result)

    # -- storage faults ----------------------------------------------------------------

    def fault_reason(self) -> str | None:
        """Why writes are failing now; None while they succeed."""
        return None if self.fault is None else self.fault.reason

    def _check_file(self) -> None:
        """Raise :class:`StorageUnavailable` when the SQLite file is gone or replaced."""
        if self._file is None:
            return
        problem = self._file.problem()  # one stat() per transaction
        if problem is not None:
            raise StorageUnavailable(problem)

    def _failing(self, error: Exception) -> None:
        reason = str(error) if isinstance(error, StorageUnavailable) else storage_problem(error)
        if self.fault is None or self.fault.reason != reason:
            log.error("cannot write to the database: %s", reason, exc_info=error)
            self.fault = StorageFault(reason, self._clock())

    def _recovered(self) -> None:
        self._retrying = False
        if self.fault is not None:
            log.warning(
                "the database takes writes again after %.1fs (%s)",
                self._clock() - self.fault.since,
                self.fault.reason,
            )
            self.fault = None

    async def _publish(self, batch_ids: Iterable[str], *, urgent: bool) -> None:
        for batch_id in batch_ids:
            await self._bus.publish(batch_id, urgent=urgent)
