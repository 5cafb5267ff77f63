"""Schema rules: the item has the parts every other rule reads. They run first."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from bulkgen.generation.rules.registry import ERROR, Context, letters, rule
from bulkgen.models import GeneratedItem

MIN_OPTIONS, MAX_OPTIONS = 4, 5


@rule("schema.stem", ERROR, "The item has a non-empty stem.")
def _stem_present(item: GeneratedItem, _context: Context) -> Iterator[str]:
    if not item.stem.strip():
        yield "stem is empty"


@rule(
    "schema.options",
    ERROR,
    f"The item has {MIN_OPTIONS}–{MAX_OPTIONS} options, each with a key and a text, "
    "and no key twice.",
)
def _options_shape(item: GeneratedItem, _context: Context) -> Iterator[str]:
    count = len(item.options)
    if not MIN_OPTIONS <= count <= MAX_OPTIONS:
        yield f"item has {count} options; {MIN_OPTIONS} to {MAX_OPTIONS} are needed"
    for position, option in enumerate(item.options, start=1):
        if not option.key.strip():
            yield f"option {position} has no key"
        if not option.text.strip():
            yield f"option {option.key or position} has no text"
    repeated = [key for key, n in Counter(o.key for o in item.options).items() if n > 1 and key]
    if repeated:
        yield f"option keys used more than once: {letters(repeated)}"


@rule("schema.answer", ERROR, "The answer is exactly one key, and it names an option.")
def _answer_names_option(item: GeneratedItem, _context: Context) -> Iterator[str]:
    keys = [option.key for option in item.options]
    answer = item.answer.strip()
    if not answer:
        yield "answer key is missing"
    elif answer not in keys:
        named = [part for part in re.split(r"[\s,;/&+]+", answer) if part]
        if len(named) > 1:
            yield f"answer {answer!r} names {len(named)} options; exactly one is needed"
        else:
            yield f"answer {answer!r} names no option; the options are {letters(keys)}"


@rule("schema.rationale", ERROR, "The item explains its answer in a rationale.")
def _rationale_present(item: GeneratedItem, _context: Context) -> Iterator[str]:
    if not item.rationale.strip():
        yield "rationale is empty"
