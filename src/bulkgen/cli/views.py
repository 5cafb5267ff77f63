"""How the ``bulkgen batch`` commands show batches and items in a terminal.

Anything the server returns may contain generated text, so it is shown as
:class:`rich.text.Text`, never parsed as markup.
"""

from __future__ import annotations

from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bulkgen.cli.format import duration, error_detail, output_console, rate, share, status_text
from bulkgen.client import BulkgenClient
from bulkgen.models import Batch, DemoOptions, Item, OpenAIOptions


def print_created(console: Console, client: BulkgenClient, batch: Batch) -> None:
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


def print_action(batch: Batch, as_json: bool) -> None:
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


def batches_table(batches: list[Batch]) -> Table:
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


def batch_details(batch: Batch) -> Table:
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
        *_cost_rows(batch),
    ]
    if batch.error:
        rows.append(("error", Text(batch.error, style="red")))
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    return table


def _cost_rows(batch: Batch) -> list[tuple[str, Text | str]]:
    """Delivery, tokens and estimated cost, for a batch of a model."""
    rows: list[tuple[str, Text | str]] = []
    if batch.config.generator == "openai":
        rows.append(("delivery", batch.config.delivery))
    usage = batch.usage
    if usage is not None:
        rows.append(
            (
                "tokens",
                f"{usage.total_tokens:,} ({usage.prompt_tokens:,} prompt, "
                f"{usage.completion_tokens:,} completion)",
            )
        )
    cost = batch.cost
    if cost is not None:
        each = (
            f", ${cost.per_valid_item_usd:.6f} per valid item"
            if cost.per_valid_item_usd is not None
            else ""
        )
        rows.append(("estimated cost", f"${cost.usd:.4f}{each}"))
    return rows


def items_table(found: list[Item]) -> Table:
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
