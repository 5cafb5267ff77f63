"""Item-writing rules for generated multiple-choice items: pure functions, no I/O.

Each rule has a stable dotted id, a severity (``error`` fails the item, ``warning`` is
shown but passes) and a check that yields one message per problem it finds. Schema rules
run first; a rule that needs a well-formed part of the item (a stem, a rationale, options
and an answer that names one of them) is skipped when the schema rule for that part failed,
so malformed items get one clear complaint instead of a cascade.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from bulkgen.models import GeneratedItem, RuleResult, Severity

__all__ = ["RULES", "Rule", "has_errors", "stem_key", "validate_item"]

MIN_OPTIONS, MAX_OPTIONS = 4, 5
MIN_STEM_CHARS, MAX_STEM_CHARS = 20, 1000
MIN_RATIONALE_CHARS, MIN_RATIONALE_WORDS = 40, 6
# The answer is "conspicuously longest" only when it beats the longest distractor both
# relatively and absolutely: 1.5x alone flags short options ("Na+" vs "K"), +15 characters
# alone flags long options that differ by a clause.
LONGEST_RATIO, LONGEST_MARGIN = 1.5, 15

ERROR, WARNING = Severity.ERROR, Severity.WARNING
_EDGE_PUNCTUATION = string.punctuation + string.whitespace + "¿¡…“”‘’«»"
_ALL_NONE = re.compile(r"\b(?:all|none) of the (?:above|these|options)\b")
_NON_WORD = re.compile(r"[\W_]+")
_ABSOLUTE = re.compile(r"\b(?:always|never|all|none|only|every)\b", re.IGNORECASE)
# Whole words only, so "cannot", "nothing" or "not-for-profit" are not negatives, and
# "at least", "not only" and "false positive/negative" are ordinary phrases, not negations.
_NEGATIVE = re.compile(
    r"(?<![\w-])(?:not(?!\s+only\b)|except|(?<!\bat\s)least"
    r"|false(?!\s+(?:positives?|negatives?)\b)|incorrect|never)(?![\w-])",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class Rule:
    """An item-writing rule as docs and tests list it."""

    id: str
    severity: Severity
    description: str


@dataclass(frozen=True, slots=True)
class _Context:
    """What rules may know beyond the item: its batch's accepted stems and topic."""

    seen_stems: Collection[str]
    topic: str | None


_Check = Callable[[GeneratedItem, _Context], Iterator[str]]
_CHECKS: list[tuple[Rule, frozenset[str], _Check]] = []


def _rule(
    rule_id: str, severity: Severity, description: str, *, needs: Iterable[str] = ()
) -> Callable[[_Check], _Check]:
    """Register a check; it is skipped when any schema rule in ``needs`` failed."""

    def register(check: _Check) -> _Check:
        _CHECKS.append((Rule(rule_id, severity, description), frozenset(needs), check))
        return check

    return register


def stem_key(stem: str) -> str:
    """A stem's normalised form for duplicate detection: case, spacing and end punctuation."""
    return " ".join(stem.casefold().split()).strip(_EDGE_PUNCTUATION)


def validate_item(
    item: GeneratedItem, *, seen_stems: Collection[str] = (), topic: str | None = None
) -> list[RuleResult]:
    """Every rule the item breaks.

    ``seen_stems`` are keys of the batch's accepted stems; ``topic`` is the batch's topic,
    whose own words ("False memory", "Never events") are not read as a negation.
    """
    context = _Context(seen_stems, topic)
    results: list[RuleResult] = []
    failed: set[str] = set()
    for rule, needs, check in _CHECKS:
        if needs & failed:
            continue
        for message in check(item, context):
            failed.add(rule.id)
            results.append(RuleResult(rule=rule.id, severity=rule.severity, message=message))
    return results


def has_errors(results: Iterable[RuleResult]) -> bool:
    """True if any result fails the item."""
    return any(result.severity is Severity.ERROR for result in results)


def _letters(keys: Iterable[str]) -> str:
    return ", ".join(keys) or "none"


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# --- schema -------------------------------------------------------------------------------


@_rule("schema.stem", ERROR, "The item has a non-empty stem.")
def _stem_present(item: GeneratedItem, _context: _Context) -> Iterator[str]:
    if not item.stem.strip():
        yield "stem is empty"


@_rule(
    "schema.options",
    ERROR,
    f"The item has {MIN_OPTIONS}–{MAX_OPTIONS} options, each with a key and a text, "
    "and no key twice.",
)
def _options_shape(item: GeneratedItem, _context: _Context) -> Iterator[str]:
    count = len(item.options)
    if not MIN_OPTIONS <= count <= MAX_OPTIONS:
        yield f"item has {count} options; {MIN_OPTIONS} to {MAX_OPTIONS} are needed"
    for position, option in enumerate(item.options, start=1):
        if not option.key.strip():
            yield f"option {position} has no key"
        if not option.text.strip():
            yield f"option {option.key or position} has no text"
    repeated = [key for key, n in Counter(o.key for o in item.options).items() if n > 1 and key]
    if repeated:
        yield f"option keys used more than once: {_letters(repeated)}"


@_rule("schema.answer", ERROR, "The answer is exactly one key, and it names an option.")
def _answer_names_option(item: GeneratedItem, _context: _Context) -> Iterator[str]:
    keys = [option.key for option in item.options]
    answer = item.answer.strip()
    if not answer:
        yield "answer key is missing"
    elif answer not in keys:
        named = [part for part in re.split(r"[\s,;/&+]+", answer) if part]
        if len(named) > 1:
            yield f"answer {answer!r} names {len(named)} options; exactly one is needed"
        else:
            yield f"answer {answer!r} names no option; the options are {_letters(keys)}"


@_rule("schema.rationale", ERROR, "The item explains its answer in a rationale.")
def _rationale_present(item: GeneratedItem, _context: _Context) -> Iterator[str]:
    if not item.rationale.strip():
        yield "rationale is empty"


# --- content ------------------------------------------------------------------------------


@_rule("options.unique", ERROR, "No two options have the same text (ignoring case and spacing).")
def _options_unique(item: GeneratedItem, _context: _Context) -> Iterator[str]:
    first_key: dict[str, str] = {}
    for option in item.options:
        text = stem_key(option.text)
        if not text:
            continue
        if text in first_key:
            yield f"option {option.key} duplicates option {first_key[text]}"
        else:
            first_key[text] = option.key


@_rule(
    "options.all_none_of_the_above",
    ERROR,
    'No option is "all of the above" or "none of the above".',
)
def _no_all_none_of_the_above(item: GeneratedItem, _context: _Context) -> Iterator[str]:
    for option in item.options:
        if _ALL_NONE.search(_NON_WORD.sub(" ", option.text.casefold())):
            yield f"option {option.key} is {_quote(option.text)}; write a real alternative"


@_rule(
    "stem.length",
    ERROR,
    f"The stem has {MIN_STEM_CHARS}–{MAX_STEM_CHARS} characters.",
    needs={"schema.stem"},
)
def _stem_length(item: GeneratedItem, _context: _Context) -> Iterator[str]:
    length = len(item.stem.strip())
    if length < MIN_STEM_CHARS:
        yield f"stem has {length} characters; at least {MIN_STEM_CHARS} are needed"
    elif length > MAX_STEM_CHARS:
        yield f"stem has {length} characters; at most {MAX_STEM_CHARS} are allowed"


@_rule(
    "stem.negative_emphasis",
    ERROR,
    "A negative question (not, except, least, false, incorrect, never) writes the negative "
    "word in capitals.",
    needs={"schema.stem"},
)
def _negative_in_capitals(item: GeneratedItem, context: _Context) -> Iterator[str]:
    question = _lead_in(item.stem)
    if context.topic:
        question = _topic_pattern(context.topic).sub(" ", question)
    for match in _NEGATIVE.finditer(question):
        word = match.group()
        if word != word.upper():
            yield f"negative word {word!r} in the question is in lower case; write {word.upper()!r}"


@lru_cache(maxsize=256)
def _topic_pattern(topic: str) -> re.Pattern[str]:
    return re.compile(re.escape(topic), re.IGNORECASE)


def _lead_in(stem: str) -> str:
    """The question itself: the last sentence with a "?", else the last sentence.

    A vignette may say a patient "has never smoked"; only the question's own negation
    flips what the reader must pick.
    """
    sentences = _SENTENCE_END.split(stem.strip())
    questions = [sentence for sentence in sentences if "?" in sentence]
    return questions[-1] if questions else sentences[-1]


@_rule(
    "stem.duplicate",
    ERROR,
    "The stem does not repeat the stem of another item of the batch.",
    needs={"schema.stem"},
)
def _stem_not_seen(item: GeneratedItem, context: _Context) -> Iterator[str]:
    if stem_key(item.stem) in context.seen_stems:
        yield f"stem duplicates another item of the batch: {_quote(item.stem, 60)}"


@_rule(
    "rationale.length",
    ERROR,
    f"The rationale has at least {MIN_RATIONALE_CHARS} characters and {MIN_RATIONALE_WORDS} words.",
    needs={"schema.rationale"},
)
def _rationale_length(item: GeneratedItem, _context: _Context) -> Iterator[str]:
    chars, words = len(item.rationale.strip()), len(item.rationale.split())
    if chars < MIN_RATIONALE_CHARS or words < MIN_RATIONALE_WORDS:
        yield (
            f"rationale has {chars} characters and {words} words; at least "
            f"{MIN_RATIONALE_CHARS} characters and {MIN_RATIONALE_WORDS} words are needed"
        )


# --- warnings -----------------------------------------------------------------------------

_WELL_FORMED = {"schema.options", "schema.answer"}


@_rule(
    "answer.longest",
    WARNING,
    f"The answer is not conspicuously the longest option (at least {LONGEST_RATIO}x and "
    f"{LONGEST_MARGIN} characters longer than every distractor).",
    needs=_WELL_FORMED,
)
def _answer_not_longest(item: GeneratedItem, _context: _Context) -> Iterator[str]:
    answer = len(next(o.text for o in item.options if o.key == item.answer.strip()).strip())
    longest = max(len(o.text.strip()) for o in item.options if o.key != item.answer.strip())
    if answer >= LONGEST_RATIO * longest and answer - longest >= LONGEST_MARGIN:
        yield (
            f"the answer ({item.answer.strip()}, {answer} characters) is much longer than "
            f"every distractor (longest {longest} characters), a cue for test-wise students"
        )


@_rule(
    "distractors.absolute_terms",
    WARNING,
    "No distractor uses an absolute term (always, never, all, none, only, every).",
    needs=_WELL_FORMED,
)
def _distractors_not_absolute(item: GeneratedItem, _context: _Context) -> Iterator[str]:
    for option in item.options:
        if option.key == item.answer.strip():
            continue
        terms = dict.fromkeys(m.group().lower() for m in _ABSOLUTE.finditer(option.text))
        if terms:
            listed = ", ".join(repr(term) for term in terms)
            yield f"distractor {option.key} uses the absolute term {listed}, a cue that it is wrong"


RULES: Mapping[str, Rule] = MappingProxyType({rule.id: rule for rule, _, _ in _CHECKS})
