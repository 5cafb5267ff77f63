"""Rows to models: how a stored batch or item row reads back as the value callers see.

JSON columns are parsed here, once, on the read side; the write side never re-reads them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Row

from bulkgen.log.store import BatchRecord
from bulkgen.models import (
    Attempt,
    BatchConfig,
    BatchStatus,
    GeneratedItem,
    Item,
    ItemError,
    ItemStatus,
    PauseInfo,
    RuleResult,
    from_epoch,
)
from bulkgen.progress import Counts, usage_of


def record_of(row: Row[Any]) -> BatchRecord:
    return BatchRecord(
        id=row.id,
        owner=row.owner,
        title=row.title,
        config=BatchConfig.model_validate_json(row.config),
        status=BatchStatus(row.status),
        counts=Counts(
            total=row.total,
            pending=row.pending,
            in_progress=row.in_progress,
            completed=row.completed,
            failed=row.failed,
        ),
        last_seq=row.last_seq,
        recent_finishes=tuple(json.loads(row.recent_finishes)),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        failure_reasons=json.loads(row.failure_reasons),
        usage=usage_of(row.prompt_tokens, row.completion_tokens, row.total_tokens),
        pause=PauseInfo.model_validate_json(row.pause) if row.pause else None,
        backoff_until=row.backoff_until,
    )


def item_of(row: Row[Any]) -> Item:
    started, finished = row.started_at, row.finished_at
    return Item(
        index=row.idx,
        status=ItemStatus(row.status),
        attempts=[Attempt.model_validate(a) for a in json.loads(row.attempts)],
        started_at=from_epoch(started),
        finished_at=from_epoch(finished),
        duration_ms=(
            None if started is None or finished is None else round((finished - started) * 1000.0, 1)
        ),
        result=GeneratedItem.model_validate_json(row.result) if row.result else None,
        warnings=[RuleResult.model_validate(w) for w in json.loads(row.warnings or "[]")],
        error=ItemError.model_validate_json(row.error) if row.error else None,
    )
