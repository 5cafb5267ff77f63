"""One batch's run: a worker pool that generates and validates its pending items.

A scanner walks the batch's pending items in index order and hands them through a small
queue to ``concurrency`` long-lived workers; a worker holds the process-wide semaphore
while it generates, retries transient errors with backoff, validates the item and reports
through the :class:`~bulkgen.log.EventLog`. The store decides what counts, so a change
that arrives after a cancel is simply not applied. What a commit did comes back on its
receipt: a run whose batch the early stop paused holds itself.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bulkgen.generation.base import Generator, close_generator
from bulkgen.generation.item_work import ItemWork
from bulkgen.generation.judges import InlineJudge, Judge
from bulkgen.generation.rule_process import RuleProcess
from bulkgen.generation.stem_history import index_of, load_stems, passed_before
from bulkgen.log import EventLog, Receipt, StartItem, Store
from bulkgen.log.judging import starts_before_judgement
from bulkgen.logs import working_on
from bulkgen.metrics import item_finished
from bulkgen.models import BatchConfig
from bulkgen.settings import Settings

log = logging.getLogger(__name__)

_PAGE = 256


class BatchRun:
    """Generates one batch's pending items until none is left or it is stopped.

    A scanner walks the batch's pending items in index order and hands them to
    ``concurrency`` long-lived workers through a small queue; a worker takes the next item
    as soon as it is free, so there is no task per item.
    """

    def __init__(
        self,
        batch_id: str,
        config: BatchConfig,
        *,
        store: Store,
        event_log: EventLog,
        generator: Generator,
        global_slots: asyncio.Semaphore,
        settings: Settings,
        rule_process: RuleProcess | None = None,
    ) -> None:
        self.batch_id = batch_id
        self.config = config
        self._store = store
        self._log = event_log
        self._generator = generator
        self._global_slots = global_slots
        self._settings = settings
        self._rule_process = rule_process
        self._queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue(maxsize=config.concurrency)
        self._claimed: set[int] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._poked = asyncio.Event()
        self._stopping = False
        self._holding = False
        #: True once the run has decided to end (a paused run that drained its workers).
        self.ending = False
        #: Only a batch with an early stop can be paused by a commit: only its finishes
        #: ask the log what their commit applied.
        self._early_stop = config.early_stop is not None and config.early_stop.enabled
        #: Until the early stop has judged the batch, items start only while its
        #: judgement needs them: ``_room`` more may start, then wait for ``_judged``.
        self._judged = asyncio.Event()
        self._room = 0
        self._finishes_to_judge = 0

    def poke(self) -> None:
        """Look for pending items again (after a retry put some back)."""
        self._poked.set()

    def hold(self) -> None:
        """The batch is paused: start no new item; items being generated finish normally.

        The run ends once its workers are idle, unless :meth:`release` comes first.
        """
        self._holding = True

    def release(self) -> None:
        """The batch runs again: go on scheduling."""
        self._holding = False
        self._poked.set()

    async def run(self) -> None:
        working_on(self.batch_id)  # every line its workers log names the batch too
        log.info("batch %s: run started", self.batch_id)
        record = await self._store.get_batch(self.batch_id, None)
        room = starts_before_judgement(
            self.config, record.early_stop_checked, record.counts.finished
        )
        if room is None:
            self._judged.set()
        else:
            self._room = self._finishes_to_judge = room
        judge = await self._judge(record.counts.total)
        self._maker = ItemWork(
            self.batch_id,
            self.config,
            event_log=self._log,
            generator=self._generator,
            settings=self._settings,
            judge=judge,
        )
        self._workers = [
            asyncio.create_task(self._worker()) for _ in range(self.config.concurrency)
        ]
        try:
            await self._scan()
        finally:
            self.ending = True
            await self._stop_workers()
            await judge.close()
            await close_generator(self._generator)

    async def _judge(self, total: int) -> Judge:
        """The rule process's judge for a large batch, else the rules in this process."""
        least = self._settings.rules_process_min_items
        if self._rule_process is not None and least and total >= least:
            stems = await passed_before(self._store, self.batch_id)
            # Until the process is ready, items are judged here: on this index, built off
            # the event loop like load_stems's.
            index = await asyncio.to_thread(index_of, stems)
            return self._rule_process.judge_for(self.config.topic, stems, index)
        return InlineJudge(await load_stems(self._store, self.batch_id), self.config.topic)

    async def _scan(self) -> None:
        cursor = -1
        while not self._stopping:
            if self._holding:
                # Paused: let the items being generated finish and their changes commit.
                await self._queue.join()
                await self._log.flush()
                if self._holding:
                    return
                cursor = -1
            indices = await self._store.pending_indices(self.batch_id, after=cursor, limit=_PAGE)
            if indices:
                await self._enqueue([i for i in indices if i not in self._claimed])
                cursor = indices[-1]
                continue
            # At the end of the batch: let the workers finish and their changes commit, so an
            # item whose finish is still queued is not taken for pending; then look again
            # from the start, where a retry may have put items back.
            await self._queue.join()
            await self._log.flush()
            if cursor == -1 and not self._poked.is_set():
                return
            self._poked.clear()
            cursor = -1

    async def _enqueue(self, indices: list[int]) -> None:
        if not indices:
            return
        prior = await self._store.prior_attempts(self.batch_id, indices)
        for index in indices:
            if self._stopping or self._holding:
                return
            self._claimed.add(index)
            await self._queue.put((index, prior.get(index, 0)))

    async def _worker(self) -> None:
        while True:
            index, prior_attempts = await self._queue.get()
            try:
                await self._work(index, prior_attempts)
            except Exception:
                # A bug here must not cost the batch a worker; the item stays in progress
                # and is put back to pending at the next start.
                log.exception("item %d of batch %s could not be processed", index, self.batch_id)
                self._judged.set()  # its finish may never come: do not wait for it
            finally:
                self._claimed.discard(index)
                self._queue.task_done()

    async def stop(self) -> None:
        """Stop scheduling and interrupt the items being generated."""
        self._stopping = True
        await self._stop_workers()

    async def _stop_workers(self) -> None:
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    async def _may_start(self) -> bool:
        """Wait until the item may start: at once, or once the early stop has judged."""
        if not self._judged.is_set():
            if self._room > 0:
                self._room -= 1
            else:
                await self._judged.wait()
        return not self._holding

    async def _work(self, index: int, prior_attempts: int) -> None:
        if not await self._may_start():
            return  # paused while it waited: it stays pending
        async with self._global_slots:
            if self._holding:
                return  # taken before the pause: it stays pending
            started = time.time()
            await self._log.submit(StartItem(self.batch_id, index, started))
            finished = await self._maker.make(index, prior_attempts)
            item_finished(self.config.generator, finished.status, finished.at - started)
            if self._early_stop:
                receipt = await self._log.submit_with_receipt(finished)
                receipt.add_done_callback(self._committed)
            else:
                await self._log.submit(finished)

    def _committed(self, receipt: Receipt) -> None:
        """A finish was committed: hold the run if that commit paused the batch, and let
        items start freely once the early stop has had the finishes it judges on."""
        if receipt.cancelled():
            return
        if self.batch_id in receipt.result().paused:
            self.hold()
        self._finishes_to_judge -= 1
        if self._finishes_to_judge <= 0:
            self._judged.set()
