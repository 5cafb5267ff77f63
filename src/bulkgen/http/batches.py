"""JSON endpoints for batches and their items."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from bulkgen.credentials import user_id
from bulkgen.errors import Conflict
from bulkgen.export import ExportFormat, export_filename, render_export
from bulkgen.http.deps import OwnerDep, ServicesDep
from bulkgen.http.edge import require_json
from bulkgen.models import REASON_PATTERN, Batch, BatchConfig, Item, ItemStatus, Page
from bulkgen.quotas import QuotaView

router = APIRouter(prefix="/api/generation/batch", tags=["batches"])
quota_router = APIRouter(tags=["batches"])

#: Passed items read from the store per query while building an export.
EXPORT_PAGE = 500

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such batch, or not one of the caller's"}
}
BAD_BODY: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be read as text (it is not UTF-8)"},
    413: {"description": "The body is larger than 64 KiB"},
    415: {"description": "The body is not sent as JSON"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The batch's state does not allow this"}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Batch,
    dependencies=[Depends(require_json)],
    responses={
        **BAD_BODY,
        429: {"description": "The caller's daily quota has no room for this batch"},
    },
)
async def create_batch(
    config: BatchConfig, owner: OwnerDep, services: ServicesDep, response: Response
) -> Batch:
    """Create a batch and start generating it."""
    batch = await services.create_batch(owner, config)
    response.headers["Location"] = f"/api/generation/batch/{batch.id}"
    return batch


@quota_router.get("/api/quota", response_model=QuotaView)
async def quota(owner: OwnerDep, services: ServicesDep) -> QuotaView:
    """The caller's daily quotas (items, provider tokens) and what the last 24 hours used."""
    return await services.quota(user_id(owner))


@router.get("", response_model=Page[Batch])
async def list_batches(
    owner: OwnerDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[Batch]:
    """The caller's batches, newest first, each with its progress."""
    return await services.list_batches(owner, limit=limit, offset=offset)


@router.get("/{batch_id}", response_model=Batch, responses=NOT_FOUND)
async def get_batch(batch_id: str, owner: OwnerDep, services: ServicesDep) -> Batch:
    """The batch: config, status, progress snapshot, times and ``last_event_id``."""
    return await services.get_batch(owner, batch_id)


@router.get("/{batch_id}/items", response_model=Page[Item], responses=NOT_FOUND)
async def list_items(
    batch_id: str,
    owner: OwnerDep,
    services: ServicesDep,
    item_status: Annotated[ItemStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[Item]:
    """Items in index order, optionally of one status; failed items carry their error."""
    return await services.list_items(
        owner, batch_id, status=item_status, limit=limit, offset=offset
    )


@router.post("/{batch_id}/cancel", response_model=Batch, responses={**NOT_FOUND, **CONFLICT})
async def cancel_batch(batch_id: str, owner: OwnerDep, services: ServicesDep) -> Batch:
    """Stop scheduling; items being generated end failed (cancelled); the batch ends cancelled."""
    return await services.cancel_batch(owner, batch_id)


@router.post("/{batch_id}/pause", response_model=Batch, responses={**NOT_FOUND, **CONFLICT})
async def pause_batch(batch_id: str, owner: OwnerDep, services: ServicesDep) -> Batch:
    """Stop scheduling a queued or running batch; items being generated finish normally.

    The batch stays `paused` (its stream stays open) until it is resumed or cancelled.
    """
    return await services.pause_batch(owner, batch_id)


@router.post(
    "/{batch_id}/resume",
    response_model=Batch,
    responses={
        **NOT_FOUND,
        **CONFLICT,
        429: {"description": "Paused for the tokens quota, which is still spent"},
    },
)
async def resume_batch(batch_id: str, owner: OwnerDep, services: ServicesDep) -> Batch:
    """Run a paused batch again."""
    return await services.resume_batch(owner, batch_id)


@router.post("/{batch_id}/retry", response_model=Batch, responses={**NOT_FOUND, **CONFLICT})
async def retry_batch(
    batch_id: str,
    owner: OwnerDep,
    services: ServicesDep,
    reason: Annotated[
        str | None,
        Query(
            pattern=REASON_PATTERN,
            description="Only the failed items counted under this reason "
            "(`rule:<rule id>` or `kind:<error kind>`, as in `progress.failure_reasons`)",
        ),
    ] = None,
) -> Batch:
    """Put failed items (or one reason's group of them) back to pending and run again."""
    return await services.retry_batch(owner, batch_id, reason)


@router.get(
    "/{batch_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "The file, as an attachment",
            "content": {fmt.media_type.split(";")[0]: {} for fmt in ExportFormat},
        },
        **NOT_FOUND,
        409: {"description": "The batch has no passed items yet"},
    },
)
async def export_batch(
    batch_id: str,
    owner: OwnerDep,
    services: ServicesDep,
    export_format: Annotated[ExportFormat, Query(alias="format")],
) -> Response:
    """The batch's passed items as JSON Lines, CSV, Moodle XML or a QTI 2.1 package (ZIP).

    A running batch exports the items that have passed so far.
    """
    batch = await services.get_batch(owner, batch_id)
    passed = await services.passed_items(owner, batch_id, page=EXPORT_PAGE)
    if not passed:
        raise Conflict(f"batch {batch_id} has no passed items to export")
    # Up to 10,000 items take about a second to write: off the event loop, which serves
    # every stream and runs the pipeline.
    content = await asyncio.to_thread(render_export, export_format, batch, passed)
    filename = export_filename(batch, export_format)
    return Response(
        content,
        media_type=export_format.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Item-Count": str(len(passed)),
            "X-Content-Type-Options": "nosniff",
        },
    )
