"""The pipeline runner: starts, stops and resumes the runs of batches in this process.

Each running batch has one :class:`~bulkgen.generation.batch_run.BatchRun`; a process-wide
semaphore caps generation across all batches. Control actions reach the runner from
:class:`~bulkgen.services.Services` after the event log committed them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bulkgen.errors import NotFound
from bulkgen.generation import Generator, build_generator
from bulkgen.generation.batch_run import BatchRun
from bulkgen.generation.openai_compat import OpenAIGenerator
from bulkgen.generation.provider_batch import ProviderBatchRun, cancel_provider_batch
from bulkgen.log import BatchRecord, EventLog, Store
from bulkgen.models import BatchConfig, BatchStatus
from bulkgen.settings import Settings

log = logging.getLogger(__name__)

GeneratorFactory = Callable[[BatchConfig], Generator]


def default_factory(settings: Settings) -> GeneratorFactory:
    """The built-in generators, set up with ``settings`` (endpoint, key, limits)."""

    def factory(config: BatchConfig) -> Generator:
        return build_generator(config, settings)

    return factory


class Runner:
    """Starts, stops and resumes batch runs in this process."""

    def __init__(
        self,
        store: Store,
        event_log: EventLog,
        settings: Settings,
        *,
        generator_factory: GeneratorFactory | None = None,
    ) -> None:
        self._store = store
        self._log = event_log
        self._settings = settings
        self._generator_factory = generator_factory or default_factory(settings)
        self._global_slots = asyncio.Semaphore(settings.global_concurrency)
        self._runs: dict[str, BatchRun | ProviderBatchRun] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def resume(self) -> list[str]:
        """After a restart: put interrupted items back and continue unfinished batches."""
        batch_ids = await self._log.recover()
        for batch_id in batch_ids:
            await self.start(batch_id)
        return batch_ids

    async def start(self, batch_id: str) -> None:
        """Run the batch, or make its current run look for pending items again."""
        run = self._runs.get(batch_id)
        if run is not None and not run.ending:
            run.release()
            return
        if run is not None:
            # A paused run that is closing: let it end, then start a new one.
            task = self._tasks.get(batch_id)
            if task is not None:
                await asyncio.gather(asyncio.shield(task), return_exceptions=True)
            if batch_id in self._runs:
                return  # another caller started it meanwhile
        record = await self._log.mark_running(batch_id)
        if record.status.finished or record.status is BatchStatus.PAUSED:
            return
        run = self._new_run(record)
        self._runs[batch_id] = run
        task = asyncio.create_task(self._drive(run), name=f"bulkgen-batch-{batch_id}")
        self._tasks[batch_id] = task

    def _new_run(self, record: BatchRecord) -> BatchRun | ProviderBatchRun:
        config = record.config
        if config.delivery == "provider_batch":
            generator = build_generator(config, self._settings)
            assert isinstance(generator, OpenAIGenerator)  # the config guarantees it
            return ProviderBatchRun(
                record.id,
                config,
                store=self._store,
                event_log=self._log,
                generator=generator,
                settings=self._settings,
            )
        return BatchRun(
            record.id,
            config,
            store=self._store,
            event_log=self._log,
            generator=self._generator_factory(config),
            global_slots=self._global_slots,
            settings=self._settings,
        )

    async def _drive(self, run: BatchRun | ProviderBatchRun) -> None:
        try:
            await run.run()
        except asyncio.CancelledError:
            raise
        except NotFound:
            log.warning("batch %s disappeared while running", run.batch_id)
        except Exception as error:
            log.exception("batch %s could not run", run.batch_id)
            await self._log.fail_batch(run.batch_id, f"{type(error).__name__}: {error}")
        finally:
            self._runs.pop(run.batch_id, None)
            self._tasks.pop(run.batch_id, None)
            log.info("batch %s: run ended", run.batch_id)

    def hold(self, batch_id: str) -> None:
        """The batch was paused by hand: its run here starts no new item."""
        run = self._runs.get(batch_id)
        if run is not None:
            run.hold()

    async def cancel(self, batch_id: str) -> BatchRecord:
        """Stop the batch's run here, then end it as cancelled through the log."""
        run = self._runs.get(batch_id)
        task = self._tasks.get(batch_id)
        if run is not None:
            await run.stop()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        record = await self._store.get_batch(batch_id, None)
        if record.config.delivery == "provider_batch" and not record.status.finished:
            await cancel_provider_batch(record, self._log, self._settings)
        return await self._log.cancel(batch_id)

    async def close(self) -> None:
        """Stop every run; interrupted items are put back to pending at the next start."""
        for batch_id in list(self._runs):
            run = self._runs.get(batch_id)
            if run is not None:
                await run.stop()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def running(self) -> list[str]:
        return list(self._runs)


class QueueRunner:
    """The runner of a process on PostgreSQL: batches run as slot jobs of distributed
    workers (:mod:`bulkgen.generation.workers`), which the store defers in the same
    transaction that makes a batch runnable; so starting, holding and resuming need
    nothing here, and cancelling is the log's alone."""

    def __init__(self, event_log: EventLog) -> None:
        self._log = event_log

    async def resume(self) -> list[str]:
        return []  # slots of dead workers are retried by the janitor

    async def start(self, batch_id: str) -> None:
        return None

    def hold(self, batch_id: str) -> None:
        return None

    async def cancel(self, batch_id: str) -> BatchRecord:
        # The cancel's transaction also asks procrastinate to abort the batch's slot jobs:
        # workers interrupt the items they are generating within about a second.
        return await self._log.cancel(batch_id)

    async def close(self) -> None:
        return None

    @property
    def running(self) -> list[str]:
        return []
