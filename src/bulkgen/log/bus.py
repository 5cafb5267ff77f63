"""Wake-ups for a batch's log: "batch B has new events", nothing more.

Subscribers read the log from their own cursor, so the bus carries no payload and can
never fall behind or grow: a wake-up that arrives while a subscriber is busy merges with
the ones before it. ``LocalBus`` serves one process; :class:`~bulkgen.log.pgbus.PgBus`
adds PostgreSQL LISTEN/NOTIFY for several processes and implements the same two methods.

A wake-up may be marked ``urgent`` (a user's control action: cancel, pause, resume,
retry). Subscribers coalesce ordinary wake-ups, waiting a little between reads so a burst
of item commits costs one read; an urgent one ends that wait at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class Subscription(Protocol):
    async def wait(self, within: float) -> bool:
        """Wait for a wake-up; False when ``within`` seconds passed without one."""

    async def pause(self, within: float) -> None:
        """Sleep ``within`` seconds, or less if an urgent wake-up arrives meanwhile."""


class Bus(Protocol):
    async def publish(self, batch_id: str, *, urgent: bool = False) -> None:
        """Wake every subscriber of the batch. Called only after the store committed."""

    def subscribe(self, batch_id: str) -> AbstractContextManager[Subscription]:
        """Receive the batch's wake-ups while the context is open."""


class _LocalSubscription:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._urgent = asyncio.Event()

    def wake(self, urgent: bool) -> None:
        self._event.set()
        if urgent:
            self._urgent.set()

    async def pause(self, within: float) -> None:
        try:
            async with asyncio.timeout(within):
                await self._urgent.wait()
        except TimeoutError:
            return
        self._urgent.clear()

    async def wait(self, within: float) -> bool:
        try:
            async with asyncio.timeout(within):
                await self._event.wait()
        except TimeoutError:
            return False
        self._event.clear()
        return True


class LocalBus:
    """The in-process bus."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[_LocalSubscription]] = {}

    async def publish(self, batch_id: str, *, urgent: bool = False) -> None:
        self.wake(batch_id, urgent)

    def wake(self, batch_id: str, urgent: bool) -> None:
        """Wake the batch's subscribers in this process (from any coroutine, no await)."""
        for subscription in self._subscribers.get(batch_id, ()):
            subscription.wake(urgent)

    def batch_ids(self) -> list[str]:
        """The batches someone in this process follows."""
        return list(self._subscribers)

    @contextmanager
    def subscribe(self, batch_id: str) -> Iterator[Subscription]:
        subscription = _LocalSubscription()
        self._subscribers.setdefault(batch_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            remaining = self._subscribers.get(batch_id)
            if remaining is not None:
                remaining.discard(subscription)
                if not remaining:
                    del self._subscribers[batch_id]
