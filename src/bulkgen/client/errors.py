"""The client's one error: every failure a caller can act on is a :class:`ClientError`.

An error response of the server keeps its status and ``detail``; a 422's list of problems
reads as one line naming each field as the user typed it (``count: Input should be …``),
and a response without a JSON ``detail`` (a proxy's page, say) says its HTTP status and the
start of its body. A server that cannot be reached, a URL that is not ``http(s)://`` and a
connection that breaks are ClientErrors too, with ``status`` None.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bulkgen.errors import BulkgenError

__all__ = [
    "ClientError",
    "describe_detail",
    "response_error",
    "transport_error",
    "transport_reason",
]

# Where a 422's `loc` starts; the rest of the path is what the user typed.
_LOC_SOURCES = frozenset({"body", "query", "path", "header"})


class ClientError(BulkgenError):
    """The server answered with an error, or could not be reached (``status`` is None)."""

    def __init__(self, status: int | None, detail: Any, retry_after: float | None = None) -> None:
        self.status = status
        self.detail = detail
        #: The server's ``Retry-After`` in seconds, when it asked to be asked again.
        self.retry_after = retry_after
        super().__init__(describe_detail(detail))


def describe_detail(detail: Any) -> str:
    """A readable one-line message from an error's ``detail``, naming the fields of a 422."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        problems = [_describe_problem(problem) for problem in detail]
        return "; ".join(problems) if problems else "invalid request"
    return json.dumps(detail)


def _describe_problem(problem: Any) -> str:
    if not isinstance(problem, dict):
        return str(problem)
    message = str(problem.get("msg", "invalid value"))
    loc = [str(part) for part in problem.get("loc", [])]
    if loc and loc[0] in _LOC_SOURCES:
        loc = loc[1:]
    return f"{'.'.join(loc)}: {message}" if loc else message


def response_error(response: httpx.Response) -> ClientError:
    """The error an error response stands for (its body must have been read)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "detail" in body:
        detail = body["detail"]
    else:
        detail = response.text.strip()[:200] or response.reason_phrase
        detail = f"HTTP {response.status_code}: {detail}"
    return ClientError(response.status_code, detail, _retry_after(response))


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the delay form; a date is ignored)."""
    value = response.headers.get("retry-after", "")
    return float(value) if value.isascii() and value.isdigit() and len(value) <= 6 else None


def transport_error(base_url: str, error: httpx.TransportError) -> ClientError:
    """The error of a request to ``base_url`` that got no response."""
    if isinstance(error, httpx.ConnectError):
        return ClientError(None, f"the bulkgen server is not reachable at {base_url}")
    if isinstance(error, httpx.UnsupportedProtocol):
        return ClientError(
            None, f"invalid server URL {base_url!r}: it must start with http:// or https://"
        )
    return ClientError(None, f"request to {base_url} failed: {transport_reason(error)}")


def transport_reason(error: httpx.TransportError) -> str:
    """What went wrong, in a few words: httpx leaves some errors without a message."""
    return str(error) or type(error).__name__
