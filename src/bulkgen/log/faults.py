"""Storage faults in words an operator can act on, and the SQLite file that must not vanish.

A write that fails (a full disk, a read-only file, a disk I/O error, a database server
that went away) is not a bug: the event log keeps what it was writing and tries again
(:mod:`bulkgen.log.eventlog`), and meanwhile the fault is shown where people look — the
readiness check, a ``503`` on every write, the progress of every running batch.
:func:`storage_problem` says what went wrong in one short phrase.

A SQLite file deleted or replaced while the server runs would go unnoticed: the open
connections keep writing to the deleted file, and the next start finds an empty
database. :class:`DatabaseFile` notices, and the writer stops before writing more into a
file nobody will ever read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DatabaseFile", "StorageFault", "storage_problem"]

#: Phrases of SQLite's and PostgreSQL's messages, and what they mean for an operator.
_MEANINGS = (
    (("database or disk is full", "no space left", "disk full"), "the disk is full"),
    (("readonly database", "read-only"), "the database is read-only"),
    (("disk i/o error", "input/output error"), "the disk reports an I/O error"),
    (("database is locked", "database is busy"), "the database is locked by another program"),
    (("unable to open database file",), "the database file cannot be opened"),
    (
        ("connection refused", "could not connect", "server closed the connection", "terminating"),
        "the database server cannot be reached",
    ),
)
_MAX_TEXT = 200


def storage_problem(error: BaseException) -> str:
    """What a database error means, in a short phrase ("the disk is full")."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip()
    lowered = text.casefold()
    for phrases, meaning in _MEANINGS:
        if any(phrase in lowered for phrase in phrases):
            return meaning
    first = text.splitlines()[0] if text else type(original).__name__
    return f"the database answered: {first[:_MAX_TEXT]}"


@dataclass(frozen=True, slots=True)
class StorageFault:
    """Writes are failing: why, and since when (epoch seconds)."""

    reason: str
    since: float


class DatabaseFile:
    """The SQLite file the server opened, checked for deletion or replacement."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._identity = self._stat()

    @classmethod
    def of(cls, url: str) -> DatabaseFile | None:
        """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
        if not url.startswith("sqlite"):
            return None
        database = url.split("///", 1)[-1]
        if not database or database == ":memory:":
            return None
        return cls(Path(database))

    def _stat(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.path)
        except OSError:
            return None
        return found.st_dev, found.st_ino

    def problem(self) -> str | None:
        """Why the file is no longer the one the server opened; None while it is."""
        now = self._stat()
        if now == self._identity:
            return None
        if now is None:
            return f"the database file {self.path} was deleted; restore it and restart bulkgen"
        return f"the database file {self.path} was replaced; restart bulkgen to open it"
