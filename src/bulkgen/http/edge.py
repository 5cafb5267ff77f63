"""What the HTTP edge answers to bad input: always a 4xx in the API's JSON shape.

- A body larger than :data:`MAX_BODY_BYTES` is a ``413`` (known from ``Content-Length``
  before the body is read, or counted while it is read).
- A JSON route sent another content type is a ``415`` that names what was sent.
- A validation error is a ``422`` whose ``detail`` lists ``type``, ``loc``, ``msg`` and the
  offending ``input``, made safe to encode: a lone surrogate or a ``NaN`` in the request
  would otherwise make the error itself fail to encode.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
#: Characters of an offending input a 422 repeats.
MAX_ECHO = 200

JSON_TYPES = ("application/json",)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, f"request body is larger than {MAX_BODY_BYTES // 1024} KiB")


class BodyLimitMiddleware:
    """Refuse request bodies over :data:`MAX_BODY_BYTES` with a JSON ``413``."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            error = BodyTooLarge()
            response = JSONResponse({"detail": error.detail}, status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised where the route reads its body: FastAPI answers it as JSON.
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            if not (text.isascii() and text.isdigit()):
                return None  # the server's HTTP parser answers a malformed length
            return int(text) if len(text) <= 18 else 10**18
    return None


async def require_json(request: Request) -> None:
    """A route's dependency: its body must be sent as JSON."""
    raw = request.headers.get("content-type")
    if raw is None:
        return  # no body, or a client that sent none: the body's own checks answer
    media = raw.split(";", 1)[0].strip().lower()
    if media in JSON_TYPES or media.endswith("+json"):
        return
    shown = ascii(raw[:80]).strip("'")
    raise HTTPException(415, f"send the body as JSON (Content-Type: application/json), not {shown}")


async def method_not_allowed(request: Request, error: Exception) -> JSONResponse:
    """A ``405`` whose ``Allow`` lists every method of the path, not only one route's."""
    allowed = [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    detail = error.detail if isinstance(error, HTTPException) else "Method Not Allowed"
    headers = {"Allow": ", ".join(allowed)} if allowed else None
    return JSONResponse({"detail": detail}, status_code=405, headers=headers)


async def validation_error(_request: Request, error: Exception) -> JSONResponse:
    """A ``422`` listing each problem with a JSON-safe echo of its input."""
    problems = error.errors() if isinstance(error, RequestValidationError) else []
    detail = [
        {key: _safe(value) for key, value in problem.items() if key != "url"}
        for problem in problems
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def _safe(value: Any) -> Any:
    """``value`` as JSON can carry it: finite numbers, valid UTF-8, bounded strings."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        text = value if len(value) <= MAX_ECHO else value[:MAX_ECHO] + "…"
        return text.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, bytes):
        return _safe(value.decode("utf-8", "replace"))
    if isinstance(value, dict):
        return {_safe(str(key)): _safe(item) for key, item in list(value.items())[:50]}
    if isinstance(value, list | tuple):
        return [_safe(item) for item in value[:50]]
    return _safe(str(value))
