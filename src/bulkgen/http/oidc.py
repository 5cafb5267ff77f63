"""Signing in with the institution's identity provider over OpenID Connect (authlib).

With ``oidc_issuer``, ``oidc_client_id`` and ``oidc_client_secret`` set, the sign-in page
offers "Sign in with …": ``/sign-in/oidc`` sends the browser to the provider (the
authorization code flow, with ``state`` and ``nonce`` kept in a short-lived signed cookie)
and ``/sign-in/oidc/callback`` takes the code back, lets authlib check the ID token
(signature against the provider's keys, issuer, audience, expiry, nonce), and opens a
bulkgen session for the user that token names. A subject seen for the first time becomes
a faculty user, named after the token's ``preferred_username`` or e-mail address;
``admins`` may list their e-mail addresses. The provider's discovery document is read once,
on the first sign-in.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from typing import Annotated, Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, Response
from starlette.middleware.sessions import SessionMiddleware

from bulkgen.http.deps import ServicesDep
from bulkgen.http.signin import safe_next, start_session
from bulkgen.settings import Settings

router = APIRouter()
log = logging.getLogger(__name__)

#: The cookie that carries the flow's state between the two redirects.
FLOW_COOKIE = "bulkgen_oidc"
#: How long a sign-in may take at the provider.
FLOW_SECONDS = 600
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._@+-]+")


def enable(app: FastAPI, settings: Settings) -> None:
    """Add the OpenID Connect sign-in to ``app`` when the settings name a provider."""
    if not settings.oidc_issuer:
        return
    oauth = OAuth()
    oauth.register(
        "provider",
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=(
            settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
        ),
        client_kwargs={"scope": "openid email profile"},
    )
    app.state.oidc = oauth
    # Signed with a key of this process: a restart only cancels sign-ins under way.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secrets.token_urlsafe(32),
        session_cookie=FLOW_COOKIE,
        max_age=FLOW_SECONDS,
        same_site="lax",
    )
    app.include_router(router)


def _client(request: Request) -> Any:
    oauth: OAuth = request.app.state.oidc
    return oauth.create_client("provider")  # type: ignore[no-untyped-call]


@router.get("/sign-in/oidc", include_in_schema=False)
async def sign_in_with_provider(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    """Send the browser to the identity provider."""
    request.session["next"] = safe_next(next)
    callback = str(request.url_for("oidc_callback"))
    try:
        response: Response = await _client(request).authorize_redirect(request, callback)
    except Exception as error:  # the provider's discovery document cannot be had
        raise HTTPException(502, f"the identity provider cannot be reached: {error}") from None
    return response


@router.get("/sign-in/oidc/callback", name="oidc_callback", include_in_schema=False)
async def oidc_callback(request: Request, services: ServicesDep) -> Response:
    """Take the provider's answer and open a session for the user it names."""
    try:
        token = await _client(request).authorize_access_token(request)
    except OAuthError as error:  # a wrong state, a refused code, an ID token that fails
        raise HTTPException(401, f"the identity provider did not sign you in: {error}") from None
    except Exception as error:  # the provider unreachable or failing
        log.warning("the identity provider failed a sign-in: %r", error)
        raise HTTPException(
            502, "the identity provider failed to answer; try signing in again later"
        ) from None
    claims = token.get("userinfo") or {}
    subject = str(claims.get("sub") or "")
    if not subject:
        raise HTTPException(401, "the identity provider's answer names no user")
    email = claims.get("email")
    user = await services.accounts.oidc_user(
        subject,
        user_name(claims),
        email if isinstance(email, str) else None,
    )
    next_path = request.session.pop("next", None)
    return await start_session(request, services, user.id, safe_next(next_path))


def user_name(claims: dict[str, Any]) -> str:
    """A bulkgen user name for the token's claims: ``preferred_username``, the e-mail's
    local part, or a name made from the subject."""
    for key in ("preferred_username", "email"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            name = _NAME_CHARS.sub("-", value.split("@")[0] if key == "email" else value)
            name = name.strip(".-_+@")[:60]
            if name:
                return name
    digest = hashlib.sha256(str(claims.get("sub", "")).encode()).hexdigest()[:12]
    return f"user-{digest}"
