"""A batch's state inside one write transaction: counters, log head and the rules that
move them. Pure: no I/O, no SQL. The store locks a batch row, builds a :class:`BatchState`
from it and the items a write touches, lets it decide (start or finish an item, the early
stop, replacements in mode ``valid``, cancel, pause, resume, retry, recovery) and writes
back what it changed: the dirty items, the new items, the events it logged (with their
sequence numbers) and the batch's new counters and cost. Every rule that decides what a
batch does lives here, so it is tested without a database (``tests/test_state.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from bulkgen.cost import BatchPrice, item_cost
from bulkgen.errors import Conflict
from bulkgen.events import (
    BatchComplete,
    BatchPaused,
    BatchResumed,
    Event,
    ItemCompleted,
    ItemEvent,
    ItemFailed,
    ItemQueued,
    ItemRequeued,
    ItemStarted,
    dump,
    progress_event,
)
from bulkgen.log.items import ItemState, LoggedEvent, item_event
from bulkgen.log.judging import early_stop_message, starts_before_judgement
from bulkgen.log.store import ItemChange, StartItem
from bulkgen.models import (
    BatchConfig,
    BatchStatus,
    GeneratedItem,
    ItemError,
    ItemStatus,
    PauseInfo,
    PauseReason,
    RuleResult,
    from_epoch,
)
from bulkgen.progress import Counts, ProgressState, ValidTarget, append_finishes, usage_of

CANCELLED = ItemError(kind="cancelled", message="the batch was cancelled")
MANUAL_PAUSE = "paused by a user: resume or cancel"


@dataclass
class BatchState:
    """One batch's counters, log head and changed items inside a write transaction."""

    id: str
    status: BatchStatus
    total: int
    counts: dict[str, int]
    last_seq: int
    config_json: str
    finishes: list[float] = field(default_factory=list)
    started_at: float | None = None
    finished_at: float | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    usage: list[int] = field(default_factory=lambda: [0, 0, 0])
    pause: PauseInfo | None = None
    early_stop_checked: bool = False
    backoff_until: float | None = None
    error: str | None = None
    price: BatchPrice | None = None
    cost: float = 0.0
    items: dict[int, ItemState] = field(default_factory=dict)
    #: Items this transaction creates (replacements in mode ``valid``).
    new_items: list[ItemState] = field(default_factory=list)
    events: list[LoggedEvent] = field(default_factory=list)
    #: The status the batch had when the transaction began.
    initial_status: BatchStatus | None = None
    #: Columns changed outside the counters (``started_at``, ``error``).
    changed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.initial_status is None:
            self.initial_status = self.status

    # -- reading -------------------------------------------------------------------------

    @cached_property
    def config(self) -> BatchConfig:
        """The batch's config, parsed only when a rule needs it."""
        return BatchConfig.model_validate_json(self.config_json)

    @cached_property
    def valid(self) -> ValidTarget | None:
        """The batch's target of valid items (mode ``valid``), read only when needed."""
        return ValidTarget.of(self.config)

    def current_counts(self) -> Counts:
        return Counts(total=self.total, **self.counts)

    def progress(self) -> ProgressState:
        """The batch's progress as this transaction leaves it."""
        return ProgressState(
            counts=self.current_counts(),
            status=self.status,
            last_seq=self.last_seq,
            finishes=tuple(self.finishes),
            started_at=self.started_at,
            finished_at=self.finished_at,
            failure_reasons=self.reasons,
            usage=usage_of(*self.usage),
            valid=self.valid,
            pause=self.pause,
            backoff_until=self.backoff_until,
            price=self.price,
            cost=self.cost,
        )

    @property
    def paused_now(self) -> bool:
        """This transaction paused the batch."""
        return self.status is BatchStatus.PAUSED and self.initial_status is not self.status

    def needed(self) -> int | None:
        """Mode ``valid``: how many more items must be queued to reach the target."""
        valid = self.valid
        if valid is None:
            return None
        counts = self.counts
        return max(
            valid.target - counts["completed"] - counts["pending"] - counts["in_progress"], 0
        )

    def resumable(self) -> bool:
        """A cancelled batch with pending items runs again on a retry even with nothing
        failed."""
        return self.status is BatchStatus.CANCELLED and self.counts["pending"] > 0

    # -- the log -------------------------------------------------------------------------

    def log(self, event: Event | ItemEvent, now: float) -> None:
        """Append ``event`` to the batch's log with the next sequence number."""
        self.last_seq += 1
        self.events.append(LoggedEvent(self.last_seq, event.name, dump(event), now))

    def log_item(
        self,
        kind: type[ItemEvent],
        item: ItemState,
        now: float,
        *,
        result: GeneratedItem | None = None,
        warnings: Sequence[RuleResult] = (),
        error: ItemError | None = None,
    ) -> None:
        """Log an item event; the models come from the change, nothing is re-parsed."""
        self.log(item_event(kind, item, result, warnings, error), now)

    # -- moving items ------------------------------------------------------------------

    def move(self, item: ItemState, status: ItemStatus) -> None:
        self.counts[item.status] -= 1
        self.counts[status.value] += 1
        item.status = status.value
        item.dirty = True

    def count_failure(self, error: ItemError | None, delta: int) -> None:
        """Count a failed item under its reasons (``delta`` 1), or take it back (-1)."""
        for key in reasons_of(error):
            count = self.reasons.get(key, 0) + delta
            if count > 0:
                self.reasons[key] = count
            else:
                self.reasons.pop(key, None)

    def add_usage(self, result: GeneratedItem | None) -> None:
        """Count the tokens of the item's generation and of its blind review, and their cost."""
        if result is not None and self.price is not None:
            self.cost += item_cost(result, self.price)
        if result is not None:
            for used in (result.usage, result.review.usage if result.review else None):
                if used is not None:
                    self.usage[0] += used.prompt_tokens
                    self.usage[1] += used.completion_tokens
                    self.usage[2] += used.total_tokens

    def apply(self, change: ItemChange, now: float) -> bool:
        """Apply one item change if the item is in the state it expects; False when
        skipped (for example a finish for an item a cancel already failed)."""
        item = self.items.get(change.index)
        if item is None or self.status.finished:
            return False
        if isinstance(change, StartItem):
            # A paused batch starts nothing: a start that raced the pause is refused, the
            # item stays pending and runs after a resume.
            if item.status != ItemStatus.PENDING.value or self.status is BatchStatus.PAUSED:
                return False
            item.started_at = change.at
            item.finished_at = None
            self.move(item, ItemStatus.IN_PROGRESS)
            self.log_item(ItemStarted, item, now)
            return True
        if item.status != ItemStatus.IN_PROGRESS.value:
            return False
        item.finish(change)
        self.move(item, change.status)
        failed = change.status is ItemStatus.FAILED
        if failed:
            self.count_failure(change.error, 1)
        self.add_usage(change.result)
        self.finishes = append_finishes(self.finishes, [change.at])
        self.log_item(
            ItemFailed if failed else ItemCompleted,
            item,
            now,
            result=change.result,
            warnings=change.warnings,
            error=change.error,
        )
        if failed:
            self.queue_replacement(now)
        return True

    def settle(self, now: float) -> None:
        """After a group of changes: judge the early stop, and end a batch with nothing
        pending or in progress (a paused batch whose last items finished is done too)."""
        if self.events:
            self.judge_early_stop(now)
        if (
            self.status in (BatchStatus.RUNNING, BatchStatus.PAUSED)
            and self.counts["pending"] == 0
            and self.counts["in_progress"] == 0
        ):
            self.finish(BatchStatus.COMPLETED, now)

    def queue_replacement(self, now: float) -> None:
        """After a failure in mode ``valid``: append a new pending item when the items
        already queued can no longer reach the target and the attempt cap allows one; only
        while ``completed + pending + in_progress < target``, so at most ``target`` pass."""
        valid = self.valid
        if valid is None or self.total >= valid.max_items:
            return
        counts = self.counts
        if counts["completed"] + counts["pending"] + counts["in_progress"] >= valid.target:
            return
        item = ItemState(index=self.total, status=ItemStatus.PENDING.value)
        self.new_items.append(item)
        self.total += 1
        counts["pending"] += 1
        self.log_item(ItemQueued, item, now)

    # -- the batch ---------------------------------------------------------------------

    def finish(self, status: BatchStatus, now: float) -> None:
        """End the batch and log ``batch.complete`` with its final snapshot."""
        self.status = status
        self.finished_at = now
        self.pause = None
        self.log(progress_event(BatchComplete, self.progress().snapshot(now)), now)

    def pause_with(self, reason: PauseReason, message: str, now: float) -> None:
        """Pause the batch and log ``batch.paused`` with why and the snapshot."""
        self.status = BatchStatus.PAUSED
        self.pause = PauseInfo(reason=reason, message=message, at=from_epoch(now))
        snapshot = self.progress().snapshot(now)
        self.log(BatchPaused(reason=reason, message=message, snapshot=snapshot), now)

    def judging_room(self) -> int | None:
        """How many more items may start before the early stop judges; None: no limit."""
        counts = self.counts
        return starts_before_judgement(
            self.config,
            self.early_stop_checked,
            counts["completed"] + counts["failed"] + counts["in_progress"],
        )

    def judge_early_stop(self, now: float) -> None:
        """Pause a running batch whose first finished items failed too often (once only):
        judged at the first commit that brings ``completed + failed`` to ``min_finished``;
        a batch with nothing left to schedule is not paused (it is about to end)."""
        if self.early_stop_checked or self.status is not BatchStatus.RUNNING:
            return
        rule = self.config.early_stop
        if rule is None or not rule.enabled:
            return
        failed = self.counts["failed"]
        finished = self.counts["completed"] + failed
        if finished < rule.min_finished:
            return
        self.early_stop_checked = True
        rate = failed / finished
        if rate < rule.max_failure_rate or self.counts["pending"] == 0:
            return
        self.pause_with("early_stop", early_stop_message(failed, finished, rule), now)

    def pause_by_hand(self, now: float, reason: PauseReason = "manual", message: str = "") -> None:
        """A user's or a quota's pause; Conflict unless queued or running with items left."""
        if self.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING):
            raise Conflict(
                f"batch {self.id} is {self.status.value}: only a queued or "
                "running batch can be paused"
            )
        if self.counts["pending"] == 0:
            raise Conflict(f"batch {self.id} has no pending items left to pause")
        self.pause_with(reason, message or MANUAL_PAUSE, now)

    def resume(self, now: float) -> None:
        """Run a paused batch again (``batch.resumed``); Conflict when it is not paused."""
        if self.status is not BatchStatus.PAUSED:
            raise Conflict(f"batch {self.id} is {self.status.value}, not paused")
        self.status = BatchStatus.RUNNING
        self.pause = None
        # The rate of the new run is not mixed with the gap of the pause.
        self.finishes = []
        if self.started_at is None:
            self.started_at = now
            self.changed.add("started_at")
        self.log(BatchResumed(snapshot=self.progress().snapshot(now)), now)
        if self.counts["pending"] == 0 and self.counts["in_progress"] == 0:
            self.finish(BatchStatus.COMPLETED, now)

    def mark_running(self, now: float) -> None:
        """A queued batch starts running (its first start sets ``started_at``)."""
        if self.status is not BatchStatus.QUEUED:
            return
        self.status = BatchStatus.RUNNING
        if self.started_at is None:
            self.started_at = now
            self.changed.add("started_at")

    def cancel(self, now: float) -> None:
        """Fail the in-flight items (``self.items``) as cancelled and end the batch."""
        if self.status.finished:
            raise Conflict(f"batch {self.id} is already {self.status.value}")
        for item in self.items.values():
            item.finished_at = now
            item.error = CANCELLED.model_dump_json()
            self.move(item, ItemStatus.FAILED)
            self.count_failure(CANCELLED, 1)
            self.log_item(ItemFailed, item, now, error=CANCELLED)
        self.finish(BatchStatus.CANCELLED, now)

    def fail(self, message: str, now: float) -> bool:
        """End a batch that could not run as ``failed``; False when it already ended."""
        if self.status.finished:
            return False
        self.error = message[:2000]
        self.changed.add("error")
        self.finish(BatchStatus.FAILED, now)
        return True

    def requeue(self, failed: Mapping[int, ItemState], reason: str | None, now: float) -> int:
        """Put failed items (``failed``, errors read) back to pending and the batch back to
        queued; with ``reason`` only the items counted under it. Conflict when nothing
        would run again. Returns how many items were put back."""
        errors = {
            index: None if item.error is None else ItemError.model_validate_json(item.error)
            for index, item in failed.items()
        }
        chosen = dict(failed)
        if reason is not None:
            chosen = {i: item for i, item in chosen.items() if reason in reasons_of(errors[i])}
            if not chosen:
                raise Conflict(f"batch {self.id} has no failed items with reason {reason}")
        needed = self.needed()
        if needed is not None and len(chosen) > needed:
            # Mode valid: only as many as can still be needed, so the target is not passed.
            if needed == 0 and not self.resumable():
                raise Conflict(f"batch {self.id} already has its target of valid items queued")
            chosen = {index: chosen[index] for index in sorted(chosen)[:needed]}
        if not chosen and not self.resumable():
            raise Conflict(f"batch {self.id} has no failed items to retry")
        self.items = chosen
        for item in chosen.values():
            self.count_failure(errors[item.index], -1)
            item.clear()
            self.move(item, ItemStatus.PENDING)
            self.log_item(ItemRequeued, item, now)
        self.finishes = []
        if self.status.finished:
            self.status = BatchStatus.QUEUED
            self.finished_at = None
        self.error = None
        self.changed.add("error")
        return len(chosen)

    def recover(self, now: float, items: Iterable[ItemState] | None = None) -> None:
        """After a restart: the in-flight items (``self.items``, or ``items``) go back."""
        items = list(self.items.values() if items is None else items)
        for item in items:
            item.started_at = None
            self.move(item, ItemStatus.PENDING)
            self.log_item(ItemRequeued, item, now)
        if items:
            self.finishes = []


def reasons_of(error: ItemError | None) -> list[str]:
    """The reason keys a failed item is counted under (an item without error: unknown)."""
    return ["kind:unknown"] if error is None else error.reasons()
