"""A fact table: a subject, its columns and its rows, parsed from ``|``-separated lines."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Table", "table"]


@dataclass(frozen=True, slots=True)
class Table:
    """One subject's facts: ``rows`` as dictionaries keyed by ``columns``."""

    subject: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


def table(subject: str, columns: str, text: str) -> Table:
    names = tuple(columns.split("|"))
    rows = []
    for line in text.strip().splitlines():
        fields = [field.strip() for field in line.split("|")]
        fields += [""] * (len(names) - len(fields))
        rows.append(dict(zip(names, fields, strict=True)))
    return Table(subject, names, tuple(rows))
