"""The store's interface and the records it reads and writes.

Every state change of an item goes through :meth:`Store.apply`, which changes the item,
appends its event to the batch's log and moves the batch's counters in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from bulkgen.models import (
    Attempt,
    Batch,
    BatchConfig,
    BatchStatus,
    GeneratedItem,
    Item,
    ItemError,
    ItemStatus,
    PauseInfo,
    RuleResult,
    TokenUsage,
    from_epoch,
)
from bulkgen.progress import Counts, ValidTarget, snapshot


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """A batch row: config, state, counters and the head of its event log."""

    id: str
    owner: str
    title: str | None
    config: BatchConfig
    status: BatchStatus
    counts: Counts
    last_seq: int
    recent_finishes: tuple[float, ...]
    created_at: float
    started_at: float | None
    finished_at: float | None
    error: str | None
    #: Failed items per reason key (``rule:<id>`` / ``kind:<kind>``), counts above 0.
    failure_reasons: dict[str, int] = field(default_factory=dict)
    #: Tokens used by the batch's finished items' results, or None when none were reported.
    usage: TokenUsage | None = None
    #: Why the batch is paused (status ``paused`` only).
    pause: PauseInfo | None = None
    #: Epoch seconds a provider's ``Retry-After`` asked the batch to wait until.
    backoff_until: float | None = None

    def to_api(self, now: float) -> Batch:
        """The batch as the API shows it, with its progress as of ``now``."""
        return Batch(
            id=self.id,
            title=self.title,
            config=self.config,
            status=self.status,
            progress=snapshot(
                self.counts,
                status=self.status,
                finishes=self.recent_finishes,
                started_at=self.started_at,
                finished_at=self.finished_at,
                now=now,
                failure_reasons=self.failure_reasons,
                usage=self.usage,
                valid=ValidTarget.of(self.config),
                pause=self.pause,
                backoff_until=self.backoff_until,
            ),
            created_at=datetime.fromtimestamp(self.created_at, UTC),
            started_at=from_epoch(self.started_at),
            finished_at=from_epoch(self.finished_at),
            last_event_id=self.last_seq,
            error=self.error,
            usage=self.usage,
        )


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One durable event of a batch's log; ``data`` is its JSON payload."""

    seq: int
    type: str
    data: str
    created_at: float


@dataclass(frozen=True, slots=True)
class ItemStarted:
    """An item left ``pending`` and began generating."""

    batch_id: str
    index: int
    at: float


@dataclass(frozen=True, slots=True)
class ItemFinished:
    """An item's generation ended: ``completed`` with a result or ``failed`` with an error."""

    batch_id: str
    index: int
    status: ItemStatus
    at: float
    attempts: tuple[Attempt, ...] = ()
    result: GeneratedItem | None = None
    warnings: tuple[RuleResult, ...] = ()
    error: ItemError | None = None
    stem_key: str | None = None


Change = ItemStarted | ItemFinished


@dataclass(slots=True)
class Applied:
    """What one :meth:`Store.apply` call committed."""

    batches: set[str] = field(default_factory=set)
    rejected: int = 0
    #: Batches this commit paused (the early stop); their runs must stop scheduling.
    paused: set[str] = field(default_factory=set)


class Store(Protocol):
    """Durable state of batches, items and event logs."""

    async def migrate(self) -> None:
        """Bring the database schema up to date."""

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""

    async def close(self) -> None: ...

    async def create_batch(self, owner: str, config: BatchConfig, now: float) -> BatchRecord:
        """Insert a queued batch with all its items pending."""

    async def get_batch(self, batch_id: str, owner: str | None) -> BatchRecord:
        """The batch, scoped to ``owner`` (None only for the pipeline); NotFound otherwise."""

    async def list_batches(
        self, owner: str, *, limit: int, offset: int
    ) -> tuple[list[BatchRecord], int]:
        """The owner's batches, newest first, and how many there are."""

    async def list_items(
        self,
        batch_id: str,
        owner: str,
        *,
        status: ItemStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Item], int]:
        """Items of an owner's batch in index order, optionally of one status."""

    async def batch_with_items(
        self, batch_id: str, owner: str, *, limit: int
    ) -> tuple[BatchRecord, list[Item]]:
        """The batch and its latest ``limit`` started items, read in one snapshot."""

    async def read_events(
        self, batch_id: str, *, after: int, upto: int | None = None, limit: int = 500
    ) -> list[EventRecord]:
        """Durable events with ``after < seq <= upto``, in order."""

    async def pending_indices(self, batch_id: str, *, after: int, limit: int) -> list[int]:
        """Indices of pending items above ``after``, ascending."""

    async def prior_attempts(self, batch_id: str, indices: Sequence[int]) -> dict[int, int]:
        """How many attempts each item already had (items that were retried)."""

    async def passed_stem_keys(self, batch_id: str) -> set[str]:
        """Stem keys of the batch's completed items (for the duplicate-stem rule)."""

    async def mark_running(self, batch_id: str, now: float) -> BatchRecord:
        """Move a queued batch to running (first start sets ``started_at``)."""

    async def apply(self, changes: Sequence[Change], now: float) -> Applied:
        """Commit item state changes, their events and counters in one transaction.

        A change whose item is not in the state it expects (for example a finish for an
        item a cancel already failed) is skipped, so nothing is counted twice.
        """

    async def cancel(self, batch_id: str, now: float) -> BatchRecord:
        """Fail in-flight items as cancelled and end the batch ``cancelled``."""

    async def requeue_failed(self, batch_id: str, now: float, reason: str | None = None) -> int:
        """Put failed items back to pending and the batch back to queued.

        With ``reason``, only the failed items counted under that reason key; Conflict when
        nothing would be re-queued.
        """

    async def pause(self, batch_id: str, now: float) -> BatchRecord:
        """Pause a queued or running batch by hand (``batch.paused``, reason ``manual``);
        Conflict when it is not queued or running or has no pending item left."""

    async def resume(self, batch_id: str, now: float) -> BatchRecord:
        """Move a paused batch back to running (``batch.resumed``); Conflict otherwise."""

    async def set_backoff(self, batch_id: str, until: float) -> None:
        """Record that the provider asked the batch to wait until ``until`` (if later)."""

    async def fail_batch(self, batch_id: str, message: str, now: float) -> None:
        """End a batch that could not run as ``failed``."""

    async def recover(self, now: float) -> list[str]:
        """After a restart: in-flight items back to pending; the ids of the batches to run
        again (queued or running; a paused batch stays paused)."""
