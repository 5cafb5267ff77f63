"""Types shared by every layer: batch configuration, batches, items, progress, events.

These are the shapes of the HTTP API and of the SSE stream's ``data`` lines, so changing
one is changing a public contract.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar, overload

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

MAX_COUNT = 10_000
MAX_CONCURRENCY = 64
MAX_TOPIC = 200
MAX_TITLE = 200
MAX_LATENCY_MS = 60_000
MAX_LEARNING_OBJECTIVE = 500
MAX_REQUESTS_PER_MINUTE = 10_000
#: Most items a "valid" mode batch may create, whatever its count (see ``BatchConfig``).
MAX_ATTEMPT_ITEMS = 30_000
#: Default attempt cap of a "valid" mode batch, as a multiple of its count.
DEFAULT_ATTEMPT_FACTOR = 3


class ItemStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


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


class ItemType(StrEnum):
    MCQ = "mcq"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Strict(BaseModel):
    """Base for request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class DemoOptions(Strict):
    """Options of the offline ``demo`` generator."""

    seed: int = Field(default=0, ge=-(2**63), le=2**63 - 1)
    latency_ms: tuple[
        Annotated[int, Field(ge=0, le=MAX_LATENCY_MS)],
        Annotated[int, Field(ge=0, le=MAX_LATENCY_MS)],
    ] = (50, 400)
    fail_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    invalid_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    markup_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of items whose text contains HTML-like markup "
        "(to check that every view shows generated text as text).",
    )

    @model_validator(mode="after")
    def _ordered_latency(self) -> DemoOptions:
        low, high = self.latency_ms
        if low > high:
            raise ValueError("latency_ms must be [min, max] with min <= max")
        return self


class OpenAIOptions(Strict):
    """Options of the ``openai`` generator (any OpenAI-compatible Chat Completions endpoint).

    The endpoint, key and default model are server settings, never part of a batch.
    """

    learning_objective: str | None = Field(
        default=None,
        max_length=MAX_LEARNING_OBJECTIVE,
        description="What a student who answers correctly has shown; written into the prompt.",
    )
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    requests_per_minute: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REQUESTS_PER_MINUTE,
        description="This batch's request-rate limit; the server's "
        "`openai_requests_per_minute` when unset.",
    )


class EarlyStop(Strict):
    """Pause a batch when too many of its first finished items failed.

    Judged once per batch, at the first commit that brings ``completed + failed`` to
    ``min_finished`` or more: a failure rate of ``max_failure_rate`` or higher pauses it.
    """

    enabled: bool = True
    min_finished: int = Field(default=10, ge=1, le=1000)
    max_failure_rate: float = Field(default=0.5, ge=0.0, le=1.0)


#: Generators whose batches get the early stop when ``early_stop`` is omitted.
EARLY_STOP_BY_DEFAULT = frozenset({"openai"})


GeneratorName = Literal["demo", "openai"]
#: ``attempts``: ``count`` items are generated, passed or failed. ``valid``: ``count`` is the
#: number of items that must pass; failed ones are replaced until then or until the cap.
BatchMode = Literal["attempts", "valid"]
GeneratorOptions = DemoOptions | OpenAIOptions
#: The options model of each generator; ``generator_options`` is validated as this one.
OPTIONS_BY_GENERATOR: dict[str, type[DemoOptions] | type[OpenAIOptions]] = {
    "demo": DemoOptions,
    "openai": OpenAIOptions,
}


class BatchConfig(Strict):
    """What a faculty member asks for: the body of ``POST /api/generation/batch``."""

    topic: str = Field(min_length=1, max_length=MAX_TOPIC)
    item_type: ItemType = ItemType.MCQ
    count: int = Field(ge=1, le=MAX_COUNT)
    difficulty: Difficulty = Difficulty.MEDIUM
    generator: GeneratorName = "demo"
    model: str | None = Field(default=None, max_length=200)
    concurrency: int = Field(default=4, ge=1, le=MAX_CONCURRENCY)
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    generator_options: GeneratorOptions = Field(default_factory=DemoOptions)
    mode: BatchMode = "attempts"
    max_items: int | None = Field(
        default=None,
        ge=1,
        description="Mode `valid` only: most items the batch may create, replacements "
        f"included; `count`..min(10 × count, {MAX_ATTEMPT_ITEMS}), default "
        f"{DEFAULT_ATTEMPT_FACTOR} × count.",
    )
    early_stop: EarlyStop | None = Field(
        default=None,
        description="Pause the batch when the failure rate of its first finished items "
        "reaches a threshold; on by default for real providers (`openai`), off for `demo`.",
    )

    @model_validator(mode="after")
    def _default_early_stop(self) -> BatchConfig:
        if self.early_stop is None and self.generator in EARLY_STOP_BY_DEFAULT:
            self.early_stop = EarlyStop()
        return self

    @model_validator(mode="after")
    def _attempt_cap(self) -> BatchConfig:
        """Fill in the default cap of a ``valid`` batch; reject a cap out of bounds."""
        if self.mode == "attempts":
            if self.max_items is not None:
                raise _field_error("max_items", "max_items is only allowed with mode 'valid'")
            return self
        if self.max_items is None:
            self.max_items = min(DEFAULT_ATTEMPT_FACTOR * self.count, MAX_ATTEMPT_ITEMS)
        highest = max_items_bound(self.count)
        if not self.count <= self.max_items <= highest:
            raise _field_error(
                "max_items", f"max_items must be between count ({self.count}) and {highest}"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _strip_topic(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("topic"), str):
            data = {**data, "topic": data["topic"].strip()}
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _options_of_generator(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        """Validate ``generator_options`` as the options of the named generator.

        Errors keep their place (``generator_options.temperature``), unknown option fields
        are still rejected, and the other fields' errors are reported with them; a plain
        union would name both option models in every error.
        """
        if not isinstance(data, dict):
            return handler(data)
        options_model = OPTIONS_BY_GENERATOR.get(str(data.get("generator", "demo")))
        if options_model is None:
            return handler(data)  # the unknown generator is the error reported
        raw = data.get("generator_options")
        problems: list[InitErrorDetails] = []
        if raw is None:
            data = {**data, "generator_options": options_model()}
        elif not isinstance(raw, options_model):
            if isinstance(raw, BaseModel):
                raw = raw.model_dump()  # the other generator's options: rejected field by field
            try:
                data = {**data, "generator_options": options_model.model_validate(raw)}
            except ValidationError as error:
                problems = _details(error, ("generator_options",))
                data = {**data, "generator_options": options_model()}
        try:
            config = handler(data)
        except ValidationError as error:
            if not problems:
                raise
            problems = [*_details(error), *problems]
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return config


def max_items_bound(count: int) -> int:
    """The highest attempt cap a ``valid`` batch of ``count`` items may have."""
    return min(10 * count, MAX_ATTEMPT_ITEMS)


def _field_error(field: str, message: str) -> ValidationError:
    """A validation error placed on ``field`` (a model validator's own errors have no place)."""
    return ValidationError.from_exception_data(
        "BatchConfig",
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", message), loc=(field,), input=None
            )
        ],
    )


def _details(error: ValidationError, under: tuple[str, ...] = ()) -> list[InitErrorDetails]:
    """The errors of ``error``, placed under the field path ``under``."""
    details: list[InitErrorDetails] = []
    for problem in error.errors():
        detail = InitErrorDetails(
            type=problem["type"], loc=(*under, *problem["loc"]), input=problem["input"]
        )
        if "ctx" in problem:
            detail["ctx"] = problem["ctx"]
        details.append(detail)
    return details


class Option(BaseModel):
    key: str
    text: str


class TokenUsage(BaseModel):
    """Tokens one successful generation request used, as the provider reported them."""

    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)


class GeneratedItem(BaseModel):
    """What a generator returns: one multiple-choice question."""

    stem: str
    options: list[Option]
    answer: str
    rationale: str
    usage: TokenUsage | None = Field(
        default=None, description="Tokens the request that produced the item used (real models)."
    )


class RuleResult(BaseModel):
    """One item-writing rule an item broke."""

    rule: str
    severity: Severity
    message: str


class Attempt(BaseModel):
    """One try at generating an item."""

    number: int
    started_at: datetime
    finished_at: datetime
    error_kind: str | None = None
    error_message: str | None = None


class ItemError(BaseModel):
    """Why an item failed.

    ``kind`` is ``validation`` (``rules`` lists what failed), a generation error kind
    (``timeout``, ``rate_limited``, ``malformed_output`` …) or ``cancelled``.
    """

    kind: str
    message: str
    rules: list[RuleResult] = Field(default_factory=list)
    transient: bool = False

    def reasons(self) -> list[str]:
        """The failure reason keys this error counts under (see :func:`failure_reasons`)."""
        return failure_reasons(
            self.kind, [rule.rule for rule in self.rules if rule.severity is Severity.ERROR]
        )


#: What a failure reason key looks like: ``rule:<rule id>`` or ``kind:<error kind>``.
REASON_PATTERN = r"^(rule|kind):[a-z0-9_.]{1,64}$"


def failure_reasons(kind: str, error_rules: list[str]) -> list[str]:
    """The reason keys of a failure: ``rule:<id>`` per failed error rule of a validation
    failure (each once), ``kind:<kind>`` for any other failure."""
    if kind == "validation" and error_rules:
        return [f"rule:{rule}" for rule in dict.fromkeys(error_rules)]
    return [f"kind:{kind}"]


class Item(BaseModel):
    """An item as the items API lists it."""

    index: int
    status: ItemStatus
    attempts: list[Attempt] = Field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    result: GeneratedItem | None = None
    warnings: list[RuleResult] = Field(default_factory=list)
    error: ItemError | None = None


class ItemSummary(BaseModel):
    """An item as item events carry it: enough for a feed row, not the whole question."""

    index: int
    status: ItemStatus
    attempts: int
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    stem_preview: str | None = None
    answer: str | None = None
    warnings: list[RuleResult] = Field(default_factory=list)
    error: ItemError | None = None


PauseReason = Literal["manual", "early_stop"]


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
        "(see ARCHITECTURE.md, Progress).",
    )
    backoff_until: datetime | None = Field(
        default=None,
        description="Running: the provider asked (Retry-After) to wait until this time.",
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
