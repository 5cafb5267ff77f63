"""What a batch asks for: ``BatchConfig``, the options of each generator, and their bounds.

``BatchConfig`` is the body of ``POST /api/generation/batch``; the bounds are shared with the
form that builds it, so changing one is changing a public contract.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from annotated_types import Interval
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.types import Strict as NoCoercion
from pydantic_core import InitErrorDetails, PydanticCustomError

from bulkgen.models.text import bad_text

MAX_COUNT = 10_000
MAX_CONCURRENCY = 64
MAX_TOPIC = 200
MAX_TITLE = 200
MAX_LATENCY_MS = 60_000
MAX_LEARNING_OBJECTIVE = 500
MAX_REQUESTS_PER_MINUTE = 10_000
#: Bounds and default of ``max_tokens``, the answer's token limit sent with every request:
#: an item takes about 300 tokens, so the default leaves room to spare (and some for a
#: model that reasons first) while it bounds what a runaway answer costs.
MIN_MAX_TOKENS = 64
MAX_MAX_TOKENS = 32_768
DEFAULT_MAX_TOKENS = 2_048
#: Most items a "valid" mode batch may create, whatever its count (see ``BatchConfig``).
MAX_ATTEMPT_ITEMS = 30_000
#: Default attempt cap of a "valid" mode batch, as a multiple of its count.
DEFAULT_ATTEMPT_FACTOR = 3


#: Plain text as a JSON schema pattern: no NUL or other control character but tab and
#: line breaks (unpaired surrogates are refused too, which a pattern cannot say).
PLAIN_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


def _integral(value: Any) -> Any:
    """JSON numbers for an integer field: 3 and 3.0 (JSON Schema's integers), never "3",
    true or 3.5 (the field is strict)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: An integer as JSON Schema has it: any number without a fraction. Where the bounds are
#: on the type rather than the field (in a tuple, or with None), they come before it.
INTEGRAL = BeforeValidator(_integral)
JsonInt = Annotated[int, INTEGRAL]


LatencyMs = Annotated[int, NoCoercion(), Interval(ge=0, le=MAX_LATENCY_MS), INTEGRAL]


class ItemType(StrEnum):
    MCQ = "mcq"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


def _plain_text_fields(schema: dict[str, Any]) -> None:
    """Give each free-text field of a model's JSON schema the plain-text pattern."""
    for field in schema.get("properties", {}).values():
        for variant in [field, *field.get("anyOf", ())]:
            if variant.get("type") == "string" and "enum" not in variant:
                variant["pattern"] = PLAIN_TEXT_PATTERN


class Strict(BaseModel):
    """Base for request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_plain_text_fields)


class DemoOptions(Strict):
    """Options of the offline ``demo`` generator."""

    seed: JsonInt = Field(default=0, strict=True, ge=-(2**63), le=2**63 - 1)
    latency_ms: tuple[LatencyMs, LatencyMs] = Field(
        default=(50, 400),
        description="[min, max] milliseconds each item takes, min ≤ max",
        # The same bounds for tools that read ``items`` rather than ``prefixItems``.
        json_schema_extra={
            "items": {"type": "integer", "minimum": 0, "maximum": MAX_LATENCY_MS},
        },
    )
    fail_rate: float = Field(default=0.0, strict=True, ge=0.0, le=1.0)
    invalid_rate: float = Field(default=0.0, strict=True, ge=0.0, le=1.0)
    markup_rate: float = Field(
        default=0.0,
        strict=True,
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


class ReviewOptions(Strict):
    """The blind review of an ``openai`` batch: after an item passes the rules, a second
    request shows the model the item without its key and asks for its answer and flaws."""

    enabled: bool = Field(default=True, strict=True)
    model: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Model of the review requests; the batch's generation model when unset.",
    )


class OpenAIOptions(Strict):
    """Options of the ``openai`` generator (any OpenAI-compatible Chat Completions endpoint).

    The endpoint, key and default model are server settings, never part of a batch.
    """

    learning_objective: str | None = Field(
        default=None,
        max_length=MAX_LEARNING_OBJECTIVE,
        description="What a student who answers correctly has shown; written into the prompt.",
    )
    temperature: float = Field(default=0.7, strict=True, ge=0.0, le=2.0)
    requests_per_minute: (
        Annotated[int, NoCoercion(), Interval(ge=1, le=MAX_REQUESTS_PER_MINUTE), INTEGRAL] | None
    ) = Field(
        default=None,
        description="This batch's request-rate limit; the server's "
        "`openai_requests_per_minute` when unset.",
    )
    max_tokens: Annotated[
        int, NoCoercion(), Interval(ge=MIN_MAX_TOKENS, le=MAX_MAX_TOKENS), INTEGRAL
    ] = Field(
        default=DEFAULT_MAX_TOKENS,
        description="Most tokens the model may write per answer, sent as `max_tokens` with "
        "every request (reviews included); an answer cut off there fails as `truncated`.",
    )
    review: ReviewOptions | None = Field(
        default=None,
        description="Blind review of every item that passes the rules; off when omitted.",
    )

    @property
    def reviewing(self) -> bool:
        """True when the batch's items get a blind review."""
        return self.review is not None and self.review.enabled


class EarlyStop(Strict):
    """Pause a batch when too many of its first finished items failed.

    Judged once per batch, at the first commit that brings ``completed + failed`` to
    ``min_finished`` or more: a failure rate of ``max_failure_rate`` or higher pauses it.
    """

    enabled: bool = Field(default=True, strict=True)
    min_finished: JsonInt = Field(default=10, strict=True, ge=1, le=1000)
    max_failure_rate: float = Field(default=0.5, strict=True, ge=0.0, le=1.0)


#: Generators whose batches get the early stop when ``early_stop`` is omitted.
EARLY_STOP_BY_DEFAULT = frozenset({"openai"})


GeneratorName = Literal["demo", "openai"]
#: ``attempts``: ``count`` items are generated, passed or failed. ``valid``: ``count`` is the
#: number of items that must pass; failed ones are replaced until then or until the cap.
BatchMode = Literal["attempts", "valid"]
#: ``direct``: one Chat Completions request per item. ``provider_batch``: the requests go
#: through the provider's batch API (OpenAI's ``/v1/batches``): half the price, within 24 h.
Delivery = Literal["direct", "provider_batch"]
GeneratorOptions = DemoOptions | OpenAIOptions
#: The options model of each generator; ``generator_options`` is validated as this one.
OPTIONS_BY_GENERATOR: dict[str, type[DemoOptions] | type[OpenAIOptions]] = {
    "demo": DemoOptions,
    "openai": OpenAIOptions,
}


def _describe_cross_field_rules(schema: dict[str, Any]) -> None:
    """Say in the JSON schema what the validators below enforce across fields: the
    options are those of the named generator, and ``max_items`` needs ``mode: valid``."""
    properties = schema["properties"]
    options = properties["generator_options"]
    demo, openai = options.pop("anyOf")
    options["description"] = "The options of the batch's generator (omitted: its defaults)."
    schema["allOf"] = [
        {
            "if": {"properties": {"generator": {"const": "openai"}}, "required": ["generator"]},
            "then": {"properties": {"generator_options": openai}},
            "else": {"properties": {"generator_options": demo}},
        },
        {
            "if": {"properties": {"mode": {"const": "valid"}}, "required": ["mode"]},
            "then": {},
            "else": {"properties": {"max_items": {"type": "null"}}},
        },
    ]
    _plain_text_fields(schema)


class BatchConfig(Strict):
    """What a faculty member asks for: the body of ``POST /api/generation/batch``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_describe_cross_field_rules)

    topic: str = Field(min_length=1, max_length=MAX_TOPIC)
    item_type: ItemType = ItemType.MCQ
    count: JsonInt = Field(strict=True, ge=1, le=MAX_COUNT)
    difficulty: Difficulty = Difficulty.MEDIUM
    generator: GeneratorName = "demo"
    model: str | None = Field(default=None, max_length=200)
    concurrency: JsonInt = Field(default=4, strict=True, ge=1, le=MAX_CONCURRENCY)
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    generator_options: GeneratorOptions = Field(default_factory=DemoOptions)
    mode: BatchMode = "attempts"
    max_items: Annotated[int, NoCoercion(), Interval(ge=1), INTEGRAL] | None = Field(
        default=None,
        description="Mode `valid` only: most items the batch may create, replacements "
        f"included; `count`..min(10 × count, {MAX_ATTEMPT_ITEMS}), default "
        f"{DEFAULT_ATTEMPT_FACTOR} × count.",
    )
    early_stop: EarlyStop | None = Field(
        default=None,
        description="Pause the batch when the failure rate of its first finished items "
        "reaches a threshold; on by default for real providers (`openai`, direct delivery), "
        "off for `demo` and not available with `delivery: provider_batch`.",
    )
    delivery: Delivery = Field(
        default="direct",
        description="`openai` only: `provider_batch` sends the requests through the "
        "provider's batch API (half the price, results within 24 hours); `direct` one by one.",
    )

    @model_validator(mode="after")
    def _default_early_stop(self) -> BatchConfig:
        if self.delivery == "provider_batch":
            if self.generator != "openai":
                raise _field_error("delivery", "delivery provider_batch needs generator openai")
            if self.early_stop is not None and self.early_stop.enabled:
                raise _field_error(
                    "early_stop",
                    "early_stop is not available with delivery provider_batch: the provider "
                    "runs every request of its batch, so stopping early saves nothing",
                )
        elif self.early_stop is None and self.generator in EARLY_STOP_BY_DEFAULT:
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
    def _plain_text(cls, data: Any) -> Any:
        """Refuse text no database or page should hold: NUL and other control characters
        (tab and line breaks aside) and unpaired surrogates, wherever they are."""
        problem = bad_text(data, ())
        if problem is not None:
            where, message = problem
            raise _field_error(where, message)
        return data

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
        if options_model is DemoOptions and isinstance(raw, dict) and "review" in raw:
            problems.append(_review_unavailable(raw["review"]))
            raw = {key: value for key, value in raw.items() if key != "review"}
        if raw is None:
            data = {**data, "generator_options": options_model()}
        elif not isinstance(raw, options_model):
            if isinstance(raw, BaseModel):
                raw = raw.model_dump()  # the other generator's options: rejected field by field
            try:
                data = {**data, "generator_options": options_model.model_validate(raw)}
            except ValidationError as error:
                problems = [*problems, *_details(error, ("generator_options",))]
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


def _review_unavailable(value: object) -> InitErrorDetails:
    message = (
        "blind review needs a model: it is only available for the openai generator, "
        "and demo items are sample content with no model to review them"
    )
    return InitErrorDetails(
        type=PydanticCustomError("review_unavailable", message),
        loc=("generator_options", "review"),
        input=value,
    )


def _field_error(field: str | tuple[str | int, ...], message: str) -> ValidationError:
    """A validation error placed on ``field`` (a model validator's own errors have no place)."""
    loc = (field,) if isinstance(field, str) else field
    return ValidationError.from_exception_data(
        "BatchConfig",
        [InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=None)],
    )


def _details(error: ValidationError, under: tuple[str, ...] = ()) -> list[InitErrorDetails]:
    """The errors of ``error``, placed under the field path ``under``."""
    details: list[InitErrorDetails] = []
    for problem in error.errors():
        # The message as rendered: a built-in type such as value_error cannot be rebuilt
        # from its name alone (it needs the exception that raised it).
        details.append(
            InitErrorDetails(
                type=PydanticCustomError(problem["type"], problem["msg"]),
                loc=(*under, *problem["loc"]),
                input=problem["input"],
            )
        )
    return details
