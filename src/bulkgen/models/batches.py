"""A batch as the API returns it, and where it stands: ``Batch``, ``ProgressSnapshot``.

``ProgressSnapshot`` is the same shape in REST and in the ``batch.progress`` event, so
changing one is changing a public contract.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Generic, Literal, TypeVar, overload

from pydantic import BaseModel, Field

from bulkgen.models.config import BatchConfig
from bulkgen.models.items import TokenUsage


class BatchStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    #: Stopped scheduling by hand or by the early stop; resumes or is cancelled by a user.
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        """True for the states a batch stays in until someone acts on it."""
        return self in _FINISHED


_FINISHED = frozenset({BatchStatus.COMPLETED, BatchStatus.CANCELLED, BatchStatus.FAILED})


PauseReason = Literal["manual", "early_stop", "quota"]


class PauseInfo(BaseModel):
    """Why a paused batch is paused."""

    reason: PauseReason
    message: str
    at: datetime


class ProgressSnapshot(BaseModel):
    """Where a batch stands; the same shape in REST and in ``batch.progress``."""

    total: int
    completed: int
    failed: int
    in_progress: int
    pending: int
    percent: float
    success_rate: float | None
    throughput_per_min: float | None
    eta_seconds: float | None
    elapsed_seconds: float | None
    status: BatchStatus
    started_at: datetime | None
    finished_at: datetime | None
    failure_reasons: dict[str, int] = Field(
        default_factory=dict,
        description="Failed items per reason (`rule:<rule id>` for each failed validation "
        "rule, `kind:<error kind>` otherwise), most frequent first; only counts above 0.",
    )
    usage: TokenUsage | None = Field(
        default=None, description="Tokens the batch's generated items used; null when none."
    )
    target_valid: int | None = Field(
        default=None, description="Mode `valid`: the number of items that must pass; else null."
    )
    replacements: int = Field(
        default=0, description="Items queued beyond the batch's count to replace failed ones."
    )
    max_items: int | None = Field(
        default=None, description="Mode `valid`: the most items the batch may create; else null."
    )
    pause: PauseInfo | None = Field(
        default=None, description="Status `paused`: why (`manual` or `early_stop`); else null."
    )
    last_finished_at: datetime | None = Field(
        default=None, description="When the latest item of the current run finished."
    )
    stalled: bool = Field(
        default=False,
        description="Running, and no item finished for far longer than the rate predicts "
        "(see docs/progress.md).",
    )
    backoff_until: datetime | None = Field(
        default=None,
        description="Running: the provider asked (Retry-After) to wait until this time.",
    )
    storage_fault: str | None = Field(
        default=None,
        description="Unfinished: the database takes no writes now (why, for example "
        "`the disk is full`); finished items wait in memory and are saved once it does.",
    )


class Batch(BaseModel):
    """A batch as the API returns it."""

    id: str
    title: str | None
    config: BatchConfig
    status: BatchStatus
    progress: ProgressSnapshot
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_event_id: int
    error: str | None = None
    usage: TokenUsage | None = Field(
        default=None, description="Tokens the batch's generated items used; null when none."
    )


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total number of matches."""

    items: list[T]
    total: int
    limit: int
    offset: int


@overload
def from_epoch(seconds: float) -> datetime: ...
@overload
def from_epoch(seconds: None) -> None: ...
@overload
def from_epoch(seconds: float | None) -> datetime | None: ...


def from_epoch(seconds: float | None) -> datetime | None:
    """An epoch time (as stored) as an aware UTC datetime; None stays None."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC)
