"""Every event of a batch's stream: one typed model per event, registered in one place.

An event is its payload model with a stable ``name`` (the SSE ``event:`` field). Durable
events are rows of the batch's event log with a contiguous sequence number (the SSE
``id:``); the store writes them from these models (:func:`dump`), the stream frames the
stored JSON as it is, and :mod:`bulkgen.client` reads them back with :func:`parse`.
``batch.progress`` and ``batches.progress`` are derived: built from the batch row when
they are sent, never stored. The browser's copy of the names (``static/js/events.js``)
is generated from :data:`EVENTS`.
"""

from __future__ import annotations

from typing import ClassVar, Final, TypeVar

from pydantic import BaseModel

from bulkgen.models import ItemSummary, PauseReason, ProgressSnapshot


class ItemEvent(ItemSummary):
    """An item changed state; the data is the item's summary."""

    name: ClassVar[str]
    durable: ClassVar[bool] = True


class ItemStarted(ItemEvent):
    """An item began generating (status ``in_progress``)."""

    name: ClassVar[str] = "item.started"


class ItemCompleted(ItemEvent):
    """An item was generated and passed validation: stem preview, answer, warnings,
    timing, attempts."""

    name: ClassVar[str] = "item.completed"


class ItemFailed(ItemEvent):
    """An item failed generation or validation; ``error`` says why (kind, message, rules,
    transient)."""

    name: ClassVar[str] = "item.failed"


class ItemRequeued(ItemEvent):
    """A failed or interrupted item went back to pending, after a retry or a restart."""

    name: ClassVar[str] = "item.requeued"


class ItemQueued(ItemEvent):
    """Mode ``valid``: a new item was added to replace a failed one (status pending)."""

    name: ClassVar[str] = "item.queued"


class BatchPaused(BaseModel):
    """The batch stopped scheduling items, by hand (``manual``) or by the early stop
    (``early_stop``); ``message`` says why. The stream stays open."""

    name: ClassVar[str] = "batch.paused"
    durable: ClassVar[bool] = True

    reason: PauseReason
    message: str
    snapshot: ProgressSnapshot


class BatchResumed(BaseModel):
    """A paused batch runs again."""

    name: ClassVar[str] = "batch.resumed"
    durable: ClassVar[bool] = True

    snapshot: ProgressSnapshot


class BatchProgress(ProgressSnapshot):
    """Derived and coalesced: the progress snapshot, with the id of the latest durable
    event it reflects."""

    name: ClassVar[str] = "batch.progress"
    durable: ClassVar[bool] = False


class BatchComplete(ProgressSnapshot):
    """The batch reached a final state (completed, cancelled or failed); the data is the
    final snapshot. The stream ends after it."""

    name: ClassVar[str] = "batch.complete"
    durable: ClassVar[bool] = True


class BatchesProgress(BaseModel):
    """Only on the history stream ``/api/generation/progress``; derived: the progress of
    one of the watched batches."""

    name: ClassVar[str] = "batches.progress"
    durable: ClassVar[bool] = False

    batch_id: str
    progress: ProgressSnapshot


Event = (
    ItemStarted
    | ItemCompleted
    | ItemFailed
    | ItemRequeued
    | ItemQueued
    | BatchPaused
    | BatchResumed
    | BatchProgress
    | BatchComplete
    | BatchesProgress
)

SnapshotEvent = TypeVar("SnapshotEvent", BatchProgress, BatchComplete)

#: Every event type by name; the docs and the browser's ``events.js`` list exactly these.
EVENTS: Final[dict[str, type[Event]]] = {
    model.name: model
    for model in (
        ItemStarted,
        ItemCompleted,
        ItemFailed,
        ItemRequeued,
        ItemQueued,
        BatchPaused,
        BatchResumed,
        BatchProgress,
        BatchComplete,
        BatchesProgress,
    )
}

EVENT_NAMES: Final = tuple(EVENTS)
DURABLE: Final = frozenset(name for name, model in EVENTS.items() if model.durable)
ITEM_EVENTS: Final = frozenset(
    name for name, model in EVENTS.items() if issubclass(model, ItemEvent)
)


def progress_event(kind: type[SnapshotEvent], snapshot: ProgressSnapshot) -> SnapshotEvent:
    """``batch.progress`` or ``batch.complete`` carrying ``snapshot`` (no re-validation)."""
    return kind.model_construct(**dict(snapshot))


def describe(name: str) -> str:
    """What an event means, from its model's docstring (one paragraph)."""
    return " ".join((EVENTS[name].__doc__ or "").split())


def dump(event: Event | ItemEvent) -> str:
    """The event's data: one line of JSON, as stored in the log and sent as ``data:``."""
    return event.model_dump_json()


def parse(name: str, data: str | bytes) -> Event:
    """The typed event named ``name`` from its JSON data; ``KeyError`` for unknown names,
    ``pydantic.ValidationError`` for data that does not fit."""
    return EVENTS[name].model_validate_json(data)
