"""Shared lookups: one read for a crowd of requests that ask at the same time."""

from __future__ import annotations

import asyncio

from bulkgen.lookups import SharedLookups


class Source:
    """A lookup that counts its reads and answers when the test lets it."""

    def __init__(self, value: str | None = "alice") -> None:
        self.value = value
        self.reads = 0
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    async def read(self) -> str | None:
        self.reads += 1
        self.started.set()
        await self.gate.wait()
        return self.value


async def test_callers_at_the_same_time_share_one_read() -> None:
    shared: SharedLookups[str, str | None] = SharedLookups()
    source = Source()
    callers = [asyncio.ensure_future(shared.get("key", source.read)) for _ in range(50)]
    # The callers run in order: by the time the test runs again, all of them wait.
    await source.started.wait()
    source.gate.set()
    assert await asyncio.gather(*callers) == ["alice"] * 50
    assert source.reads == 1


async def test_nothing_is_kept_once_the_read_answered() -> None:
    shared: SharedLookups[str, str | None] = SharedLookups()
    source = Source()
    source.gate.set()
    assert await shared.get("key", source.read) == "alice"
    source.value = None  # revoked meanwhile: the next caller sees it
    assert await shared.get("key", source.read) is None
    assert source.reads == 2


async def test_other_keys_read_on_their_own() -> None:
    shared: SharedLookups[str, str | None] = SharedLookups()
    source = Source()
    first = asyncio.ensure_future(shared.get("a", source.read))
    second = asyncio.ensure_future(shared.get("b", source.read))
    await source.started.wait()
    source.gate.set()
    assert list(await asyncio.gather(first, second)) == ["alice", "alice"]
    assert source.reads == 2


async def test_a_failed_read_fails_every_waiting_caller_and_is_not_kept() -> None:
    shared: SharedLookups[str, str | None] = SharedLookups()
    gate, started = asyncio.Event(), asyncio.Event()

    async def broken() -> str | None:
        started.set()
        await gate.wait()
        raise OSError("database is gone")

    callers = [asyncio.ensure_future(shared.get("key", broken)) for _ in range(3)]
    await started.wait()
    gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(result, OSError) for result in results)
    source = Source()
    source.gate.set()
    assert await shared.get("key", source.read) == "alice"
