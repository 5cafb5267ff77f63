"""Signing in and out of the pages, one-time sign-in links, and the caller's API tokens.

A session is an opaque 256-bit secret in the ``bulkgen_session`` cookie (``HttpOnly``,
``SameSite=Lax``, ``Secure`` over HTTPS); the server keeps only its hash, so signing out
ends it everywhere at once. The forms carry the double-submit CSRF token of
:mod:`bulkgen.http.csrf`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from bulkgen.http import csrf
from bulkgen.http.batches import BAD_BODY
from bulkgen.http.deps import MAX_SECRET, SESSION_COOKIE, CallerDep, ServicesDep
from bulkgen.http.edge import require_json
from bulkgen.http.pages import render
from bulkgen.services import Services

router = APIRouter()
HOME = "/faculty/generate/batch"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this server only, never another site."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value[:2000]
    return HOME


async def start_session(
    request: Request, services: Services, user: str, next_path: str
) -> RedirectResponse:
    secret = await services.accounts.start_session(user)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(services.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/sign-in", response_class=HTMLResponse, include_in_schema=False)
async def sign_in_form(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    context = {"next": safe_next(next), "username": "", "error": None}
    return render(request, "sign_in.html", {**context, **_provider(request)})


def _provider(request: Request) -> dict[str, str | None]:
    """The identity provider the sign-in page offers, if any."""
    settings = request.app.state.settings
    return {"oidc_name": settings.oidc_name if settings.oidc_issuer else None}


@router.post("/sign-in", response_class=HTMLResponse, include_in_schema=False)
async def sign_in(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    context = {"next": safe_next(next), "username": username, **_provider(request)}
    if not csrf.form_token_valid(request, csrf_token):
        error = "This form expired or came from another site; please sign in again."
        return render(request, "sign_in.html", {**context, "error": error}, 403)
    user = await services.accounts.check_password(username.strip(), password)
    if user is None:
        error = "Unknown user name or wrong password."
        return render(request, "sign_in.html", {**context, "error": error}, 401)
    return await start_session(request, services, user.id, next)


@router.post("/sign-out", include_in_schema=False)
async def sign_out(
    request: Request,
    services: ServicesDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if not csrf.form_token_valid(request, csrf_token):
        raise HTTPException(403, "the sign-out form expired or came from another site")
    session = request.cookies.get(SESSION_COOKIE)
    if session and len(session) <= MAX_SECRET:
        await services.accounts.end_session(session)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/sign-in/link", include_in_schema=False)
async def sign_in_link(
    request: Request,
    services: ServicesDep,
    token: Annotated[str, Query(max_length=MAX_SECRET)] = "",
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """The one-time link a server prints at start: it opens a session, once."""
    user = await services.accounts.use_link(token) if token else None
    if user is None:
        session = request.cookies.get(SESSION_COOKIE, "")
        signed_in = 0 < len(session) <= MAX_SECRET and (
            await services.accounts.session_user(session) is not None
        )
        if signed_in:  # a reload of the link by the browser it signed in
            return RedirectResponse(safe_next(next), status_code=303)
        raise HTTPException(401, "this sign-in link is unknown, expired or already used")
    return await start_session(request, services, user.id, next or HOME)


class Me(BaseModel):
    id: str
    role: str


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=100, description="What the token is for.")


class Token(BaseModel):
    id: str
    name: str
    created_at: float


class CreatedToken(Token):
    token: str = Field(description="The secret: shown this once, stored only as a hash.")


@router.get("/api/me", tags=["account"])
async def me(caller: CallerDep) -> Me:
    """Who the request acts for, and their role."""
    return Me(id=caller.id, role=caller.role)


@router.get("/api/tokens", tags=["account"])
async def list_tokens(caller: CallerDep, services: ServicesDep) -> list[Token]:
    """The caller's API tokens (never their secrets)."""
    found = await services.accounts.store.list_tokens(caller.id)
    return [Token(id=info.id, name=info.name, created_at=info.created_at) for info in found]


@router.post(
    "/api/tokens",
    status_code=201,
    tags=["account"],
    dependencies=[Depends(require_json)],
    responses=BAD_BODY,
)
async def create_token(body: NewToken, caller: CallerDep, services: ServicesDep) -> CreatedToken:
    """A new API token of the caller, sent as ``Authorization: Bearer <token>``."""
    await services.accounts.ensure_user(caller)
    secret, info = await services.accounts.create_token(caller.id, body.name)
    return CreatedToken(id=info.id, name=info.name, created_at=info.created_at, token=secret)


@router.delete(
    "/api/tokens/{token_id}",
    status_code=204,
    tags=["account"],
    responses={404: {"description": "No such token, or not one of the caller's"}},
)
async def revoke_token(token_id: str, caller: CallerDep, services: ServicesDep) -> Response:
    """Revoke one of the caller's tokens; another's, or an unknown one, is ``404``."""
    if len(token_id) > 16 or not await services.accounts.store.revoke_token(token_id, caller.id):
        raise HTTPException(404, f"no token {token_id[:16]!r}")
    return Response(status_code=204)
