"""Content words of stems and options, as the cue rules compare them."""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly")
MIN_CONTENT_CHARS = 4
#: Words that carry no content of their own: function words and the exam's own vocabulary.
_STOP_TEXT = """
    about above after again against also although among another answer any are aren't
    because been before being below best between both but cannot case could does doing done
    down during each either else even ever every following from further given have having
    here how however into itself just least less like likely many more most much must near
    neither next none nor not often only other others otherwise over patient patients per
    question rather same several shall should show shows since some such than that their
    them then there these they this those though through thus together true under until upon
    very was were what whatever when where whether which while who whom whose why will with
    within without would your statement statements option options describe describes
    following best correct incorrect true false most least likely which what this that
    these those item items question questions answer answers term terms
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


@functools.lru_cache(maxsize=16_384)
def stem_of(word: str) -> str:
    """A word's crude stem: lower case, possessive and one common suffix removed."""
    word = word.casefold().replace("’", "'").removesuffix("'s").strip("'-")
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_CONTENT_CHARS:
            return word[: -len(suffix)]
    return word


def content_words(text: str, ignore: frozenset[str] = frozenset()) -> dict[str, str]:
    """The text's content words by stem (first spelling kept), skipping ``ignore`` stems."""
    if not ignore:
        return dict(_content_words(text))
    return {stem: word for stem, word in _content_words(text) if stem not in ignore}


#: Texts whose words are kept: a batch's stems and options (a few words each, so ~64k
#: entries cost a few MB); smaller, a long batch cycles through its bank and every
#: lookup misses.
TEXT_CACHE = 1 << 16


@functools.lru_cache(maxsize=TEXT_CACHE)
def content_stems(text: str) -> frozenset[str]:
    """The stems of the text's content words (what the convergence rule compares)."""
    return frozenset(stem for stem, _ in _content_words(text))


@functools.lru_cache(maxsize=TEXT_CACHE)
def _content_words(text: str) -> tuple[tuple[str, str], ...]:
    """(stem, first spelling) of each content word, in order; several rules read the same
    stem and options, so each text is split once."""
    found: dict[str, str] = {}
    for word in _WORD.findall(text):
        lower = word.casefold()
        if len(lower) < MIN_CONTENT_CHARS or lower in STOP_WORDS:
            continue
        found.setdefault(stem_of(word), word)
    return tuple(found.items())
