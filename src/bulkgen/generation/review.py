"""The blind review: a second model answers an item without its key and names its flaws.

After an item passes the item-writing rules, a batch that asked for it
(``generator_options.review``) sends one more request: the stem and the options, keys as
given, never the key or the rationale (:mod:`bulkgen.generation.prompts`). The reviewer
answers with the options it judges correct, its single best answer and the item-writing
flaws it sees. This module is the pure part: the tolerant reading of the answer, and the
verdict on the item:

    reviewer's answer is not the key        review.key_mismatch      error
    more than one option judged correct     review.multiple_correct  error
    each flaw it names                      review.flaw              warning
    no review after the retries             review.unavailable       warning
    provider refuses the key, model or request  kind review_error    the item fails

A review that could not be had does not lose the item: timeouts, 5xx, rate limits (after
the retries) and malformed answers let it pass with a ``review.unavailable`` warning. A
reviewer the provider refuses outright (401/403, an unknown review model, another 4xx)
fails it with kind ``review_error``, so the early stop pauses a batch whose reviewer
is misconfigured instead of passing every item unreviewed.
"""

from __future__ import annotations

import re
from dataclasses import replace

from pydantic import BaseModel, field_validator

from bulkgen.errors import GenerationError
from bulkgen.generation.prompts import MAX_FLAWS
from bulkgen.log import FinishItem
from bulkgen.models import (
    GeneratedItem,
    ItemError,
    ItemReview,
    ItemStatus,
    RuleResult,
    Severity,
    TokenUsage,
)
from bulkgen.models.items import normalise_key

__all__ = [
    "MAX_FLAWS",
    "ReviewAnswer",
    "review_verdict",
    "reviewed",
    "to_review",
]

#: Most characters of a flaw kept (at most ``MAX_FLAWS`` of them).
MAX_FLAW_TEXT = 300
#: Most characters of an option's text quoted in a message.
_QUOTE = 80
#: Provider error kinds that no retry or later item can fix: the reviewer is misconfigured.
_REFUSED = frozenset({"auth_error", "not_found", "bad_request"})

_KEY_IN_TEXT = re.compile(r"^(?:option\s+)?\(?([A-Za-z])\)?[.):]?(?:\s.*)?$", re.DOTALL)


def _key_of(value: str) -> str:
    """ "A", " b ", "(C)", "D." and "Option E" are keys; anything else is kept for rejection."""
    found = _KEY_IN_TEXT.match(value.strip())
    return normalise_key(found.group(1)) if found else value.strip()


class ReviewAnswer(BaseModel):
    """A reviewer's answer, read tolerantly: missing lists are empty, keys are normalised,
    a lone string for ``correct`` or ``flaws`` is a list of one."""

    correct: list[str] = []
    answer: str | None = None
    flaws: list[str] = []

    @field_validator("correct", "flaws", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    @field_validator("correct")
    @classmethod
    def _keys(cls, keys: list[str]) -> list[str]:
        return [_key_of(key) for key in keys]

    @field_validator("answer")
    @classmethod
    def _key(cls, key: str | None) -> str | None:
        return None if key is None or not key.strip() else _key_of(key)


def to_review(
    answer: ReviewAnswer, item: GeneratedItem, *, model: str | None, usage: TokenUsage | None
) -> ItemReview:
    """The stored review of ``item``; ValueError when the answer names no option of it."""
    keys = [option.key for option in item.options]
    correct = {key for key in answer.correct if key in keys}
    best = answer.answer if answer.answer in keys else None
    if best is None and len(correct) == 1:
        best = next(iter(correct))
    if best is None:
        raise ValueError("it names no option of the item as its answer")
    correct.add(best)
    ordered = [key for key in keys if key in correct]
    flaws = [_bounded(flaw.strip(), MAX_FLAW_TEXT) for flaw in answer.flaws if flaw.strip()]
    return ItemReview(
        model=model,
        answer=best,
        correct=ordered,
        flaws=flaws[:MAX_FLAWS],
        agrees=best == item.answer and ordered == [item.answer],
        usage=usage,
    )


def review_verdict(item: GeneratedItem, review: ItemReview) -> list[RuleResult]:
    """The rules a review raises on ``item``: errors when it disagrees, warnings per flaw."""
    results: list[RuleResult] = []
    if review.answer is not None and review.answer != item.answer:
        results.append(
            RuleResult(
                rule="review.key_mismatch",
                severity=Severity.ERROR,
                message=f"A second model, answering without the key, chose "
                f"{_quoted(item, review.answer)}, but the key is {_quoted(item, item.answer)}. "
                f"Check that {item.answer} is the one correct answer and that "
                f"{review.answer} is wrong, or correct the key.",
            )
        )
    if len(review.correct) > 1:
        named = " and ".join(_quoted(item, key) for key in review.correct)
        results.append(
            RuleResult(
                rule="review.multiple_correct",
                severity=Severity.ERROR,
                message=f"A second model, answering without the key, judged more than one "
                f"option correct: {named}. A one-best-answer item needs exactly one "
                "defensible answer; rewrite the options that are also correct.",
            )
        )
    results.extend(
        RuleResult(rule="review.flaw", severity=Severity.WARNING, message=f"Reviewer: {flaw}")
        for flaw in review.flaws
    )
    return results


def reviewed(finish: FinishItem, outcome: ItemReview | GenerationError) -> FinishItem:
    """The finish of an item that passed the rules, once its review is in."""
    item = finish.result
    if item is None or finish.status is not ItemStatus.COMPLETED:
        return finish
    if isinstance(outcome, GenerationError):
        return _without_review(finish, outcome)
    results = review_verdict(item, outcome)
    errors = [r for r in results if r.severity is Severity.ERROR]
    warnings = (*finish.warnings, *(r for r in results if r.severity is Severity.WARNING))
    result = item.model_copy(update={"review": outcome})
    if not errors:
        return replace(finish, result=result, warnings=warnings)
    names = ", ".join(r.rule for r in errors)
    return replace(
        finish,
        status=ItemStatus.FAILED,
        result=result,
        warnings=warnings,
        stem_key=None,
        error=ItemError(
            kind="validation", message=f"failed the blind review: {names}", rules=errors
        ),
    )


def _without_review(finish: FinishItem, error: GenerationError) -> FinishItem:
    if error.kind in _REFUSED:
        return replace(
            finish,
            status=ItemStatus.FAILED,
            stem_key=None,
            error=ItemError(
                kind="review_error",
                message=f"the blind review was refused ({error.kind}): {error.message}",
            ),
        )
    unavailable = RuleResult(
        rule="review.unavailable",
        severity=Severity.WARNING,
        message=f"The blind review could not be done ({error.kind}: {error.message}). The "
        "item passed the item-writing rules, but no second model checked its key.",
    )
    return replace(finish, warnings=(*finish.warnings, unavailable))


def _quoted(item: GeneratedItem, key: str) -> str:
    text = next((option.text for option in item.options if option.key == key), "")
    return f'{key} ("{_bounded(text, _QUOTE)}")' if text else key


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
