"""Group commit: item state changes from every worker, written many per transaction.

Workers hand changes to :meth:`GroupWriter.submit` and go on; one task drains the queue
and commits whatever has accumulated while the previous transaction ran, so the number of
transactions adapts to the load (one per change when quiet, thousands of changes per
transaction under a burst). Subscribers are woken only after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError

from bulkgen.log.bus import Bus
from bulkgen.log.store import Change, Store

log = logging.getLogger(__name__)

_RETRY_CAP_SECONDS = 5.0


class _Flush:
    """A marker in the queue: resolved once everything before it is committed."""

    def __init__(self) -> None:
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class GroupWriter:
    """The single writer of item state changes of this process."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        *,
        max_group: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._bus = bus
        self._max_group = max_group
        self._clock = clock
        # Bounded so a database that stalls pushes back on the workers instead of
        # letting the queue grow without limit.
        self._queue: asyncio.Queue[Change | _Flush] = asyncio.Queue(maxsize=max_group * 4)
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0
        self.changes = 0
        self._pause_listeners: list[Callable[[str], None]] = []

    def on_paused(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(batch_id)`` after a commit that paused a batch (early stop)."""
        self._pause_listeners.append(listener)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="bulkgen-writer")

    async def submit(self, change: Change) -> None:
        await self._queue.put(change)

    async def flush(self) -> None:
        """Return once every change submitted before this call is committed."""
        marker = _Flush()
        await self._queue.put(marker)
        await marker.done

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is None:
            return
        await self.flush()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < self._max_group and not self._queue.empty():
                group.append(self._queue.get_nowait())
            changes = [item for item in group if not isinstance(item, _Flush)]
            if changes:
                await self._commit(changes)
            for item in group:
                if isinstance(item, _Flush) and not item.done.done():
                    item.done.set_result(None)

    async def _commit(self, changes: list[Change]) -> None:
        delay = 0.05
        while True:
            try:
                applied = await self._store.apply(changes, self._clock())
                break
            except DBAPIError:
                # Nothing is dropped: the same group is written again once the database
                # answers (a locked or full disk, a restarting database server).
                log.exception("writing %d changes failed; retrying in %.2fs", len(changes), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_CAP_SECONDS)
            except Exception:
                # A bug, not an outage: retrying would block every batch behind this group.
                # The items stay in_progress and are put back to pending at the next start.
                log.exception("dropping %d changes that cannot be written", len(changes))
                return
        self.transactions += 1
        self.changes += len(changes)
        if applied.rejected:
            log.debug("skipped %d changes for items no longer in that state", applied.rejected)
        for batch_id in applied.paused:
            for listener in self._pause_listeners:
                listener(batch_id)
        for batch_id in applied.batches:
            await self._bus.publish(batch_id)
