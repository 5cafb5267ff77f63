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

It also speaks OpenAI's Batch API: ``POST /v1/files`` (purpose ``batch``, a JSONL of chat
completion requests), ``POST /v1/batches``, ``GET /v1/batches/{id}``, ``POST
/v1/batches/{id}/cancel`` and ``GET /v1/files/{id}/content``. A provider batch goes
``validating`` → ``in_progress`` → ``finalizing`` → ``completed`` (or ``expired``,
``cancelled``), answering its requests one by one in a task of the server with the same
script, queue and gate as direct requests (each is recorded, ``via_batch``), so its
``request_counts`` move as the gate lets requests through. Answers other than 200 go to the
error file with their status; :meth:`FakeOpenAI.expire` ends the running provider batches
as ``expired``, their unanswered requests in the error file as ``batch_expired``. Output
and error files exist once a provider batch has ended, as at OpenAI.
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
    via_batch: bool = False  # a line of a provider batch, not a request of its own

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
        #: Uploaded and written files by id, and provider batches by id (their JSON).
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        #: Every API call of the Batch API, as "METHOD path".
        self.batch_calls: list[str] = []
        self._stops: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._complete, methods=["POST"]),
                Route("/v1/files", self._upload, methods=["POST"]),
                Route("/v1/files/{file_id}/content", self._file_content, methods=["GET"]),
                Route("/v1/batches", self._create_batch, methods=["POST"]),
                Route("/v1/batches/{batch_id}", self._get_batch, methods=["GET"]),
                Route("/v1/batches/{batch_id}/cancel", self._cancel_batch, methods=["POST"]),
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

    def expire(self) -> None:
        """End every running provider batch as ``expired`` now (its window ran out)."""
        self._stop_batches("expired")

    def _stop_batches(self, why: str, only: str | None = None) -> None:
        with self._lock:
            stops = [(i, s) for i, s in self._stops.items() if only in (None, i)]
        for batch_id, (loop, stop) in stops:
            self.batches[batch_id]["_stop"] = why
            loop.call_soon_threadsafe(stop.set)

    async def _upload(self, request: Request) -> Response:
        async with request.form() as form:
            upload = form["file"]
            assert not isinstance(upload, str) and form["purpose"] == "batch"
            content = await upload.read()
            filename = upload.filename
        with self._lock:
            self.batch_calls.append("POST /v1/files")
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = content
        return JSONResponse(
            {
                "id": file_id,
                "object": "file",
                "bytes": len(content),
                "created_at": int(time.time()),
                "filename": filename,
                "purpose": "batch",
            }
        )

    async def _file_content(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        with self._lock:
            self.batch_calls.append(f"GET /v1/files/{file_id}/content")
            content = self.files.get(file_id)
        if content is None:
            return JSONResponse({"error": {"message": "No such file", "code": None}}, 404)
        return Response(content, media_type="application/jsonl")

    async def _create_batch(self, request: Request) -> Response:
        body = await request.json()
        lines = [json.loads(line) for line in self.files[body["input_file_id"]].splitlines()]
        with self._lock:
            self.batch_calls.append("POST /v1/batches")
            batch_id = f"batch_{len(self.batches) + 1}"
            batch: dict[str, Any] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body["endpoint"],
                "input_file_id": body["input_file_id"],
                "completion_window": body["completion_window"],
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": int(time.time()),
                "metadata": body.get("metadata"),
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            }
            self.batches[batch_id] = batch
            stop = asyncio.Event()
            self._stops[batch_id] = (asyncio.get_running_loop(), stop)
        task = asyncio.create_task(self._run_batch(batch, lines, stop))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return JSONResponse(_public(batch))

    async def _get_batch(self, request: Request) -> Response:
        batch_id = request.path_params["batch_id"]
        with self._lock:
            self.batch_calls.append(f"GET /v1/batches/{batch_id}")
            batch = self.batches.get(batch_id)
        if batch is None:
            return JSONResponse({"error": {"message": "No such batch", "code": None}}, 404)
        return JSONResponse(_public(batch))

    async def _cancel_batch(self, request: Request) -> Response:
        batch_id = request.path_params["batch_id"]
        with self._lock:
            self.batch_calls.append(f"POST /v1/batches/{batch_id}/cancel")
            batch = self.batches[batch_id]
            if batch["status"] in ("validating", "in_progress", "finalizing"):
                batch["status"] = "cancelling"
        self._stop_batches("cancelled", only=batch_id)
        return JSONResponse(_public(batch))

    async def _run_batch(
        self, batch: dict[str, Any], lines: list[dict[str, Any]], stop: asyncio.Event
    ) -> None:
        counts = batch["request_counts"]
        output: list[str] = []
        errors: list[str] = []
        stopping = asyncio.ensure_future(stop.wait())
        if batch["status"] == "validating":
            batch["status"] = "in_progress"
        for number, line in enumerate(lines):
            if stop.is_set():
                why = batch.get("_stop", "cancelled")
                for rest in lines[number:]:
                    errors.append(json.dumps(_unanswered(rest, why)))
                break
            status, payload, _headers = await self._answer(
                line["body"], via_batch=True, stopping=stopping
            )
            if status == 499:  # stopped while held at the gate: never answered
                errors.append(json.dumps(_unanswered(line, batch.get("_stop", "cancelled"))))
                continue
            entry = {
                "id": f"batch_req_{batch['id']}_{number}",
                "custom_id": line["custom_id"],
                "response": {"status_code": status, "request_id": f"req_{number}", "body": payload},
                "error": None,
            }
            (output if status == 200 else errors).append(json.dumps(entry))
            counts["completed" if status == 200 else "failed"] += 1
        stopping.cancel()
        batch["status"] = "finalizing"
        with self._lock:
            for kind, entries in (("output_file_id", output), ("error_file_id", errors)):
                if entries:
                    file_id = f"file-{len(self.files) + 1}"
                    self.files[file_id] = ("\n".join(entries) + "\n").encode()
                    batch[kind] = file_id
            batch["status"] = batch.get("_stop", "completed")
            self._stops.pop(batch["id"], None)

    async def _complete(self, request: Request) -> Response:
        arrived = time.monotonic()
        body = await request.json()
        status, payload, headers = await self._answer(
            body, headers=dict(request.headers), arrived=arrived, request=request
        )
        if isinstance(payload, Response):
            return payload
        return JSONResponse(payload, status, headers=headers)

    async def _answer(
        self,
        body: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        arrived: float | None = None,
        request: Request | None = None,
        via_batch: bool = False,
        stopping: asyncio.Future[Any] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        """One chat completion's status, JSON body (or whole response) and headers."""
        arrived = time.monotonic() if arrived is None else arrived
        recorded = Recorded(headers or {}, body, received_at=arrived, via_batch=via_batch)
        reviewing = recorded.is_review
        with self._lock:
            self.requests.append(recorded)
            number = len(self.requests)
            if recorded.mode in self.refused_formats:
                return 400, REFUSED_FORMAT, {}
            if self.refuses_max_tokens and "max_tokens" in body:
                return 400, {"error": REFUSED_MAX_TOKENS}, {}
            queue = self.review_queue if reviewing else self.queue
            reply = queue.popleft() if queue else None
            reviews = sum(r.is_review for r in self.requests)
        if reply is None and reviewing:
            reply = self.review_script(recorded, reviews)
        elif reply is None:
            reply = self.script(recorded, number)
        # Stop waiting once the client gave up, so shutdown is not held up.
        if self.gate is not None and await _unless_gone(
            request, stopping, self.gate.passage(number - 1)
        ):
            return 499, Response(status_code=499), {}
        if reply.delay and await _unless_gone(request, stopping, asyncio.sleep(reply.delay)):
            return 499, Response(status_code=499), {}
        recorded.answered_at = time.monotonic()
        if reply.body is not None:
            page = Response(reply.body, reply.status, reply.headers, media_type=reply.body_type)
            return reply.status, page, {}
        if reply.status != 200:
            return reply.status, {"error": reply.error}, reply.headers
        prompt, completion = reply.usage
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.refusal is not None:
            message["refusal"] = reply.refusal
        if reply.tool_calls is not None:
            message["tool_calls"] = reply.tool_calls
        return (
            200,
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
            reply.headers,
        )


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    """A provider batch as the API shows it (without the server's own keys)."""
    return {key: value for key, value in batch.items() if not key.startswith("_")}


def _unanswered(line: dict[str, Any], why: str) -> dict[str, Any]:
    """The error-file entry of a request a provider batch ended before answering."""
    message = {
        "expired": "This request could not be executed before the completion window expired.",
        "cancelled": "This request was not executed because the batch was cancelled.",
    }[why]
    return {
        "id": f"batch_req_{line['custom_id']}",
        "custom_id": line["custom_id"],
        "response": None,
        "error": {"code": f"batch_{why}", "message": message},
    }


async def _unless_gone(
    request: Request | None, stopping: asyncio.Future[Any] | None, waiting: Awaitable[None]
) -> bool:
    """Await ``waiting`` unless the client disconnects (or ``stopping`` ends) first; True
    when it did."""
    finished = asyncio.ensure_future(waiting)
    gone = asyncio.ensure_future(_disconnect(request)) if request is not None else None
    others = {task for task in (gone, stopping) if task is not None}
    done, _pending = await asyncio.wait({finished, *others}, return_when=asyncio.FIRST_COMPLETED)
    finished.cancel()
    if gone is not None:
        gone.cancel()
    return finished not in done


async def _disconnect(request: Request) -> None:
    """Return when the client closes the connection (the body has been read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
