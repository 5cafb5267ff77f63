"""FastAPI dependencies: the running services and the caller every query is scoped by."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from bulkgen.credentials import User
from bulkgen.http.trust import from_trusted_proxy, parse_networks
from bulkgen.services import Services

MAX_USER_ID = 100
#: The browser session's cookie: an opaque secret, of which the server keeps a hash.
SESSION_COOKIE = "bulkgen_session"
MAX_SECRET = 200


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


class SignInRequired(HTTPException):
    """``401``; a page's ``GET`` is sent to the sign-in page instead."""

    def __init__(self, detail: str = "sign-in required") -> None:
        super().__init__(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def current_user(request: Request, services: ServicesDep) -> User:
    """The user every read and write of this request acts for, resolved in this one place.

    In order: an API token (``Authorization: Bearer``), a browser session (the
    ``bulkgen_session`` cookie), a trusted proxy's ``user_header``, and — unless
    ``require_sign_in`` — the single ``local_user``.
    """
    settings = services.settings
    accounts = services.accounts
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip() or len(secret) > MAX_SECRET:
            raise SignInRequired("send an API token as 'Authorization: Bearer <token>'")
        found = await accounts.token_user(secret.strip())
        if found is None:
            raise SignInRequired("the API token is unknown or revoked")
        return found
    session = request.cookies.get(SESSION_COOKIE)
    if session and len(session) <= MAX_SECRET:
        found = await accounts.session_user(session)
        if found is not None:
            request.state.session_user = found.id  # pages show it with a sign-out button
            return found
    if settings.user_header is not None:
        return await _proxy_user(request, services, settings.user_header)
    if not settings.require_sign_in:
        return await accounts.known_user(settings.local_user) or User(
            settings.local_user, "faculty"
        )
    raise SignInRequired()


async def _proxy_user(request: Request, services: Services, header: str) -> User:
    """The user a trusted proxy names: believed only from ``trusted_proxies``, refused
    when the header comes twice (a client's copy next to the proxy's)."""
    values = request.headers.getlist(header)
    if len(values) > 1:
        raise HTTPException(status_code=400, detail=f"the {header} header is sent more than once")
    if not from_trusted_proxy(request, parse_networks(services.settings.trusted_proxies)):
        raise SignInRequired("sign-in required (not from a trusted proxy)")
    name = values[0].strip() if values else ""
    if not name or len(name) > MAX_USER_ID:
        raise SignInRequired(f"sign-in required (no {header} header)")
    return await services.accounts.known_user(name) or _listed(services, User(name, "faculty"))


def _listed(services: Services, user: User) -> User:
    return User(user.id, "admin") if user.id in services.settings.admins else user


def require_admin(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.admin:
        raise HTTPException(status_code=403, detail="only an admin may do this")
    return user


CallerDep = Annotated[User, Depends(current_user)]
AdminDep = Annotated[User, Depends(require_admin)]
#: The caller as routes name it: the owner every query is scoped by.
OwnerDep = CallerDep
