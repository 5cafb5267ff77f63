"""Who judges a generated item against the item-writing rules, and keeps its stem.

A :class:`Judge` runs the rules on an item and, when it passed, reserves its stem in the
run's near-duplicate index (:class:`~bulkgen.generation.validators.StemIndex`), so a later
item that repeats it fails. Items are judged in the order :meth:`Judge.judge` is called,
and a :meth:`Judge.withdraw` takes effect for every item judged after it: the index is
stateful, and that order is what keeps its verdicts the same wherever the rules run.

:class:`InlineJudge` runs the rules on the caller's thread (slots of distributed workers,
small batches); :mod:`bulkgen.generation.rule_process` runs them in a process of their
own, so a large batch's rules do not take the event loop's time.
"""

from __future__ import annotations

from typing import Protocol

from bulkgen.generation.validators import StemIndex, has_errors, validate_item
from bulkgen.models import GeneratedItem, RuleResult

#: What judging an item gives: the rules it broke, and its stem's key when it passed.
Verdict = tuple[list[RuleResult], str | None]


class Judge(Protocol):
    async def judge(self, label: str, item: GeneratedItem) -> Verdict:
        """The rules ``item`` breaks; a passing item's stem is kept under ``label``."""
        ...

    def withdraw(self, label: str) -> None:
        """Forget the stem kept under ``label`` (an item its blind review rejected)."""
        ...

    async def close(self) -> None:
        """The run is over: drop what the judge keeps for it."""
        ...


def judged(item: GeneratedItem, label: str, stems: StemIndex, topic: str | None) -> Verdict:
    """Judge ``item`` against ``stems`` (adding its stem when it passed): the one place
    where the rules run and the index grows, for both kinds of judge."""
    results = validate_item(item, stems=stems, topic=topic)
    key = None if has_errors(results) else stems.add(item.stem, label)
    return results, key


class InlineJudge:
    """The rules on the caller's thread, against an index held here."""

    def __init__(self, stems: StemIndex, topic: str | None) -> None:
        self.stems = stems
        self._topic = topic

    async def judge(self, label: str, item: GeneratedItem) -> Verdict:
        return judged(item, label, self.stems, self._topic)

    def withdraw(self, label: str) -> None:
        self.stems.withdraw(label)

    async def close(self) -> None:
        return None
