"""The item-writing rules against the labelled corpus (``tests/data/item_corpus.jsonl``).

The goal: at least 90 % of the flawed items are caught (an error or a warning) and at
most 5 % of the good items fail. Each rule keeps a floor for its precision and recall, set
just under what it measures today, so a change that makes a rule worse fails here;
``bulkgen rules eval`` prints the whole table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkgen.generation.rules.evaluation import Report, evaluate, read_corpus

CORPUS = Path(__file__).resolve().parent / "data" / "item_corpus.jsonl"

#: rule -> (precision floor, recall floor). One item carries one label, so a rule that
#: rightly fires beside another's label (a lower-case negative lead-in is both
#: unemphasised and negative) counts against its precision.
FLOORS = {
    "options.all_none_of_the_above": (1.0, 1.0),
    "options.combination": (1.0, 1.0),
    "options.near_duplicate": (0.9, 0.5),
    "options.vague_frequency": (0.9, 0.9),
    "options.overlapping_ranges": (0.9, 0.8),
    "stem.no_lead_in": (0.9, 0.9),
    "stem.negative_emphasis": (0.8, 0.9),
    "stem.negative_lead_in": (0.45, 0.9),
    "rationale.option_letters": (1.0, 1.0),
    "answer.longest": (0.9, 0.9),
    "distractors.absolute_terms": (0.9, 0.9),
    "options.grammatical_cue": (0.9, 0.9),
    "answer.word_repeat": (0.6, 0.9),
    "answer.convergence": (0.5, 0.5),
}


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(read_corpus(CORPUS))


def test_the_corpus_is_large_and_varied() -> None:
    items = read_corpus(CORPUS)
    assert len(items) >= 150
    assert len({item.subject for item in items}) >= 8
    good = [item for item in items if not item.flaws]
    assert len(good) >= 75 and len(items) - len(good) >= 75


def test_the_goal_flawed_items_caught_and_good_items_pass(report: Report) -> None:
    assert report.flawed_caught / report.flawed >= 0.90
    assert report.good_failed / report.good <= 0.05


def test_every_label_names_a_rule(report: Report) -> None:
    assert report.unknown_labels == []


@pytest.mark.parametrize("rule", sorted(FLOORS))
def test_each_rule_keeps_its_precision_and_recall(report: Report, rule: str) -> None:
    score = next(score for score in report.rules if score.rule == rule)
    precision_floor, recall_floor = FLOORS[rule]
    assert score.labelled >= 5, f"{rule}: too few labelled items to measure"
    assert score.precision is not None and score.precision >= precision_floor, score
    assert score.recall is not None and score.recall >= recall_floor, score
