"""A provider that stops answering at a chosen item, so a test decides when a batch goes on.

``Gate(at=n)`` lets the generation of items with an index below ``n`` through and holds
the others inside their generation call (started, in flight) until :meth:`Gate.advance`
or :meth:`Gate.open`. A held batch cannot finish, however slow or fast the machine is, so a
test can pause, cancel, reload or restart it mid-run without racing the generator.

``gated(gate, settings)`` wraps the generators a server builds (pass it as the app's
``generator_factory``); a ``FakeOpenAI`` uses a gate on its request numbers instead.
"""

from __future__ import annotations

import asyncio
import sys
import threading

from bulkgen.generation import GenerationRequest, Generator, build_generator, close_generator
from bulkgen.generation.runner import GeneratorFactory
from bulkgen.models import BatchConfig, GeneratedItem
from bulkgen.settings import Settings

OPEN = sys.maxsize


class Gate:
    """A barrier on item indices, moved by the test thread, waited on by any event loop."""

    def __init__(self, at: int = 0) -> None:
        self._limit = at
        self._lock = threading.Lock()
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None], int]] = []

    @property
    def limit(self) -> int:
        """Items with an index below this one pass."""
        return self._limit

    @property
    def held(self) -> int:
        """How many generation calls are waiting at the gate now."""
        with self._lock:
            return len(self._waiting)

    def advance(self, to: int) -> None:
        """Let the items with an index below ``to`` through (the barrier only moves on)."""
        with self._lock:
            self._limit = max(self._limit, to)
            passing = [w for w in self._waiting if w[2] < self._limit]
            self._waiting = [w for w in self._waiting if w[2] >= self._limit]
        for loop, future, _index in passing:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_pass, future)

    def open(self) -> None:
        """Let every item through, now and later."""
        self.advance(OPEN)

    async def passage(self, index: int) -> None:
        """Return once item ``index`` may be generated."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if index < self._limit:
                return
            future: asyncio.Future[None] = loop.create_future()
            self._waiting.append((loop, future, index))
        try:
            await future
        finally:  # also when the wait is cancelled (the batch or the server stopped)
            with self._lock:
                self._waiting = [w for w in self._waiting if w[1] is not future]


def _pass(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class GatedGenerator:
    """The generator a batch would get, behind a gate."""

    def __init__(self, inner: Generator, gate: Gate) -> None:
        self._inner = inner
        self._gate = gate
        self.name = inner.name

    async def generate(self, request: GenerationRequest) -> GeneratedItem:
        await self._gate.passage(request.index)
        return await self._inner.generate(request)

    async def aclose(self) -> None:
        await close_generator(self._inner)


def gated(gate: Gate, settings: Settings) -> GeneratorFactory:
    """A generator factory: the server's own generators, each behind ``gate``."""

    def factory(config: BatchConfig) -> Generator:
        return GatedGenerator(build_generator(config, settings), gate)

    return factory
