"""Items: what a generator returns, each try at it, why it failed, and how the API shows it.

``Item`` is the shape of the items API and ``ItemSummary`` the item in item events, so
changing one is changing a public contract.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator


class ItemStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


def normalise_key(key: str) -> str:
    """An option or answer key as validation and exports compare it: " a " is "A"."""
    return key.strip().upper()


class Option(BaseModel):
    key: str
    text: str

    @field_validator("key")
    @classmethod
    def _normalise_key(cls, key: str) -> str:
        return normalise_key(key)


class TokenUsage(BaseModel):
    """Tokens one successful generation request used, as the provider reported them."""

    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)


class ItemReview(BaseModel):
    """What a blind reviewer (a second model call that is not told the key) made of an item.

    ``answer`` is the reviewer's single best answer and ``correct`` every option it judged
    correct (keys normalised like the item's); ``agrees`` is true when its answer is the key
    and it judged no other option correct. ``flaws`` are the item-writing problems it named.
    """

    model: str | None = None
    answer: str | None = None
    correct: list[str] = Field(default_factory=list)
    flaws: list[str] = Field(default_factory=list)
    agrees: bool = False
    usage: TokenUsage | None = Field(default=None, description="Tokens the review request used.")


class GeneratedItem(BaseModel):
    """What a generator returns: one multiple-choice question."""

    stem: str
    options: list[Option]
    answer: str
    rationale: str
    usage: TokenUsage | None = Field(
        default=None, description="Tokens the request that produced the item used (real models)."
    )
    review: ItemReview | None = Field(
        default=None, description="The blind review of the item, when its batch asked for one."
    )

    @field_validator("answer")
    @classmethod
    def _normalise_answer(cls, answer: str) -> str:
        # A model's " a " names option A: normalised here, validation and exports agree.
        return normalise_key(answer)


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
