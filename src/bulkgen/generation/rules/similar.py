"""Stems that ask the same question: a normalised key and an index of near-duplicates.

A stem is reduced to its content words: case, punctuation and stop words go, every number
becomes ``#`` (so "a 45-year-old man … 120 mg" and "a 62-year-old man … 80 mg" are the same
words) and a light suffix stemmer evens out plurals and verb forms. Two stems are
near-duplicates when their content words overlap by at least :data:`THRESHOLD` in a
weighted Jaccard measure in which the question itself (the lead-in) counts
:data:`LEAD_IN_WEIGHT` times, so a shared vignette with another question ("… positive
predictive value?" / "… negative predictive value?") is not a repeat, and a question with
a negation (NOT, EXCEPT, LEAST …) never repeats the plain one.

:class:`StemIndex` finds the nearest earlier stem without scanning them all: an inverted
index from content word to stems, probed with the query's rarest words only. A stem whose
similarity reaches the threshold must share one of any set of its words that carries more
than ``1 − THRESHOLD`` of its weight (prefix filtering, as in Bayardo et al.'s All-Pairs),
so the probe is exact, not a sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LEAD_IN_WEIGHT", "THRESHOLD", "StemIndex", "StemMatch", "normalise", "stem_key"]

#: The weighted share of content words two stems must have in common to ask the same thing.
THRESHOLD = 0.8
#: How many times a word of the question (the lead-in) counts against a word of the vignette.
LEAD_IN_WEIGHT = 2.0

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NEGATION_TEXT = "not no cannot can't isn't aren't doesn't don't except least never false incorrect"
_NEGATIONS = frozenset(_NEGATION_TEXT.split())
_NEGATION = "not"
_NUMBER = "#"
# Function words and the exam's own boilerplate ("Which of the following is most likely …"):
# they do not change what a question asks. Negations are not here: they are kept as "not".
_STOP_TEXT = """
    a about above after again all also an and any are as at be been before being below best
    between both but by can could did do does doing during each either for from further had
    has have having he her here hers him his how i if in into is it its itself just may me
    might more most must my of on once one only or other our out over own probable probably
    same she should so some such than that the their theirs them then there these they this
    those through to too under until up upon very was we were what when where whether which
    while who whom whose why will with would you your following likely correct true
    statement statements describe describes described option options answer choice item
    question best appropriate accurate accurately given shown below above regarding
    concerning
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())
_SUFFIXES = (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""))
_KEEP_ENDINGS = ("ss", "us", "is", "eed")


def _word_stem(word: str) -> str:
    """A light stem: one plural or verb ending, then a final "e" ("causes"/"caused" → "caus")."""
    if word.endswith(_KEEP_ENDINGS):
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def _words(text: str) -> list[str]:
    words: list[str] = []
    for token in _TOKEN.findall(text.casefold().replace("’", "'")):
        if token[0].isdigit():
            words.append(_NUMBER)
        elif token in _NEGATIONS:
            words.append(_NEGATION)
        elif token not in _STOP_WORDS:
            words.append(_word_stem(token.removesuffix("'s")))
    return words


@dataclass(frozen=True, slots=True)
class Normalised:
    """A stem's content words: the key (vignette ``|`` question) and their weights."""

    key: str
    weights: dict[str, float]
    negative: bool

    @property
    def total(self) -> float:
        return sum(self.weights.values())


def normalise(stem: str) -> Normalised:
    """The content words of a stem; the question is its last sentence with a "?"."""
    parts = [part for part in _SENTENCE_END.split(stem.strip()) if part]
    asking = [i for i, part in enumerate(parts) if "?" in part]
    split = asking[-1] if asking else len(parts) - 1
    context = _words(" ".join(parts[:split]))
    question = _words(" ".join(parts[split:]))
    weights = dict.fromkeys(context, 1.0)
    weights.update(dict.fromkeys(question, LEAD_IN_WEIGHT))
    key = " ".join(context) + " | " + " ".join(question) if context else " ".join(question)
    return Normalised(key, weights, _NEGATION in question)


def stem_key(stem: str) -> str:
    """A stem's normalised form: equal keys are the same question (numbers aside)."""
    return normalise(stem).key


def similarity(first: Normalised, second: Normalised) -> float:
    """Weighted Jaccard: Σ min(weights) / Σ max(weights) over both stems' content words."""
    shared = 0.0
    for word, weight in first.weights.items():
        other = second.weights.get(word)
        if other is not None:
            shared += min(weight, other)
    union = first.total + second.total - shared
    return shared / union if union else 0.0


@dataclass(frozen=True, slots=True)
class StemMatch:
    """The earlier stem a new one repeats: its label ("item 12"), its text and how alike."""

    label: str
    stem: str
    similarity: float
    exact: bool


@dataclass(frozen=True, slots=True)
class _Entry:
    label: str
    stem: str
    words: Normalised
    total: float


class StemIndex:
    """Passed stems, each with a label, and the nearest one to a new stem.

    ``find`` costs the postings of a few rare words of the query, not a scan of every
    stem. The last stem looked up keeps its normalised form, so the rules that call
    ``find`` for the same item, and ``add`` after it passed, normalise it once.
    """

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._entries: list[_Entry] = []
        self._postings: dict[str, list[int]] = {}
        self._exact: dict[str, int] = {}
        self._last: tuple[str, Normalised, StemMatch | None] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def _normalised(self, stem: str) -> Normalised:
        if self._last is not None and self._last[0] == stem:
            return self._last[1]
        return normalise(stem)

    def add(self, stem: str, label: str) -> str:
        """Remember a passed stem under ``label``; its key (an exact repeat keeps the first
        label)."""
        words = self._normalised(stem)
        self._last = None
        position = len(self._entries)
        self._entries.append(_Entry(label, stem, words, words.total))
        self._exact.setdefault(words.key, position)
        for word in words.weights:
            self._postings.setdefault(word, []).append(position)
        return words.key

    def find(self, stem: str) -> StemMatch | None:
        """The earliest stem with the same key, else the most similar one at or above the
        threshold with the same polarity, else None."""
        if self._last is not None and self._last[0] == stem:
            return self._last[2]
        words = normalise(stem)
        match = self._search(words)
        self._last = (stem, words, match)
        return match

    def _search(self, words: Normalised) -> StemMatch | None:
        position = self._exact.get(words.key)
        if position is not None:
            entry = self._entries[position]
            return StemMatch(entry.label, entry.stem, 1.0, exact=True)
        total = words.total
        if not total:
            return None
        best: tuple[float, int] | None = None
        low, high = self.threshold * total, total / self.threshold
        for position in self._candidates(words, total):
            entry = self._entries[position]
            if entry.words.negative != words.negative or not low <= entry.total <= high:
                continue
            score = similarity(words, entry.words)
            if score >= self.threshold and (best is None or score > best[0]):
                best = (score, position)
        if best is None:
            return None
        entry = self._entries[best[1]]
        return StemMatch(entry.label, entry.stem, best[0], exact=False)

    def _candidates(self, words: Normalised, total: float) -> set[int]:
        """Stems sharing a word with the query's rarest words worth over 1 − threshold."""
        budget = (1.0 - self.threshold) * total
        probed = 0.0
        found: set[int] = set()
        postings = self._postings
        for word in sorted(words.weights, key=lambda w: len(postings.get(w, ()))):
            found.update(postings.get(word, ()))
            probed += words.weights[word]
            if probed > budget + 1e-9:
                break
        return found
