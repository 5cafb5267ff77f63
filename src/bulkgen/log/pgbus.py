"""Wake-ups across processes: PostgreSQL LISTEN/NOTIFY.

The store sends ``NOTIFY bulkgen_batches, '<batch id> <urgent> <origin>'`` inside every
write transaction (:class:`~bulkgen.log.sql.SQLStore`), so a notification is delivered on
commit and never for a transaction that rolled back. Each process keeps one listening
connection (:class:`PgBus`) and wakes its local subscribers, exactly as
:class:`~bulkgen.log.bus.LocalBus` does for the writes of its own process. Notifications
a process sent itself are skipped: its event log already woke its viewers.

Nothing depends on a notification arriving. Feeds read the log from their own cursor and
re-read it every ``feed_poll_seconds`` anyway; after the listening connection was lost
(the database restarted) every subscriber is woken once it is back, since notifications
sent meanwhile are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bulkgen.log.bus import LocalBus, Subscription

log = logging.getLogger(__name__)

CHANNEL = "bulkgen_batches"
_RECONNECT_CAP_SECONDS = 2.0


def notification(batch_id: str, urgent: bool, origin: str) -> str:
    """The payload of one wake-up (well under NOTIFY's 8,000-byte limit)."""
    return f"{batch_id} {int(urgent)} {origin}"


def parse_notification(payload: str) -> tuple[str, bool, str] | None:
    """``(batch_id, urgent, origin)``, or None for a payload bulkgen did not send."""
    parts = payload.split(" ")
    if len(parts) != 3 or parts[1] not in ("0", "1"):
        return None
    return parts[0], parts[1] == "1", parts[2]


def libpq_url(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://…`` as the plain URL psycopg (libpq) connects with."""
    scheme, _, rest = sqlalchemy_url.partition("://")
    return f"{scheme.split('+', 1)[0]}://{rest}"


class PgBus:
    """The bus of one process on a PostgreSQL database: local wake-ups plus NOTIFY."""

    def __init__(self, url: str, origin: str) -> None:
        self._conninfo = libpq_url(url)
        self.origin = origin
        self._local = LocalBus()
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        #: Notifications from other processes received (for tests and metrics).
        self.received = 0

    async def start(self) -> None:
        """Start listening; returns once the first LISTEN is in place."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="bulkgen-pg-bus")
        waiter = asyncio.ensure_future(self._listening.wait())
        await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def publish(self, batch_id: str, *, urgent: bool = False) -> None:
        # This process committed: its own subscribers are woken at once; the NOTIFY the
        # transaction sent reaches the other processes.
        await self._local.publish(batch_id, urgent=urgent)

    @contextmanager
    def subscribe(self, batch_id: str) -> Iterator[Subscription]:
        with self._local.subscribe(batch_id) as subscription:
            yield subscription

    async def _listen(self) -> None:
        delay = 0.1
        lost = False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    delay = 0.1
                    if lost:
                        log.info("listening for wake-ups again")
                        await self._wake_all()
                    async for notify in conn.notifies():
                        self._deliver(notify.payload)
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as error:
                if not lost:
                    log.warning("lost the wake-up connection (%s); reconnecting", error)
                lost = True
                self._listening.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RECONNECT_CAP_SECONDS)

    def _deliver(self, payload: str) -> None:
        parsed = parse_notification(payload)
        if parsed is None:
            return
        batch_id, urgent, origin = parsed
        if origin == self.origin:
            return
        self.received += 1
        self._local.wake(batch_id, urgent)

    async def _wake_all(self) -> None:
        for batch_id in self._local.batch_ids():
            self._local.wake(batch_id, True)
