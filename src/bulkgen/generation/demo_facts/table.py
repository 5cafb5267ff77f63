"""A fact table (a subject, its columns and its rows, parsed from ``|``-separated lines)
and a :class:`Form`, one way of asking about a table's rows.

"What is the capital city of {country}?" asks forward, "{capital} is the capital of which
country?" in reverse, so the same facts give several distinct questions. Every form keeps
the varied part (the country, the element, the work) in the question itself, and few
other content words, so two stems of one form never look alike to duplicate detection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["Form", "Row", "Table", "not_a_word", "table"]

Row = Mapping[str, str]
# A symbol or name that is also an English function word ("He", "As", "In", "A") reads as
# that word to duplicate detection, so stems built on it would look alike.
_FUNCTION_WORDS = frozenset(
    {"a", "am", "an", "as", "at", "be", "by", "do", "he", "i", "if", "in", "is", "it"}
    | {"me", "my", "no", "of", "on", "or", "so", "to", "us", "we"}
)


def not_a_word(column: str) -> Callable[[Row], bool]:
    return lambda row: row[column].casefold() not in _FUNCTION_WORDS


@dataclass(frozen=True, slots=True)
class Form:
    """One way of asking about a table's rows; text fields are ``str.format`` templates
    over a row's columns (``{name}``, or ``{name_lc}`` with a lower-case first letter)."""

    table: str
    stem: str
    answer: str  # the column whose value is the answer
    why: str  # the sentence that explains the answer
    other: str = ""  # a clause on one distractor's row: "Madrid is the capital of Spain"
    note: str = ""  # the sentence on the distractors when they have no row of their own
    key: str = ""  # the column the stem asks about; rows sharing it give no distractors
    group: str = ""  # distractors come from rows with the same value here when enough do
    when: Callable[[Row], bool] | None = None


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
