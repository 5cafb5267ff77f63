"""The ASGI application: routers, error mapping and the services' lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError

from bulkgen import __version__
from bulkgen.errors import (
    Busy,
    Conflict,
    InvalidConfig,
    InvalidCursor,
    NotFound,
    QuotaExceeded,
    StorageUnavailable,
)
from bulkgen.generation.runner import GeneratorFactory
from bulkgen.http import batches, oidc, ops, pages, signin, stream
from bulkgen.http.csrf import OriginCheckMiddleware
from bulkgen.http.deps import SignInRequired
from bulkgen.http.edge import BodyLimitMiddleware, method_not_allowed, validation_error
from bulkgen.http.security import SecurityHeadersMiddleware
from bulkgen.http.trust import HostCheckMiddleware, allowed_host_names, parse_networks
from bulkgen.log.faults import storage_problem
from bulkgen.services import Services
from bulkgen.settings import Settings


def create_app(
    settings: Settings | None = None, *, generator_factory: GeneratorFactory | None = None
) -> FastAPI:
    """The bulkgen application; services start with the app's lifespan."""
    resolved = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await Services.start(resolved, generator_factory=generator_factory)
        app.state.services = services
        try:
            yield
        finally:
            await services.stop()

    app = FastAPI(
        title="bulkgen",
        version=__version__,
        description="Generate assessment items in bulk and watch the batch live.",
        lifespan=lifespan,
    )
    app.state.settings = resolved
    proxies = parse_networks(resolved.trusted_proxies)
    oidc.enable(app, resolved)  # sign-in with the identity provider, when configured
    app.add_middleware(OriginCheckMiddleware, proxies=proxies)
    app.add_middleware(BodyLimitMiddleware)
    # The Host check runs before any route: a request to another name never reaches one.
    app.add_middleware(
        HostCheckMiddleware, allowed=allowed_host_names(resolved.allowed_hosts, resolved.host)
    )
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: refusals get the headers too
    app.include_router(batches.router)
    app.include_router(batches.quota_router)
    app.include_router(stream.router)
    app.include_router(pages.router)
    app.include_router(signin.router)
    app.include_router(ops.router)
    app.mount("/static", StaticFiles(directory=pages.HERE / "static"), name="static")
    describe_this_server(app, resolved)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(NotFound, _status(404))
    app.add_exception_handler(InvalidCursor, _status(400))
    app.add_exception_handler(Conflict, _status(409))
    app.add_exception_handler(InvalidConfig, _invalid_config)
    app.add_exception_handler(Busy, _busy)
    app.add_exception_handler(QuotaExceeded, _quota)
    app.add_exception_handler(StorageUnavailable, _storage)
    app.add_exception_handler(DBAPIError, _storage)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(405, method_not_allowed)
    return app


def describe_this_server(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI document says what this server accepts: without an API key for the
    ``openai`` generator, ``generator`` is ``demo`` only."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            if settings.openai_api_key is None:
                generator = schema["components"]["schemas"]["BatchConfig"]["properties"][
                    "generator"
                ]
                generator["enum"] = ["demo"]
                generator["description"] = (
                    "`openai` needs an API key on the server (BULKGEN_OPENAI_API_KEY); "
                    "this server has none."
                )
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


async def _invalid_config(_request: Request, error: Exception) -> JSONResponse:
    """A 422 shaped like a validation error, so clients show it next to the field."""
    field = error.field if isinstance(error, InvalidConfig) else "body"
    problem = {"type": "invalid_config", "loc": ["body", field], "msg": str(error)}
    return JSONResponse({"detail": [problem]}, status_code=422)


async def _sign_in_required(request: Request, error: Exception) -> Response:
    """A page is sent to the sign-in form (and back after); the API answers ``401``."""
    if request.method == "GET" and request.url.path.startswith("/faculty/"):
        back = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/sign-in?next={back}", status_code=303)
    detail = error.detail if isinstance(error, SignInRequired) else "sign-in required"
    return JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def _quota(_request: Request, error: Exception) -> JSONResponse:
    """A ``429`` shaped like a validation error, naming the field the quota bounds."""
    assert isinstance(error, QuotaExceeded)
    problem = {"type": "quota_exceeded", "loc": ["body", error.field], "msg": error.message}
    return JSONResponse(
        {"detail": [problem]}, status_code=429, headers={"Retry-After": str(error.retry_after)}
    )


#: What a request refused for a storage fault is told to wait, in seconds.
STORAGE_RETRY_AFTER_SECONDS = 5


async def _busy(_request: Request, error: Exception) -> JSONResponse:
    """A ``503`` that says when to come back."""
    retry_after = error.retry_after if isinstance(error, Busy) else 5
    return JSONResponse(
        {"detail": str(error)}, status_code=503, headers={"Retry-After": str(retry_after)}
    )


async def _storage(_request: Request, error: Exception) -> JSONResponse:
    """A ``503`` naming the storage fault: the request can succeed once it clears."""
    reason = str(error) if isinstance(error, StorageUnavailable) else storage_problem(error)
    return JSONResponse(
        {"detail": f"the database cannot be used right now: {reason}; try again later"},
        status_code=503,
        headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
    )


def _status(code: int):  # type: ignore[no-untyped-def]
    async def handler(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=code)

    return handler
