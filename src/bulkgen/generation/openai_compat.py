"""The ``openai`` generator: any endpoint that speaks OpenAI's Chat Completions protocol.

OpenAI itself, Azure OpenAI, vLLM, Ollama, llama.cpp's server and LM Studio all do. The
request asks for structured output (a JSON schema of one MCQ, see
:mod:`bulkgen.generation.prompts`); the answer is parsed into a
:class:`~bulkgen.models.GeneratedItem` carrying the request's token usage, and validation
then judges it like any other item.

The SDK's own retries are off: the pipeline retries transient errors with its backoff and
jitter, waiting at least what a ``Retry-After`` header asks. Errors map to kinds:

    APITimeoutError                     timeout           transient
    RateLimitError (429)                rate_limited      transient, with retry_after
    5xx, APIConnectionError             provider_error    transient
    401, 403                            auth_error        permanent
    other 4xx                           bad_request       permanent
    not JSON, not the item's schema     malformed_output  permanent (raw text kept, bounded)
    a refusal                           refused           permanent

With ``generator_options.review`` the generator also reviews the items that pass the rules
(:meth:`OpenAIGenerator.review`, :mod:`bulkgen.generation.review`): one more request under
the batch's rate limit, to the same endpoint or to ``openai_review_base_url``.

The API key is only ever handed to the SDK client; every message that leaves this module
has it scrubbed, and auth errors do not repeat the provider's text at all.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import openai
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, SecretStr, ValidationError

from bulkgen.errors import GenerationError, PermanentGenerationError, TransientGenerationError
from bulkgen.generation.base import GenerationRequest
from bulkgen.generation.prompts import (
    ITEM_RESPONSE_FORMAT,
    ITEM_SCHEMA,
    build_messages,
    build_review_messages,
    review_response_format,
)
from bulkgen.generation.ratelimit import Limiter, RateLimiter
from bulkgen.generation.review import ReviewAnswer, to_review
from bulkgen.models import GeneratedItem, ItemReview, OpenAIOptions, Option, TokenUsage

__all__ = ["ITEM_SCHEMA", "MAX_RAW_TEXT", "OpenAIGenerator", "build_messages", "retry_after"]

#: Most characters of a malformed answer kept in the item's error message.
MAX_RAW_TEXT = 2_000
#: Most characters of a provider's error message kept in the item's error message.
MAX_PROVIDER_MESSAGE = 500
#: Longest a 429's ``Retry-After`` holds back the batch's other requests.
MAX_HOLD_OFF_SECONDS = 60.0


class _Answer(BaseModel):
    """What the schema asks for. Counts and keys are checked by validation, not here."""

    stem: str
    options: list[Option]
    answer: str
    rationale: str


class OpenAIGenerator:
    """Generates items with an OpenAI-compatible model; one instance serves one batch.

    The instance owns the batch's HTTP client and its request-rate limit; ``aclose``
    releases the client when the batch's run ends.
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
        self._timeout = timeout_seconds
        self._secret = api_key.get_secret_value() if api_key is not None else None
        self._client = (
            None
            if self._secret is None
            else openai.AsyncOpenAI(
                base_url=base_url,
                api_key=self._secret,
                timeout=timeout_seconds,
                max_retries=0,  # the pipeline retries, with backoff that honours Retry-After
            )
        )
        self.limiter: Limiter = RateLimiter(options.requests_per_minute or requests_per_minute)
        #: True when the batch asked for a blind review of the items that pass the rules.
        self.reviewing = options.reviewing
        self._review_model = options.review.model if options.review is not None else None
        review_secret = review_api_key.get_secret_value() if review_api_key is not None else None
        self._review_secret = review_secret if review_secret != self._secret else None
        self._review_client = self._client
        if self.reviewing and (review_base_url is not None or review_secret is not None):
            key = review_secret or self._secret
            self._review_client = (
                None
                if key is None
                else openai.AsyncOpenAI(
                    base_url=review_base_url or base_url,
                    api_key=key,
                    timeout=timeout_seconds,
                    max_retries=0,
                )
            )

    async def generate(self, request: GenerationRequest) -> GeneratedItem:
        """One item from the model, or the generation error its answer amounts to."""
        if self._client is None:
            raise PermanentGenerationError(
                "auth_error", "no API key is configured (BULKGEN_OPENAI_API_KEY or OPENAI_API_KEY)"
            )
        completion = await self._complete(
            self._client,
            model=request.model or self._model,
            messages=build_messages(request, self._options.learning_objective),
            temperature=self._options.temperature,
            response_format=ITEM_RESPONSE_FORMAT,
        )
        return self._parsed(completion)

    async def review(self, item: GeneratedItem, request: GenerationRequest) -> ItemReview:
        """The blind review of an item that passed the rules (see :mod:`.review`): the model
        answers it without its key. Errors are those of :meth:`generate`."""
        if self._review_client is None:
            raise PermanentGenerationError(
                "auth_error", "no API key is configured for the review endpoint"
            )
        model = self._review_model or request.model or self._model
        completion = await self._complete(
            self._review_client,
            model=model,
            messages=build_review_messages(item),
            temperature=0.0,  # a judgement, not a draft: the same item gets the same verdict
            response_format=review_response_format([option.key for option in item.options]),
        )
        answer = self._answer_text(completion)
        try:
            return to_review(
                ReviewAnswer.model_validate_json(answer),
                item,
                model=model,
                usage=_usage(completion),
            )
        except (ValidationError, ValueError) as error:
            raw = _bounded(self._scrub(answer), MAX_RAW_TEXT)
            reason = "not the review's schema" if isinstance(error, ValidationError) else error
            raise PermanentGenerationError(
                "malformed_output", f"the review is unusable ({reason}); raw answer: {raw}"
            ) from None

    async def _complete(
        self, client: openai.AsyncOpenAI, *, response_format: Any, **request: Any
    ) -> ChatCompletion:
        """One Chat Completions request under the batch's rate limit (reviews included)."""
        await self.limiter.acquire()
        try:
            completion: ChatCompletion = await client.chat.completions.create(
                response_format=response_format, **request
            )
        except openai.APIError as error:
            mapped = self._mapped(error)
            if isinstance(mapped, TransientGenerationError) and mapped.retry_after:
                self.limiter.hold_off(min(mapped.retry_after, MAX_HOLD_OFF_SECONDS))
            raise mapped from None  # the SDK's error holds the request, key included
        return completion

    async def aclose(self) -> None:
        """Close the HTTP clients (their pooled connections)."""
        if self._review_client is not None and self._review_client is not self._client:
            await self._review_client.close()
        if self._client is not None:
            await self._client.close()

    def _scrub(self, text: str) -> str:
        for secret in (self._secret, self._review_secret):
            if secret:
                text = text.replace(secret, "[api key]")
        return text

    def _provider_message(self, error: openai.APIError) -> str:
        body = error.body
        message: object = error.message
        if isinstance(body, dict):
            detail = body.get("error", body)
            if isinstance(detail, dict) and isinstance(detail.get("message"), str):
                message = detail["message"]
            elif isinstance(detail, str):
                message = detail
        return _bounded(self._scrub(str(message)), MAX_PROVIDER_MESSAGE)

    def _mapped(self, error: openai.APIError) -> GenerationError:
        if isinstance(error, openai.APITimeoutError):
            return TransientGenerationError(
                "timeout", f"the provider did not answer within {self._timeout:g} s"
            )
        if isinstance(error, openai.APIConnectionError):
            cause = type(error.__cause__).__name__ if error.__cause__ else "connection error"
            return TransientGenerationError(
                "provider_error", f"could not reach the provider ({cause})"
            )
        if isinstance(error, openai.APIResponseValidationError):
            return PermanentGenerationError(
                "malformed_output", f"the provider's answer is not a chat completion: {error}"
            )
        if not isinstance(error, openai.APIStatusError):
            return PermanentGenerationError("provider_error", self._provider_message(error))
        status = error.status_code
        if status == 429:
            wait = retry_after(error.response.headers)
            later = f"; retry after {wait:g} s" if wait is not None else ""
            return TransientGenerationError(
                "rate_limited",
                f"429 Too Many Requests: {self._provider_message(error)}{later}",
                retry_after=wait,
            )
        if status in (401, 403):
            # Not the provider's text: some echo part of the key they refused.
            what = "refused the API key" if status == 401 else "does not allow this request"
            return PermanentGenerationError(
                "auth_error",
                f"{status}: the provider {what} (check BULKGEN_OPENAI_API_KEY or OPENAI_API_KEY "
                "and the model's access)",
            )
        if status >= 500:
            return TransientGenerationError(
                "provider_error", f"{status} from the provider: {self._provider_message(error)}"
            )
        return PermanentGenerationError(
            "bad_request", f"{status} from the provider: {self._provider_message(error)}"
        )

    def _answer_text(self, completion: ChatCompletion) -> str:
        """The text of the first choice; a refusal or an empty answer is an error."""
        if not completion.choices:
            raise PermanentGenerationError("malformed_output", "the answer has no choices")
        choice = completion.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            raise PermanentGenerationError(
                "refused", f"the model refused: {_bounded(self._scrub(refusal), MAX_RAW_TEXT)}"
            )
        text = choice.message.content or ""
        if not text.strip():
            raise PermanentGenerationError("malformed_output", f"the answer is empty{_cut(choice)}")
        return text

    def _parsed(self, completion: ChatCompletion) -> GeneratedItem:
        text = self._answer_text(completion)
        cut = _cut(completion.choices[0])
        raw = _bounded(self._scrub(text), MAX_RAW_TEXT)
        try:
            answer = _Answer.model_validate_json(text)
        except ValidationError as error:
            problems = error.errors(include_url=False)
            if problems and problems[0]["type"] == "json_invalid":
                reason = f"not valid JSON ({problems[0]['msg']}){cut}"
            else:
                fields = "; ".join(
                    f"{'.'.join(map(str, p['loc'])) or 'answer'}: {p['msg']}" for p in problems[:5]
                )
                reason = f"not the item's schema ({fields})"
            raise PermanentGenerationError(
                "malformed_output", f"the answer is {reason}; raw answer: {raw}"
            ) from None
        return GeneratedItem(
            stem=answer.stem,
            options=answer.options,
            answer=answer.answer,
            rationale=answer.rationale,
            usage=_usage(completion),
        )


def _usage(completion: ChatCompletion) -> TokenUsage | None:
    usage = completion.usage
    if usage is None:
        return None
    return TokenUsage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )


def _cut(choice: Any) -> str:
    return " (cut off at the token limit)" if choice.finish_reason == "length" else ""


def retry_after(headers: Any) -> float | None:
    """Seconds a 429's headers ask to wait: ``retry-after-ms``, or ``Retry-After`` given as
    seconds or as an HTTP date; None when absent or unreadable."""
    milliseconds = _finite(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return max(0.0, milliseconds / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    seconds = _finite(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _finite(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"
