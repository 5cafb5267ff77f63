"""The pipeline runner: starts, stops and resumes the runs of batches in this process.

Each running batch has one :class:`~bulkgen.generation.batch_run.BatchRun`; a process-wide
semaphore caps generation across all batches. Control actions reach the runner from
:class:`~bulkgen.services.Services` after the event log committed them.

One runner per batch: a runner runs a batch only under its lease
(:mod:`bulkgen.log.leases`), renewed every third of ``run_lease_seconds`` while the run
lasts and given up when it ends. Every renewal also looks for batches whose runner died
(its lease ran out) and takes them over, so a second server on the same database never
re-runs what a live one is generating, and continues what a dead one left. A runner id
carries its process id and machine: a server restarted after a crash on the same machine
sees that the old process is gone and takes its batches at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

from bulkgen.errors import NotFound
from bulkgen.generation import Generator, build_generator
from bulkgen.generation.batch_run import BatchRun
from bulkgen.generation.openai_compat import OpenAIGenerator
from bulkgen.generation.provider_batch import ProviderBatchRun, cancel_provider_batch
from bulkgen.generation.rule_process import RuleProcess
from bulkgen.log import BatchRecord, EventLog, Store
from bulkgen.models import BatchConfig, BatchStatus
from bulkgen.quotas import Quotas, pause_spent
from bulkgen.settings import Settings

log = logging.getLogger(__name__)

GeneratorFactory = Callable[[BatchConfig], Generator]


def default_factory(settings: Settings) -> GeneratorFactory:
    """The built-in generators, set up with ``settings`` (endpoint, key, limits)."""

    def factory(config: BatchConfig) -> Generator:
        return build_generator(config, settings)

    return factory


#: Identifies this machine in runner ids (a hash of its host name).
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def runner_id() -> str:
    """A runner's id: its process id and machine, and a random part (32 characters)."""
    return f"{os.getpid():08x}{_HOST}{uuid.uuid4().hex[:16]}"


def dead_here(runner: str) -> bool:
    """Whether ``runner`` was a process of this machine that no longer exists."""
    if len(runner) != 32 or runner[8:16] != _HOST:
        return False
    try:
        os.kill(int(runner[:8], 16), 0)
    except ProcessLookupError:
        return True
    except (OSError, ValueError):
        return False  # alive under another user, or not an id of ours
    return False


class Runner:
    """Starts, stops and resumes batch runs in this process."""

    def __init__(
        self,
        store: Store,
        event_log: EventLog,
        settings: Settings,
        *,
        generator_factory: GeneratorFactory | None = None,
        quotas: Quotas | None = None,
    ) -> None:
        self._store = store
        self._quotas = quotas
        self._log = event_log
        self._settings = settings
        self._generator_factory = generator_factory or default_factory(settings)
        self._global_slots = asyncio.Semaphore(settings.global_concurrency)
        self._rule_process = RuleProcess()
        self._runs: dict[str, BatchRun | ProviderBatchRun] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        #: Names this process on the leases of the batches it runs.
        self.id = runner_id()
        self._lease = settings.run_lease_seconds
        self._keeper: asyncio.Task[None] | None = None

    async def resume(self) -> list[str]:
        """At start: put interrupted items back and continue the unfinished batches no
        live process runs; then keep the leases and watch for batches to take over."""
        batch_ids = await self._take_over()
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._keep_leases(), name="bulkgen-leases")
        return batch_ids

    async def _take_over(self) -> list[str]:
        for holder in await self._store.lease_holders(time.time()):
            if holder != self.id and dead_here(holder):
                # A server on this machine that was killed: no need to wait out its lease.
                log.info("runner %s is no longer running; taking over its batches", holder)
                await self._log.release_lease(holder, None)
        batch_ids = await self._log.recover(self.id, self._lease)
        for batch_id in batch_ids:
            await self.start(batch_id)
        return batch_ids

    async def _keep_leases(self) -> None:
        """Renew this process's leases, pause the batches whose owner spent the tokens
        quota, and take over the batches of runners that died."""
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                await self._log.renew_leases(self.id, list(self._runs), self._lease)
                for batch_id in await pause_spent(
                    self._quotas, self._store, self._log, list(self._runs)
                ):
                    self.hold(batch_id)
                    log.warning("batch %s paused: its owner's tokens quota is spent", batch_id)
                taken = await self._take_over()
                if taken:
                    log.warning("took over %d batches whose runner stopped", len(taken))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not renew the run leases")

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
        if not await self._log.claim_run(batch_id, self.id, self._lease):
            log.info("batch %s runs in another process; not starting it here", batch_id)
            return
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
            rule_process=self._rule_process,
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
            with contextlib.suppress(Exception):
                # A batch that pauses is resumed by whichever process the user asks.
                await self._log.release_lease(self.id, [run.batch_id])
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
        """Stop every run; interrupted items are put back to pending at the next start
        (of this server or another: each run gives up its lease as it ends)."""
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None
        for batch_id in list(self._runs):
            run = self._runs.get(batch_id)
            if run is not None:
                await run.stop()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._rule_process.close()

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
