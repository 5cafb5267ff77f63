"""An item's row while a write transaction changes it, and the event that tells of it.

JSON columns stay text: a transaction copies them, it does not parse them, except to count
the attempts of an item that was retried.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bulkgen.events import ItemEvent
from bulkgen.log.store import FinishItem
from bulkgen.models import GeneratedItem, ItemError, ItemStatus, RuleResult, from_epoch

#: Characters of the stem an item event carries.
STEM_PREVIEW = 200


def _dump(models: Iterable[Any]) -> str:
    return "[" + ",".join(model.model_dump_json() for model in models) + "]"


@dataclass(slots=True)
class ItemState:
    """An item's columns while a transaction changes it (JSON columns stay text)."""

    index: int
    status: str
    attempts: str = "[]"
    started_at: float | None = None
    finished_at: float | None = None
    result: str | None = None
    warnings: str | None = None
    error: str | None = None
    stem_key: str | None = None
    dirty: bool = False
    attempt_count: int = -1

    def attempts_made(self) -> int:
        if self.attempt_count < 0:
            self.attempt_count = 0 if self.attempts == "[]" else len(json.loads(self.attempts))
        return self.attempt_count

    def finish(self, change: FinishItem) -> None:
        """Take the outcome of a finish: time, attempts, result, warnings, error."""
        self.finished_at = change.at
        if change.attempts:
            if self.attempts == "[]":
                self.attempts = _dump(change.attempts)
                self.attempt_count = len(change.attempts)
            else:
                previous = json.loads(self.attempts)
                new = [a.model_dump(mode="json") for a in change.attempts]
                self.attempts = json.dumps([*previous, *new])
                self.attempt_count = len(previous) + len(new)
        self.result = None if change.result is None else change.result.model_dump_json()
        self.warnings = _dump(change.warnings) if change.warnings else None
        self.error = None if change.error is None else change.error.model_dump_json()
        self.stem_key = change.stem_key

    def clear(self) -> None:
        """Back to how a pending item looks: no times, no outcome."""
        self.started_at = self.finished_at = None
        self.result = self.warnings = self.error = self.stem_key = None


@dataclass(slots=True)
class LoggedEvent:
    """An event this transaction appends to the batch's log."""

    seq: int
    type: str
    data: str
    created_at: float


def item_event(
    kind: type[ItemEvent],
    item: ItemState,
    result: GeneratedItem | None = None,
    warnings: Sequence[RuleResult] = (),
    error: ItemError | None = None,
) -> ItemEvent:
    """The ``kind`` of item event for ``item`` as the transaction leaves it."""
    duration = None
    if item.started_at is not None and item.finished_at is not None:
        duration = round((item.finished_at - item.started_at) * 1000.0, 1)
    return kind(
        index=item.index,
        status=ItemStatus(item.status),
        attempts=item.attempts_made(),
        started_at=from_epoch(item.started_at),
        finished_at=from_epoch(item.finished_at),
        duration_ms=duration,
        stem_preview=None if result is None else result.stem[:STEM_PREVIEW],
        answer=None if result is None else result.answer,
        warnings=list(warnings),
        error=error,
    )
