"""The trust boundary of a request: which names the server answers to, which peers are
trusted proxies, and which origin a browser's request comes from.

- **Host allow-list.** A request whose ``Host`` is not one of the server's names is a
  ``400`` before any route runs. Without it, a web page whose DNS name rebinds to
  127.0.0.1 would be same-origin with a bulkgen on localhost, and could create and read
  batches as the local user.
- **Trusted proxies.** Only a peer whose address is in ``trusted_proxies`` may name the
  user (``user_header``) or the scheme the client used (``X-Forwarded-Proto``).
- **Origin.** A browser's ``Origin`` is same-origin only when its scheme, host and port all
  equal the request's own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_PORTS = {"http": 80, "https": 443}
#: Host names a server bound to a loopback or wildcard address always answers to.
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """IP addresses and CIDR blocks; a bad one raises ``ValueError`` naming it."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def host_name(host: str) -> str:
    """The name of a ``Host`` value without its port, lower-cased (``[::1]`` kept bracketed)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_host_names(allowed: list[str] | None, bind_host: str) -> frozenset[str] | None:
    """The names the server answers to; ``None`` when any name is allowed (``*``)."""
    if allowed is not None and "*" in allowed:
        return None
    names = set(LOCAL_NAMES) if allowed is None else set()
    if allowed is None and bind_host not in ("0.0.0.0", "::", ""):
        names.add(f"[{bind_host}]" if ":" in bind_host else bind_host)
    names.update(host_name(name) for name in allowed or ())
    return frozenset(names)


class HostCheckMiddleware:
    """Answer ``400`` to a request whose ``Host`` the server does not go by."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.allowed is not None:
            host = Headers(scope=scope).get("host")
            if host is None or host_name(host) not in self.allowed:
                shown = ascii(host[:100]) if host is not None else "none"
                response = JSONResponse(
                    {
                        "detail": f"unknown Host {shown}: this server answers only to its "
                        "own names (the allowed_hosts setting)"
                    },
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def from_trusted_proxy(request: Request, proxies: tuple[Network, ...]) -> bool:
    """Whether the peer that sent ``request`` is one of the configured proxies."""
    if not proxies or request.client is None:
        return False
    try:
        peer = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(peer in network for network in proxies)


def request_origin(request: Request, proxies: tuple[Network, ...]) -> tuple[str, str, int]:
    """The scheme, host name and port the client addressed this request to."""
    scheme = request.url.scheme
    forwarded = request.headers.get("x-forwarded-proto")
    if forwarded and from_trusted_proxy(request, proxies):
        scheme = forwarded.split(",", 1)[0].strip().lower()
    return _split(scheme, request.headers.get("host", ""))


def origin_of(value: str) -> tuple[str, str, int] | None:
    """An ``Origin`` header as scheme, host name and port; ``None`` when malformed."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
        return None
    return _split(parts.scheme, parts.netloc)


def _split(scheme: str, netloc: str) -> tuple[str, str, int]:
    name = host_name(netloc)
    rest = netloc.strip()[len(name) :] if netloc.strip().lower().startswith(name) else ""
    port_text = rest[1:] if rest.startswith(":") else ""
    port = int(port_text) if port_text.isascii() and port_text.isdigit() else None
    return scheme, name, port if port is not None else DEFAULT_PORTS.get(scheme, 0)
