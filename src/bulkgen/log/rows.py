"""Rows to models: how a stored batch or item row reads back as the value callers see.

JSON columns are parsed here, once, on the read side; the write side never re-reads them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Row

from bulkgen.cost import BatchPrice
from bulkgen.log.schema import batches
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
    ProviderBatch,
    RuleResult,
    from_epoch,
)
from bulkgen.progress import Counts, ProgressState, ValidTarget, usage_of

#: The columns of a batch row that its progress is computed from (a live feed reads only
#: these; ``config`` is read for the target of mode ``valid`` without parsing the rest).
PROGRESS_COLUMNS = (
    batches.c.status,
    batches.c.total,
    batches.c.pending,
    batches.c.in_progress,
    batches.c.completed,
    batches.c.failed,
    batches.c.last_seq,
    batches.c.recent_finishes,
    batches.c.started_at,
    batches.c.finished_at,
    batches.c.failure_reasons,
    batches.c.prompt_tokens,
    batches.c.completion_tokens,
    batches.c.total_tokens,
    batches.c.pause,
    batches.c.backoff_until,
    batches.c.config,
    batches.c.price,
    batches.c.cost,
    batches.c.provider_batch,
)


def progress_of(row: Any, config: BatchConfig | None = None) -> ProgressState:
    """The progress state of a batch row (``config``: already parsed, when it is)."""
    return ProgressState(
        counts=Counts(
            total=row.total,
            pending=row.pending,
            in_progress=row.in_progress,
            completed=row.completed,
            failed=row.failed,
        ),
        status=BatchStatus(row.status),
        last_seq=row.last_seq,
        finishes=tuple(json.loads(row.recent_finishes)),
        started_at=row.started_at,
        finished_at=row.finished_at,
        failure_reasons=json.loads(row.failure_reasons),
        usage=usage_of(row.prompt_tokens, row.completion_tokens, row.total_tokens),
        valid=ValidTarget.of(config) if config is not None else valid_of(row.config),
        pause=PauseInfo.model_validate_json(row.pause) if row.pause else None,
        backoff_until=row.backoff_until,
        price=BatchPrice.model_validate_json(row.price) if row.price else None,
        cost=row.cost,
        provider=provider_of(row.provider_batch),
    )


def provider_of(stored: str | None) -> ProviderBatch | None:
    """The provider's batch a batch follows, from its stored JSON (see
    :mod:`bulkgen.generation.provider_batch`)."""
    if not stored:
        return None
    return ProviderBatch.model_validate(json.loads(stored)["batch"])


def valid_of(config_json: str) -> ValidTarget | None:
    """The target of mode ``valid`` from a stored config, reading only its three fields.

    Stored configs were validated when the batch was created, with ``max_items`` filled in.
    """
    config = json.loads(config_json)
    return ValidTarget.for_mode(
        config.get("mode", ""), int(config["count"]), config.get("max_items")
    )


def record_of(row: Row[Any]) -> BatchRecord:
    config = BatchConfig.model_validate_json(row.config)
    return BatchRecord(
        id=row.id,
        owner=row.owner,
        title=row.title,
        config=config,
        created_at=row.created_at,
        error=row.error,
        progress=progress_of(row, config),
        early_stop_checked=bool(row.early_stop_checked),
        provider_state=row.provider_batch,
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
