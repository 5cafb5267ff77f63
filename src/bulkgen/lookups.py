"""Reads that a crowd of requests shares: one query for all who ask at the same time.

A lecture hall opening one batch's page sends hundreds of requests within a second, each
with the same session cookie and for the same batch. Without sharing, each would queue its
own read for the database before its stream could start; shared, the busier the server,
the more requests one read answers. Nothing is kept once the read answered, so a revoked
token or a deleted batch is seen by the next request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SharedLookups(Generic[K, V]):
    """Lookups by key: the callers of one key while its ``lookup`` runs share its answer
    (or its error)."""

    def __init__(self) -> None:
        self._pending: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K, lookup: Callable[[], Awaitable[V]]) -> V:
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            found = await lookup()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved here so a lone failure is not reported twice
            raise
        finally:
            del self._pending[key]
        future.set_result(found)
        return found
