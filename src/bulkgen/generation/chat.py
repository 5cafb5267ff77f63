"""One Chat Completions endpoint of a batch: its client, the structured output it accepts,
and the deadline of each request.

Structured output degrades gracefully. A request first asks for ``response_format``
``json_schema`` (the answer must match the schema); an endpoint that refuses that (a 400
or 422 naming the response format, as older vLLM, Ollama and llama.cpp servers answer) is
asked again at once with ``json_object`` (any JSON object, the schema written into the
prompt), and one that refuses that too with no ``response_format`` at all (the prompt
alone asks for the JSON). The first refusal of a mode moves the endpoint down for the rest
of the batch run, so later requests go straight to the mode it accepts; the fallback is
part of the attempt it happens in. :mod:`bulkgen.generation.answers` reads whatever comes
back tolerantly.

The answer's token limit is sent as ``max_tokens``; an endpoint that refuses that name (as
OpenAI's reasoning models do, asking for ``max_completion_tokens``) is asked again with the
other name, remembered the same way.

The ``openai_timeout_seconds`` setting is a deadline on each request as a whole
(connecting, sending, the response headers and the body): a server that trickles its
answer a byte at a time cannot stretch it the way it stretches a per-read timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageParam

from bulkgen.errors import TransientGenerationError
from bulkgen.generation.outcomes import (
    MAX_PROVIDER_MESSAGE,
    Scrub,
    bounded,
    chat_completion,
    format_refused,
    provider_text,
    status_error,
    timeout_error,
    token_limit_refused,
    transport_error,
)
from bulkgen.generation.ratelimit import Limiter

__all__ = ["ChatEndpoint", "OutputMode", "StructuredPrompt"]

log = logging.getLogger(__name__)

#: Longest a 429's ``Retry-After`` holds back the batch's other requests.
MAX_HOLD_OFF_SECONDS = 60.0


class OutputMode(Enum):
    """How a request asks for JSON, in the order they are tried."""

    JSON_SCHEMA = "json_schema"
    JSON_OBJECT = "json_object"
    PROMPT = "prompt"

    def after(self) -> OutputMode | None:
        """The mode to try when an endpoint refuses this one; None after the last."""
        modes = list(OutputMode)
        index = modes.index(self)
        return modes[index + 1] if index + 1 < len(modes) else None


@dataclass(frozen=True, slots=True)
class StructuredPrompt:
    """A request for one JSON answer: its schema's ``name`` and ``schema``, and its
    ``messages``, given the schema to write into the prompt (None when the request's
    ``response_format`` carries it)."""

    name: str
    schema: dict[str, object]
    messages: Callable[[dict[str, object] | None], list[ChatCompletionMessageParam]]


class _Refused(Exception):
    """The endpoint refused the request's ``response_format`` (or its ``max_tokens``)."""

    def __init__(self, said: str, *, of_limit: bool = False) -> None:
        super().__init__(said)
        self.said = said
        self.of_limit = of_limit


class ChatEndpoint:
    """Sends a batch's requests to one endpoint; remembers the output mode it accepts."""

    def __init__(
        self, client: openai.AsyncOpenAI, *, timeout: float, limiter: Limiter, scrub: Scrub
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._limiter = limiter
        self._scrub = scrub
        #: The mode the next request asks with: moves down the chain, never back up.
        self.mode = OutputMode.JSON_SCHEMA
        #: The name the endpoint takes the answer's token limit under.
        self.limit_param = "max_tokens"

    async def complete(self, prompt: StructuredPrompt, **params: Any) -> dict[str, Any]:
        """The JSON of one chat completion for ``prompt``, falling back through the output
        modes as the endpoint refuses them (see the module)."""
        while True:
            mode = self.mode
            try:
                return await self._send(mode, prompt, params)
            except _Refused as refused:
                if refused.of_limit:
                    log.warning("the endpoint refused max_tokens (%s)", refused.said)
                    self.limit_param = "max_completion_tokens"
                else:
                    self._fall_back(mode, refused.said)

    async def close(self) -> None:
        await self._client.close()

    def _fall_back(self, refused: OutputMode, said: str) -> None:
        after = refused.after()
        modes = list(OutputMode)
        if after is not None and modes.index(after) > modes.index(self.mode):
            log.warning(
                "the endpoint refused response_format %s (%s); asking with %s from now on",
                refused.value,
                said,
                after.value,
            )
            self.mode = after

    def body(
        self, mode: OutputMode, prompt: StructuredPrompt, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The JSON body of a request for ``prompt`` in output ``mode``."""
        request = dict(
            params,
            messages=prompt.messages(None if mode is OutputMode.JSON_SCHEMA else prompt.schema),
        )
        limit = request.pop("max_tokens", None)
        if limit is not None:
            request[self.limit_param] = limit
        if mode is OutputMode.JSON_SCHEMA:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": prompt.name, "strict": True, "schema": prompt.schema},
            }
        elif mode is OutputMode.JSON_OBJECT:
            request["response_format"] = {"type": "json_object"}
        return request

    async def _send(
        self, mode: OutputMode, prompt: StructuredPrompt, params: dict[str, Any]
    ) -> dict[str, Any]:
        request = self.body(mode, prompt, params)
        limit = request.get(self.limit_param)
        await self._limiter.acquire()
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self._client.chat.completions.with_raw_response.create(**request)
        except TimeoutError:
            raise timeout_error(self._timeout) from None
        except openai.APIStatusError as error:
            said = bounded(self._scrub(provider_text(error)), MAX_PROVIDER_MESSAGE)
            if (
                limit is not None
                and self.limit_param == "max_tokens"
                and token_limit_refused(error)
            ):
                raise _Refused(said, of_limit=True) from None
            if mode is not OutputMode.PROMPT and format_refused(error):
                raise _Refused(said) from None
            mapped = status_error(error, self._scrub, model=str(params.get("model")))
            if isinstance(mapped, TransientGenerationError) and mapped.retry_after:
                self._limiter.hold_off(min(mapped.retry_after, MAX_HOLD_OFF_SECONDS))
            raise mapped from None  # the SDK's error holds the request, key included
        except openai.APIError as error:
            raise transport_error(error, self._timeout) from None
        content_type = raw.headers.get("content-type", "")
        return chat_completion(raw.status_code, content_type, raw.content, self._scrub)
