"""The offline ``demo`` generator: deterministic MCQ items with injectable faults.

Items are domain-general questions (research methods, statistics, learning and assessment)
framed on the batch's topic, so they are correct whatever the topic is. Everything is a
function of the seed: an item's fate (generation failure, item-writing flaw, markup) of
``(seed, index)``, its content of ``(seed, topic, difficulty, index)``. A stem carries the
item's number, so no two items of a batch share a stem. The questions and the text of
the faults are in :mod:`bulkgen.generation.demo_questions`.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass

from bulkgen.errors import PermanentGenerationError, TransientGenerationError
from bulkgen.generation.base import GenerationRequest
from bulkgen.generation.demo_questions import (
    CATCH_ALLS,
    LOWERCASE_NEGATIVE_STEMS,
    NEGATIVE_TEMPLATES,
    OPTION_MARKUP,
    SHORT_RATIONALES,
    SHORT_STEMS,
    STEM_MARKUP,
    TEMPLATES,
)
from bulkgen.models import DemoOptions, GeneratedItem, Option

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
            template = NEGATIVE_TEMPLATES[request.difficulty]
            stem_format = LOWERCASE_NEGATIVE_STEMS[request.difficulty]
        else:
            template = rng.choice(TEMPLATES[request.difficulty])
            stem_format = template.stem
        stem = stem_format.format(n=request.index + 1, topic=request.topic)

        distractor_count = 4 if rng.random() < FIVE_OPTION_SHARE else 3
        if fate.flaw == "three_options":
            distractor_count = 2
        texts = [template.answer, *rng.sample(template.distractors, distractor_count)]
        rng.shuffle(texts)
        answer = KEYS[texts.index(template.answer)]
        # The rationale names the answer by its text: exports shuffle the options.
        rationale = f"The answer is: {template.answer}. {template.why} {template.why_not}"

        if fate.markup:
            stem += STEM_MARKUP
            marked = next(i for i, text in enumerate(texts) if text != template.answer)
            texts[marked] += OPTION_MARKUP
        stem, answer, rationale = _apply_flaw(fate.flaw, rng, stem, texts, answer, rationale)
        return GeneratedItem(
            stem=stem,
            options=[Option(key=key, text=text) for key, text in zip(KEYS, texts, strict=False)],
            answer=answer,
            rationale=rationale,
        )


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
