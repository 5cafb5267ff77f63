"""``bulkgen batch …``: create, list, inspect, watch and export batches on a running server.

A thin layer over :class:`bulkgen.client.BulkgenClient`: each command makes its calls
through :mod:`bulkgen.cli.remote`, shows the answer with :mod:`bulkgen.cli.views` (or as
JSON) and follows a batch with :mod:`bulkgen.cli.watch`; ``export`` is in
:mod:`bulkgen.cli.export`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.text import Text

from bulkgen.cli.export import export
from bulkgen.cli.format import output_console
from bulkgen.cli.remote import (
    DEFAULT_SERVER,
    INTERRUPTED,
    STOPPED_WATCHING,
    BatchIdArg,
    JsonOpt,
    ServerOpt,
    TokenOpt,
    call_server,
    connect,
    run_command,
)
from bulkgen.cli.views import (
    batch_details,
    batches_table,
    items_table,
    print_action,
    print_created,
)
from bulkgen.cli.watch import watch_batch
from bulkgen.models import Difficulty, ItemStatus

batch_app = typer.Typer(
    help="Create, list, show, watch and export batches on a running server.",
    no_args_is_help=True,
)


class Mode(StrEnum):
    """What ``--count`` means: items generated, or items that must pass validation."""

    ATTEMPTS = "attempts"
    VALID = "valid"


@batch_app.command()
def create(
    topic: Annotated[str, typer.Option(help="Topic of the items")],
    count: Annotated[int, typer.Option(help="Number of items (1–10000)")] = 20,
    mode: Annotated[
        Mode,
        typer.Option(
            help="attempts: generate COUNT items; valid: replace failed items until COUNT pass"
        ),
    ] = Mode.ATTEMPTS,
    max_items: Annotated[
        int | None,
        typer.Option(help="Mode valid: most items to create, replacements included (3 × COUNT)"),
    ] = None,
    difficulty: Annotated[Difficulty, typer.Option(help="Difficulty")] = Difficulty.MEDIUM,
    concurrency: Annotated[int, typer.Option(help="Items generated at once (1–64)")] = 4,
    title: Annotated[str | None, typer.Option(help="A label for the batch")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the demo generator")] = None,
    latency_ms: Annotated[
        tuple[int, int] | None,
        typer.Option(metavar="MIN MAX", help="Demo generator latency range in ms"),
    ] = None,
    fail_rate: Annotated[
        float | None, typer.Option(help="Share of items whose generation fails (demo)")
    ] = None,
    invalid_rate: Annotated[
        float | None, typer.Option(help="Share of items with item-writing flaws (demo)")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Follow the batch right away")] = False,
    server: ServerOpt = DEFAULT_SERVER,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a batch and start generating it."""
    options: dict[str, Any] = {
        "seed": seed,
        "latency_ms": list(latency_ms) if latency_ms is not None else None,
        "fail_rate": fail_rate,
        "invalid_rate": invalid_rate,
    }
    body: dict[str, Any] = {
        "topic": topic,
        "count": count,
        "mode": mode.value,
        "difficulty": difficulty.value,
        "concurrency": concurrency,
        "generator_options": {key: value for key, value in options.items() if value is not None},
    }
    if title is not None:
        body["title"] = title
    if max_items is not None:
        body["max_items"] = max_items

    async def run() -> None:
        async with connect(server, token) as client:
            batch = await client.create_batch(body)
            if as_json:
                # One line when event lines follow, so the output stays line-delimited JSON.
                typer.echo(batch.model_dump_json(indent=None if watch else 2))
            else:
                print_created(output_console(), client, batch)
            if watch:
                # From the very start, so no early failure goes unreported.
                await watch_batch(client, batch.id, as_json, after=batch.last_event_id)

    run_command(run(), interrupted=STOPPED_WATCHING if watch else INTERRUPTED)


@batch_app.command(name="list")
def list_batches(
    limit: Annotated[int, typer.Option(help="Batches per page (1–100)")] = 20,
    offset: Annotated[int, typer.Option(help="Batches to skip")] = 0,
    server: ServerOpt = DEFAULT_SERVER,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The batch history, newest first."""

    async def run() -> None:
        async with connect(server, token) as client:
            page = await client.list_batches(limit=limit, offset=offset)
        if as_json:
            typer.echo(page.model_dump_json(indent=2))
            return
        console = output_console()
        if not page.items:
            console.print("No batches yet." if page.total == 0 else "No batches on this page.")
            return
        console.print(batches_table(page.items))
        shown = f"{page.offset + 1}–{page.offset + len(page.items)}"
        console.print(Text(f"{shown} of {page.total} batches", style="dim"))

    run_command(run())


@batch_app.command()
def show(
    batch_id: BatchIdArg,
    server: ServerOpt = DEFAULT_SERVER,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A batch's configuration, status, counts, throughput and time remaining."""
    batch = run_command(call_server(server, token, lambda client: client.get_batch(batch_id)))
    if as_json:
        typer.echo(batch.model_dump_json(indent=2))
        return
    output_console().print(batch_details(batch))


@batch_app.command()
def items(
    batch_id: BatchIdArg,
    status: Annotated[ItemStatus | None, typer.Option(help="Only items of this status")] = None,
    limit: Annotated[int, typer.Option(help="Items per page (1–500)")] = 50,
    offset: Annotated[int, typer.Option(help="Items to skip")] = 0,
    server: ServerOpt = DEFAULT_SERVER,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A batch's items in index order; failed items show their error."""
    page = run_command(
        call_server(
            server, token, lambda client: client.list_items(batch_id, status, limit, offset)
        )
    )
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    console = output_console()
    if not page.items:
        which = f"{status.value} items" if status is not None else "items"
        console.print(f"No {which} on this page ({page.total} in all).")
        return
    console.print(items_table(page.items))
    shown = f"{page.offset + 1}–{page.offset + len(page.items)}"
    console.print(Text(f"{shown} of {page.total} items", style="dim"))


@batch_app.command()
def cancel(
    batch_id: BatchIdArg,
    server: ServerOpt = DEFAULT_SERVER,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop scheduling a batch's items; the batch ends cancelled."""
    batch = run_command(call_server(server, token, lambda client: client.cancel(batch_id)))
    print_action(batch, as_json)


@batch_app.command()
def pause(
    batch_id: BatchIdArg,
    server: ServerOpt = DEFAULT_SERVER,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pause a batch: nothing new starts; items being generated finish."""
    batch = run_command(call_server(server, token, lambda client: client.pause(batch_id)))
    print_action(batch, as_json)


@batch_app.command()
def resume(
    batch_id: BatchIdArg,
    server: ServerOpt = DEFAULT_SERVER,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a paused batch again."""
    batch = run_command(call_server(server, token, lambda client: client.resume(batch_id)))
    print_action(batch, as_json)


@batch_app.command()
def retry(
    batch_id: BatchIdArg,
    server: ServerOpt = DEFAULT_SERVER,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="only the failed items of this reason, e.g. kind:timeout or rule:stem.length",
        ),
    ] = None,
) -> None:
    """Re-queue a batch's failed items (or one reason's group) and run it again."""
    batch = run_command(call_server(server, token, lambda client: client.retry(batch_id, reason)))
    print_action(batch, as_json)


@batch_app.command()
def watch(
    batch_id: BatchIdArg,
    server: ServerOpt = DEFAULT_SERVER,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Follow a batch live until it finishes (--json: one event per line)."""

    async def run() -> None:
        async with connect(server, token) as client:
            await watch_batch(client, batch_id, as_json)

    run_command(run(), interrupted=STOPPED_WATCHING)


# Defined with its file handling in cli/export.py; registered last, as help lists it.
batch_app.command()(export)
