"""``bulkgen batch …``: create, list, inspect and watch batches on a running server.

A thin layer over :class:`bulkgen.client.BulkgenClient`. Every failure ends with one line
on stderr and exit code 1. Anything the server returns may contain generated text, so it
is shown as :class:`rich.text.Text`, never parsed as markup.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import aclosing
from datetime import datetime
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from bulkgen.client import (
    BulkgenClient,
    ClientError,
    CompleteEvent,
    ItemEvent,
    ProgressEvent,
    StreamEvent,
)
from bulkgen.events import ITEM_FAILED
from bulkgen.models import (
    Batch,
    BatchStatus,
    Difficulty,
    Item,
    ItemStatus,
    ProgressSnapshot,
    RuleResult,
)

batch_app = typer.Typer(
    help="Create, list, show and watch batches on a running server.",
    no_args_is_help=True,
)

DEFAULT_SERVER = "http://127.0.0.1:8000"
BAR_WIDTH = 40

ServerOpt = Annotated[
    str,
    typer.Option("--server", envvar="BULKGEN_SERVER", help="URL of the bulkgen server"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts)")]
BatchIdArg = Annotated[str, typer.Argument(metavar="ID", help="The batch id")]

#: Batch and item statuses share names, and their colors.
STATUS_STYLES: dict[str, str] = {
    "queued": "dim",
    "pending": "dim",
    "running": "blue",
    "in_progress": "blue",
    "completed": "green",
    "cancelled": "yellow",
    "failed": "red",
}

T = TypeVar("T")


@batch_app.command()
def create(
    topic: Annotated[str, typer.Option(help="Topic of the items")],
    count: Annotated[int, typer.Option(help="Number of items (1–10000)")] = 20,
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
        "difficulty": difficulty.value,
        "concurrency": concurrency,
        "generator_options": {key: value for key, value in options.items() if value is not None},
    }
    if title is not None:
        body["title"] = title

    async def run() -> None:
        async with BulkgenClient(server) as client:
            batch = await client.create_batch(body)
            if as_json:
                typer.echo(batch.model_dump_json(indent=2))
            else:
                _print_created(_console(), client, batch)
            if watch:
                await _watch(client, batch.id, as_json)

    _run(run())


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
        console = _console()
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
    _console().print(_batch_details(batch))


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
    console = _console()
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
def retry(
    batch_id: BatchIdArg, server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False
) -> None:
    """Re-queue a batch's failed items and run it again."""
    batch = _run(_call(server, lambda client: client.retry(batch_id)))
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
            await _watch(client, batch_id, as_json)

    try:
        _run(run())
    except KeyboardInterrupt:
        _error_console().print("stopped watching; the batch goes on running on the server")
        raise typer.Exit(130) from None


# --- running -----------------------------------------------------------------------------


def _run(work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except ClientError as error:
        _fail(str(error))


async def _call(server: str, request: Callable[[BulkgenClient], Awaitable[T]]) -> T:
    async with BulkgenClient(server) as client:
        return await request(client)


def _fail(message: str) -> NoReturn:
    line = " ".join(message.split())
    _error_console().print(Text.assemble(("error: ", "bold red"), line), soft_wrap=True)
    raise typer.Exit(1)


def _console() -> Console:
    # Built per command, not at import, so it writes to whatever stdout is current.
    return Console(highlight=False)


def _error_console() -> Console:
    return Console(stderr=True, highlight=False)


# --- watch -------------------------------------------------------------------------------


async def _watch(client: BulkgenClient, batch_id: str, as_json: bool) -> None:
    batch = await client.get_batch(batch_id)
    view = _JsonWatch() if as_json else _WatchView(_console(), batch)
    final: ProgressSnapshot | None = None
    with view:
        events = client.events(batch_id, on_reconnect=view.reconnecting)
        async with aclosing(events) as stream:
            async for event in stream:
                view.show(event)
                if isinstance(event, CompleteEvent):
                    final = event.snapshot
    if final is None:
        # The server answered 204: the batch had already finished at our cursor.
        final = (await client.get_batch(batch_id)).progress
    view.finish(final)


class _JsonWatch:
    """Events as JSON lines, for scripts."""

    def __enter__(self) -> _JsonWatch:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        _error_console().print(
            Text(f"reconnecting… (attempt {attempt} in {delay:.1f}s: {reason})"),
            soft_wrap=True,
        )

    def show(self, event: StreamEvent) -> None:
        name, data = _event_payload(event)
        line = {"event": name, "id": event.id, "data": data.model_dump(mode="json")}
        typer.echo(json.dumps(line))

    def finish(self, snapshot: ProgressSnapshot) -> None:
        return None


class _WatchView:
    """A live progress display; plain lines when stdout is not a terminal."""

    def __init__(self, console: Console, batch: Batch) -> None:
        self._console = console
        self._batch = batch
        self._snapshot = batch.progress
        self._notice: Text | None = None
        self._live = (
            Live(self._render(), console=console, refresh_per_second=8, transient=False)
            if console.is_terminal
            else None
        )

    def __enter__(self) -> _WatchView:
        if self._live is not None:
            self._live.start()
        else:
            self._console.print(_batch_heading(self._batch))
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._live is not None:
            self._live.stop()

    def reconnecting(self, attempt: int, delay: float, reason: str) -> None:
        self._notice = Text(
            f"reconnecting… (attempt {attempt} in {delay:.1f}s: {reason})", style="yellow"
        )
        if self._live is None:
            self._console.print(self._notice, soft_wrap=True)
        self._refresh()

    def show(self, event: StreamEvent) -> None:
        self._notice = None
        if isinstance(event, ItemEvent):
            if event.name == ITEM_FAILED:
                self._console.print(_failure_line(event), soft_wrap=True)
        else:
            self._snapshot = event.snapshot
        self._refresh()

    def finish(self, snapshot: ProgressSnapshot) -> None:
        self._snapshot = snapshot
        self._console.print(_summary(self._batch, snapshot), soft_wrap=True)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._render())

    def _render(self) -> RenderableType:
        parts: list[RenderableType] = [
            _batch_heading(self._batch),
            _progress_line(self._snapshot),
            _counts_line(self._snapshot),
            _rate_line(self._snapshot),
        ]
        if self._notice is not None:
            parts.append(self._notice)
        return Group(*parts)


def _event_payload(event: StreamEvent) -> tuple[str, BaseModel]:
    if isinstance(event, ItemEvent):
        return event.name, event.item
    if isinstance(event, ProgressEvent):
        return "batch.progress", event.snapshot
    return "batch.complete", event.snapshot


def _batch_heading(batch: Batch) -> Text:
    label = batch.title or batch.config.topic
    return Text.assemble(("Batch ", "bold"), (batch.id, "bold"), " · ", label)


def _progress_line(snapshot: ProgressSnapshot) -> Text:
    """A bar with one segment per state, then finished/total and percent."""
    bar = Text()
    total = max(snapshot.total, 1)
    segments = [
        (snapshot.completed, "green"),
        (snapshot.failed, "red"),
        (snapshot.in_progress, "blue"),
    ]
    used = 0
    for amount, style in segments:
        width = round(BAR_WIDTH * amount / total)
        width = min(width, BAR_WIDTH - used)
        bar.append("█" * width, style=style)
        used += width
    bar.append("░" * (BAR_WIDTH - used), style="dim")
    done = snapshot.completed + snapshot.failed
    bar.append(f"  {done}/{snapshot.total}  {snapshot.percent:.1f}%")
    return bar


def _counts_line(snapshot: ProgressSnapshot) -> Text:
    return Text.assemble(
        ("completed ", "green"),
        str(snapshot.completed),
        "  ",
        ("in progress ", "blue"),
        str(snapshot.in_progress),
        "  ",
        ("failed ", "red"),
        str(snapshot.failed),
        "  ",
        ("pending ", "dim"),
        str(snapshot.pending),
    )


def _rate_line(snapshot: ProgressSnapshot) -> Text:
    return Text(
        f"throughput {_rate(snapshot.throughput_per_min)}  ETA {_duration(snapshot.eta_seconds)}"
        f"  elapsed {_duration(snapshot.elapsed_seconds)}  status {snapshot.status.value}"
    )


def _failure_line(event: ItemEvent) -> Text:
    item = event.item
    error = item.error
    kind = error.kind if error is not None else "unknown"
    return Text.assemble(
        ("✗ ", "red"),
        (f"item {item.index}", "bold"),
        "  ",
        (kind, "red"),
        "  ",
        _error_detail(error.rules if error else [], error.message if error else ""),
    )


def _summary(batch: Batch, snapshot: ProgressSnapshot) -> Text:
    return Text.assemble(
        ("Batch ", "bold"),
        (batch.id, "bold"),
        " ",
        _status_text(snapshot.status),
        f": {snapshot.completed} completed, {snapshot.failed} failed of {snapshot.total}",
        f" ({snapshot.percent:.1f}% finished) in {_duration(snapshot.elapsed_seconds)}",
        f"; success rate {_share(snapshot.success_rate)}",
        f", throughput {_rate(snapshot.throughput_per_min)}",
    )


# --- other output ------------------------------------------------------------------------


def _print_created(console: Console, client: BulkgenClient, batch: Batch) -> None:
    config = batch.config
    console.print(
        Text.assemble(
            "Created batch ",
            (batch.id, "bold"),
            f": {config.count} items on ",
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
    _console().print(
        Text.assemble(
            "Batch ",
            (batch.id, "bold"),
            " is ",
            _status_text(batch.status),
            f" ({progress.completed} completed, {progress.failed} failed,"
            f" {progress.pending} pending of {progress.total})",
        ),
        soft_wrap=True,
    )


def _batches_table(batches: list[Batch]) -> Table:
    table = Table(box=None, header_style="bold")
    table.add_column("id", no_wrap=True)
    table.add_column("title", overflow="ellipsis", max_width=30)
    table.add_column("status", no_wrap=True)
    table.add_column("progress", justify="right", no_wrap=True)
    table.add_column("completed/failed/total", justify="right", no_wrap=True)
    table.add_column("started", no_wrap=True)
    for batch in batches:
        progress = batch.progress
        table.add_row(
            batch.id,
            Text(batch.title or batch.config.topic),
            _status_text(batch.status),
            f"{progress.percent:.1f}%",
            f"{progress.completed}/{progress.failed}/{progress.total}",
            _when(batch.started_at),
        )
    return table


def _batch_details(batch: Batch) -> Table:
    config = batch.config
    options = config.generator_options
    progress = batch.progress
    done = progress.completed + progress.failed
    rows: list[tuple[str, Text | str]] = [
        ("id", batch.id),
        ("title", Text(batch.title or "—")),
        ("status", _status_text(batch.status)),
        ("topic", Text(config.topic)),
        ("items", f"{config.count} {config.item_type.value}, {config.difficulty.value}"),
        ("generator", Text(config.generator + (f" ({config.model})" if config.model else ""))),
        ("concurrency", str(config.concurrency)),
        (
            "options",
            f"seed {options.seed}, latency {options.latency_ms[0]}–{options.latency_ms[1]} ms,"
            f" fail rate {options.fail_rate}, invalid rate {options.invalid_rate}",
        ),
        ("progress", f"{done}/{progress.total} ({progress.percent:.1f}%)"),
        ("completed", str(progress.completed)),
        ("failed", str(progress.failed)),
        ("in progress", str(progress.in_progress)),
        ("pending", str(progress.pending)),
        ("success rate", _share(progress.success_rate)),
        ("throughput", _rate(progress.throughput_per_min)),
        ("ETA", _duration(progress.eta_seconds)),
        ("elapsed", _duration(progress.elapsed_seconds)),
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
    table = Table(box=None, header_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("attempts", justify="right", no_wrap=True)
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column("error", no_wrap=True)
    table.add_column("rules / message", overflow="fold")
    table.add_column("stem", overflow="ellipsis", max_width=40, no_wrap=True)
    for item in found:
        error = item.error
        detail = (
            _error_detail(error.rules, error.message)
            if error is not None
            else Text(", ".join(w.rule for w in item.warnings), style="yellow")
        )
        table.add_row(
            str(item.index),
            _status_text(item.status),
            str(len(item.attempts)),
            f"{item.duration_ms:.0f}" if item.duration_ms is not None else "—",
            Text(error.kind, style="red") if error is not None else "",
            detail,
            Text(item.result.stem if item.result is not None else ""),
        )
    return table


def _error_detail(rules: list[RuleResult], message: str) -> Text:
    """Rule ids for a validation failure, else the error's message."""
    if rules:
        return Text(", ".join(rule.rule for rule in rules))
    return Text(message)


def _status_text(status: BatchStatus | ItemStatus) -> Text:
    return Text(status.value, style=STATUS_STYLES.get(status.value, ""))


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment is not None else "—"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _rate(per_minute: float | None) -> str:
    return "—" if per_minute is None else f"{per_minute:.1f}/min"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
