"""HTML pages. State is rendered on the server; small ES modules then follow the stream."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from bulkgen import __version__
from bulkgen.credentials import user_id
from bulkgen.errors import InvalidConfig, NotFound, QuotaExceeded
from bulkgen.http import csrf
from bulkgen.http.deps import OwnerDep, ServicesDep
from bulkgen.http.form_errors import plain_message
from bulkgen.models import (
    MAX_ATTEMPT_ITEMS,
    MAX_CONCURRENCY,
    MAX_COUNT,
    MAX_TOPIC,
    BatchConfig,
    Difficulty,
    ItemType,
)
from bulkgen.quotas import QuotaView
from bulkgen.services import Services

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["version"] = __version__

router = APIRouter(include_in_schema=False)

HISTORY_PAGE = 20
#: Feed rows rendered on the server and kept in the browser at most (the DOM stays bounded).
FEED_WINDOW = 200

FORM_DEFAULTS: dict[str, str] = {
    "topic": "",
    "title": "",
    "item_type": "mcq",
    "count": "20",
    "mode": "attempts",
    "max_items": "",
    "difficulty": "medium",
    "generator": "demo",
    "concurrency": "4",
    "seed": "7",
    "latency_min": "50",
    "latency_max": "400",
    "fail_rate": "0.1",
    "invalid_rate": "0.1",
    "markup_rate": "0",
    "model": "",
    "learning_objective": "",
    "temperature": "0.7",
    "requests_per_minute": "",
    "review": "on",
    "review_model": "",
    "delivery": "direct",
}
_INTEGERS = ("count", "concurrency")
#: The fields of each generator's fieldset: (whole numbers, fractions 0..1, other numbers).
_DEMO_INTEGERS = ("seed", "latency_min", "latency_max")
_FRACTIONS = ("fail_rate", "invalid_rate", "markup_rate")


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    token = csrf.token_for(request)
    response = templates.TemplateResponse(
        request, template, {**context, "csrf_token": token}, status_code=status_code
    )
    csrf.set_cookie(request, response)
    return response


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/faculty/generate/batch", status_code=303)


@router.get("/faculty/generate/batch", response_class=HTMLResponse)
async def history(
    request: Request,
    owner: OwnerDep,
    services: ServicesDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    found = await services.list_batches(owner, limit=HISTORY_PAGE, offset=(page - 1) * HISTORY_PAGE)
    batches, total = found.items, found.total
    return render(
        request,
        "history.html",
        {
            "batches": batches,
            "page": page,
            "pages": max(1, -(-total // HISTORY_PAGE)),
            "total": total,
            "live_ids": [b.id for b in batches if not b.status.finished],
        },
    )


@router.get("/faculty/generate/batch/new", response_class=HTMLResponse)
async def new_batch_form(request: Request, caller: OwnerDep, services: ServicesDep) -> Response:
    quota = await services.quota(user_id(caller))
    return render(request, "new.html", _form_context(dict(FORM_DEFAULTS), {}, services, quota))


@router.post("/faculty/generate/batch/new", response_class=HTMLResponse)
async def create_from_form(request: Request, owner: OwnerDep, services: ServicesDep) -> Response:
    form = await request.form()
    values = {key: str(form.get(key, default)).strip() for key, default in FORM_DEFAULTS.items()}
    token = form.get(csrf.FIELD)
    if not csrf.form_token_valid(request, token if isinstance(token, str) else None):
        errors = {"form": "This form expired or came from another site; please submit it again."}
        return render(request, "new.html", _form_context(values, errors, services), 403)
    config, errors = parse_form(values)
    if config is None:
        return render(request, "new.html", _form_context(values, errors, services), 422)
    try:
        batch = await services.create_batch(owner, config)
    except InvalidConfig as error:
        errors = {error.field: error.message}
        return render(request, "new.html", _form_context(values, errors, services), 422)
    except QuotaExceeded as error:
        quota = await services.quota(user_id(owner))
        context = _form_context(values, {error.field: error.message}, services, quota)
        return render(request, "new.html", context, 429)
    return RedirectResponse(f"/faculty/generate/batch/{batch.id}", status_code=303)


@router.get("/faculty/generate/batch/{batch_id}", response_class=HTMLResponse)
async def progress_page(
    batch_id: str, request: Request, owner: OwnerDep, services: ServicesDep
) -> Response:
    try:
        batch, items = await services.batch_with_items(owner, batch_id, limit=FEED_WINDOW)
    except NotFound:
        return render(request, "not_found.html", {"batch_id": batch_id}, status_code=404)
    return render(
        request,
        "progress.html",
        {
            "batch": batch,
            "items": items,
            "feed_window": FEED_WINDOW,
            "finished": batch.status.finished,
        },
    )


def parse_form(values: dict[str, str]) -> tuple[BatchConfig | None, dict[str, str]]:
    """The batch config a form describes, or a message for each field that is wrong."""
    errors: dict[str, str] = {}
    numbers: dict[str, float] = {}
    openai = values["generator"] == "openai"
    for name in _INTEGERS + (() if openai else _DEMO_INTEGERS):
        try:
            numbers[name] = int(values[name])
        except ValueError:
            errors[name] = "Enter a whole number."
    for name in () if openai else _FRACTIONS:
        try:
            numbers[name] = float(values[name])
        except ValueError:
            errors[name] = "Enter a number between 0 and 1."
    if openai:
        try:
            numbers["temperature"] = float(values["temperature"])
        except ValueError:
            errors["temperature"] = "Enter a number between 0 and 2."
    optional: dict[str, int | None] = {}
    for name in ("max_items", "requests_per_minute"):
        optional[name] = None
        if values[name]:
            try:
                optional[name] = int(values[name])
            except ValueError:
                errors[name] = "Enter a whole number, or leave it empty."
    if errors:
        return None, errors
    max_items = optional["max_items"]
    body = {
        "topic": values["topic"],
        "title": values["title"] or None,
        "item_type": values["item_type"],
        "count": numbers["count"],
        "difficulty": values["difficulty"],
        "generator": values["generator"],
        "concurrency": numbers["concurrency"],
        "mode": values["mode"],
        "generator_options": _openai_options(values, numbers, optional)
        if openai
        else {
            "seed": numbers["seed"],
            "latency_ms": [numbers["latency_min"], numbers["latency_max"]],
            "fail_rate": numbers["fail_rate"],
            "invalid_rate": numbers["invalid_rate"],
            "markup_rate": numbers["markup_rate"],
        },
    }
    if openai and values["model"]:
        body["model"] = values["model"]
    if openai and values["delivery"] != "direct":
        body["delivery"] = values["delivery"]
    if max_items is not None:
        body["max_items"] = max_items
    try:
        return BatchConfig.model_validate(body), {}
    except ValidationError as error:
        for problem in error.errors():
            field = _form_field(problem["loc"])
            errors.setdefault(field, plain_message(field, problem))
        return None, errors


def _openai_options(
    values: dict[str, str], numbers: dict[str, float], optional: dict[str, int | None]
) -> dict[str, Any]:
    return {
        "learning_objective": values["learning_objective"] or None,
        "temperature": numbers["temperature"],
        "requests_per_minute": optional["requests_per_minute"],
        # Checked by default: a faculty member gets reviewed items unless they opt out.
        "review": {"enabled": True, "model": values["review_model"] or None}
        if values["review"] == "on"
        else {"enabled": False},
    }


def _form_field(loc: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in loc]
    if parts[:2] == ["generator_options", "latency_ms"]:
        return "latency_max" if parts[-1] == "1" else "latency_min"
    if parts == ["generator_options"]:
        return "latency_max"
    if parts[:2] == ["generator_options", "review"]:
        return "review_model" if parts[-1] == "model" else "review"
    return parts[-1] if parts else "form"


def _form_context(
    values: dict[str, str],
    errors: dict[str, str],
    services: Services,
    quota: QuotaView | None = None,
) -> dict[str, Any]:
    """What the form shows; ``openai`` is offered only when the server has an API key."""
    generators = ["demo"]
    if services.settings.openai_api_key is not None:
        generators.append("openai")
    return {
        "values": values,
        "errors": errors,
        "item_types": [t.value for t in ItemType],
        "difficulties": [d.value for d in Difficulty],
        "generators": generators,
        "openai_model": services.settings.openai_model,
        "quota": quota,
        "limits": {
            "count": MAX_COUNT,
            "concurrency": MAX_CONCURRENCY,
            "topic": MAX_TOPIC,
            "max_items": MAX_ATTEMPT_ITEMS,
        },
    }
