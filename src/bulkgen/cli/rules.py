"""``bulkgen rules …``: the item-writing rules, measured on a labelled corpus of items."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bulkgen.cli.format import error_console, output_console
from bulkgen.generation.rules.evaluation import CorpusError, Report, evaluate, read_corpus

DEFAULT_CORPUS = Path("tests/data/item_corpus.jsonl")

rules_app = typer.Typer(help="Check the item-writing rules.", no_args_is_help=True)


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else f"{part}/{whole}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def report_table(report: Report) -> Table:
    table = Table(title="Rules on the labelled corpus")
    for column in ("rule", "labelled", "fired", "true positives", "precision", "recall"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for score in report.rules:
        table.add_row(
            score.rule,
            str(score.labelled),
            str(score.fired),
            str(score.true_positives),
            _ratio(score.precision),
            _ratio(score.recall),
        )
    return table


@rules_app.command(name="eval")
def eval_command(
    corpus: Annotated[
        Path, typer.Option("--corpus", help="JSONL corpus of labelled items")
    ] = DEFAULT_CORPUS,
) -> None:
    """Measure each rule's precision and recall on a labelled corpus of items."""
    try:
        items = read_corpus(corpus)
    except OSError as error:
        error_console().print(
            f"[red]error:[/red] cannot read the corpus {corpus}: {error.strerror}"
        )
        raise typer.Exit(2) from None
    except CorpusError as error:
        error_console().print(f"[red]error:[/red] corpus {error}")
        raise typer.Exit(2) from None
    report = evaluate(items)
    out = output_console()
    out.print(report_table(report))
    out.print(
        f"flawed items caught (any error or warning): {_share(report.flawed_caught, report.flawed)}"
    )
    out.print(f"good items failed (any error): {_share(report.good_failed, report.good)}")
    if report.unknown_labels:
        out.print(f"labels that name no rule: {', '.join(report.unknown_labels)}")
