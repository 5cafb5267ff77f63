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


class CostEstimate(BaseModel):
    """What a batch's tokens cost at the prices set on the server when it was created."""

    usd: float = Field(description="Estimated cost of every token the batch used, in USD.")
    per_valid_item_usd: float | None = Field(
        description="`usd` divided by the items that passed; null while none has."
    )
    discount: float = Field(
        description="Share of the list price its generation requests pay: 1 for direct "
        "delivery, the provider's batch discount (0.5) for `provider_batch`."
    )


#: The states of a provider's batch (OpenAI's Batch API), in the order they come.
ProviderBatchStatus = Literal[
    "uploading",
    "validating",
    "in_progress",
    "finalizing",
    "completed",
    "expired",
    "cancelling",
    "cancelled",
    "failed",
]


class ProviderBatch(BaseModel):
    """Delivery ``provider_batch``: the provider's batch now carrying the batch's requests."""

    round: int = Field(
        description="1 for the first provider batch; one more for each that carries "
        "requests sent again (expired or failed transiently) or replacements (mode `valid`)."
    )
    id: str | None = Field(description="The provider's batch id; null while uploading.")
    status: ProviderBatchStatus
    total: int = Field(description="Requests in the provider's batch.")
    completed: int = Field(description="Requests the provider has answered.")
    failed: int = Field(description="Requests the provider could not answer.")
    submitted_at: datetime
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None

    @property
    def ended(self) -> bool:
        """True once the provider will answer no more of its requests."""
        return self.status in ("completed", "expired", "cancelled", "failed")


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
    cost: CostEstimate | None = Field(
        default=None,
        description="Estimated cost of the tokens used; null when the server has no price "
        "for the batch's model (`model_prices`) or the generator is `demo`.",
    )
    provider_batch: ProviderBatch | None = Field(
        default=None,
        description="Delivery `provider_batch`: the provider's batch now carrying the "
        "requests, with its request counts; null for direct delivery.",
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
    cost: CostEstimate | None = Field(
        default=None, description="Estimated cost of those tokens (as in `progress.cost`)."
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
