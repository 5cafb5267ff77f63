"""The routes an operator's tools call: liveness, readiness and metrics.

``/health`` answers as long as the process serves requests (it never waits on the
database, so a slow database does not get a live process restarted); ``/ready`` says
whether the database answers and takes writes, so a load balancer sends traffic
elsewhere while it does not; ``/metrics`` is for Prometheus.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from bulkgen import __version__
from bulkgen.http.deps import ServicesDep

router = APIRouter(tags=["operations"])

#: Longest wait for the database's answer before ``/ready`` (or a scrape) gives up.
READY_TIMEOUT_SECONDS = 2.0
MAX_REASON = 200

UNREACHABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "The database did not answer, or does not take writes",
        "content": {"application/json": {"example": {"detail": "database unreachable: <reason>"}}},
    }
}


@router.get("/health")
async def health(services: ServicesDep) -> dict[str, object]:
    """Liveness: the process answers (no database query)."""
    return {"status": "ok", "version": __version__, **services.health()}


@router.get("/ready", responses=UNREACHABLE)
async def ready(services: ServicesDep) -> Response:
    """Readiness: the database answered within the bound, and takes writes."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await services.check_database()
    except Exception as error:
        return unreachable(error)
    fault = services.log.fault
    if fault is not None:
        since = max(time.time() - fault.since, 0.0)
        return JSONResponse(
            {"detail": f"database cannot be written: {fault.reason} (for {since:.0f} s)"},
            status_code=503,
        )
    return JSONResponse({"status": "ready"})


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Metrics in Prometheus' text format",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        },
        **UNREACHABLE,
    },
)
async def metrics(services: ServicesDep) -> Response:
    """This process's metrics, with the database's batch counts read now."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            body = await services.metrics()
    except Exception as error:
        return unreachable(error)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def unreachable(error: Exception) -> JSONResponse:
    """A 503 naming why the database did not answer, in one short line."""
    if isinstance(error, TimeoutError):
        reason = f"no answer within {READY_TIMEOUT_SECONDS:g} s"
    else:
        cause = getattr(error, "orig", None) or error  # the driver's error under SQLAlchemy's
        text = str(cause).strip().splitlines()
        reason = text[0] if text else type(cause).__name__
    detail = f"database unreachable: {reason[:MAX_REASON]}"
    return JSONResponse({"detail": detail}, status_code=503)
