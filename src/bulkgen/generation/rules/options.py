"""Rules on the options as a set: distinct, complete alternatives, each standing alone."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from itertools import combinations

from bulkgen.generation.rules.registry import ERROR, WARNING, Context, quote, rule
from bulkgen.generation.rules.words import TEXT_CACHE
from bulkgen.models import GeneratedItem, Option

ALL_NONE = re.compile(r"\b(?:all|none) of the (?:above|these|options)\b")
_NON_WORD = re.compile(r"[\W_]+")
# An option that points at other options by letter (or K-type roman numeral): "A and C",
# "Both A and C", "A, B and C are correct", "options A–C", "I and III only".
_KEY = r"\(?(?:[A-H]|I{1,3}|IV|V)\)?"
_JOIN = r"(?:[,;&+–—-]\s*(?i:and|or)?|(?i:and|or|nor|through|to)\b)"
_KEY_LIST = rf"{_KEY}(?:\s*{_JOIN}\s*{_KEY})+(?![\w-])"
_COMBINATION = re.compile(
    rf"^(?:(?i:both|either|neither|only|options?|answers?|choices?|statements?)\s+)?"
    rf"{_KEY_LIST}(?:\s+(?i:only|both|together|are\b.*|is\b.*))?[.!]?$"
    rf"|\b(?i:options?|answers?|choices?|statements?)\s+{_KEY_LIST}"
)
_VAGUE = re.compile(
    r"(?<!\bmost\s)(?<!\bmore\s)(?<!\bless\s)"  # "most often" is a superlative, not vague
    r"\b(?:usually|often|frequently|sometimes|rarely|occasionally|commonly|generally|may)\b",
    re.IGNORECASE,
)
# British and American spellings of the same word: haem/hem, oedema/edema, -our/-or, -ise/-ize.
_SPELLINGS = (
    (re.compile(r"ae|oe"), "e"),
    (re.compile(r"our\b"), "or"),
    (re.compile(r"is(e|ed|es|ing|ation)\b"), r"iz\1"),
    (re.compile(r"tre\b"), "ter"),
)
_ARTICLES = re.compile(r"\b(?:the|a|an)\b")
# Words, and numbers with their sign and decimal point; symbols that carry meaning ("$",
# "*", "/", "+", a sign before a currency) are kept as tokens of their own.
_TOKEN = re.compile(r"[+-]?\d+(?:\.\d+)?|[+−-](?=[$€£¥])|[^\W_]+|[^\w\s.,;:()'\"-]")


@functools.lru_cache(maxsize=TEXT_CACHE)
def is_all_none(text: str) -> bool:
    """True for "all of the above", "None of the above." and the like."""
    return bool(ALL_NONE.search(_NON_WORD.sub(" ", text.casefold())))


@rule("options.unique", ERROR, "No two options have the same text (ignoring case and spacing).")
def _options_unique(item: GeneratedItem, _context: Context) -> Iterator[str]:
    first_key: dict[str, str] = {}
    for option in item.options:
        text = same_text(option.text)
        if not text:
            continue
        if text in first_key:
            yield f"option {option.key} duplicates option {first_key[text]}"
        else:
            first_key[text] = option.key


@rule(
    "options.all_none_of_the_above",
    ERROR,
    'No option is "all of the above" or "none of the above".',
)
def _no_all_none_of_the_above(item: GeneratedItem, _context: Context) -> Iterator[str]:
    for option in item.options:
        if is_all_none(option.text):
            yield f"option {option.key} is {quote(option.text)}; write a real alternative"


@rule(
    "options.combination",
    ERROR,
    'No option combines other options ("Both A and C", "A, B and C", "I and III only").',
)
def _no_combination_options(item: GeneratedItem, _context: Context) -> Iterator[str]:
    for option in item.options:
        if _combines(option.text):
            yield (
                f"option {option.key} ({quote(option.text)}) combines other options by letter; "
                "write each option as one complete alternative (exports also shuffle options)"
            )


@functools.lru_cache(maxsize=TEXT_CACHE)
def _combines(text: str) -> bool:
    return _COMBINATION.search(" ".join(text.split())) is not None


@functools.lru_cache(maxsize=TEXT_CACHE)
def same_text(text: str) -> str:
    """An option's text with case, spacing and a final full stop ignored; signs and
    symbols kept, so "-1" and "+1" or "*/15 * * * *" and "15 * * * *" differ."""
    return " ".join(text.casefold().split()).rstrip(".")


@functools.lru_cache(maxsize=TEXT_CACHE)
def _canonical(text: str) -> str:
    """An option's wording with case, articles, spelling variants and plurals evened out;
    numbers keep their sign and decimal point ("2.7" is not "27"), symbols stay."""
    text = _ARTICLES.sub(" ", text.casefold())
    for pattern, replacement in _SPELLINGS:
        text = pattern.sub(replacement, text)
    return "".join(_singular(word) for word in _TOKEN.findall(text))


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@rule(
    "options.near_duplicate",
    ERROR,
    "No two options say the same thing in nearly the same words (articles, spelling variants, "
    "plurals, hyphens).",
    needs={"schema.options"},
)
def _no_near_duplicates(item: GeneratedItem, _context: Context) -> Iterator[str]:
    for first, second in combinations(item.options, 2):
        if same_text(first.text) == same_text(second.text):
            continue  # options.unique reports exact duplicates
        if _canonical(first.text) and _canonical(first.text) == _canonical(second.text):
            yield (
                f"options {first.key} ({quote(first.text)}) and {second.key} "
                f"({quote(second.text)}) say the same thing; replace one with a distinct "
                "alternative"
            )


@rule(
    "options.vague_frequency",
    WARNING,
    "No option uses a vague frequency term (usually, often, frequently, sometimes, rarely, "
    "occasionally, commonly, generally, may).",
)
def _no_vague_frequency(item: GeneratedItem, _context: Context) -> Iterator[str]:
    for option in _options(item):
        terms = _vague_terms(option.text)
        if terms:
            listed = ", ".join(repr(term) for term in terms)
            yield (
                f"option {option.key} uses the vague frequency term {listed}; experts read such "
                "words differently, so state the fact without it"
            )


@functools.lru_cache(maxsize=TEXT_CACHE)
def _vague_terms(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.group().lower() for m in _VAGUE.finditer(text)))


def _options(item: GeneratedItem) -> list[Option]:
    return [option for option in item.options if option.text.strip()]
