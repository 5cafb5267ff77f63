"""A batch's passed items as the questions every export format writes.

Only items that passed validation (``completed``, with a result) become questions, in the
order given. A question's choices carry positional letters (A, B, …) beside the
generator's own option keys, so each format can name the answer its way; a question's
name (``<title or topic> #n``) is the same in every format.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass

from bulkgen.models import Batch, Item, ItemStatus

__all__ = [
    "Question",
    "batch_label",
    "choice_letter",
    "cost_summary",
    "passed_questions",
    "question_name",
]


@dataclass(frozen=True, slots=True)
class Question:
    """A passed item as every format writes it: choices carry positional letters."""

    index: int
    stem: str
    choices: tuple[tuple[str, str], ...]  # (letter, text) in the item's order
    correct: str  # the letter of the answer
    keys: tuple[str, ...]  # the generator's option keys, in the same order
    answer_key: str  # the generator's answer key
    rationale: str
    warnings: tuple[dict[str, str], ...]
    #: Tokens the item's generation and its blind review used (0: none, as demo items).
    tokens: int = 0

    @property
    def number(self) -> int:
        """The 1-based number the pages show (``#n``)."""
        return self.index + 1


def passed_questions(items: Iterable[Item]) -> list[Question]:
    """The passed items of ``items`` as questions; anything else is left out."""
    return [_question(item) for item in items if _passed(item)]


def _passed(item: Item) -> bool:
    return item.status is ItemStatus.COMPLETED and item.result is not None


def _question(item: Item) -> Question:
    result = item.result
    assert result is not None
    choices = tuple((choice_letter(i), option.text) for i, option in enumerate(result.options))
    keys = [option.key for option in result.options]
    if result.answer not in keys:
        # Validation (schema.answer) rules this out for a passed item.
        raise ValueError(f"item {item.index}: answer {result.answer!r} names no option")
    return Question(
        index=item.index,
        stem=result.stem,
        choices=choices,
        correct=choice_letter(keys.index(result.answer)),
        keys=tuple(keys),
        answer_key=result.answer,
        rationale=result.rationale,
        warnings=tuple(
            {"rule": w.rule, "severity": w.severity.value, "message": w.message}
            for w in item.warnings
        ),
        tokens=sum(
            usage.total_tokens
            for usage in (result.usage, result.review.usage if result.review else None)
            if usage is not None
        ),
    )


def choice_letter(position: int) -> str:
    """The letter of the choice at ``position``: A to Z, then ``CHOICE_27`` and on."""
    letters = string.ascii_uppercase
    return letters[position] if position < len(letters) else f"CHOICE_{position + 1}"


def cost_summary(batch: Batch) -> str | None:
    """What the batch's tokens cost, in one line for a file's header; None without usage."""
    usage = batch.usage
    if usage is None:
        return None
    line = (
        f"bulkgen batch {batch.id}: {usage.prompt_tokens:,} prompt + "
        f"{usage.completion_tokens:,} completion tokens"
    )
    cost = batch.cost
    if cost is not None:
        line += f"; estimated cost ${cost.usd:.4f}"
        if cost.per_valid_item_usd is not None:
            line += f" (${cost.per_valid_item_usd:.6f} per valid item)"
    return line


def batch_label(batch: Batch) -> str:
    """The batch's title, or its topic, on one line."""
    return " ".join((batch.title or batch.config.topic).split())


def question_name(batch: Batch, question: Question) -> str:
    """``<title or topic> #n``: the question's name in the formats that have one."""
    return f"{batch_label(batch)} #{question.number}"
