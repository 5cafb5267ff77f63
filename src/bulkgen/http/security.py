"""Security headers on every response: a strict Content-Security-Policy and the usual rest.

Pages load scripts, styles and data from bulkgen itself only: no inline script, no
``<style>`` element, no other origin, no framing. Style *attributes* are allowed
(``style-src-attr``): the server renders the progress bars' segment widths with them, and
an attribute can neither run script nor load anything the rest of the policy forbids.

FastAPI's API documentation (``/docs``, ``/redoc``) is the exception: it loads Swagger UI
and ReDoc from the jsDelivr CDN and starts them with an inline script, so those paths get
a policy of their own that allows exactly that and still forbids framing.

The headers are added when the response starts, so streams are not buffered, and a
header a route set itself is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = "; ".join(
    [
        "default-src 'none'",
        f"script-src 'self' 'unsafe-inline' {CDN}",
        f"style-src 'self' 'unsafe-inline' {CDN} https://fonts.googleapis.com",
        "font-src https://fonts.gstatic.com",
        f"img-src 'self' data: {CDN} https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "connect-src 'self'",
        "worker-src blob:",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
#: The paths of the API documentation pages, which get :data:`DOCS_POLICY`.
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

COMMON: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def headers_for(path: str) -> dict[str, str]:
    """The security headers of a response to ``path``."""
    policy = DOCS_POLICY if path in DOCS_PATHS else PAGE_POLICY
    return {**COMMON, "Content-Security-Policy": policy}


class SecurityHeadersMiddleware:
    """Add :func:`headers_for` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._encoded: dict[str, list[tuple[bytes, bytes]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self._headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, path: str) -> list[tuple[bytes, bytes]]:
        key = path if path in DOCS_PATHS else ""
        if key not in self._encoded:
            self._encoded[key] = [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in headers_for(key or "/").items()
            ]
        return self._encoded[key]
