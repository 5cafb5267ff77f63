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
index from content word (and the stem's total weight) to stems, probed with the query's
rarest words only. A stem whose similarity reaches the threshold misses at most
``1 − THRESHOLD`` of the query's weight, so it shares most of any words probed (prefix
filtering, as in Bayardo et al.'s All-Pairs), and its total weight is within a factor
``THRESHOLD`` of the query's: the lookup is exact, not a sample, and compares only the few
stems that pass both filters.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "LEAD_IN_WEIGHT",
    "THRESHOLD",
    "Normalised",
    "StemIndex",
    "StemMatch",
    "normalise",
    "similarity",
    "stem_key",
]

#: The weighted share of content words two stems must have in common to ask the same thing.
THRESHOLD = 0.8
#: How many times a word of the question (the lead-in) counts against a word of the vignette.
LEAD_IN_WEIGHT = 2

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)?")
#: An HTML tag: its name is a word of the stem ("What does the <img> tag do?"), its
#: attributes are not (markup pasted into every stem would otherwise make them all alike).
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][\w-]*)[^<>]*>")
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


@lru_cache(maxsize=1 << 16)
def _content(token: str) -> str:
    """What a token counts as: ``#`` for a number, ``not`` for a negation, its stem, or ""
    for a stop word (cached: a batch's stems share most of their words)."""
    if token[0].isdigit():
        return _NUMBER
    if token in _NEGATIONS:
        return _NEGATION
    if token in _STOP_WORDS:
        return ""
    return _word_stem(token.removesuffix("'s"))


def _words(text: str) -> list[str]:
    found = map(_content, _TOKEN.findall(text.casefold().replace("’", "'")))
    return [word for word in found if word]


@dataclass(frozen=True, slots=True)
class Normalised:
    """A stem's content words: the key (vignette ``|`` question), each word's weight, and
    the same as a plain set (``elements``) in which a word of weight 2 is there twice, as
    ``word`` and ``?word``, so the weighted measure is a set intersection done in C."""

    key: str
    weights: dict[str, int]
    negative: bool
    elements: frozenset[str]

    @property
    def total(self) -> int:
        return len(self.elements)


@lru_cache(maxsize=1 << 16)
def normalise(stem: str) -> Normalised:
    """The content words of a stem; the question is its last sentence with a "?".

    Cached: a batch asks about a bank of questions and may repeat one; the result is
    never changed by its readers."""
    text = _TAG.sub(r" \1 ", stem) if "<" in stem else stem
    parts = [part for part in _SENTENCE_END.split(text.strip()) if part]
    asking = [i for i, part in enumerate(parts) if "?" in part]
    split = asking[-1] if asking else len(parts) - 1
    context = _words(" ".join(parts[:split]))
    question = _words(" ".join(parts[split:]))
    weights = dict.fromkeys(context, 1)
    weights.update(dict.fromkeys(question, LEAD_IN_WEIGHT))
    key = " ".join(context) + " | " + " ".join(question) if context else " ".join(question)
    elements = frozenset(
        "?" * copy + word for word, weight in weights.items() for copy in range(weight)
    )
    return Normalised(key, weights, _NEGATION in question, elements)


def stem_key(stem: str) -> str:
    """A stem's normalised form: equal keys are the same question (numbers aside)."""
    return normalise(stem).key


def similarity(first: Normalised, second: Normalised) -> float:
    """Weighted Jaccard: Σ min(weights) / Σ max(weights) over both stems' content words."""
    shared = len(first.elements & second.elements)
    union = first.total + second.total - shared
    return shared / union if union else 0.0


@dataclass(frozen=True, slots=True)
class StemMatch:
    """The earlier stem a new one repeats: its label ("item 12"), its text and how alike."""

    label: str
    stem: str
    similarity: float
    exact: bool


class StemIndex:
    """Passed stems, each with a label, and the nearest one to a new stem.

    ``find`` costs the postings of a few rare words of the query, not a scan of every
    stem. The last stem looked up keeps its normalised form, so the rules that call
    ``find`` for the same item, and ``add`` after it passed, normalise it once.
    """

    #: Probe this much weight beyond what prefix filtering needs: a stem must then share
    #: that much of the probed words to be compared at all, which leaves few to compare.
    probe_margin = 2

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._labels: list[str] = []
        self._stems: list[str] = []
        self._words: list[Normalised] = []
        #: word → the stems' total weight → positions of the stems with that word.
        self._postings: dict[str, dict[int, list[int]]] = {}
        self._counts: dict[str, int] = {}
        self._exact: dict[str, int] = {}
        self._last: tuple[str, Normalised, StemMatch | None] | None = None
        self._withdrawn: set[int] = set()

    def __len__(self) -> int:
        return len(self._words) - len(self._withdrawn)

    def add(self, stem: str, label: str) -> str:
        """Remember a passed stem under ``label``; its key (an exact repeat keeps the first
        label)."""
        last = self._last
        words = last[1] if last is not None and last[0] == stem else normalise(stem)
        self._last = None
        position = len(self._words)
        self._labels.append(label)
        self._stems.append(stem)
        self._words.append(words)
        self._exact.setdefault(words.key, position)
        total = words.total
        counts = self._counts
        for word in words.weights:
            self._postings.setdefault(word, {}).setdefault(total, []).append(position)
            counts[word] = counts.get(word, 0) + 1
        return words.key

    def withdraw(self, label: str) -> None:
        """Forget the stem added under ``label`` (an item that failed after its stem was
        reserved, such as one its blind review rejected)."""
        for position in range(len(self._labels) - 1, -1, -1):
            if self._labels[position] == label and position not in self._withdrawn:
                self._withdrawn.add(position)
                key = self._words[position].key
                if self._exact.get(key) == position:
                    del self._exact[key]
                self._last = None
                return

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
            return StemMatch(self._labels[position], self._stems[position], 1.0, exact=True)
        total = words.total
        if not total:
            return None
        # similarity ≥ t  ⇔  shared × (1 + t) ≥ t × (both totals): no division per stem.
        threshold, elements, negative = self.threshold, words.elements, words.negative
        best, best_shared, best_union = -1, 0, 1
        withdrawn = self._withdrawn
        for position in self._candidates(words):
            if position in withdrawn:
                continue
            other = self._words[position]
            shared = len(elements & other.elements)
            union = total + len(other.elements) - shared
            if (
                shared * (1 + threshold) >= threshold * (union + shared)
                and shared * best_union > best_shared * union
                and other.negative == negative
            ):
                best, best_shared, best_union = position, shared, union
        if best < 0:
            return None
        score = best_shared / best_union
        return StemMatch(self._labels[best], self._stems[best], score, exact=False)

    def _candidates(self, words: Normalised) -> list[int]:
        """Stems that share enough of the query's rarest words to reach the threshold.

        A stem at the threshold misses at most ``budget`` = (1 − threshold) × the query's
        weight of the query's words; so of any words probed, worth ``probed``, it shares at
        least ``probed − budget``. The rarest words are probed until that is over
        ``probe_margin``, and their postings counted by weight.
        """
        total = words.total
        budget = (1.0 - self.threshold) * total
        # A stem of total weight outside [t × total, total / t] cannot reach t.
        sizes = range(
            math.ceil(self.threshold * total - 1e-9), int(total / self.threshold + 1e-9) + 1
        )
        postings, counts, weights = self._postings, self._counts, words.weights
        found: list[int] = []
        probed = 0
        for word in sorted(weights, key=lambda w: counts.get(w, 0)):
            by_size = postings.get(word)
            weight = weights[word]
            if by_size:
                for size in sizes:
                    posting = by_size.get(size)
                    if posting:
                        found += posting * weight
            probed += weight
            if probed - budget > self.probe_margin:
                break
        need = probed - budget - 1e-9
        return [position for position, shared in Counter(found).items() if shared >= need]
