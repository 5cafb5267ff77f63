"""The offline ``demo`` generator: deterministic MCQ items with injectable faults.

Items are sample questions on general knowledge (geography, chemistry, physics, biology,
literature, art and music, history, computing and more) drawn from the bank in
:mod:`bulkgen.generation.demo_questions`; they exercise the pipeline and are not written
on the batch's topic. Everything is a function of the seed: an item's fate (generation
failure, item-writing flaw, markup) of ``(seed, index)``, its content of ``(seed, topic,
difficulty, index)``. The items of a batch walk the bank in an order shuffled by ``(seed,
topic, difficulty)``, so no question repeats until the bank is used up; after that the
walk starts over and a repeated stem fails as a duplicate, as it should.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache

from bulkgen.errors import PermanentGenerationError, TransientGenerationError
from bulkgen.generation.base import GenerationRequest
from bulkgen.generation.demo_questions import (
    BANK,
    CATCH_ALLS,
    NEGATIVE_QUESTIONS,
    OPTION_MARKUP,
    SHORT_RATIONALES,
    SHORT_STEMS,
    STEM_MARKUP,
)
from bulkgen.models import DemoOptions, Difficulty, GeneratedItem, Option

__all__ = ["FAILURE_KINDS", "FLAW_KINDS", "DemoGenerator"]

KEYS = "ABCDE"
FIVE_OPTION_SHARE = 0.3
MAX_TRANSIENT_ATTEMPTS = 4  # a transient failure lasts 1..4 attempts, then clears

FAILURE_KINDS = ("timeout", "rate_limited", "malformed_output")
FLAW_KINDS = (
    "all_of_the_above",
    "duplicate_options",
    "unknown_answer_key",
    "lowercase_negative",
    "short_rationale",
    "short_stem",
    "three_options",
)
_FAILURE_MESSAGES = {
    "timeout": "provider did not answer within 30 s",
    "rate_limited": "429 Too Many Requests: rate limit reached, retry after 2 s",
    "malformed_output": "response is not valid JSON: Expecting ',' delimiter: line 1 column 87",
}


@dataclass(frozen=True, slots=True)
class _Fate:
    """What happens to an item whatever its content or attempt."""

    failure: str | None = None
    failing_attempts: int = 0  # transient failures clear after this many attempts
    flaw: str | None = None
    markup: bool = False


_CLEAN = _Fate()


def _rng(*parts: object) -> random.Random:
    """A generator seeded by a stable hash (``hash()`` is salted per process)."""
    data = "\x1f".join(map(str, parts)).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big"))


class DemoGenerator:
    """Offline generator: deterministic items, latency and faults from ``DemoOptions``."""

    name = "demo"

    def __init__(self, options: DemoOptions) -> None:
        self._options = options
        self._faulty = bool(options.fail_rate or options.invalid_rate or options.markup_rate)

    async def generate(self, request: GenerationRequest) -> GeneratedItem:
        """One item, or the generation error its fate holds for this attempt."""
        low, high = self._options.latency_ms
        if high:
            rng = _rng("latency", self._options.seed, request.index, request.attempt)
            await asyncio.sleep(rng.uniform(low, high) / 1000)
        fate = self._fate(request.index) if self._faulty else _CLEAN
        if fate.failure == "malformed_output":
            raise PermanentGenerationError(fate.failure, _FAILURE_MESSAGES[fate.failure])
        if fate.failure and request.attempt <= fate.failing_attempts:
            raise TransientGenerationError(fate.failure, _FAILURE_MESSAGES[fate.failure])
        return self._item(request, fate)

    def _fate(self, index: int) -> _Fate:
        # Every draw is made whatever the rates, so raising one rate adds affected items
        # without reshuffling which items the other rates pick.
        rng = _rng("fate", self._options.seed, index)
        fails, failure, failing_attempts = (
            rng.random(),
            rng.choice(FAILURE_KINDS),
            rng.randint(1, MAX_TRANSIENT_ATTEMPTS),
        )
        flawed, flaw, marked = rng.random(), rng.choice(FLAW_KINDS), rng.random()
        return _Fate(
            failure=failure if fails < self._options.fail_rate else None,
            failing_attempts=failing_attempts,
            flaw=flaw if flawed < self._options.invalid_rate else None,
            markup=marked < self._options.markup_rate,
        )

    def _item(self, request: GenerationRequest, fate: _Fate) -> GeneratedItem:
        rng = _rng("item", self._options.seed, request.topic, request.difficulty, request.index)
        if fate.flaw == "lowercase_negative":
            question = rng.choice(NEGATIVE_QUESTIONS)
        else:
            walk = _walk(self._options.seed, request.topic, request.difficulty)
            question = BANK[walk[request.index % len(walk)]]
        stem = question.stem

        distractor_count = 4 if rng.random() < FIVE_OPTION_SHARE else 3
        if fate.flaw == "three_options":
            distractor_count = 2
        distractors = question.distractors(rng, distractor_count)
        texts = [question.answer, *distractors]
        rng.shuffle(texts)
        answer = KEYS[texts.index(question.answer)]
        # The rationale names options by their text: exports shuffle the options.
        rationale = question.rationale(distractors)

        if fate.markup:
            stem += STEM_MARKUP
            marked = next(i for i, text in enumerate(texts) if text != question.answer)
            texts[marked] += OPTION_MARKUP
        stem, answer, rationale = _apply_flaw(fate.flaw, rng, stem, texts, answer, rationale)
        return GeneratedItem(
            stem=stem,
            options=[Option(key=key, text=text) for key, text in zip(KEYS, texts, strict=False)],
            answer=answer,
            rationale=rationale,
        )


@lru_cache(maxsize=64)
def _walk(seed: int, topic: str, difficulty: Difficulty) -> tuple[int, ...]:
    """The order in which a batch's items take the bank's questions: a permutation, so
    no question repeats before every other one was asked."""
    order = list(range(len(BANK)))
    _rng("walk", seed, topic, difficulty).shuffle(order)
    return tuple(order)


def _apply_flaw(
    flaw: str | None, rng: random.Random, stem: str, texts: list[str], answer: str, rationale: str
) -> tuple[str, str, str]:
    """Write the item-writing flaw into the draft; ``texts`` is changed in place."""
    distractors = [i for i, key in enumerate(KEYS[: len(texts)]) if key != answer]
    if flaw == "all_of_the_above":
        texts[distractors[-1]] = rng.choice(CATCH_ALLS)
    elif flaw == "duplicate_options":
        first, second = rng.sample(distractors, 2)
        texts[second] = texts[first]
    elif flaw == "unknown_answer_key":
        answer = chr(ord("A") + len(texts))
    elif flaw == "short_rationale":
        rationale = rng.choice(SHORT_RATIONALES)
    elif flaw == "short_stem":
        stem = rng.choice(SHORT_STEMS)
    return stem, answer, rationale
