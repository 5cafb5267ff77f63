"""FastAPI dependencies: the running services and the caller every query is scoped by."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from bulkgen.services import Services

MAX_USER_ID = 100


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_owner(request: Request, services: ServicesDep) -> str:
    """The user every read and write of this request is scoped to.

    Both dependencies are ``async``: FastAPI runs a plain function in a worker thread,
    two thread hops on every request for a few attribute reads.

    With ``user_header`` set, a trusted reverse proxy names the signed-in user; without
    it, bulkgen runs as the single local user.
    """
    header = services.settings.user_header
    if header is None:
        return services.settings.local_user
    user = request.headers.get(header, "").strip()
    if not user or len(user) > MAX_USER_ID:
        raise HTTPException(status_code=401, detail=f"sign-in required (no {header} header)")
    return user


OwnerDep = Annotated[str, Depends(current_owner)]
