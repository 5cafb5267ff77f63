"""JSON endpoints for batches and their items."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from bulkgen.api.deps import OwnerDep, ServicesDep
from bulkgen.models import Batch, BatchConfig, Item, ItemStatus, Page

router = APIRouter(prefix="/api/generation/batch", tags=["batches"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such batch, or not one of the caller's"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The batch's state does not allow this"}
}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Batch)
async def create_batch(
    config: BatchConfig, owner: OwnerDep, services: ServicesDep, response: Response
) -> Batch:
    """Create a batch and start generating it."""
    batch = await services.create_batch(owner, config)
    response.headers["Location"] = f"/api/generation/batch/{batch.id}"
    return batch


@router.get("", response_model=Page[Batch])
async def list_batches(
    owner: OwnerDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[Batch]:
    """The caller's batches, newest first, each with its progress."""
    records, total = await services.store.list_batches(owner, limit=limit, offset=offset)
    now = time.time()
    return Page[Batch](
        items=[r.to_api(now) for r in records], total=total, limit=limit, offset=offset
    )


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
    found, total = await services.store.list_items(
        batch_id, owner, status=item_status, limit=limit, offset=offset
    )
    return Page[Item](items=found, total=total, limit=limit, offset=offset)


@router.post("/{batch_id}/cancel", response_model=Batch, responses={**NOT_FOUND, **CONFLICT})
async def cancel_batch(batch_id: str, owner: OwnerDep, services: ServicesDep) -> Batch:
    """Stop scheduling; items being generated end failed (cancelled); the batch ends cancelled."""
    return await services.cancel_batch(owner, batch_id)


@router.post("/{batch_id}/retry", response_model=Batch, responses={**NOT_FOUND, **CONFLICT})
async def retry_batch(batch_id: str, owner: OwnerDep, services: ServicesDep) -> Batch:
    """Put failed items back to pending and run the batch again."""
    return await services.retry_batch(owner, batch_id)
