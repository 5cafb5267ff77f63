"""FastAPI dependencies: the running services and the caller every query is scoped by."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from bulkgen.http.trust import from_trusted_proxy, parse_networks
from bulkgen.services import Services

MAX_USER_ID = 100


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_owner(request: Request, services: ServicesDep) -> str:
    """The user every read and write of this request is scoped to.

    With ``user_header`` set, a reverse proxy whose address is in ``trusted_proxies``
    names the signed-in user; the header from any other peer is not believed, and a
    request carrying it twice is refused. Without it, bulkgen runs as the single local user.
    """
    settings = services.settings
    header = settings.user_header
    if header is None:
        return settings.local_user
    values = request.headers.getlist(header)
    if len(values) > 1:
        raise HTTPException(status_code=400, detail=f"the {header} header is sent more than once")
    if not from_trusted_proxy(request, parse_networks(settings.trusted_proxies)):
        raise HTTPException(status_code=401, detail="sign-in required (not from a trusted proxy)")
    user = values[0].strip() if values else ""
    if not user or len(user) > MAX_USER_ID:
        raise HTTPException(status_code=401, detail=f"sign-in required (no {header} header)")
    return user


OwnerDep = Annotated[str, Depends(current_owner)]
