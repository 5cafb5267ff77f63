"""``bulkgen batch …``: create, list, inspect, watch and export batches on a running server.

A thin layer over :class:`bulkgen.client.BulkgenClient`. Every failure ends with one line
on stderr and exit code 1. Anything the server returns may contain generated text, so it
is shown as :class:`rich.text.Text`, never parsed as markup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bulkgen.cli.format import (
    duration,
    error_console,
    error_detail,
    output_console,
    rate,
    share,
    status_text,
)
from bulkgen.cli.watch import watch_batch
from bulkgen.client import BulkgenClient, ClientError, ExportFile
from bulkgen.export import ExportFormat
from bulkgen.models import Batch, DemoOptions, Difficulty, Item, ItemStatus, OpenAIOptions

batch_app = typer.Typer(
    help="Create, list, show, watch and export batches on a running server.",
    no_args_is_help=True,
)

DEFAULT_SERVER = "http://127.0.0.1:8000"
INTERRUPTED = "interrupted"
STOPPED_WATCHING = "stopped watching; the batch goes on running on the server"

ServerOpt = Annotated[
    str,
    typer.Option("--server", envvar="BULKGEN_SERVER", help="URL of the bulkgen server"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts)")]
BatchIdArg = Annotated[str, typer.Argument(metavar="ID", help="The batch id")]

T = TypeVar("T")


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
        async with BulkgenClient(server) as client:
            batch = await client.create_batch(body)
            if as_json:
                # One line when event lines follow, so the output stays line-delimited JSON.
                typer.echo(batch.model_dump_json(indent=None if watch else 2))
            else:
                _print_created(output_console(), client, batch)
            if watch:
                # From the very start, so no early failure goes unreported.
                await watch_batch(client, batch.id, as_json, after=batch.last_event_id)

    _run(run(), interrupted=STOPPED_WATCHING if watch else INTERRUPTED)


@batch_app.command(name="list")
def list_batches(
    limit: Annotated[int, typer.Option(help="Batches per page (1–100)")] = 20,
    offset: Annotated[int, typer.Option(help="Batches to skip")] = 0,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """The batch history, newest first."""

    async def run() -> None:
        async with BulkgenClient(server) as client:
            page = await client.list_batches(limit=limit, offset=offset)
        if as_json:
            typer.echo(page.model_dump_json(indent=2))
            return
        console = output_console()
        if not page.items:
            console.print("No batches yet." if page.total == 0 else "No batches on this page.")
            return
        console.print(_batches_table(page.items))
        shown = f"{page.offset + 1}–{page.offset + len(page.items)}"
        console.print(Text(f"{shown} of {page.total} batches", style="dim"))

    _run(run())


@batch_app.command()
def show(
    batch_id: BatchIdArg, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """A batch's configuration, status, counts, throughput and time remaining."""
    batch = _run(_call(server, lambda client: client.get_batch(batch_id)))
    if as_json:
        typer.echo(batch.model_dump_json(indent=2))
        return
    output_console().print(_batch_details(batch))


@batch_app.command()
def items(
    batch_id: BatchIdArg,
    status: Annotated[ItemStatus | None, typer.Option(help="Only items of this status")] = None,
    limit: Annotated[int, typer.Option(help="Items per page (1–500)")] = 50,
    offset: Annotated[int, typer.Option(help="Items to skip")] = 0,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """A batch's items in index order; failed items show their error."""
    page = _run(_call(server, lambda client: client.list_items(batch_id, status, limit, offset)))
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    console = output_console()
    if not page.items:
        which = f"{status.value} items" if status is not None else "items"
        console.print(f"No {which} on this page ({page.total} in all).")
        return
    console.print(_items_table(page.items))
    shown = f"{page.offset + 1}–{page.offset + len(page.items)}"
    console.print(Text(f"{shown} of {page.total} items", style="dim"))


@batch_app.command()
def cancel(
    batch_id: BatchIdArg, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """Stop scheduling a batch's items; the batch ends cancelled."""
    batch = _run(_call(server, lambda client: client.cancel(batch_id)))
    _print_action(batch, as_json)


@batch_app.command()
def pause(
    batch_id: BatchIdArg, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """Pause a batch: nothing new starts; items being generated finish."""
    batch = _run(_call(server, lambda client: client.pause(batch_id)))
    _print_action(batch, as_json)


@batch_app.command()
def resume(
    batch_id: BatchIdArg, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """Run a paused batch again."""
    batch = _run(_call(server, lambda client: client.resume(batch_id)))
    _print_action(batch, as_json)


@batch_app.command()
def retry(
    batch_id: BatchIdArg,
    server: ServerOpt = DEFAULT_SERVER,
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
    batch = _run(_call(server, lambda client: client.retry(batch_id, reason)))
    _print_action(batch, as_json)


@batch_app.command()
def watch(
    batch_id: BatchIdArg,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Follow a batch live until it finishes (--json: one event per line)."""

    async def run() -> None:
        async with BulkgenClient(server) as client:
            await watch_batch(client, batch_id, as_json)

    _run(run(), interrupted=STOPPED_WATCHING)


@batch_app.command()
def export(
    batch_id: BatchIdArg,
    export_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="jsonl (JSON Lines), csv, moodle (Moodle XML) or qti (QTI 2.1 package, ZIP)",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write, '-' for stdout [default: the server's file name, here]",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """Download a batch's passed items as a file to import elsewhere (an LMS, a sheet)."""
    to_stdout = output is not None and str(output) == "-"
    if output is not None and not to_stdout and not force and output.exists():
        _fail(f"{output} exists; use --force to overwrite it")
    exported = _run(_call(server, lambda client: client.export(batch_id, export_format)))
    if to_stdout:
        typer.get_binary_stream("stdout").write(exported.content)
        return
    path = output if output is not None else Path(exported.filename)
    _write_export(path, exported, force=force)


def _write_export(path: Path, exported: ExportFile, *, force: bool) -> None:
    try:
        # "x" creates the file or fails: nothing is overwritten without --force, even if
        # the file appeared while the export downloaded.
        with path.open("wb" if force else "xb") as file:
            file.write(exported.content)
    except FileExistsError:
        _fail(f"{path} exists; use --force to overwrite it")
    except OSError as error:
        _fail(f"cannot write {path}: {error.strerror or error}")
    count = exported.item_count
    what = f"{count} passed item{'s' if count != 1 else ''}" if count is not None else "the items"
    output_console().print(Text(f"Exported {what} to {path}"), soft_wrap=True)


# --- running -----------------------------------------------------------------------------


def _run(work: Coroutine[Any, Any, T], *, interrupted: str = INTERRUPTED) -> T:
    try:
        return asyncio.run(work)
    except ClientError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        error_console().print(interrupted, soft_wrap=True)
        raise typer.Exit(130) from None


async def _call(server: str, request: Callable[[BulkgenClient], Awaitable[T]]) -> T:
    async with BulkgenClient(server) as client:
        return await request(client)


def _fail(message: str) -> NoReturn:
    line = " ".join(message.split())
    error_console().print(Text.assemble(("error: ", "bold red"), line), soft_wrap=True)
    raise typer.Exit(1)


# --- other output ------------------------------------------------------------------------


def _print_created(console: Console, client: BulkgenClient, batch: Batch) -> None:
    config = batch.config
    console.print(
        Text.assemble(
            "Created batch ",
            (batch.id, "bold"),
            f": {config.count} {'valid ' if config.mode == 'valid' else ''}items on ",
            repr(config.topic),
        ),
        soft_wrap=True,
    )
    console.print(Text(f"  page:   {client.page_url(batch.id)}"), soft_wrap=True)
    console.print(Text(f"  stream: {client.stream_url(batch.id)}"), soft_wrap=True)
    console.print(
        Text(f"  watch:  bulkgen batch watch {batch.id} --server {client.base_url}"),
        soft_wrap=True,
    )


def _print_action(batch: Batch, as_json: bool) -> None:
    if as_json:
        typer.echo(batch.model_dump_json(indent=2))
        return
    progress = batch.progress
    output_console().print(
        Text.assemble(
            "Batch ",
            (batch.id, "bold"),
            " is ",
            status_text(batch.status),
            f" ({progress.completed} completed, {progress.failed} failed,"
            f" {progress.pending} pending of {progress.total})",
        ),
        soft_wrap=True,
    )


def _batches_table(batches: list[Batch]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    # Ids are what the other commands take: never shortened.
    table.add_column("id", no_wrap=True, min_width=len(batches[0].id) if batches else 0)
    table.add_column("title", overflow="ellipsis", no_wrap=True, max_width=30)
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("done", justify="right", no_wrap=True, min_width=6)
    table.add_column(
        "completed/\nfailed/\ntotal", justify="right", no_wrap=True, min_width=9, vertical="bottom"
    )
    table.add_column("started", no_wrap=True, min_width=5)
    for batch in batches:
        progress = batch.progress
        table.add_row(
            batch.id,
            Text(batch.title or batch.config.topic),
            status_text(batch.status),
            f"{progress.percent:.1f}%",
            f"{progress.completed}/{progress.failed}/{progress.total}",
            _when(batch.started_at, compact=True),
        )
    return table


def _valid_rows(batch: Batch) -> list[tuple[str, Text | str]]:
    """Mode valid: the target, the attempt cap and the replacements queued."""
    progress = batch.progress
    if progress.target_valid is None:
        return []
    return [
        ("mode", "valid"),
        ("valid", f"{progress.completed}/{progress.target_valid}"),
        ("replacements", str(progress.replacements)),
        ("attempt cap", str(progress.max_items)),
    ]


def _batch_details(batch: Batch) -> Table:
    config = batch.config
    options = config.generator_options
    progress = batch.progress
    done = progress.completed + progress.failed
    rows: list[tuple[str, Text | str]] = [
        ("id", batch.id),
        ("title", Text(batch.title or "—")),
        ("status", status_text(batch.status)),
        ("topic", Text(config.topic)),
        ("items", f"{config.count} {config.item_type.value}, {config.difficulty.value}"),
        ("generator", Text(config.generator + (f" ({config.model})" if config.model else ""))),
        ("concurrency", str(config.concurrency)),
        (
            "options",
            _options_text(options),
        ),
        *_valid_rows(batch),
        ("progress", f"{done}/{progress.total} ({progress.percent:.1f}%)"),
        ("completed", str(progress.completed)),
        ("failed", str(progress.failed)),
        ("in progress", str(progress.in_progress)),
        ("pending", str(progress.pending)),
        ("success rate", share(progress.success_rate)),
        ("throughput", rate(progress.throughput_per_min)),
        ("ETA", duration(progress.eta_seconds)),
        ("elapsed", duration(progress.elapsed_seconds)),
        ("created", _when(batch.created_at)),
        ("started", _when(batch.started_at)),
        ("finished", _when(batch.finished_at)),
        ("last event id", str(batch.last_event_id)),
    ]
    if batch.error:
        rows.append(("error", Text(batch.error, style="red")))
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    return table


def _items_table(found: list[Item]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("tries", justify="right", no_wrap=True)
    table.add_column("ms", justify="right", no_wrap=True, min_width=4)
    table.add_column("error", no_wrap=True, min_width=10)
    table.add_column("rules / message", overflow="fold", min_width=16, ratio=1)
    table.add_column("stem", overflow="ellipsis", no_wrap=True, max_width=40, ratio=1)
    for item in found:
        error = item.error
        detail = (
            error_detail(error.rules, error.message)
            if error is not None
            else Text(", ".join(w.rule for w in item.warnings), style="yellow")
        )
        table.add_row(
            str(item.index),
            status_text(item.status),
            str(len(item.attempts)),
            f"{item.duration_ms:.0f}" if item.duration_ms is not None else "—",
            Text(error.kind, style="red") if error is not None else "",
            detail,
            Text(item.result.stem if item.result is not None else ""),
        )
    return table


def _when(moment: datetime | None, *, compact: bool = False) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone()
    if not compact:
        return local.strftime("%Y-%m-%d %H:%M:%S")
    same_day = local.date() == datetime.now(local.tzinfo).date()
    return local.strftime("%H:%M" if same_day else "%Y-%m-%d")


def _options_text(options: DemoOptions | OpenAIOptions) -> str:
    """The generator options of a batch in one line."""
    if isinstance(options, OpenAIOptions):
        rate = options.requests_per_minute or "server default"
        objective = (
            f", objective {options.learning_objective!r}" if options.learning_objective else ""
        )
        return f"temperature {options.temperature}, {rate} requests/min{objective}"
    low, high = options.latency_ms
    return (
        f"seed {options.seed}, latency {low}–{high} ms,"
        f" fail rate {options.fail_rate}, invalid rate {options.invalid_rate}"
    )
