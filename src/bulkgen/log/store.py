"""The store's interface and the records it reads and writes.

Every write changes a batch's row, its items and its event log in one transaction; only
:class:`~bulkgen.log.eventlog.EventLog` calls the write methods, so every durable event
goes through one seam that commits and then wakes viewers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from bulkgen.cost import BatchPrice
from bulkgen.models import (
    Attempt,
    BatchConfig,
    BatchStatus,
    GeneratedItem,
    Item,
    ItemError,
    ItemStatus,
    PauseReason,
    RuleResult,
)
from bulkgen.progress import Counts, ProgressState


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """A batch row: who owns it, its config, and its progress state."""

    id: str
    owner: str
    title: str | None
    config: BatchConfig
    created_at: float
    error: str | None
    progress: ProgressState
    #: The early stop has judged the batch (it judges once, at ``min_finished`` finishes).
    early_stop_checked: bool = False
    #: Delivery ``provider_batch``: the stored JSON of the provider batch it follows.
    provider_state: str | None = None

    @property
    def status(self) -> BatchStatus:
        return self.progress.status

    @property
    def last_seq(self) -> int:
        """The sequence number of the batch's latest durable event (0: none yet)."""
        return self.progress.last_seq

    @property
    def counts(self) -> Counts:
        return self.progress.counts


@dataclass(frozen=True, slots=True)
class PassedStem:
    """The stem of a passed item, for the duplicate rules; ``title`` and ``created_at`` are
    its batch's, to name an earlier batch in a message."""

    batch_id: str
    index: int
    stem: str
    title: str | None = None
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One durable event of a batch's log; ``data`` is its JSON payload."""

    seq: int
    type: str
    data: str
    created_at: float


@dataclass(frozen=True, slots=True)
class StartItem:
    """An item leaves ``pending`` and begins generating."""

    batch_id: str
    index: int
    at: float


@dataclass(frozen=True, slots=True)
class FinishItem:
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


@dataclass(frozen=True, slots=True)
class ClaimItem:
    """Slot ``slot`` of a batch asks for its next item (distributed workers, PostgreSQL):
    committed with the item changes queued before it, answered on the ``Applied``."""

    batch_id: str
    slot: int
    at: float


ItemChange = StartItem | FinishItem
Change = StartItem | FinishItem | ClaimItem


class ClaimOutcome(Enum):
    CLAIMED = "claimed"  # an item to generate
    BUSY = "busy"  # N items in progress (a dead worker's wait to be put back): try later
    DONE = "done"  # nothing pending: the slot's job ends
    STOPPED = "stopped"  # the batch is paused or finished: the slot's job ends


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to a :class:`ClaimItem`."""

    outcome: ClaimOutcome
    index: int = -1
    prior_attempts: int = 0
    #: Items of this slot a dead worker left in progress, put back to pending.
    recovered: int = 0


@dataclass(slots=True)
class Applied:
    """What one write transaction committed."""

    #: Batches whose log grew.
    batches: set[str] = field(default_factory=set)
    #: Changes skipped because their item was no longer in the state they expected.
    rejected: int = 0
    #: Batches this commit paused (the early stop); their runs must stop scheduling.
    paused: set[str] = field(default_factory=set)
    #: The answer to each claim of the transaction, by (batch id, slot).
    claims: dict[tuple[str, int], Claim] = field(default_factory=dict)


class Store(Protocol):
    """Durable state of batches, items and event logs."""

    async def migrate(self) -> None:
        """Bring the database schema up to date."""

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""

    async def close(self) -> None: ...

    async def create_batch(
        self, owner: str, config: BatchConfig, now: float, price: BatchPrice | None = None
    ) -> BatchRecord:
        """Insert a queued batch with all its items pending, priced at ``price``."""

    async def get_batch(self, batch_id: str, owner: str | None) -> BatchRecord:
        """The batch, scoped to ``owner`` (None only for the pipeline); NotFound otherwise."""

    async def progress_state(self, batch_id: str) -> ProgressState:
        """The batch's progress state alone (what a live feed reads at every wake-up)."""

    async def usage_since(self, owner: str, since: float) -> tuple[int, int, float | None]:
        """The owner's batches created at or after ``since``: their items, their tokens,
        and when the oldest of them was created (None: no batch)."""

    async def count_by_status(self) -> dict[BatchStatus, tuple[int, int]]:
        """Per status present, every owner's batches: how many, and their pending items."""

    async def list_batches(
        self, owner: str | None, *, limit: int, offset: int
    ) -> tuple[list[BatchRecord], int]:
        """The owner's batches (None: every owner's), newest first, and how many there are."""

    async def list_items(
        self,
        batch_id: str,
        owner: str | None,
        *,
        status: ItemStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Item], int]:
        """Items of an owner's batch in index order, optionally of one status."""

    async def batch_with_items(
        self, batch_id: str, owner: str | None, *, limit: int
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

    async def passed_stems(self, batch_id: str) -> list[PassedStem]:
        """Stems of the batch's completed items in index order (for the duplicate rules)."""

    async def earlier_stems(self, batch_id: str, *, limit: int) -> list[PassedStem]:
        """Stems of the completed items of the owner's batches created before this one on
        the same topic (case and spacing ignored), newest batch first, at most ``limit``."""

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

    async def pause(
        self, batch_id: str, now: float, reason: PauseReason = "manual", message: str = ""
    ) -> BatchRecord:
        """Pause a queued or running batch (``batch.paused``; by hand, or ``quota`` with
        ``message``); Conflict when it is not queued or running or has no pending item."""

    async def resume(self, batch_id: str, now: float) -> BatchRecord:
        """Move a paused batch back to running (``batch.resumed``); Conflict otherwise."""

    async def set_provider_state(self, batch_id: str, state: str) -> None:
        """Store the JSON of the provider batch a ``provider_batch`` batch follows."""

    async def set_backoff(self, batch_id: str, until: float) -> None:
        """Record that the provider asked the batch to wait until ``until`` (if later)."""

    async def fail_batch(self, batch_id: str, message: str, now: float) -> bool:
        """End a batch that could not run as ``failed``; False when it had already ended."""

    async def recover(
        self, now: float, runner: str | None = None, until: float | None = None
    ) -> list[str]:
        """In-flight items of the batches no live process runs back to pending; the ids of
        those to run again (queued or running; a paused batch stays paused), leased to
        ``runner`` until ``until`` (see :mod:`bulkgen.log.leases`)."""

    async def claim_run(self, batch_id: str, runner: str, now: float, until: float) -> bool:
        """Take the batch's run lease for ``runner``; False when a live process holds it."""

    async def renew_leases(self, runner: str, batch_ids: list[str], until: float) -> None:
        """Extend ``runner``'s run leases on these batches."""

    async def release_lease(self, runner: str, batch_ids: list[str] | None) -> None:
        """Give up ``runner``'s run leases on these batches (None: on all of them)."""

    async def lease_holders(self, now: float) -> list[str]:
        """The runners whose run leases still hold."""

    # Distributed workers (PostgreSQL): see bulkgen.log.slots.

    async def ensure_slots(self, batch_id: str) -> int:
        """Defer jobs for the slots of a runnable batch that have none; how many."""

    async def runnable_batches(self) -> list[str]:
        """Queued or running batches with items to generate or in flight."""

    async def reserve_request(self, batch_id: str, interval: float, now: float) -> float:
        """Take the batch's next free request slot (epoch seconds)."""

    async def hold_requests(self, batch_id: str, until: float) -> None:
        """No request slot of the batch before ``until``."""
