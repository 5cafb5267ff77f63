"""Cross-site request forgery protection.

Two layers:

* every unsafe request (POST, PUT, PATCH, DELETE) that a browser marks as cross-site
  (``Sec-Fetch-Site: cross-site``) or whose ``Origin`` differs from the request's own in
  scheme, host or port (:mod:`bulkgen.http.trust`) is refused with 403 — this protects
  the JSON API, which a page on another site could otherwise reach on a local server
  with a simple form post;
* HTML forms also carry a token that must match the ``bulkgen_csrf`` cookie
  (double submit), so a form post works only from a page bulkgen rendered.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bulkgen.http.trust import Network, origin_of, request_origin

COOKIE = "bulkgen_csrf"
FIELD = "csrf_token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class OriginCheckMiddleware:
    """Refuse unsafe requests that a browser sent from another site."""

    def __init__(self, app: ASGIApp, proxies: tuple[Network, ...] = ()) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _UNSAFE:
            request = Request(scope)
            if _cross_site(request, self.proxies):
                response = JSONResponse({"detail": "cross-site request refused"}, status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cross_site(request: Request, proxies: tuple[Network, ...]) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    sent = origin_of(origin)  # "null" and malformed origins are None: refused
    return sent is None or sent != request_origin(request, proxies)


def token_for(request: Request) -> str:
    """The form token of this browser: its cookie's value, or a new one."""
    existing = request.cookies.get(COOKIE)
    if existing and len(existing) == 43:
        return existing
    token: str = request.state.__dict__.setdefault("csrf_token", secrets.token_urlsafe(32))
    return token


def set_cookie(request: Request, response: Response) -> None:
    """Store the token in the browser if the page minted a new one."""
    token = request.state.__dict__.get("csrf_token")
    if token is not None:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")


def form_token_valid(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(COOKIE)
    if not cookie or not submitted:
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())
