"""``options.overlapping_ranges``: numeric options must not overlap or contain each other.

Each option is read as at most one interval: a range ("10–20 mg", "between 10 and 20"),
a bound ("< 5", "more than 10", "at least 4") or a single value ("-70 mV"). Two ranges
or bounds overlap when some value fits both, shared end points included ("10–20" and
"20–30" both claim 20); a single value overlaps only a range or bound that contains it,
so a list of single values ("-90 mV", "-70 mV", "0 mV") never does.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from bulkgen.generation.rules.registry import ERROR, Context, quote, rule
from bulkgen.generation.rules.words import TEXT_CACHE
from bulkgen.models import GeneratedItem

_NUMBER = r"[-−]?\d+(?:[.,]\d+)?"
_UNIT = r"(?:\s*(?:%|(?!to\b|and\b)[a-zA-Zµμ/]+))?"
_RANGE = re.compile(
    rf"between\s+({_NUMBER}){_UNIT}\s+and\s+({_NUMBER})(?!\d)"
    rf"|(?<![\w.])({_NUMBER}){_UNIT}\s*(?:[–—-]|\bto\b)\s*({_NUMBER})(?!\d)",
    re.IGNORECASE,
)
_BELOW = re.compile(
    rf"(<=?|≤|less than|fewer than|below|under|up to|at most)\s*({_NUMBER})", re.IGNORECASE
)
_ABOVE = re.compile(
    rf"(>=?|≥|more than|greater than|above|over|at least)\s*({_NUMBER})", re.IGNORECASE
)
_OR_MORE = re.compile(rf"({_NUMBER})\s*\S*\s+or\s+(more|greater|above|less|fewer|below)\b")
_POINT = re.compile(rf"(?<![\w.])({_NUMBER})(?![\d])")
#: An option is read as a number only when few words of 4+ letters are left: "10–20 mg per
#: day" or "less than 5 mmHg", not "A p-value below 0.05 guarantees replication".
MAX_OTHER_WORDS = 2
_CLOSED = {"<=", "≤", "up to", "at most", ">=", "≥", "at least"}


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float
    low_closed: bool = True
    high_closed: bool = True
    point: bool = False

    def overlaps(self, other: Interval) -> str | None:
        """The values both intervals contain, in words, or None."""
        if self.point and other.point:
            return None
        low, high = max(self.low, other.low), min(self.high, other.high)
        if low == high and self.contains(low) and other.contains(low):
            return _format(low)
        if low >= high:
            return None
        if math.isinf(low):
            return f"any value below {_format(high)}"
        if math.isinf(high):
            return f"any value above {_format(low)}"
        return f"{_format(low)}–{_format(high)}"

    def contains(self, value: float) -> bool:
        above = value > self.low or (value == self.low and self.low_closed)
        below = value < self.high or (value == self.high and self.high_closed)
        return above and below


_DIGIT = re.compile(r"\d")


def _number(text: str) -> float:
    return float(text.replace("−", "-").replace(",", "."))


@functools.lru_cache(maxsize=TEXT_CACHE)
def interval(text: str) -> Interval | None:
    """The numeric interval an option states, if any."""
    if not _DIGIT.search(text):
        return None  # every interval has a number (most options have none)
    text = " ".join(text.split())
    if match := _RANGE.search(text):
        if _mostly_numeric(text, match):
            first, second = (match[1], match[2]) if match[1] else (match[3], match[4])
            low, high = sorted((_number(first), _number(second)))
            return Interval(low, high)
        return None
    found = next((m for p in (_BELOW, _ABOVE, _OR_MORE, _POINT) if (m := p.search(text))), None)
    if found is None or not _mostly_numeric(text, found):
        return None
    if match := _BELOW.search(text):
        return Interval(-math.inf, _number(match[2]), high_closed=match[1].lower() in _CLOSED)
    if match := _ABOVE.search(text):
        return Interval(_number(match[2]), math.inf, low_closed=match[1].lower() in _CLOSED)
    if match := _OR_MORE.search(text):
        value = _number(match[1])
        if match[2].lower() in {"more", "greater", "above"}:
            return Interval(value, math.inf)
        return Interval(-math.inf, value)
    if match := _POINT.search(text):
        value = _number(match[1])
        return Interval(value, value, point=True)
    return None


_UNIT_WORD = re.compile(r"(?:%|[^\W\d_]+(?:/[^\W\d_]+)?)")
_NOT_UNITS = frozenset(
    [
        "between",
        "and",
        "to",
        "or",
        "less",
        "fewer",
        "more",
        "greater",
        "than",
        "below",
        "under",
        "above",
        "over",
        "up",
        "at",
        "most",
        "least",
    ]
)


@functools.lru_cache(maxsize=TEXT_CACHE)
def unit(text: str) -> str:
    """The unit an option's number is given in ("mg", "µm", "%"), or "" when none."""
    words = [w for w in _UNIT_WORD.findall(text.casefold()) if w not in _NOT_UNITS]
    return words[-1] if words else ""


def _mostly_numeric(text: str, match: re.Match[str]) -> bool:
    rest = text[: match.start()] + " " + text[match.end() :]
    return len(re.findall(r"[^\W\d_]{4,}", rest)) <= MAX_OTHER_WORDS


def _format(value: float) -> str:
    return f"{value:g}"


@rule(
    "options.overlapping_ranges",
    ERROR,
    'No two numeric options overlap or contain each other ("10–20 mg" and "15–25 mg"; '
    '"< 5" and "< 10").',
    needs={"schema.options"},
)
def _ranges_do_not_overlap(item: GeneratedItem, _context: Context) -> Iterator[str]:
    read = [(option, interval(option.text), unit(option.text)) for option in item.options]
    for (first, one, one_unit), (second, other, other_unit) in combinations(read, 2):
        if one is None or other is None:
            continue
        if one_unit and other_unit and one_unit != other_unit:
            continue  # "10-100 nm" and "1-10 µm" are on different scales
        shared = one.overlaps(other)
        if shared is not None:
            yield (
                f"options {first.key} ({quote(first.text)}) and {second.key} "
                f"({quote(second.text)}) overlap: {shared} fits both; make the "
                "ranges mutually exclusive"
            )
