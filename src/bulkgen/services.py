"""The Python API of a running bulkgen: the parts wired together, and what users can do.

The HTTP layer and the CLI are thin layers over :class:`Services`: every route reads and
acts through it, never through the store. Every read is scoped to an owner (another
user's batch is :class:`~bulkgen.errors.NotFound`, like a missing one) and every write
goes through the :class:`~bulkgen.log.EventLog`, which commits and then wakes viewers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

from bulkgen import metrics
from bulkgen.accounts import Accounts
from bulkgen.cost import estimate, price_for
from bulkgen.credentials import Caller, scope, user_id
from bulkgen.errors import InvalidCursor, QuotaExceeded
from bulkgen.generation import check_runnable
from bulkgen.generation.runner import GeneratorFactory, QueueRunner, Runner, default_factory
from bulkgen.generation.workers import Workers
from bulkgen.live import FeedHub, batches_frames, viewer_frames
from bulkgen.live.direct import Sink, follow
from bulkgen.live.limits import MIN_STREAMS, StreamLimits, default_stream_cap
from bulkgen.log import BatchRecord, Bus, EventLog, LocalBus, PgBus, SQLStore, Store
from bulkgen.log.faults import DatabaseFile
from bulkgen.lookups import SharedLookups
from bulkgen.metrics import SSE_VIEWERS
from bulkgen.models import Batch, BatchConfig, BatchStatus, Item, ItemStatus, Page, from_epoch
from bulkgen.quotas import Quotas, QuotaView
from bulkgen.settings import Settings


def batch_view(record: BatchRecord, now: float, storage_fault: str | None = None) -> Batch:
    """The batch as the API shows it, with its progress as of ``now`` (and the storage
    fault that holds its writes back, if any)."""
    progress = replace(record.progress, storage_fault=storage_fault)
    return Batch(
        id=record.id,
        title=record.title,
        config=record.config,
        status=progress.status,
        progress=progress.snapshot(now),
        created_at=from_epoch(record.created_at),
        started_at=from_epoch(progress.started_at),
        finished_at=from_epoch(progress.finished_at),
        last_event_id=progress.last_seq,
        error=record.error,
        usage=progress.usage,
        cost=estimate(progress.cost, progress.price, progress.counts.completed),
    )


@dataclass(slots=True)
class Services:
    """Everything one bulkgen process runs, built once at start-up."""

    settings: Settings
    store: Store
    bus: Bus
    log: EventLog
    runner: Runner | QueueRunner
    hub: FeedHub
    workers: Workers | None = None
    streams: StreamLimits = field(default_factory=lambda: StreamLimits(MIN_STREAMS, 1))
    quotas: Quotas | None = None
    #: Reads of a batch row for new viewers, shared by the viewers that arrive meanwhile.
    _joining: SharedLookups[tuple[str, str | None], BatchRecord] = field(
        default_factory=SharedLookups, init=False
    )
    _accounts: Accounts | None = field(default=None, init=False)

    @classmethod
    async def start(
        cls, settings: Settings, *, generator_factory: GeneratorFactory | None = None
    ) -> Services:
        """Open the store (migrating it), start the event log and resume unfinished batches.

        ``generator_factory`` builds each batch run's generator; by default the built-in
        generators set up with ``settings``.
        """
        origin = uuid.uuid4().hex[:12]
        store = SQLStore(
            settings.sqlalchemy_url, origin=origin, synchronous=settings.sqlite_synchronous
        )
        await store.migrate()
        bus: Bus
        if store.postgres:
            bus = PgBus(settings.sqlalchemy_url, origin)
            await bus.start()
        else:
            bus = LocalBus()
        database_file = DatabaseFile.of(settings.sqlalchemy_url)
        log = EventLog(store, bus, max_group=settings.writer_max_group, database_file=database_file)
        log.start()
        runner: Runner | QueueRunner
        workers = None
        quotas = Quotas(settings, store)
        if store.jobs:
            runner = QueueRunner(log)
            if settings.workers:
                factory = generator_factory or default_factory(settings)
                workers = Workers(store, log, settings, factory)
                await workers.start()
        else:
            runner = Runner(
                store, log, settings, generator_factory=generator_factory, quotas=quotas
            )
        hub = FeedHub(
            store,
            bus,
            cache_size=settings.recent_event_cache,
            progress_interval=settings.progress_interval_seconds,
            poll_seconds=settings.feed_poll_seconds,
            storage_fault=log.fault_reason,
        )
        limits = StreamLimits(
            settings.max_streams or default_stream_cap(), settings.max_streams_per_user
        )
        services = cls(
            settings, store, bus, log, runner, hub, workers=workers, streams=limits, quotas=quotas
        )
        await runner.resume()
        return services

    async def stop(self) -> None:
        """End live streams, stop generating, commit what is queued, close the store."""
        self.hub.close()
        if self.workers is not None:
            await self.workers.close()
        await self.runner.close()
        await self.log.close()
        if isinstance(self.bus, PgBus):
            await self.bus.close()
        await self.store.close()

    @property
    def accounts(self) -> Accounts:
        """Users, sessions and tokens, kept in the same database as the batches."""
        if self._accounts is None:
            assert isinstance(self.store, SQLStore)
            self._accounts = Accounts(self.store, self.settings)
        return self._accounts

    def health(self) -> dict[str, object]:
        """Liveness: what this process runs, and whether its writes fail, without asking
        the database."""
        fault = self.log.fault_reason()
        return {"running_batches": len(self.runner.running)} | (
            {"storage_fault": fault} if fault is not None else {}
        )

    async def quota(self, owner: str) -> QuotaView:
        """The owner's quotas and what the last 24 hours used of them."""
        quotas = self.quotas or Quotas(self.settings, self.store)
        return await quotas.view(owner)

    async def check_database(self) -> None:
        """Raises when the database cannot be reached."""
        await self.store.ping()

    async def metrics(self) -> bytes:
        """This process's metrics in Prometheus' text format, with the database's batch
        counts read now (every process of one database reports the same numbers)."""
        counts = await self.store.count_by_status()
        by_status = {status.value: counts.get(status, (0, 0))[0] for status in BatchStatus}
        unfinished = (BatchStatus.QUEUED, BatchStatus.RUNNING)
        depth = sum(counts.get(status, (0, 0))[1] for status in unfinished)
        return metrics.render(by_status, queue_depth=depth)

    # -- reading -------------------------------------------------------------------------

    async def get_batch(self, owner: Caller, batch_id: str) -> Batch:
        record = await self.store.get_batch(batch_id, scope(owner))
        return batch_view(record, time.time(), self.log.fault_reason())

    async def list_batches(self, owner: Caller, *, limit: int, offset: int) -> Page[Batch]:
        """The owner's batches, newest first, each with its progress."""
        records, total = await self.store.list_batches(scope(owner), limit=limit, offset=offset)
        now = time.time()
        batches = [batch_view(record, now, self.log.fault_reason()) for record in records]
        return Page[Batch](items=batches, total=total, limit=limit, offset=offset)

    async def list_items(
        self,
        owner: Caller,
        batch_id: str,
        *,
        status: ItemStatus | None = None,
        limit: int,
        offset: int,
    ) -> Page[Item]:
        """Items in index order, optionally of one status."""
        found, total = await self.store.list_items(
            batch_id, scope(owner), status=status, limit=limit, offset=offset
        )
        return Page[Item](items=found, total=total, limit=limit, offset=offset)

    async def batch_with_items(
        self, owner: Caller, batch_id: str, *, limit: int
    ) -> tuple[Batch, list[Item]]:
        """The batch and its latest ``limit`` started items, as of one moment of its log
        (a page renders both, then follows the stream from ``last_event_id``)."""
        record, items = await self.store.batch_with_items(batch_id, scope(owner), limit=limit)
        return batch_view(record, time.time(), self.log.fault_reason()), items

    async def passed_items(self, owner: Caller, batch_id: str, *, page: int = 500) -> list[Item]:
        """Every completed item in index order, read in pages.

        Items only ever become completed (nothing moves a passed item back), so while a
        batch runs a page can start earlier than the last one ended, never later: skipping
        indices already read gives each item exactly once.
        """
        found: list[Item] = []
        offset = 0
        while True:
            items, total = await self.store.list_items(
                batch_id, scope(owner), status=ItemStatus.COMPLETED, limit=page, offset=offset
            )
            last = found[-1].index if found else -1
            found.extend(item for item in items if item.index > last)
            offset += len(items)
            if not items or offset >= total:
                return found

    # -- streams -------------------------------------------------------------------------

    async def stream(self, owner: Caller, batch_id: str, cursor: int | None) -> LiveStream | None:
        """The batch's SSE stream from ``cursor`` (None: from a snapshot), admitted for
        ``owner``; None when the cursor is at the end of a finished batch (nothing will
        follow)."""
        viewer = user_id(owner)
        feed = self.hub.current(batch_id)
        # A batch watched here, by a user the store already let see it, with a cursor
        # inside what the feed read: nothing the store would say differently, so a
        # crowd joining a batch costs no query each.
        known = feed is not None and viewer in feed.owners and not feed.closed
        inside = feed is not None and (
            cursor is None or cursor < feed.high or (cursor == feed.high and not feed.finished)
        )
        if not (known and inside):
            record = await self._batch_for_viewer(batch_id, scope(owner))
            if cursor is not None and cursor >= record.last_seq:
                if record.status.finished:
                    return None
                if cursor > record.last_seq:
                    raise InvalidCursor(
                        f"event id {cursor} is past the end of the batch's log "
                        f"(last event id {record.last_seq})"
                    )
            feed = self.hub.current(batch_id)
            if feed is not None:
                feed.owners.add(viewer)
        self.streams.admit(viewer)
        return LiveStream(self, viewer, batch_id, cursor)

    async def _batch_for_viewer(self, batch_id: str, owner: str | None) -> BatchRecord:
        """The batch row, read once for the viewers who ask at the same time (a crowd
        opening one batch's page would otherwise queue a read each for the database)."""
        return await self._joining.get(
            (batch_id, owner), lambda: self.store.get_batch(batch_id, owner)
        )

    async def stream_batches(
        self, owner: Caller, batch_ids: list[str]
    ) -> AsyncIterator[bytes] | None:
        """``batches.progress`` frames for several of the owner's batches; None when all
        of them are finished."""
        records = [await self.store.get_batch(batch_id, scope(owner)) for batch_id in batch_ids]
        if all(record.status.finished for record in records):
            return None
        self.streams.admit(user_id(owner))
        frames = batches_frames(
            self.hub,
            batch_ids,
            retry_ms=self.settings.sse_retry_ms,
            heartbeat=self.settings.heartbeat_seconds,
        )
        return self.streams.held(user_id(owner), frames)

    # -- acting --------------------------------------------------------------------------

    async def create_batch(self, owner: Caller, config: BatchConfig) -> Batch:
        """Store and start the batch; ``InvalidConfig`` when this server cannot run it."""
        check_runnable(config, self.settings)
        if self.quotas is not None:
            await self.quotas.check_create(user_id(owner), config)
        record = await self.log.create_batch(
            user_id(owner), config, price_for(config, self.settings)
        )
        await self.runner.start(record.id)
        return await self.get_batch(owner, record.id)

    async def cancel_batch(self, owner: Caller, batch_id: str) -> Batch:
        await self.store.get_batch(batch_id, scope(owner))
        record = await self.runner.cancel(batch_id)
        return batch_view(record, time.time(), self.log.fault_reason())

    async def pause_batch(self, owner: Caller, batch_id: str) -> Batch:
        """Stop scheduling the batch's items; those being generated finish normally."""
        await self.store.get_batch(batch_id, scope(owner))
        record = await self.log.pause(batch_id)
        self.runner.hold(batch_id)
        return batch_view(record, time.time(), self.log.fault_reason())

    async def resume_batch(self, owner: Caller, batch_id: str) -> Batch:
        """Run a paused batch again (not while its owner's tokens quota is spent)."""
        record = await self.store.get_batch(batch_id, scope(owner))
        if self.quotas is not None and record.status is BatchStatus.PAUSED:
            spent = await self.quotas.tokens_over(record.owner, record.config)
            if spent is not None:
                raise QuotaExceeded("generator", spent, 60)
        await self.log.resume(batch_id)
        await self.runner.start(batch_id)
        return await self.get_batch(owner, batch_id)

    async def retry_batch(self, owner: Caller, batch_id: str, reason: str | None = None) -> Batch:
        """Re-queue the failed items (with ``reason``: only that group) and run the batch."""
        await self.store.get_batch(batch_id, scope(owner))
        await self.log.requeue_failed(batch_id, reason)
        await self.runner.start(batch_id)
        return await self.get_batch(owner, batch_id)


class LiveStream:
    """One admitted viewer's stream of a batch: sent either as frames an ASGI response
    iterates, or by :func:`bulkgen.live.direct.follow` onto a connection the feed writes
    to. Exactly one of the two is used; either releases the admission when it ends."""

    def __init__(self, services: Services, owner: str, batch_id: str, cursor: int | None):
        self._services = services
        self._owner = owner
        self._batch_id = batch_id
        self._cursor = cursor

    def frames(self) -> AsyncIterator[bytes]:
        services = self._services
        frames = viewer_frames(
            services.hub,
            services.store,
            self._batch_id,
            self._cursor,
            retry_ms=services.settings.sse_retry_ms,
            heartbeat=services.settings.heartbeat_seconds,
        )
        return services.streams.held(self._owner, frames)

    async def follow(self, write: Callable[[bytes], Awaitable[None]], sink: Sink) -> bool:
        """Start the stream on ``sink``'s connection; True when it was handed off (it
        goes on without the caller), False when it is over and the caller ends it."""
        services = self._services
        SSE_VIEWERS.inc()

        def end() -> None:
            SSE_VIEWERS.dec()
            services.streams.release(self._owner)

        return await follow(
            services.hub,
            services.store,
            self._batch_id,
            self._cursor,
            write,
            sink,
            retry_ms=services.settings.sse_retry_ms,
            heartbeat=services.settings.heartbeat_seconds,
            end=end,
        )
