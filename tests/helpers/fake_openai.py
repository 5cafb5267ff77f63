"""A real local server that speaks OpenAI's Chat Completions protocol, scripted by tests.

``POST /v1/chat/completions`` answers each request with the next scripted :class:`Reply`
(``push``), or with ``script(request, number)`` when the queue is empty; by default a valid
MCQ numbered by the request. A reply can misbehave the way real endpoints do: a fenced or
prose-wrapped answer, the item in a tool call, a refusal, a ``finish_reason`` of
``content_filter`` or ``length``, or a body that is no completion at all (an HTML page with
status 200). ``refused_formats`` makes the server refuse those ``response_format`` types
with a 400, like an older vLLM or llama.cpp server, and ``refuses_max_tokens`` the
``max_tokens`` parameter, like OpenAI's reasoning models, before any script runs. Blind review
requests (their response format is named ``item_review``, or their prompt is a
reviewer's) have their own queue (``push_review``) and script (``review_script``,
numbered among reviews); by default the reviewer agrees with the key of :func:`item`.
Every request is recorded (headers, JSON body, when it came and when it was answered), so
tests can check what the client sent. With a ``gate``,
request number ``n`` (from 1) is held until the gate lets index ``n - 1`` through: a
provider that stops answering until the test says so. It runs under uvicorn in a thread,
on a socket that listens before the server starts.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpers.gate import Gate
from helpers.server import STARTUP_SECONDS, listening_socket

USAGE = (120, 80)  # prompt and completion tokens of every successful answer
#: How a blind review's system message begins, whatever its response format.
REVIEWER_PROMPT = "You review multiple-choice exam questions"
#: What an older vLLM answers to a response format it does not know (its error shape: the
#: message at the top level, not under "error").
REFUSED_FORMAT = {
    "object": "error",
    "message": "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\"}]",
    "type": "BadRequestError",
    "code": 400,
}
#: What OpenAI answers when a reasoning model is sent ``max_tokens``.
REFUSED_MAX_TOKENS = {
    "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead.",
    "type": "invalid_request_error",
    "param": "max_tokens",
    "code": "unsupported_parameter",
}
REVIEW_USAGE = (60, 15)  # … and of every review answered by ``review``


@dataclass
class Reply:
    """One scripted answer: a completion whose message is ``content``, or an HTTP error."""

    status: int = 200
    content: str | None = None
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (longer than the client's timeout: a timeout)
    usage: tuple[int, int] = USAGE
    finish_reason: str = "stop"
    refusal: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    #: The whole body instead of a completion (or of ``{"error": …}``), sent as ``body_type``.
    body: str | None = None
    body_type: str = "application/json"


@dataclass
class Recorded:
    """One request the server received."""

    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float = 0.0  # time.monotonic() when the request arrived
    answered_at: float | None = None  # … and when its answer was ready

    @property
    def prompt(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))

    @property
    def mode(self) -> str:
        """How the request asks for JSON: its ``response_format`` type, or ``prompt``."""
        response_format = self.body.get("response_format") or {}
        return str(response_format.get("type", "prompt"))

    @property
    def is_review(self) -> bool:
        """True for a blind review request, False for a generation request."""
        response_format = self.body.get("response_format") or {}
        named = response_format.get("json_schema", {}).get("name") == "item_review"
        return named or REVIEWER_PROMPT in self.prompt


def item(number: int, **changes: Any) -> dict[str, Any]:
    """A valid MCQ (passes every item-writing rule); its stem carries ``number``, and a
    case file and ward named after it in letters, so no two numbers give stems that ask
    the same thing (a number alone would make them duplicates)."""
    tag = "".join("abcdefghij"[int(digit)] for digit in str(number))
    data: dict[str, Any] = {
        "stem": f"Question {number}: in case file k{tag}q of ward z{tag}w, which chamber of "
        "the heart pumps oxygenated blood into the aorta?",
        "options": [
            {"key": "A", "text": "The left ventricle"},
            {"key": "B", "text": "The right ventricle"},
            {"key": "C", "text": "The left atrium"},
            {"key": "D", "text": "The right atrium"},
        ],
        "answer": "A",
        "rationale": "The left ventricle receives oxygenated blood from the left atrium and "
        "ejects it into the aorta. The other chambers handle venous blood or fill a ventricle.",
    }
    data.update(changes)
    return data


def ok(number: int = 1, **changes: Any) -> Reply:
    return Reply(content=json.dumps(item(number, **changes)))


def flawed(number: int = 1) -> Reply:
    """Well-formed JSON of an item that validation fails (all of the above, short rationale)."""
    options = item(number)["options"]
    options[3] = {"key": "D", "text": "All of the above"}
    return ok(number, options=options, rationale="It is correct.")


def review(
    answer: str | None = "A", correct: list[str] | None = None, flaws: list[str] | None = None
) -> Reply:
    """A reviewer's answer: its best answer (the key of :func:`item` by default), the options
    it judges correct (just its answer by default) and the flaws it names."""
    data = {
        "correct": [answer] if correct is None else correct,
        "answer": answer,
        "flaws": flaws or [],
    }
    return Reply(content=json.dumps(data), usage=REVIEW_USAGE)


def malformed(text: str = '{"stem": "Which chamber pumps blood into the aorta?", "opt') -> Reply:
    return Reply(content=text)


def rate_limited(retry_after: str | None = "1") -> Reply:
    headers = {} if retry_after is None else {"retry-after": retry_after}
    return Reply(
        status=429,
        headers=headers,
        error={"message": "Rate limit reached for requests", "type": "requests", "code": None},
    )


def server_error(status: int = 500) -> Reply:
    return Reply(
        status=status,
        error={
            "message": "The server had an error while processing your request.",
            "type": "server_error",
            "code": None,
        },
    )


def fenced(number: int = 1) -> Reply:
    """A valid item in a Markdown code fence, after a sentence of prose."""
    return Reply(content=f"Here is the question:\n```json\n{json.dumps(item(number))}\n```")


def with_prose(number: int = 1) -> Reply:
    """A valid item with prose before and after it, and braces in the prose."""
    text = json.dumps(item(number), indent=2)
    return Reply(content=f"Sure {{as asked}}! The item:\n{text}\nHope this helps {{:}}")


def tool_call(number: int = 1) -> Reply:
    """A valid item as a function call's arguments, with no content."""
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "mcq_item", "arguments": json.dumps(item(number))},
    }
    return Reply(content=None, tool_calls=[call])


def filtered() -> Reply:
    """The provider's content filter stopped the answer: no content."""
    return Reply(content=None, finish_reason="content_filter")


def cut_off(number: int = 1) -> Reply:
    """An answer that hit ``max_tokens`` halfway through the item."""
    return Reply(content=json.dumps(item(number))[:120], finish_reason="length")


def refused(text: str = "I'm sorry, but I can't help with that request.") -> Reply:
    return Reply(content=None, refusal=text)


def html_page(title: str = "Sign in - Campus Proxy") -> Reply:
    """What a proxy's sign-in page looks like to an API client: HTML with status 200."""
    page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body>Sign in</body></html>"
    return Reply(body=page, body_type="text/html; charset=utf-8")


def slow(seconds: float, number: int = 1) -> Reply:
    """A valid answer that arrives after ``seconds``."""
    reply = ok(number)
    reply.delay = seconds
    return reply


class FakeOpenAI:
    """The server; ``with FakeOpenAI() as fake: … fake.url + "/v1" …``."""

    def __init__(
        self, script: Callable[[Recorded, int], Reply] | None = None, *, gate: Gate | None = None
    ) -> None:
        self.script = script or (lambda _request, number: ok(number))
        self.review_script: Callable[[Recorded, int], Reply] = lambda _request, _number: review()
        self.gate = gate
        self.queue: deque[Reply] = deque()
        self.review_queue: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        #: ``response_format`` types answered with a 400 (``json_schema``, ``json_object``).
        self.refused_formats: set[str] = set()
        #: Answer a request that sets ``max_tokens`` with a 400, as OpenAI's reasoning models do.
        self.refuses_max_tokens = False
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._complete, methods=["POST"]),
                Route("/health", lambda _request: Response("ok")),
            ]
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._socket = listening_socket("127.0.0.1")
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self.queue.extend(replies)

    def push_review(self, *replies: Reply) -> None:
        """Answer the next review requests with ``replies``."""
        with self._lock:
            self.review_queue.extend(replies)

    @property
    def generation_requests(self) -> list[Recorded]:
        return [r for r in self.requests if not r.is_review]

    @property
    def review_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.is_review]

    def modes(self, *, review: bool = False) -> list[str]:
        """The output mode of each generation (or review) request, in order."""
        return [r.mode for r in self.requests if r.is_review == review]

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        # The socket already listens: this answer means the server is up.
        httpx.get(f"{self.url}/health", timeout=STARTUP_SECONDS).raise_for_status()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.gate is not None:
            self.gate.open()
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_SECONDS)
        self._socket.close()

    async def _complete(self, request: Request) -> Response:
        arrived = time.monotonic()
        body = await request.json()
        recorded = Recorded(dict(request.headers), body, received_at=arrived)
        reviewing = recorded.is_review
        with self._lock:
            self.requests.append(recorded)
            number = len(self.requests)
            if recorded.mode in self.refused_formats:
                return JSONResponse(REFUSED_FORMAT, 400)
            if self.refuses_max_tokens and "max_tokens" in body:
                return JSONResponse({"error": REFUSED_MAX_TOKENS}, 400)
            queue = self.review_queue if reviewing else self.queue
            reply = queue.popleft() if queue else None
            reviews = sum(r.is_review for r in self.requests)
        if reply is None and reviewing:
            reply = self.review_script(recorded, reviews)
        elif reply is None:
            reply = self.script(recorded, number)
        # Stop waiting once the client gave up, so shutdown is not held up.
        if self.gate is not None and await _unless_disconnected(
            request, self.gate.passage(number - 1)
        ):
            return Response(status_code=499)
        if reply.delay and await _unless_disconnected(request, asyncio.sleep(reply.delay)):
            return Response(status_code=499)
        recorded.answered_at = time.monotonic()
        if reply.body is not None:
            return Response(reply.body, reply.status, reply.headers, media_type=reply.body_type)
        if reply.status != 200:
            return JSONResponse({"error": reply.error}, reply.status, headers=reply.headers)
        prompt, completion = reply.usage
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.refusal is not None:
            message["refusal"] = reply.refusal
        if reply.tool_calls is not None:
            message["tool_calls"] = reply.tool_calls
        return JSONResponse(
            {
                "id": f"chatcmpl-{number}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            },
            headers=reply.headers,
        )


async def _unless_disconnected(request: Request, waiting: Awaitable[None]) -> bool:
    """Await ``waiting`` unless the client disconnects first; True when it did."""
    finished = asyncio.ensure_future(waiting)
    gone = asyncio.ensure_future(_disconnect(request))
    done, _pending = await asyncio.wait({finished, gone}, return_when=asyncio.FIRST_COMPLETED)
    for task in (finished, gone):
        task.cancel()
    return gone in done and finished not in done


async def _disconnect(request: Request) -> None:
    """Return when the client closes the connection (the body has been read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
