"""Rules on the rationale: long enough to explain, and readable after options are shuffled."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from bulkgen.generation.rules.registry import ERROR, Context, quote, rule
from bulkgen.models import GeneratedItem

MIN_RATIONALE_CHARS, MIN_RATIONALE_WORDS = 40, 6
_VERDICT = r"(?:the\s+)?(?:correct|incorrect|wrong|right|answer|best|key|false|true)\b"


@rule(
    "rationale.length",
    ERROR,
    f"The rationale has at least {MIN_RATIONALE_CHARS} characters and {MIN_RATIONALE_WORDS} words.",
    needs={"schema.rationale"},
)
def _rationale_length(item: GeneratedItem, _context: Context) -> Iterator[str]:
    chars, words = len(item.rationale.strip()), len(item.rationale.split())
    if chars < MIN_RATIONALE_CHARS or words < MIN_RATIONALE_WORDS:
        yield (
            f"rationale has {chars} characters and {words} words; at least "
            f"{MIN_RATIONALE_CHARS} characters and {MIN_RATIONALE_WORDS} words are needed"
        )


@functools.lru_cache(maxsize=64)
def _standalone_key(keys: tuple[str, ...]) -> re.Pattern[str]:
    """One of the keys as a word of its own: what every letter pattern needs first."""
    key = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{key})(?![\w-])")


@functools.lru_cache(maxsize=64)
def _letter_patterns(keys: tuple[str, ...]) -> list[re.Pattern[str]]:
    """How a rationale names an option by its key: "Option B", "(C) is wrong", "A is the
    answer", "The answer is D."."""
    key = "(?:" + "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)) + ")"
    return [
        re.compile(
            rf"\b(?i:options?|choices?|answers?|responses?|alternatives?)\s+\(?{key}\)?(?![\w-])"
        ),
        re.compile(rf"(?<![\w(])\({key}\)"),
        re.compile(
            rf"(?:^|(?<=[.;:!?,]\s)|(?<=\band\s)|(?<=\bso\s))\(?{key}\)?\s+(?i:is|was|are)\s+"
            rf"(?i:{_VERDICT})"
        ),
        re.compile(rf"\b(?i:answer|key)\s+(?i:is|was)\s+\(?{key}\)?(?=[.,;:!)]|\s*$)"),
    ]


@rule(
    "rationale.option_letters",
    ERROR,
    'The rationale names options by their text, not their letter ("Option B is correct"): '
    "the Moodle and QTI exports shuffle the options.",
    needs={"schema.rationale", "schema.options"},
)
def _rationale_names_no_letter(item: GeneratedItem, _context: Context) -> Iterator[str]:
    keys = tuple(option.key for option in item.options if option.key)
    if not keys:
        return
    if not _standalone_key(keys).search(item.rationale):
        return  # every way of naming an option by letter has the letter as a word
    matches = (m for pattern in _letter_patterns(keys) for m in pattern.finditer(item.rationale))
    found = sorted({match.start(): match.group() for match in matches}.items())
    if found:
        named = ", ".join(quote(text, 30) for _, text in found)
        yield (
            f"the rationale names options by letter ({named}); exports shuffle the options, "
            "so refer to each option by its text"
        )
