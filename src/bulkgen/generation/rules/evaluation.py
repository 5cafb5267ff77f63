"""How well the rules find the flaws a labelled corpus of items was written to contain.

A corpus is JSON lines, one labelled item a line::

    {"id": "c-001", "subject": "cardiology", "flaws": ["options.combination"],
     "note": "…", "item": {"stem": …, "options": […], "answer": "B", "rationale": …}}

``flaws`` lists the rule ids the item was written to break (empty for a good item). Per
rule, the report counts the items labelled with it, the items it fired on and the items
both (true positives); overall, how many flawed items any rule caught (error or warning)
and how many good items an error rule failed.

A corpus of stem pairs measures the duplicate rules the same way, one pair a line::

    {"id": "p-001", "subject": "chemistry", "kind": "number", "duplicate": true,
     "first": "What is the pH of a 0.01 M …?", "second": "What is the pH of a 0.001 M …?"}

The first stem is indexed, the second looked up: a match is a pair found to be a repeat.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from bulkgen.generation.rules import RULES, has_errors, validate_item
from bulkgen.generation.rules.similar import THRESHOLD, StemIndex
from bulkgen.models import GeneratedItem

__all__ = [
    "CorpusError",
    "LabelledItem",
    "PairScore",
    "Report",
    "RuleScore",
    "StemPair",
    "evaluate",
    "read_corpus",
    "read_pairs",
    "score_pairs",
]


_Line = TypeVar("_Line", bound=BaseModel)


class LabelledItem(BaseModel):
    """One corpus line: an item and the flaws it was written to contain."""

    id: str
    subject: str = ""
    flaws: list[str] = Field(default_factory=list)
    note: str = ""
    item: GeneratedItem


@dataclass(frozen=True, slots=True)
class RuleScore:
    """One rule against the corpus's labels."""

    rule: str
    labelled: int
    fired: int
    true_positives: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.fired if self.fired else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.labelled if self.labelled else None


@dataclass(frozen=True, slots=True)
class Report:
    """Per-rule scores (every rule, then any label no rule has) and the overall figures."""

    rules: list[RuleScore]
    flawed: int
    flawed_caught: int
    good: int
    good_failed: int

    @property
    def unknown_labels(self) -> list[str]:
        return [score.rule for score in self.rules if score.rule not in RULES]


class CorpusError(ValueError):
    """A corpus line that is not a labelled item; the message names the line."""


def read_corpus(path: Path) -> list[LabelledItem]:
    """The labelled items of a JSONL corpus; blank lines are skipped."""
    return _read_lines(path, LabelledItem)


def _read_lines(path: Path, model: type[_Line]) -> list[_Line]:
    lines: list[_Line] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines.append(model.model_validate_json(line))
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "line"
            raise CorpusError(f"{path}:{number}: {where}: {problem['msg']}") from None
    return lines


class StemPair(BaseModel):
    """One line of the stem-pair corpus: two stems and whether they ask the same thing."""

    id: str
    subject: str = ""
    kind: str = ""
    duplicate: bool
    first: str
    second: str


def read_pairs(path: Path) -> list[StemPair]:
    """The labelled pairs of a JSONL stem-pair corpus; blank lines are skipped."""
    return _read_lines(path, StemPair)


@dataclass(frozen=True, slots=True)
class PairScore:
    """The duplicate rules on a pair corpus at one threshold; ``missed`` and ``wrong`` name
    the duplicates not found and the distinct pairs taken for repeats."""

    threshold: float
    found: int
    missed: list[str]
    wrong: list[str]

    @property
    def precision(self) -> float:
        flagged = self.found + len(self.wrong)
        return self.found / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        duplicates = self.found + len(self.missed)
        return self.found / duplicates if duplicates else 1.0


def score_pairs(pairs: Iterable[StemPair], threshold: float = THRESHOLD) -> PairScore:
    """Index each pair's first stem alone and look up its second."""
    found = 0
    missed: list[str] = []
    wrong: list[str] = []
    for pair in pairs:
        index = StemIndex(threshold)
        index.add(pair.first, pair.id)
        flagged = index.find(pair.second) is not None
        if flagged and pair.duplicate:
            found += 1
        elif pair.duplicate:
            missed.append(pair.id)
        elif flagged:
            wrong.append(pair.id)
    return PairScore(threshold, found, missed, wrong)


def evaluate(items: Iterable[LabelledItem]) -> Report:
    """Run every rule on every item (alone: no batch, no topic) and score it by the labels."""
    labelled: dict[str, int] = dict.fromkeys(RULES, 0)
    fired: dict[str, int] = dict.fromkeys(RULES, 0)
    hits: dict[str, int] = dict.fromkeys(RULES, 0)
    flawed = flawed_caught = good = good_failed = 0
    for entry in items:
        results = validate_item(entry.item, topic=None)
        found, labels = {r.rule for r in results}, set(entry.flaws)
        for rule in labels:
            labelled[rule] = labelled.get(rule, 0) + 1
        for rule in found:
            fired[rule] += 1
        for rule in found & labels:
            hits[rule] += 1
        if labels:
            flawed += 1
            flawed_caught += bool(results)
        else:
            good += 1
            good_failed += has_errors(results)
    scores = [
        RuleScore(rule, labelled[rule], fired.get(rule, 0), hits.get(rule, 0)) for rule in labelled
    ]
    return Report(scores, flawed, flawed_caught, good, good_failed)
