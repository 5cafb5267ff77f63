"""What the new-batch form says about a wrong field, in the words of the person filling it.

The API's 422 keeps pydantic's messages (they are part of its contract); the form turns
each problem into a sentence that says what to enter instead, naming the field's bounds:
"Ask for at most 10,000 items in one batch.", not "Input should be less than or equal to
10000". A problem with no sentence of its own gets a plain one for its kind.
"""

from __future__ import annotations

import re
from typing import Any

from bulkgen.models.config import (
    MAX_CONCURRENCY,
    MAX_COUNT,
    MAX_LATENCY_MS,
    MAX_REQUESTS_PER_MINUTE,
)

#: What each form field asks for, as the end of "Enter …".
_ASKS = {
    "topic": "a topic: what the questions are about",
    "count": f"how many items to generate, from 1 to {MAX_COUNT:,}",
    "concurrency": f"how many items to generate at a time, from 1 to {MAX_CONCURRENCY}",
    "seed": "a whole number (the same seed gives the same items)",
    "latency_min": f"a time in milliseconds from 0 to {MAX_LATENCY_MS:,}",
    "latency_max": f"a time in milliseconds from 0 to {MAX_LATENCY_MS:,}",
    "fail_rate": "a share from 0 to 1, for example 0.1 for one item in ten",
    "invalid_rate": "a share from 0 to 1, for example 0.1 for one item in ten",
    "markup_rate": "a share from 0 to 1, for example 0.1 for one item in ten",
    "temperature": "a number from 0 to 2 (higher gives more varied questions)",
    "requests_per_minute": (
        f"a whole number from 1 to {MAX_REQUESTS_PER_MINUTE:,}, or leave it empty"
    ),
}
#: Text fields by what the form calls them.
_NAMES = {
    "topic": "the topic",
    "title": "the title",
    "model": "the model name",
    "review_model": "the review model's name",
    "learning_objective": "the learning objective",
}
_CHOICES = ("item_type", "difficulty", "mode", "generator")
_BOUNDS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")
_LAST_NUMBER = re.compile(r"(-?\d[\d,]*(?:\.\d+)?)\D*$")
_ATTEMPT_CAP = re.compile(r"between count \((\d+)\) and (\d+)")


def plain_message(field: str, problem: Any) -> str:
    """The sentence the form shows next to ``field`` for one pydantic ``problem``."""
    kind = str(problem.get("type", ""))
    raw = str(problem.get("msg", "")).removeprefix("Value error, ")
    special = _special(field, kind, raw)
    if special is not None:
        return special
    if field in _CHOICES or kind in ("enum", "literal_error"):
        return "Choose one of the options in the list."
    if kind == "string_too_short":
        return f"Enter {_ASKS.get(field, 'something here')}."
    if kind == "string_too_long":
        return f"Shorten this to {_last_number(raw)} characters or fewer."
    if kind in _BOUNDS:
        if field in _ASKS:
            return f"Enter {_ASKS[field]}."
        return _bound(kind, _last_number(raw))
    return _sentence(raw)


def _special(field: str, kind: str, raw: str) -> str | None:
    """Problems whose general wording would not tell the user what to do."""
    if field in _NAMES and kind == "string_too_long":
        return f"Shorten {_NAMES[field]} to {_last_number(raw)} characters or fewer."
    if field == "latency_max" and "min <= max" in raw:
        return "Make the longest latency at least as long as the shortest."
    if field == "max_items" and "only allowed with mode" in raw:
        return "An attempt cap is for “N valid items” only: leave it empty, or choose that mode."
    if field == "max_items":
        found = _ATTEMPT_CAP.search(raw)
        if found:
            low, high = (int(n) for n in found.groups())
            return f"Enter an attempt cap from {low:,} (the number of items) to {high:,}."
    if kind == "review_unavailable":
        return (
            "Blind review needs a model: it is available with the OpenAI-compatible generator only."
        )
    if "control characters" in raw:
        return "Remove the invisible control characters from this text."
    if "unpaired surrogate" in raw:
        return "This text has a broken character; type it again."
    return None


def _bound(kind: str, number: str) -> str:
    return {
        "greater_than": f"Enter a number above {number}.",
        "greater_than_equal": f"Enter {number} or more.",
        "less_than": f"Enter a number below {number}.",
        "less_than_equal": f"Enter {number} or less.",
    }[kind]


def _last_number(text: str) -> str:
    found = _LAST_NUMBER.search(text)
    return found.group(1) if found else "fewer"


def _sentence(text: str) -> str:
    text = text.strip() or "Check this value"
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
