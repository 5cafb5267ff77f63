"""The plain-text formats: JSON Lines (one object per item) and CSV (one row per item).

JSON Lines keeps the generator's option keys, as the items API shows them; CSV gives each
option a lettered column and names the answer by its letter. Generated text is untrusted:
a CSV cell that a spreadsheet would run as a formula (or that hides one behind a control
character) gets a leading ``'``. Lone surrogates, which UTF-8 cannot encode, become ``?``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from bulkgen.export.questions import Question, choice_letter
from bulkgen.models import Batch

__all__ = ["CSV_OPTION_COLUMNS", "FORMULA_PREFIXES", "neutralise_formula", "to_csv", "to_jsonl"]

#: Cells a spreadsheet would read as a formula (or that hide one behind a control character).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A sign, a number, then at most words and spaces: no operator, bracket, quote or
# separator a formula needs.
_SIGNED_NUMBER = re.compile(r"[+-]\d+(?:[.,]\d+)?(?: +[^\W\d_][^\W_]*)*")
#: Option columns of the CSV; more appear only for an item with more options.
CSV_OPTION_COLUMNS = 5


def to_jsonl(batch: Batch, questions: Sequence[Question]) -> bytes:
    """One JSON object per line: index, stem, options, answer, rationale, warnings, …

    Options and answer keep the generator's keys, as the items API shows them.
    """
    config = batch.config
    per_item = batch.cost.per_valid_item_usd if batch.cost is not None else None
    lines = []
    for question in questions:
        record: dict[str, Any] = {
            "index": question.index,
            "stem": question.stem,
            "options": [
                {"key": key, "text": text}
                for key, (_, text) in zip(question.keys, question.choices, strict=True)
            ],
            "answer": question.answer_key,
            "rationale": question.rationale,
            "warnings": list(question.warnings),
            "topic": config.topic,
            "difficulty": config.difficulty.value,
            "tokens": question.tokens,
            "batch_cost_per_valid_item_usd": per_item,
        }
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return _utf8("".join(lines))


def to_csv(batch: Batch, questions: Sequence[Question]) -> bytes:
    """RFC 4180 CSV with a header row; the answer is the letter of its option column."""
    width = max([CSV_OPTION_COLUMNS, *(len(q.choices) for q in questions)])
    option_columns = [f"option_{choice_letter(i).lower()}" for i in range(width)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "index", "stem", *option_columns, "answer", "rationale", "topic", "difficulty",
            "warnings", "tokens", "batch_cost_per_valid_item_usd",
        ]
    )  # fmt: skip
    topic = neutralise_formula(batch.config.topic)
    per_item = batch.cost.per_valid_item_usd if batch.cost is not None else None
    cost_cell = "" if per_item is None else f"{per_item:.6f}"
    for q in questions:
        options = [text for _, text in q.choices]
        options += [""] * (width - len(options))
        writer.writerow(
            [
                q.index,
                neutralise_formula(q.stem),
                *(neutralise_formula(text) for text in options),
                q.correct,
                neutralise_formula(q.rationale),
                topic,
                batch.config.difficulty.value,
                "; ".join(w["rule"] for w in q.warnings),
                q.tokens,
                cost_cell,
            ]
        )
    return _utf8(out.getvalue())


def neutralise_formula(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would evaluate (CSV/formula injection).

    A signed number, alone or followed by plain words ("-70 mV", "-2", "+3 dB"), is left
    as it is: no operator or call follows, so there is nothing to evaluate."""
    if not cell.startswith(FORMULA_PREFIXES) or _SIGNED_NUMBER.fullmatch(cell):
        return cell
    return f"'{cell}"


def _utf8(text: str) -> bytes:
    # Lone surrogates cannot be encoded; they become "?" rather than failing the export.
    return text.encode("utf-8", "replace")
