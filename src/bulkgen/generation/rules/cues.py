"""Cue rules: wording that points a test-wise student to the answer (or away from a
distractor) without the knowledge the item tests. They warn; the item still passes."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterator

from bulkgen.generation.rules.options import is_all_none
from bulkgen.generation.rules.registry import (
    WARNING,
    WELL_FORMED,
    Context,
    answer_text,
    lead_in,
    quote,
    rule,
)
from bulkgen.generation.rules.words import TEXT_CACHE, content_stems, content_words
from bulkgen.models import GeneratedItem, Option

# The answer is "conspicuously longest" only when it beats the longest distractor both
# relatively and absolutely: 1.5x alone flags short options ("Na+" vs "K"), +15 characters
# alone flags long options that differ by a clause.
LONGEST_RATIO, LONGEST_MARGIN = 1.5, 15
#: Convergence needs the answer to share at least this many words with other options.
MIN_CONVERGENT_TERMS = 2
#: Options read for singular/plural agreement are noun phrases of at most this many words.
MAX_PHRASE_WORDS = 4

_ABSOLUTE = re.compile(r"\b(?:always|never|all|none|only|every)\b", re.IGNORECASE)
# Not absolute: a dosing interval ("every 8 hours", "every other day", "every morning") and
# an "only" that closes a noun phrase ("albumin only", "one only", "oral only, then IV").
_DOSING = re.compile(
    r"every\s+(?:other\s+|\d+(?:[.,]\d+)?(?:\s*(?:[–-]|to)\s*\d+)?\s*"
    r"|(?:one|two|three|four|six|eight|twelve|few)\s+)?"
    r"(?:hours?|hrs?|h|days?|weeks?|months?|years?|minutes?|mins?|mornings?|evenings?"
    r"|nights?|bedtime|meals?|doses?|shifts?)\b",
    re.IGNORECASE,
)
_CLOSING_ONLY = re.compile(r"only(?=\s*(?:$|[,;:.)]|(?:and|or|but|then)\b))", re.IGNORECASE)
_ARTICLE_END = re.compile(r"\b(an?)\s*(?:_+|…|\.\.\.|:)?\s*$", re.IGNORECASE)
_ARTICLE_START = re.compile(r"^(?:a|an|the)\b", re.IGNORECASE)
_PLURAL_LEAD_IN = re.compile(
    r"\b(?:which|what)\s+(?:of\s+the\s+following\s+|[^\W\d_]+\s+){0,1}(are|were|is|was)\b",
    re.IGNORECASE,
)


@rule(
    "answer.longest",
    WARNING,
    f"The answer is not conspicuously the longest option (at least {LONGEST_RATIO}x and "
    f"{LONGEST_MARGIN} characters longer than every distractor).",
    needs=WELL_FORMED,
)
def _answer_not_longest(item: GeneratedItem, _context: Context) -> Iterator[str]:
    answer = len(answer_text(item).strip())
    longest = max(len(o.text.strip()) for o in _distractors(item))
    if answer >= LONGEST_RATIO * longest and answer - longest >= LONGEST_MARGIN:
        yield (
            f"the answer ({item.answer}, {answer} characters) is much longer than "
            f"every distractor (longest {longest} characters), a cue for test-wise students"
        )


@rule(
    "distractors.absolute_terms",
    WARNING,
    "No distractor uses an absolute term (always, never, all, none, only, every); dosing "
    'intervals ("every 8 hours") and a closing "only" ("albumin only") are not absolute.',
    needs=WELL_FORMED,
)
def _distractors_not_absolute(item: GeneratedItem, _context: Context) -> Iterator[str]:
    for option in _distractors(item):
        if is_all_none(option.text):
            continue  # options.all_none_of_the_above reports it
        terms = _absolute_terms(option.text)
        if terms:
            listed = ", ".join(repr(term) for term in terms)
            yield f"distractor {option.key} uses the absolute term {listed}, a cue that it is wrong"


@functools.lru_cache(maxsize=TEXT_CACHE)
def _absolute_terms(text: str) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            m.group().lower()
            for m in _ABSOLUTE.finditer(text)
            if not _DOSING.match(text, m.start())
            and not _CLOSING_ONLY.match(text, m.start())
            and not re.search(r"\bnot\s+$", text[: m.start()], re.IGNORECASE)
        )
    )


@functools.lru_cache(maxsize=TEXT_CACHE)
def _vowel_sound(text: str) -> bool:
    word = re.sub(r"^[^\w]+", "", text).split(maxsplit=1)[0] if text.strip() else ""
    lower = word.casefold()
    if len(word) > 1 and word.isupper():  # an abbreviation is read letter by letter
        return word[0] in "AEFHILMNORSX"
    if lower.startswith(("hour", "honest", "honour", "honor", "heir")):
        return True
    if lower.startswith(("uni", "use", "usu", "uti", "eu", "ewe", "one", "once", "ure", "uri")):
        return False
    return lower[:1] in ("a", "e", "i", "o", "u")


@functools.lru_cache(maxsize=TEXT_CACHE)
def _plural(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text.casefold())
    if not words:
        return False
    last = words[-1]
    ends_plural = len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is"))
    return ends_plural or "and" in words[1:-1]


@rule(
    "options.grammatical_cue",
    WARNING,
    'The stem\'s grammar fits every option, not only the answer ("an" before the options '
    "with only the answer starting with a vowel; a plural verb with only the answer plural).",
    needs=WELL_FORMED | {"schema.stem"},
)
def _grammar_fits_every_option(item: GeneratedItem, _context: Context) -> Iterator[str]:
    key, distractors = answer_text(item), [o.text for o in _distractors(item)]
    stem = item.stem.strip()
    if (article := _ARTICLE_END.search(stem)) and not any(
        _ARTICLE_START.match(text.strip()) for text in [key, *distractors]
    ):
        wants_vowel = article[1].lower() == "an"
        if _vowel_sound(key) == wants_vowel and all(
            _vowel_sound(text) != wants_vowel for text in distractors
        ):
            yield (
                f"the stem ends in {article[1]!r} and only the answer ({item.answer}, "
                f"{quote(key)}) fits it; make every option fit the article or move it "
                "into the options"
            )
            return
    # Number is read from an option's last word, which is its head noun only in a short
    # noun phrase ("Loop diuretics"), not in a clause ("… caused the rise in scores").
    phrases = all(len(text.split()) <= MAX_PHRASE_WORDS for text in [key, *distractors])
    if phrases and (verb := _PLURAL_LEAD_IN.search(lead_in(stem))):
        wants_plural = verb[1].lower() in {"are", "were"}
        if _plural(key) == wants_plural and all(
            _plural(text) != wants_plural for text in distractors
        ):
            number = "plural" if wants_plural else "singular"
            yield (
                f"the question asks {verb.group()!r} and only the answer ({item.answer}, "
                f"{quote(key)}) is {number}; make every option agree with the question"
            )


@rule(
    "answer.word_repeat",
    WARNING,
    "No distinctive word of the stem reappears in the answer and in no distractor (a clang cue).",
    needs=WELL_FORMED | {"schema.stem"},
)
def _no_clang_cue(item: GeneratedItem, context: Context) -> Iterator[str]:
    topic = frozenset(content_words(context.topic or ""))
    stem = content_words(item.stem, topic)
    key = content_words(answer_text(item), topic)
    in_distractors = frozenset().union(*(content_stems(o.text) for o in _distractors(item)))
    repeated = [
        word for stem_, word in key.items() if stem_ in stem and stem_ not in in_distractors
    ]
    if repeated:
        listed = ", ".join(repr(word) for word in repeated)
        yield (
            f"the answer ({item.answer}, {quote(answer_text(item))}) repeats {listed} from the "
            "stem and no distractor does; reword the answer or use the word in distractors too"
        )


@rule(
    "answer.convergence",
    WARNING,
    "The answer is not the option that shares the most words with the other options (the one "
    "that combines the elements the distractors vary).",
    needs=WELL_FORMED,
)
def _no_convergence(item: GeneratedItem, _context: Context) -> Iterator[str]:
    terms = {option.key: content_stems(option.text) for option in item.options}
    frequency = Counter(term for words in terms.values() for term in words)

    def score(key: str) -> int:
        return sum(frequency[term] - 1 for term in terms[key])

    shared = sorted(
        word for stem_, word in content_words(answer_text(item)).items() if frequency[stem_] > 1
    )
    others = [score(option.key) for option in _distractors(item)]
    if len(shared) >= MIN_CONVERGENT_TERMS and score(item.answer) > max(others, default=0):
        listed = ", ".join(repr(word) for word in shared)
        yield (
            f"the answer ({item.answer}) shares more words ({listed}) with the other options "
            "than any distractor does; test-wise students pick the option that combines the "
            "elements the distractors vary"
        )


def _distractors(item: GeneratedItem) -> list[Option]:
    return [option for option in item.options if option.key != item.answer]
