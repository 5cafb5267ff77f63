"""The rule registry: what a rule is, how checks register, and the text helpers they share.

A check is a generator of messages, one per problem it finds. It registers with
:func:`rule`, naming the schema rules whose failure makes it meaningless (``needs``);
the order of registration is the order rules run and report in.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bulkgen.generation.rules.similar import StemIndex
from bulkgen.models import GeneratedItem, Severity

ERROR, WARNING = Severity.ERROR, Severity.WARNING
#: What rules that compare the answer with the distractors need: options and a valid key.
WELL_FORMED = frozenset({"schema.options", "schema.answer"})

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class Rule:
    """An item-writing rule as docs and tests list it."""

    id: str
    severity: Severity
    description: str


@dataclass(frozen=True, slots=True)
class Context:
    """What rules may know beyond the item: the stems passed before it (its batch's, and
    the owner's earlier batches' on the same topic) and its batch's topic."""

    stems: StemIndex | None
    topic: str | None


Check = Callable[[GeneratedItem, Context], Iterator[str]]
CHECKS: list[tuple[Rule, frozenset[str], Check]] = []


def rule(
    rule_id: str, severity: Severity, description: str, *, needs: Iterable[str] = ()
) -> Callable[[Check], Check]:
    """Register a check; it is skipped when any schema rule in ``needs`` failed."""

    def register(check: Check) -> Check:
        CHECKS.append((Rule(rule_id, severity, description), frozenset(needs), check))
        return check

    return register


def letters(keys: Iterable[str]) -> str:
    return ", ".join(keys) or "none"


def quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def sentences(text: str) -> list[str]:
    return _SENTENCE_END.split(text.strip())


@functools.lru_cache(maxsize=1 << 16)
def lead_in(stem: str) -> str:
    """The question itself: the last sentence with a "?", else the last sentence.

    A vignette may say a patient "has never smoked"; only the question's own wording
    changes what the reader must pick.
    """
    parts = sentences(stem)
    questions = [sentence for sentence in parts if "?" in sentence]
    return questions[-1] if questions else parts[-1]


def answer_text(item: GeneratedItem) -> str:
    """The text of the option the answer names (the item is well formed)."""
    answer = item.answer
    for option in item.options:  # a loop, not next() over a generator: rules call it often
        if option.key == answer:
            return option.text
    raise StopIteration  # as next() did: callers only ask of well-formed items
