"""Distributed workers on procrastinate (PostgreSQL): ``bulkgen worker`` and the worker
inside ``bulkgen serve`` (unless ``--no-workers``).

A batch's ``concurrency`` slots are procrastinate jobs (:mod:`bulkgen.log.slots`). A
worker runs up to ``global_concurrency`` of them at once, each generating one item at a
time: claim, generate, report, claim again. The event log commits as in one process, and
its NOTIFY wakes viewers on every API replica.

Faults: a worker heartbeats every ``worker_stalled_seconds / 4``. The janitor, a periodic
job that one worker runs every :data:`JANITOR_SECONDS`, retries the jobs of workers whose
heartbeat is older than ``worker_stalled_seconds`` (the retried slot first puts its
leftovers back to pending) and defers jobs for runnable batches that lost theirs, so a
killed worker's items are generated again within ``worker_stalled_seconds +
JANITOR_SECONDS`` plus one claim. A batch's provider rate limit is shared through the
database (:class:`SharedRateLimiter`), so ``requests_per_minute`` holds across workers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from procrastinate import App, JobContext, PsycopgConnector

from bulkgen.errors import NotFound
from bulkgen.generation.base import Generator, close_generator
from bulkgen.generation.item_work import ItemWork
from bulkgen.generation.judges import InlineJudge
from bulkgen.generation.openai_compat import OpenAIGenerator
from bulkgen.generation.stem_history import SharedStems
from bulkgen.log import EventLog, Store
from bulkgen.log.pgbus import libpq_url
from bulkgen.log.slots import QUEUE, SLOT_TASK
from bulkgen.log.store import ClaimOutcome
from bulkgen.logs import working_on
from bulkgen.metrics import item_finished
from bulkgen.models import BatchConfig
from bulkgen.quotas import Quotas, pause_spent
from bulkgen.settings import Settings

log = logging.getLogger(__name__)

JANITOR_TASK = "bulkgen.janitor"
#: How often the janitor looks for stalled jobs and batches without jobs.
JANITOR_SECONDS = 5
#: Longest wait for running items when a worker is asked to stop; then they are
#: interrupted and generated again elsewhere.
SHUTDOWN_GRACE_SECONDS = 10.0
_BUSY_WAIT_CAP = 2.0


class SharedRateLimiter:
    """A batch's request-rate limit kept on its row, so it holds across all workers."""

    def __init__(self, event_log: EventLog, batch_id: str, interval: float) -> None:
        self._log = event_log
        self._batch_id = batch_id
        self.interval = interval
        self._pending: set[asyncio.Task[None]] = set()

    async def acquire(self) -> None:
        slot = await self._log.reserve_request(self._batch_id, self.interval)
        wait = slot - time.time()
        if wait > 0:
            await asyncio.sleep(wait)

    def hold_off(self, seconds: float) -> None:
        task = asyncio.create_task(self._log.hold_requests(self._batch_id, time.time() + seconds))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


class Workers:
    """This process's procrastinate worker: runs slot jobs and the janitor."""

    def __init__(
        self,
        store: Store,
        event_log: EventLog,
        settings: Settings,
        generator_factory: Callable[[BatchConfig], Generator],
    ) -> None:
        self._store = store
        self._log = event_log
        self._settings = settings
        self._factory = generator_factory
        self._stems = SharedStems(store)
        #: The tokens quota the janitor enforces on running batches (None: no quota).
        self.quotas = Quotas(settings, store) if settings.quota_tokens_per_day else None
        self.stopping = False
        self._task: asyncio.Task[None] | None = None
        self.app = App(
            connector=PsycopgConnector(
                conninfo=libpq_url(settings.sqlalchemy_url), min_size=1, max_size=4
            )
        )
        self._register()

    def _register(self) -> None:
        @self.app.task(name=SLOT_TASK, queue=QUEUE, pass_context=True)
        async def run_slot(context: JobContext, batch_id: str, slot: int) -> None:
            await self.run_slot(batch_id, slot)

        # croniter's sixth field is the seconds: every JANITOR_SECONDS seconds.
        @self.app.periodic(cron=f"* * * * * */{JANITOR_SECONDS}", periodic_id="janitor")
        @self.app.task(name=JANITOR_TASK, queue=QUEUE, pass_context=True)
        async def janitor(context: JobContext, timestamp: int) -> None:
            await self.tidy()

    async def start(self) -> None:
        await self.app.open_async()
        self._task = asyncio.create_task(self._supervise(), name="bulkgen-worker")

    async def close(self) -> None:
        """Claim nothing more, let running items finish (bounded), then stop."""
        self.stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.app.close_async()

    async def _supervise(self) -> None:
        # procrastinate's worker returns when one of its own tasks fails (the database
        # went away); run it again until this process stops.
        stalled = self._settings.worker_stalled_seconds
        while True:
            try:
                await self.app.run_worker_async(
                    queues=[QUEUE],
                    concurrency=self._settings.global_concurrency,
                    install_signal_handlers=False,
                    update_heartbeat_interval=stalled / 4,
                    stalled_worker_timeout=stalled,
                    shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
                    fetch_job_polling_interval=1.0,
                    abort_job_polling_interval=1.0,
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the worker stopped; starting it again")
            await asyncio.sleep(1.0)

    async def tidy(self) -> None:
        """Retry the jobs of dead workers; give runnable batches that lost jobs new ones."""
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(
            queue=QUEUE, seconds_since_heartbeat=self._settings.worker_stalled_seconds
        )
        for job in stalled:
            log.warning("job %s of a worker that stopped answering runs again", job.id)
            await manager.retry_job(job)
        runnable = await self._store.runnable_batches()
        paused = await pause_spent(self.quotas, self._store, self._log, runnable)
        for batch_id in runnable:
            if batch_id in paused:
                continue
            deferred = await self._log.ensure_slots(batch_id)
            if deferred:
                log.info("batch %s: %d slot jobs deferred again", batch_id, deferred)

    async def run_slot(self, batch_id: str, slot: int) -> None:
        """Generate the batch's items one at a time as slot ``slot``."""
        try:
            record = await self._store.get_batch(batch_id, None)
        except NotFound:
            return
        stems = await self._stems.acquire(batch_id)
        generator = self._generator(batch_id, record.config)
        maker = ItemWork(
            batch_id,
            record.config,
            event_log=self._log,
            generator=generator,
            settings=self._settings,
            judge=InlineJudge(stems, record.config.topic),
        )
        working_on(batch_id)  # every line logged for this slot names the batch
        log.info("batch %s: slot %d started", batch_id, slot)
        busy = 0
        try:
            while not self.stopping:
                claimed = await self._log.claim(batch_id, slot)
                if claimed.outcome is ClaimOutcome.CLAIMED:
                    busy = 0
                    started = time.time()
                    finished = await maker.make(claimed.index, claimed.prior_attempts)
                    item_finished(record.config.generator, finished.status, finished.at - started)
                    await self._log.submit(finished)
                elif claimed.outcome is ClaimOutcome.BUSY:
                    # A dead worker's items still count as in progress until the janitor
                    # has its slot put them back.
                    busy += 1
                    await asyncio.sleep(min(0.05 * 2**busy, _BUSY_WAIT_CAP))
                else:
                    return
        finally:
            self._stems.release(batch_id)
            await self._log.flush()
            await close_generator(generator)

    def _generator(self, batch_id: str, config: BatchConfig) -> Generator:
        generator: Generator = self._factory(config)
        if isinstance(generator, OpenAIGenerator):
            generator.limiter = SharedRateLimiter(self._log, batch_id, generator.limiter.interval)
        return generator
