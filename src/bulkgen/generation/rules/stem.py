"""Rules on the stem: its length, that it asks a question, how it words a negative, repeats
(exact and in other words, through the :class:`~.similar.StemIndex` of the context)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from bulkgen.generation.rules.registry import (
    ERROR,
    WARNING,
    Context,
    lead_in,
    quote,
    rule,
    sentences,
)
from bulkgen.generation.rules.similar import THRESHOLD as SIMILARITY_THRESHOLD
from bulkgen.generation.rules.similar import StemMatch
from bulkgen.models import GeneratedItem

MIN_STEM_CHARS, MAX_STEM_CHARS = 20, 1000
# Whole words only, so "nothing" or "not-for-profit" are not negatives, and "at least",
# "not only" and "false positive/negative" are ordinary phrases, not negations.
_NEGATIVE = re.compile(
    r"(?<![\w-])(?:not(?!\s+only\b)|cannot|except|(?<!\bat\s)least"
    r"|false(?!\s+(?:positives?|negatives?)\b)|incorrect|never)(?![\w-])",
    re.IGNORECASE,
)
# A completion lead-in ends open ("… is most likely due to", "… EXCEPT:", "… is ___").
_OPEN_END = re.compile(r"(?:[:;,…_-]|\.\.\.|_\.|[^\W\d_])[\s\"'”’)]*$")
# A last sentence that tells the reader what to do is a lead-in even without a "?".
_DIRECTIVE = re.compile(
    r"^(?:which|what|who|whom|whose|where|when|why|how|identify|select|choose|name|indicate"
    r"|determine|pick|give|state)\b",
    re.IGNORECASE,
)


@rule(
    "stem.length",
    ERROR,
    f"The stem has {MIN_STEM_CHARS}–{MAX_STEM_CHARS} characters.",
    needs={"schema.stem"},
)
def _stem_length(item: GeneratedItem, _context: Context) -> Iterator[str]:
    length = len(item.stem.strip())
    if length < MIN_STEM_CHARS:
        yield f"stem has {length} characters; at least {MIN_STEM_CHARS} are needed"
    elif length > MAX_STEM_CHARS:
        yield f"stem has {length} characters; at most {MAX_STEM_CHARS} are allowed"


@rule(
    "stem.no_lead_in",
    ERROR,
    'The stem asks a question: a sentence with "?", a completion lead-in ending in a colon, '
    'a blank or an open phrase, or an instruction ("Identify …").',
    needs={"schema.stem"},
)
def _stem_asks(item: GeneratedItem, _context: Context) -> Iterator[str]:
    stem = item.stem.strip()
    if "?" in stem or _OPEN_END.search(stem) or _DIRECTIVE.match(sentences(stem)[-1]):
        return
    yield (
        f"the stem states facts but asks no question (it ends {quote(stem[-40:])}); end it "
        'with a question such as "Which of the following is the most likely diagnosis?"'
    )


def _question_negatives(item: GeneratedItem, context: Context) -> tuple[str, ...]:
    return _negatives(item.stem, context.topic)


@lru_cache(maxsize=1 << 16)
def _negatives(stem: str, topic: str | None) -> tuple[str, ...]:
    question = lead_in(stem)
    if topic:
        question = _topic_pattern(topic).sub(" ", question)
    return tuple(match.group() for match in _NEGATIVE.finditer(question))


@lru_cache(maxsize=256)
def _topic_pattern(topic: str) -> re.Pattern[str]:
    return re.compile(re.escape(topic), re.IGNORECASE)


@rule(
    "stem.negative_emphasis",
    ERROR,
    "A negative question (not, cannot, except, least, false, incorrect, never) writes the "
    "negative word in capitals.",
    needs={"schema.stem"},
)
def _negative_in_capitals(item: GeneratedItem, context: Context) -> Iterator[str]:
    for word in _question_negatives(item, context):
        if word != word.upper():
            yield f"negative word {word!r} in the question is in lower case; write {word.upper()!r}"


@rule(
    "stem.negative_lead_in",
    WARNING,
    "The question is not negatively phrased (NOT, CANNOT, EXCEPT, LEAST, FALSE), even in "
    "capitals: ask for the best answer instead.",
    needs={"schema.stem"},
)
def _no_negative_question(item: GeneratedItem, context: Context) -> Iterator[str]:
    words = list(dict.fromkeys(_question_negatives(item, context)))
    if words:
        listed = ", ".join(repr(word) for word in words)
        yield (
            f"the question is negatively phrased ({listed}); a negative question tests "
            "spotting a wrong statement rather than knowing the right one: ask for the best answer"
        )


def _repeated(item: GeneratedItem, context: Context) -> StemMatch | None:
    return None if context.stems is None else context.stems.find(item.stem)


@rule(
    "stem.duplicate",
    ERROR,
    "The stem does not repeat an earlier passed stem of the batch (or of the owner's earlier "
    "batches on the same topic) with only numbers, case, punctuation or filler words changed.",
    needs={"schema.stem"},
)
def _stem_not_seen(item: GeneratedItem, context: Context) -> Iterator[str]:
    match = _repeated(item, context)
    if match is not None and match.exact:
        yield (
            f"the stem repeats {match.label} with only numbers or wording such as case and "
            f"punctuation changed: {quote(match.stem, 80)}; ask a different question"
        )


@rule(
    "stem.near_duplicate",
    ERROR,
    "The stem does not ask the same question as an earlier passed stem in other words: they "
    f"share less than {SIMILARITY_THRESHOLD:.0%} of their content words, the words of the "
    "question counting double.",
    needs={"schema.stem"},
)
def _stem_not_near_seen(item: GeneratedItem, context: Context) -> Iterator[str]:
    match = _repeated(item, context)
    if match is not None and not match.exact:
        yield (
            f"the stem asks the same question as {match.label} in other words "
            f"({match.similarity:.0%} alike): {quote(match.stem, 80)}; ask a different question"
        )
