"""A server's log lines: text for a terminal, or JSON lines for a log collector.

:func:`log_config` builds the :func:`logging.config.dictConfig` that uvicorn applies when
it starts (its ``log_config``), so uvicorn's own lines and bulkgen's share one format.
While a task works on one batch — the batch's run and its workers, a viewer's stream — it
names the batch with :func:`working_on`, and :class:`BatchContext` copies that name onto
every record the task logs, as ``batch_id`` (a field of its own in JSON lines).
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]

#: The batch the current task works on; tasks it starts inherit it.
BATCH_ID: ContextVar[str | None] = ContextVar("bulkgen_batch_id", default=None)

TEXT_FORMATS = {
    "default": "%(levelprefix)s %(message)s",  # uvicorn's own look
    "access": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
    "named": "%(levelprefix)s %(name)s: %(message)s",  # bulkgen and the libraries
}


def working_on(batch_id: str) -> None:
    """Name the batch the current task (and every task it starts later) works on."""
    BATCH_ID.set(batch_id)


class BatchContext(logging.Filter):
    """Adds ``batch_id`` to records logged while a task works on a batch."""

    def filter(self, record: logging.LogRecord) -> bool:
        batch_id = BATCH_ID.get()
        if batch_id is not None and not hasattr(record, "batch_id"):
            record.batch_id = batch_id
        return True


class Throttle(logging.Filter):
    """At most ``burst`` records of one kind (logger, level and message template) per
    ``window`` seconds; the first record of the next window says how many were dropped.

    A fault that repeats on every request or accept (a full disk, no file descriptors
    left) then costs a few lines a minute, not a log that grows by megabytes a second.
    """

    def __init__(self, burst: int = 10, window: float = 60.0) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        #: kind → (window start, records let through, records dropped)
        self._seen: dict[tuple[str, int, object], tuple[float, int, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, record.levelno, record.msg)
        now = time.monotonic()
        start, passed, dropped = self._seen.get(kind, (now, 0, 0))
        if now - start >= self.window:
            if dropped:
                record.msg = f"{record.msg} ({dropped} more like this were not logged)"
            start, passed, dropped = now, 0, 0
        if passed >= self.burst:
            self._seen[kind] = (start, passed, dropped + 1)
            return False
        if len(self._seen) > 10_000:
            self._seen.clear()  # bounded, whatever varies in the templates
        self._seen[kind] = (start, passed + 1, dropped)
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object per line: timestamp, level, logger, message and any extra fields."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
        # uvicorn repeats its message with terminal colours in ``color_message``.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


def log_config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """The logging setup of a server: uvicorn's loggers, bulkgen's, and the root logger.

    Libraries log at ``warning`` and up, unless ``level`` is stricter. The root logger is
    set up only when nothing else did it first, so an application that embeds bulkgen (or
    a test runner) keeps its own handlers for everything but uvicorn.
    """
    name = level.upper()
    formatters: dict[str, dict[str, Any]] = {}
    for role, fmt in TEXT_FORMATS.items():
        if log_format == "json":
            formatters[role] = {"()": json_formatter}
        else:
            kind = "AccessFormatter" if role == "access" else "DefaultFormatter"
            formatters[role] = {"()": f"uvicorn.logging.{kind}", "fmt": fmt, "use_colors": None}
    handlers = {
        role: {
            "class": "logging.StreamHandler",
            "formatter": role,
            # The access log has one line per request, by design: never throttled.
            "filters": ["batch"] if role == "access" else ["batch", "throttle"],
            # Like uvicorn: the access log on stdout, everything else on stderr.
            "stream": "ext://sys.stdout" if role == "access" else "ext://sys.stderr",
        }
        for role in formatters
    }
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"batch": {"()": BatchContext}, "throttle": {"()": Throttle}},
        "formatters": formatters,
        "handlers": handlers,
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": name, "propagate": False},
            "uvicorn.error": {"level": name},
            "uvicorn.access": {"handlers": ["access"], "level": name, "propagate": False},
            "bulkgen": {"level": name},
        },
    }
    if not logging.getLogger().handlers:
        libraries = max(logging.WARNING, logging.getLevelNamesMapping()[name])
        config["root"] = {"handlers": ["named"], "level": libraries}
    return config
