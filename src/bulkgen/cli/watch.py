"""``bulkgen batch watch``: follow a batch live, as a progress display or as JSON lines.

The display redraws in place on a terminal and prints plain lines when stdout is piped;
``--json`` prints one event per line. Anything the server returns may contain generated
text, so it is shown as :class:`rich.text.Text`, never parsed as markup.
"""

from __future__ import annotations

import json
from contextlib import aclosing
from datetime import UTC, datetime

import typer
from pydantic import BaseModel
from rich.console import Console, Group, RenderableType
from rich.live import Live
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
from bulkgen.client import (
    BulkgenClient,
    CompleteEvent,
    ControlEvent,
    ItemEvent,
    ProgressEvent,
    StreamEvent,
)
from bulkgen.events import ItemFailed
from bulkgen.models import Batch, ProgressSnapshot

BAR_WIDTH = 40


async def watch_batch(
    client: BulkgenClient, batch_id: str, as_json: bool, *, after: int | None = None
) -> None:
    batch = await client.get_batch(batch_id)
    view = _JsonWatch() if as_json else _WatchView(output_console(), batch)
    final: ProgressSnapshot | None = None
    with view:
        events = client.events(batch_id, after=after, on_reconnect=view.reconnecting)
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
        error_console().print(
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
            if event.name == ItemFailed.name:
                self._console.print(_failure_line(event), soft_wrap=True)
        else:
            snapshot = event.event.snapshot if isinstance(event, ControlEvent) else event.snapshot
            was_paused = self._snapshot.pause is not None
            self._snapshot = snapshot
            state = state_line(snapshot)
            if self._live is None and state is not None and not was_paused:
                self._console.print(state, soft_wrap=True)  # no live view: say it once
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
        state = state_line(self._snapshot)
        if state is not None:
            parts.append(state)
        if self._notice is not None:
            parts.append(self._notice)
        return Group(*parts)


def _event_payload(event: StreamEvent) -> tuple[str, BaseModel]:
    if isinstance(event, ItemEvent):
        return event.name, event.item
    if isinstance(event, ControlEvent):
        return event.name, event.event
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
        f"throughput {rate(snapshot.throughput_per_min)}  ETA {duration(snapshot.eta_seconds)}"
        f"  elapsed {duration(snapshot.elapsed_seconds)}  status {snapshot.status.value}"
    )


def state_line(snapshot: ProgressSnapshot, now: datetime | None = None) -> Text | None:
    """Why a batch is not moving: paused (and why), stalled, or held back by the provider."""
    if snapshot.pause is not None:
        reason = {"early_stop": "early stop", "quota": "daily quota"}.get(
            snapshot.pause.reason, "paused by hand"
        )
        return Text(f"paused ({reason}): {snapshot.pause.message}", style="yellow")
    at = now or datetime.now(UTC)
    notes: list[str] = []
    if snapshot.stalled and snapshot.last_finished_at is not None:
        since = (at - snapshot.last_finished_at).total_seconds()
        notes.append(f"stalled: no item finished for {duration(since)}")
    if snapshot.backoff_until is not None:
        notes.append(f"provider asked to wait until {snapshot.backoff_until:%H:%M:%S} UTC")
    return Text("  ".join(notes), style="yellow") if notes else None


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
        error_detail(error.rules if error else [], error.message if error else ""),
    )


def _summary(batch: Batch, snapshot: ProgressSnapshot) -> Text:
    return Text.assemble(
        ("Batch ", "bold"),
        (batch.id, "bold"),
        " ",
        status_text(snapshot.status),
        f": {snapshot.completed} completed, {snapshot.failed} failed of {snapshot.total}",
        f" ({snapshot.percent:.1f}% finished) in {duration(snapshot.elapsed_seconds)}",
        f"; success rate {share(snapshot.success_rate)}",
        f", throughput {rate(snapshot.throughput_per_min)}",
    )
