"""Event types of a batch's stream, registered in one place.

Durable events are rows of the batch's event log with a contiguous sequence number; the
SSE ``id:`` of a durable event is that number. ``batch.progress`` is derived from the
batch row when it is sent and carries the id of the latest durable event it reflects.
"""

from __future__ import annotations

from typing import Final

ITEM_STARTED: Final = "item.started"
ITEM_COMPLETED: Final = "item.completed"
ITEM_FAILED: Final = "item.failed"
ITEM_REQUEUED: Final = "item.requeued"
ITEM_QUEUED: Final = "item.queued"
BATCH_PAUSED: Final = "batch.paused"
BATCH_RESUMED: Final = "batch.resumed"
BATCH_PROGRESS: Final = "batch.progress"
BATCH_COMPLETE: Final = "batch.complete"
BATCHES_PROGRESS: Final = "batches.progress"

#: Every event type, with what it means; the docs list exactly these.
EVENT_TYPES: Final[dict[str, str]] = {
    ITEM_STARTED: "durable; an item began generating (data: the item summary)",
    ITEM_COMPLETED: "durable; an item was generated and passed validation (data: the item)",
    ITEM_FAILED: "durable; an item failed generation or validation (data: the item, with `error`)",
    ITEM_REQUEUED: "durable; a failed or interrupted item went back to pending, after a "
    "retry or a restart (data: the item)",
    ITEM_QUEUED: "durable; mode `valid`: a new item was added to the batch to replace a "
    "failed one (data: the new item, status pending)",
    BATCH_PAUSED: "durable; the batch stopped scheduling items, by hand or by the early stop; "
    'data: `{"reason": "manual"|"early_stop", "message": …, "snapshot": <snapshot>}`. '
    "The stream stays open",
    BATCH_RESUMED: 'durable; a paused batch runs again; data: `{"snapshot": <snapshot>}`',
    BATCH_PROGRESS: "derived and coalesced; the progress snapshot, with the id of the "
    "latest durable event it reflects",
    BATCH_COMPLETE: "durable; the batch reached a final state (completed, cancelled or "
    "failed); data: the final snapshot. The stream ends after it",
    BATCHES_PROGRESS: "only on the history stream `/api/generation/progress`; derived; "
    'data: `{"batch_id": …, "progress": <snapshot>}` for one of the watched batches',
}

DURABLE: Final = frozenset(EVENT_TYPES) - {BATCH_PROGRESS, BATCHES_PROGRESS}
