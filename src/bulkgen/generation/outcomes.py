"""What a Chat Completions endpoint's answer amounts to: the texts of an answer, or the
generation error it names, with a message a faculty member can act on.

    outcome                                               kind              retried
    the whole request outlasts the deadline, or a 408     timeout           yes
    429                                                   rate_limited      yes (Retry-After)
    5xx, a connection that fails or breaks                provider_error    yes
    200 with an HTML page, a non-JSON body, JSON without
    choices or with an error object                       provider_error    no
    401, 403                                              auth_error        no
    404, or a 4xx naming an unknown model                 not_found         no
    finish_reason content_filter, a 4xx code content_filter content_filtered no
    the message's refusal                                 refused           no
    finish_reason length before the item is complete      truncated         no
    no JSON of the item's schema in the answer            malformed_output  no
    another 4xx                                           bad_request       no

An answer cut off at ``max_tokens`` that still holds a complete, valid item is that item.
A truncated answer is not retried: the same limit cuts the same item again, so the message
says to raise ``generator_options.max_tokens``. Provider texts are bounded and scrubbed of
the API key; auth errors do not repeat them at all (some echo the key they refused), and no
message carries the text of an exception raised inside bulkgen or the SDK.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import openai

from bulkgen.errors import GenerationError, PermanentGenerationError, TransientGenerationError
from bulkgen.models import TokenUsage

__all__ = [
    "MAX_RAW_TEXT",
    "Answer",
    "Scrub",
    "answer_of",
    "batch_line_error",
    "bounded",
    "chat_completion",
    "format_refused",
    "provider_text",
    "retry_after",
    "status_error",
    "timeout_error",
    "token_limit_refused",
    "transport_error",
    "unreadable_error",
    "usage_of",
]

#: Most characters of a malformed answer kept in the item's error message.
MAX_RAW_TEXT = 2_000
#: Most characters of a provider's error message kept in the item's error message.
MAX_PROVIDER_MESSAGE = 500
#: Most characters of a body that is not a chat completion quoted in the message.
MAX_PREVIEW = 200

Scrub = Callable[[str], str]

_UNKNOWN_MODEL = re.compile(
    r"\bmodel\b.{0,200}\b(not found|does not exist|unknown|no such|not available)"
    r"|\b(unknown|invalid) model\b",
    re.IGNORECASE | re.DOTALL,
)
#: A 4xx that names the structured-output request is the endpoint refusing that mode.
_FORMAT = re.compile(r"response.?format|json.?schema|json.?object|structured|schema", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Answer:
    """The texts an answer carries (message content, then tool-call arguments) and why the
    model stopped."""

    texts: list[str]
    finish_reason: str | None


def timeout_error(seconds: float) -> TransientGenerationError:
    return TransientGenerationError(
        "timeout",
        f"the provider did not answer within {seconds:g} s (the whole request: connecting, "
        "headers and body); it is retried, and openai_timeout_seconds can be raised for a "
        "slow model",
    )


def transport_error(error: openai.APIError, seconds: float) -> GenerationError:
    """The error of a request that got no HTTP answer."""
    if isinstance(error, openai.APITimeoutError):
        return timeout_error(seconds)
    if isinstance(error, openai.APIConnectionError):
        return TransientGenerationError(
            "provider_error",
            "could not reach the provider: the connection failed or closed before the answer "
            "was complete (check openai_base_url and that the server is up)",
        )
    return PermanentGenerationError(
        "provider_error", "the endpoint's answer could not be read as a chat completion"
    )


def format_refused(error: openai.APIStatusError) -> bool:
    """True when a 400/422 refuses the request's ``response_format``."""
    if error.status_code not in (400, 422):
        return False
    if error.param == "response_format":
        return True
    return bool(_FORMAT.search(provider_text(error)))


def token_limit_refused(error: openai.APIStatusError) -> bool:
    """True when a 400 refuses ``max_tokens`` and asks for ``max_completion_tokens``."""
    if error.status_code not in (400, 422):
        return False
    return error.param == "max_tokens" or "max_completion_tokens" in provider_text(error)


def status_error(error: openai.APIStatusError, scrub: Scrub, *, model: str) -> GenerationError:
    """The error of an HTTP answer other than 2xx."""
    return answer_status_error(
        error.status_code,
        str(error.code or ""),
        provider_text(error),
        scrub,
        model=model,
        wait=retry_after(error.response.headers),
    )


def batch_line_error(status: int, body: object, scrub: Scrub, *, model: str) -> GenerationError:
    """The error of a provider batch's answer other than 200 (``body``: its JSON)."""
    detail = body.get("error", body) if isinstance(body, dict) else body
    said = detail.get("message") if isinstance(detail, dict) else None
    code = detail.get("code") if isinstance(detail, dict) else None
    text = str(said) if said else f"status {status}"
    return answer_status_error(status, str(code or ""), text, scrub, model=model)


def answer_status_error(
    status: int, code: str, said: str, scrub: Scrub, *, model: str, wait: float | None = None
) -> GenerationError:
    """The error of an answer with HTTP ``status``, error ``code`` and message ``said``."""
    message = bounded(scrub(said), MAX_PROVIDER_MESSAGE)
    if status == 429:
        later = f"; retry after {wait:g} s" if wait is not None else ""
        return TransientGenerationError(
            "rate_limited", f"429 Too Many Requests: {message}{later}", retry_after=wait
        )
    if status in (401, 403):
        # Not the provider's text: some echo part of the key they refused.
        what = "refused the API key" if status == 401 else "does not allow this request"
        return PermanentGenerationError(
            "auth_error",
            f"{status}: the provider {what} (check BULKGEN_OPENAI_API_KEY or OPENAI_API_KEY "
            "and the model's access)",
        )
    if (
        status == 404
        or code == "model_not_found"
        or (status < 500 and _UNKNOWN_MODEL.search(message))
    ):
        return PermanentGenerationError(
            "not_found",
            f'{status} from the provider: {message.rstrip(".")}. The model "{model}" or the '
            "endpoint's address is unknown there: check the batch's model (or the "
            "openai_model setting) and openai_base_url, which usually ends in /v1",
        )
    if code == "content_filter":
        return PermanentGenerationError(
            "content_filtered",
            f"the provider's content filter blocked the request ({status}: {message}); "
            "rephrase the topic or learning objective",
        )
    if status == 408:
        return TransientGenerationError(
            "timeout", "408: the provider timed out the request; it is retried"
        )
    if status >= 500:
        return TransientGenerationError("provider_error", f"{status} from the provider: {message}")
    return PermanentGenerationError("bad_request", f"{status} from the provider: {message}")


def chat_completion(status: int, content_type: str, body: bytes, scrub: Scrub) -> dict[str, Any]:
    """The JSON of a 2xx answer, or the ``provider_error`` of a body that is no completion."""
    text = body.decode("utf-8", errors="replace")
    if "html" in content_type.lower() or text.lstrip()[:15].lower().startswith(
        ("<!doctype", "<html")
    ):
        found = _TITLE.search(text)
        title = f' titled "{_preview(scrub(found.group(1)))}"' if found else ""
        raise PermanentGenerationError(
            "provider_error",
            f"the endpoint answered with an HTML page{title} (status {status}), not a chat "
            "completion: openai_base_url probably points at a web page, such as a proxy's "
            "sign-in page or a server's home page, rather than the API (which usually ends "
            "in /v1)",
        )
    try:
        data = json.loads(text)
    except ValueError:
        kind = content_type or "no content type"
        raise PermanentGenerationError(
            "provider_error",
            f"the endpoint's answer (status {status}, {kind}) is not JSON, so not a chat "
            f"completion; check openai_base_url. It begins: {_preview(scrub(text))}",
        ) from None
    if isinstance(data, dict) and isinstance(data.get("choices"), list) and data["choices"]:
        return data
    detail = data.get("error") if isinstance(data, dict) else None
    if detail:
        said = detail.get("message", detail) if isinstance(detail, dict) else detail
        raise PermanentGenerationError(
            "provider_error",
            f"the endpoint answered status {status} with an error instead of a completion: "
            f"{bounded(scrub(str(said)), MAX_PROVIDER_MESSAGE)}",
        )
    raise PermanentGenerationError(
        "provider_error",
        "the endpoint answered with JSON that is not a chat completion (it has no choices); "
        f"check openai_base_url. It begins: {_preview(scrub(text))}",
    )


def answer_of(completion: dict[str, Any], scrub: Scrub) -> Answer:
    """The texts of a completion's first choice; its refusal or content filter as errors."""
    choice = completion["choices"][0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise PermanentGenerationError(
            "provider_error",
            "the endpoint answered with JSON that is not a chat completion (its choice has no "
            "message); check openai_base_url",
        )
    finish = choice.get("finish_reason")
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal.strip():
        said = bounded(scrub(refusal.strip()), MAX_RAW_TEXT)
        raise PermanentGenerationError(
            "refused",
            f'the model declined to write it: "{said}"; rephrase the topic or learning '
            "objective, or choose another model",
        )
    if finish == "content_filter":
        raise PermanentGenerationError(
            "content_filtered",
            "the provider's content filter blocked the answer (finish_reason content_filter); "
            "rephrase the topic or learning objective if it could read as harmful, or ask "
            "whoever runs the endpoint about its filter",
        )
    texts = [_content_text(message.get("content"))]
    calls = message.get("tool_calls")
    for call in [*(calls if isinstance(calls, list) else []), message.get("function_call")]:
        function = call.get("function", call) if isinstance(call, dict) else None
        arguments = function.get("arguments") if isinstance(function, dict) else None
        if isinstance(arguments, str):
            texts.append(arguments)
        elif isinstance(arguments, dict):
            texts.append(json.dumps(arguments))
    return Answer(texts=texts, finish_reason=finish if isinstance(finish, str) else None)


def unreadable_error(
    reason: str, answer: Answer, *, what: str, max_tokens: int, scrub: Scrub
) -> PermanentGenerationError:
    """The error of an answer with no usable JSON in it: cut off, empty or malformed."""
    written = next((text for text in answer.texts if text.strip()), "")
    raw = bounded(scrub(written), MAX_RAW_TEXT)
    if answer.finish_reason == "length":
        return PermanentGenerationError(
            "truncated",
            f"the answer was cut off at the token limit (max_tokens {max_tokens}) before the "
            f"{what} was complete; raise generator_options.max_tokens (a model that reasons "
            f"before it answers needs more){f'; raw answer: {raw}' if raw else ''}",
        )
    if not written:
        return PermanentGenerationError(
            "malformed_output",
            f"the answer is empty (finish_reason {answer.finish_reason or 'none'})",
        )
    return PermanentGenerationError(
        "malformed_output", f"the answer is {reason}; raw answer: {raw}"
    )


def usage_of(completion: dict[str, Any]) -> TokenUsage | None:
    """The request's token usage, when the endpoint reported it."""
    usage = completion.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt, written = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
    if prompt is None or written is None:
        return None
    total = _count(usage.get("total_tokens"))
    return TokenUsage(
        prompt_tokens=prompt,
        completion_tokens=written,
        total_tokens=prompt + written if total is None else total,
    )


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


def bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def provider_text(error: openai.APIStatusError) -> str:
    """What the provider said: its error's message, else its body, else the status line."""
    body = error.body
    detail = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
        return str(detail["message"])
    if isinstance(detail, str) and detail.strip():
        if detail.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
            return "an HTML page, not the API's JSON"
        return detail
    return str(error.message)


def _content_text(content: object) -> str:
    """A message's content: a string, or the text of its parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text") for part in content if isinstance(part, dict)]
        return "".join(part for part in parts if isinstance(part, str))
    return ""


def _preview(text: str) -> str:
    return bounded(" ".join(text.split()), MAX_PREVIEW)


def _count(value: object) -> int | None:
    """A token count the endpoint reported, or None when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _finite(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
