"""The rules measured on a labelled corpus: per-rule scores, overall figures and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bulkgen.cli import app
from bulkgen.generation.rules.evaluation import (
    CorpusError,
    LabelledItem,
    evaluate,
    read_corpus,
)
from bulkgen.models import GeneratedItem, Option

SAMPLE = Path(__file__).parent / "data" / "rules_sample.jsonl"
RATIONALE = "The beta cells of the pancreatic islets secrete insulin; the others do not make it."


def labelled(
    flaws: list[str], *texts: str, stem: str = "Which organ produces insulin?"
) -> LabelledItem:
    options = [Option(key=key, text=text) for key, text in zip("ABCD", texts, strict=False)]
    item = GeneratedItem(stem=stem, options=options, answer="B", rationale=RATIONALE)
    return LabelledItem(id="x", flaws=flaws, item=item)


def test_scores_count_labels_firings_and_true_positives() -> None:
    good = labelled([], "The liver", "The pancreas", "The spleen", "The kidney")
    caught = labelled(
        ["options.all_none_of_the_above"],
        "The liver",
        "The pancreas",
        "The spleen",
        "None of the above",
    )
    missed = labelled(["options.near_duplicate"], "Liver", "The pancreas", "Spleen", "Kidney")
    false_alarm = labelled([], "The liver", "The pancreas", "The spleen", "All of the above")
    report = evaluate([good, caught, missed, false_alarm])
    scores = {score.rule: score for score in report.rules}
    catch_all = scores["options.all_none_of_the_above"]
    assert (catch_all.labelled, catch_all.fired, catch_all.true_positives) == (1, 2, 1)
    assert catch_all.precision == 0.5 and catch_all.recall == 1.0
    assert scores["options.near_duplicate"].recall == 0.0
    assert scores["stem.duplicate"].precision is None and scores["stem.duplicate"].recall is None
    assert (report.flawed, report.flawed_caught) == (2, 1)
    assert (report.good, report.good_failed) == (2, 1)


def test_a_label_no_rule_has_is_reported() -> None:
    entry = labelled(["options.heterogeneous"], "The liver", "The pancreas", "The spleen", "Kidney")
    report = evaluate([entry])
    assert report.unknown_labels == ["options.heterogeneous"]


def test_the_sample_corpus_is_caught_and_its_good_items_pass() -> None:
    items = read_corpus(SAMPLE)
    assert len(items) >= 15
    report = evaluate(items)
    assert report.flawed_caught == report.flawed
    assert report.good_failed == 0
    for score in report.rules:
        if score.labelled:
            assert score.recall == 1.0, score


def test_a_bad_corpus_line_names_the_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(SAMPLE.read_text().splitlines()[0] + "\n\n" + json.dumps({"id": "y"}) + "\n")
    with pytest.raises(CorpusError, match=r"corpus.jsonl:3: item: Field required"):
        read_corpus(corpus)


def test_cli_prints_the_table_and_the_overall_figures() -> None:
    result = CliRunner().invoke(app, ["rules", "eval", "--corpus", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "options.overlapping_ranges" in result.output
    assert "precision" in result.output and "recall" in result.output
    assert "flawed items caught (any error or warning): 13/13 (100%)" in result.output
    assert "good items failed (any error): 0/5 (0%)" in result.output


def test_cli_reads_the_default_corpus_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = CliRunner().invoke(app, ["rules", "eval"])
    assert missing.exit_code == 2
    (tmp_path / "tests" / "data").mkdir(parents=True)
    (tmp_path / "tests" / "data" / "item_corpus.jsonl").write_text(SAMPLE.read_text())
    assert CliRunner().invoke(app, ["rules", "eval"]).exit_code == 0
