"""Consoles and small text formatters shared by the ``bulkgen batch`` commands and watch.

Anything the server returns may contain generated text, so it is shown as
:class:`rich.text.Text`, never parsed as markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from bulkgen.models import BatchStatus, ItemStatus, RuleResult

PIPE_WIDTH = 200

#: Batch and item statuses share names, and their colors.
STATUS_STYLES: dict[str, str] = {
    "queued": "dim",
    "pending": "dim",
    "running": "blue",
    "paused": "yellow",
    "in_progress": "blue",
    "completed": "green",
    "cancelled": "yellow",
    "failed": "red",
}


def output_console() -> Console:
    # Built per command, not at import, so it writes to whatever stdout is current.
    console = Console(highlight=False)
    if not console.is_terminal:
        # Piped output is read by scripts and greps: never cut ids or messages to 80 columns.
        console.width = PIPE_WIDTH
    return console


def error_console() -> Console:
    return Console(stderr=True, highlight=False)


def status_text(status: BatchStatus | ItemStatus) -> Text:
    return Text(status.value, style=STATUS_STYLES.get(status.value, ""))


def error_detail(rules: list[RuleResult], message: str) -> Text:
    """Rule ids for a validation failure, else the error's message."""
    if rules:
        return Text(", ".join(rule.rule for rule in rules))
    return Text(message)


def duration(seconds: float | None) -> str:
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


def rate(per_minute: float | None) -> str:
    return "—" if per_minute is None else f"{per_minute:.1f}/min"


def share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
