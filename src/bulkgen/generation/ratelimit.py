"""A request-rate limit for the requests of one batch.

Requests are spaced evenly, at least ``60 / requests_per_minute`` seconds apart, with no
burst: a batch whose workers all start at once still sends its first requests one interval
apart, which is what providers' per-minute limits (measured over shorter windows) expect.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol


class Limiter(Protocol):
    """Paces one batch's requests: :class:`RateLimiter` in one process,
    :class:`~bulkgen.generation.workers.SharedRateLimiter` across workers."""

    interval: float

    async def acquire(self) -> None:
        """Wait for this caller's request slot."""

    def hold_off(self, seconds: float) -> None:
        """Hand out no slot for ``seconds`` from now (the provider asked to wait)."""


class RateLimiter:
    """Hands out request slots at most ``per_minute`` a minute to the workers of one batch.

    Each caller reserves the next free slot and sleeps until it; there is no lock, since a
    reservation happens without awaiting. A cancelled wait gives its slot up unused.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._next = clock()

    async def acquire(self) -> None:
        """Wait for this caller's slot."""
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def hold_off(self, seconds: float) -> None:
        """Hand out no slot for ``seconds`` from now (the provider asked to wait)."""
        self._next = max(self._next, self._clock() + seconds)
