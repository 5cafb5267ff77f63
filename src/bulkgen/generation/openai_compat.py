"""The ``openai`` generator: any endpoint that speaks OpenAI's Chat Completions protocol.

OpenAI itself, Azure OpenAI, vLLM, Ollama, llama.cpp's server and LM Studio all do. The
request asks for structured output (a JSON schema of one MCQ, see
:mod:`bulkgen.generation.prompts`), falling back to a plain JSON object or to the prompt
alone on an endpoint that refuses it (:mod:`bulkgen.generation.chat`). The answer is read
tolerantly (:mod:`bulkgen.generation.answers`) into a
:class:`~bulkgen.models.GeneratedItem` carrying the request's token usage, and validation
then judges it like any other item. Every other outcome is a generation error of a named
kind (:mod:`bulkgen.generation.outcomes`).

The SDK's own retries are off: the pipeline retries transient errors with its backoff and
jitter, waiting at least what a ``Retry-After`` header asks.

With ``generator_options.review`` the generator also reviews the items that pass the rules
(:meth:`OpenAIGenerator.review`, :mod:`bulkgen.generation.review`): one more request under
the batch's rate limit, to the same endpoint or to ``openai_review_base_url``.

The API key is only ever handed to the SDK client; every message that leaves this module
has it scrubbed, and auth errors do not repeat the provider's text at all.
"""

from __future__ import annotations

from typing import Any, TypeVar

import openai
from pydantic import BaseModel, SecretStr

from bulkgen.errors import PermanentGenerationError
from bulkgen.generation.answers import Unreadable, read_answer
from bulkgen.generation.base import GenerationRequest
from bulkgen.generation.chat import ChatEndpoint, OutputMode, StructuredPrompt
from bulkgen.generation.outcomes import (
    MAX_RAW_TEXT,
    Answer,
    answer_of,
    retry_after,
    unreadable_error,
    usage_of,
)
from bulkgen.generation.prompts import (
    ITEM_SCHEMA,
    build_messages,
    build_review_messages,
    review_schema,
)
from bulkgen.generation.ratelimit import Limiter, RateLimiter
from bulkgen.generation.review import ReviewAnswer, to_review
from bulkgen.models import GeneratedItem, ItemReview, OpenAIOptions, Option

Shape = TypeVar("Shape", bound=BaseModel)

__all__ = ["ITEM_SCHEMA", "MAX_RAW_TEXT", "OpenAIGenerator", "build_messages", "retry_after"]


class _Answer(BaseModel):
    """What the schema asks for. Counts and keys are checked by validation, not here."""

    stem: str
    options: list[Option]
    answer: str
    rationale: str


class OpenAIGenerator:
    """Generates items with an OpenAI-compatible model; one instance serves one batch.

    The instance owns the batch's HTTP clients, the output mode each endpoint accepts and
    the batch's request-rate limit; ``aclose`` releases the clients when the run ends.
    """

    name = "openai"

    def __init__(
        self,
        options: OpenAIOptions,
        *,
        base_url: str,
        api_key: SecretStr | None,
        model: str,
        timeout_seconds: float,
        requests_per_minute: int,
        review_base_url: str | None = None,
        review_api_key: SecretStr | None = None,
    ) -> None:
        self._options = options
        self._model = model
        self._secret = api_key.get_secret_value() if api_key is not None else None
        self.limiter: Limiter = RateLimiter(options.requests_per_minute or requests_per_minute)
        self._timeout = timeout_seconds
        self._endpoint = None if self._secret is None else self._connect(base_url, self._secret)
        #: True when the batch asked for a blind review of the items that pass the rules.
        self.reviewing = options.reviewing
        self._review_model = options.review.model if options.review is not None else None
        review_secret = review_api_key.get_secret_value() if review_api_key is not None else None
        self._review_secret = review_secret if review_secret != self._secret else None
        self._review_endpoint = self._endpoint
        if self.reviewing and (review_base_url is not None or review_secret is not None):
            key = review_secret or self._secret
            self._review_endpoint = (
                None if key is None else self._connect(review_base_url or base_url, key)
            )

    def _connect(self, base_url: str, key: str) -> ChatEndpoint:
        client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=key,
            timeout=self._timeout,
            max_retries=0,  # the pipeline retries, with backoff that honours Retry-After
        )
        return ChatEndpoint(client, timeout=self._timeout, limiter=self.limiter, scrub=self._scrub)

    @property
    def output_mode(self) -> str:
        """The structured-output mode the generation endpoint accepts, as learned so far."""
        return "json_schema" if self._endpoint is None else self._endpoint.mode.value

    async def generate(self, request: GenerationRequest) -> GeneratedItem:
        """One item from the model, or the generation error its answer amounts to."""
        if self._endpoint is None:
            raise PermanentGenerationError(
                "auth_error", "no API key is configured (BULKGEN_OPENAI_API_KEY or OPENAI_API_KEY)"
            )
        completion = await self._endpoint.complete(self._prompt(request), **self._params(request))
        return self.item_of(completion)

    def _prompt(self, request: GenerationRequest) -> StructuredPrompt:
        objective = self._options.learning_objective
        return StructuredPrompt(
            "mcq_item", ITEM_SCHEMA, lambda schema: build_messages(request, objective, schema)
        )

    def _params(self, request: GenerationRequest) -> dict[str, Any]:
        return {
            "model": request.model or self._model,
            "temperature": self._options.temperature,
            "max_tokens": self._options.max_tokens,
        }

    def request_body(self, request: GenerationRequest) -> dict[str, Any]:
        """The Chat Completions body of ``request`` as a line of a provider batch asks it:
        structured output by JSON schema (the batch API takes no fallback)."""
        if self._endpoint is None:
            raise PermanentGenerationError("auth_error", "no API key is configured")
        return self._endpoint.body(
            OutputMode.JSON_SCHEMA, self._prompt(request), self._params(request)
        )

    def item_of(self, completion: dict[str, Any]) -> GeneratedItem:
        """The item a chat completion's JSON holds, or the generation error it amounts to."""
        read, _answer = self._read(completion, _Answer, "item")
        return GeneratedItem(
            stem=read.stem,
            options=read.options,
            answer=read.answer,
            rationale=read.rationale,
            usage=usage_of(completion),
        )

    async def review(self, item: GeneratedItem, request: GenerationRequest) -> ItemReview:
        """The blind review of an item that passed the rules (see :mod:`.review`): the model
        answers it without its key. Errors are those of :meth:`generate`."""
        if self._review_endpoint is None:
            raise PermanentGenerationError(
                "auth_error", "no API key is configured for the review endpoint"
            )
        model = self._review_model or request.model or self._model
        completion = await self._review_endpoint.complete(
            StructuredPrompt(
                "item_review",
                review_schema([option.key for option in item.options]),
                lambda schema: build_review_messages(item, schema),
            ),
            model=model,
            temperature=0.0,  # a judgement, not a draft: the same item gets the same verdict
            max_tokens=self._options.max_tokens,
        )
        read, answer = self._read(completion, ReviewAnswer, "review")
        try:
            return to_review(read, item, model=model, usage=usage_of(completion))
        except ValueError as error:
            raise unreadable_error(
                f"unusable ({error})",
                answer,
                what="review",
                max_tokens=self._options.max_tokens,
                scrub=self._scrub,
            ) from None

    def _read(
        self, completion: dict[str, Any], shape: type[Shape], what: str
    ) -> tuple[Shape, Answer]:
        """A completion's answer read as ``shape``, and its text; the generation error an
        unreadable answer amounts to."""
        answer = answer_of(completion, self._scrub)
        read = read_answer(answer.texts, shape, what)
        if isinstance(read, Unreadable):
            raise unreadable_error(
                read.reason,
                answer,
                what=what,
                max_tokens=self._options.max_tokens,
                scrub=self._scrub,
            )
        return read, answer

    async def aclose(self) -> None:
        """Close the HTTP clients (their pooled connections)."""
        if self._review_endpoint is not None and self._review_endpoint is not self._endpoint:
            await self._review_endpoint.close()
        if self._endpoint is not None:
            await self._endpoint.close()

    def scrub(self, text: str) -> str:
        """``text`` without the API keys."""
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        for secret in (self._secret, self._review_secret):
            if secret:
                text = text.replace(secret, "[api key]")
        return text
