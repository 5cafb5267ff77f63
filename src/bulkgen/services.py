"""The Python API of a running bulkgen: the parts wired together, and what users can do.

The HTTP layer and the CLI are thin layers over :class:`Services`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bulkgen.generation import check_runnable
from bulkgen.generation.runner import GeneratorFactory, Runner
from bulkgen.live.feed import FeedHub
from bulkgen.log import SQLStore, Store
from bulkgen.log.bus import Bus, LocalBus
from bulkgen.log.writer import GroupWriter
from bulkgen.models import Batch, BatchConfig
from bulkgen.settings import Settings


@dataclass(slots=True)
class Services:
    """Everything one bulkgen process runs, built once at start-up."""

    settings: Settings
    store: Store
    bus: Bus
    writer: GroupWriter
    runner: Runner
    hub: FeedHub

    @classmethod
    async def start(
        cls, settings: Settings, *, generator_factory: GeneratorFactory | None = None
    ) -> Services:
        """Open the store (migrating it), start the writer and resume unfinished batches.

        ``generator_factory`` builds each batch run's generator; by default the built-in
        generators set up with ``settings``.
        """
        store = SQLStore(settings.sqlalchemy_url)
        await store.migrate()
        bus = LocalBus()
        writer = GroupWriter(store, bus, max_group=settings.writer_max_group)
        writer.start()
        runner = Runner(store, writer, settings, generator_factory=generator_factory)
        hub = FeedHub(
            store,
            bus,
            cache_size=settings.recent_event_cache,
            progress_interval=settings.progress_interval_seconds,
        )
        services = cls(settings, store, bus, writer, runner, hub)
        await runner.resume()
        return services

    async def stop(self) -> None:
        """End live streams, stop generating, commit what is queued, close the store."""
        self.hub.close()
        await self.runner.close()
        await self.writer.close()
        await self.store.close()

    async def create_batch(self, owner: str, config: BatchConfig) -> Batch:
        """Store and start the batch; ``InvalidConfig`` when this server cannot run it."""
        check_runnable(config, self.settings)
        record = await self.store.create_batch(owner, config, time.time())
        await self.runner.start(record.id)
        return await self.get_batch(owner, record.id)

    async def get_batch(self, owner: str, batch_id: str) -> Batch:
        record = await self.store.get_batch(batch_id, owner)
        return record.to_api(time.time())

    async def cancel_batch(self, owner: str, batch_id: str) -> Batch:
        await self.store.get_batch(batch_id, owner)
        await self.runner.cancel(batch_id)
        return await self.get_batch(owner, batch_id)

    async def pause_batch(self, owner: str, batch_id: str) -> Batch:
        """Stop scheduling the batch's items; those being generated finish normally."""
        await self.store.get_batch(batch_id, owner)
        await self.store.pause(batch_id, time.time())
        self.runner.hold(batch_id)
        return await self.get_batch(owner, batch_id)

    async def resume_batch(self, owner: str, batch_id: str) -> Batch:
        """Run a paused batch again."""
        await self.store.get_batch(batch_id, owner)
        await self.store.resume(batch_id, time.time())
        await self.runner.start(batch_id)
        return await self.get_batch(owner, batch_id)

    async def retry_batch(self, owner: str, batch_id: str, reason: str | None = None) -> Batch:
        """Re-queue the failed items (with ``reason``: only that group) and run the batch."""
        await self.store.get_batch(batch_id, owner)
        await self.writer.flush()
        await self.store.requeue_failed(batch_id, time.time(), reason=reason)
        await self.runner.start(batch_id)
        return await self.get_batch(owner, batch_id)
