"""Plain text: what a request's strings may not hold (NUL and other control characters but
tab and line breaks, unpaired surrogates), wherever in the body they are."""

from __future__ import annotations

from typing import Any

_CONTROL = frozenset(chr(code) for code in [*range(0x20), 0x7F]) - {"\t", "\n", "\r"}


def bad_text(value: Any, where: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str] | None:
    """Where ``value`` holds a string that is not plain text, and what is wrong with it."""
    if isinstance(value, str):
        if any(char in _CONTROL for char in value):
            return where, "text must not contain NUL or other control characters"
        if any("\ud800" <= char <= "\udfff" for char in value):
            return where, "text must be valid Unicode (it has an unpaired surrogate)"
        return None
    items: Any = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    for key, item in items:
        if isinstance(key, str) and (found := bad_text(key, where)) is not None:
            return found
        found = bad_text(item, (*where, key))
        if found is not None:
            return found
    return None
