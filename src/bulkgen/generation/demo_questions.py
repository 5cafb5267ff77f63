"""The demo generator's question bank, built once from the fact tables, and its fault texts.

Each row a :class:`~bulkgen.generation.demo_facts.table.Form` applies to gives one
:class:`Question`: a stem, its answer, a sentence saying why, and the pool its distractors
are drawn from: the same column of other rows (capitals for a capital, years for a year),
so options are homogeneous and each distractor is explained by its own row in the
rationale. The rationale names options by their text, never by letter, since exports
shuffle the options. A draw of distractors that would cue the answer (much the longest
option, or the one sharing the most words with the others) is drawn again.

A question is dropped when its answer repeats a content word of its stem (a clang cue) or
its stem repeats an earlier one, so :data:`BANK` holds distinct questions only: stems that
differ in a key content word (the element, the country, the work), not in a number.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from bulkgen.generation.demo_facts import FORMS, TABLES
from bulkgen.generation.demo_facts.table import Form, Row
from bulkgen.generation.rules.cues import LONGEST_MARGIN, LONGEST_RATIO, MIN_CONVERGENT_TERMS
from bulkgen.generation.rules.words import content_words

__all__ = [
    "BANK",
    "BANK_SIZES",
    "CATCH_ALLS",
    "NEGATIVE_QUESTIONS",
    "OPTION_MARKUP",
    "SHORT_RATIONALES",
    "SHORT_STEMS",
    "STEM_MARKUP",
    "Question",
]

STEM_MARKUP = " <img src=x onerror=alert(1)>"
OPTION_MARKUP = ' <script>alert("x")</script>'
SHORT_STEMS = ("Which is correct?", "Pick the best one.", "Which one is true?")
SHORT_RATIONALES = ("It is correct.", "See the lecture notes.", "Obvious from the stem.")
CATCH_ALLS = ("All of the above", "None of the above.", "all of the above")

#: The most distractors an item has (five options).
MAX_DISTRACTORS = 4
#: Draws of distractors tried before accepting one that gives the answer away by length or
#: by sharing the most words with the other options.
_DRAWS = 8


def _fields(row: Row) -> dict[str, str]:
    fields = dict(row)
    for name, value in row.items():
        # "Iron" → "iron" mid-sentence, but "US dollar" and "HTTP" stay as they are.
        lower = len(value) > 1 and value[1].islower()
        fields[f"{name}_lc"] = value[:1].lower() + value[1:] if lower else value
    return fields


def _fill(template: str, row: Row) -> str:
    text = template.format(**_fields(row))
    return text[:1].upper() + text[1:]


def _option(value: str) -> str:
    return value[:1].upper() + value[1:]


def _join(clauses: Sequence[str]) -> str:
    if len(clauses) == 1:
        return clauses[0]
    return ", ".join(clauses[:-1]) + " and " + clauses[-1]


@dataclass(frozen=True, slots=True)
class _Pool:
    """A form's distinct answer values, what the rationale says of each, and their words."""

    values: tuple[str, ...]
    clauses: Mapping[str, str]
    words: Mapping[str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class Question:
    """One question of the bank, with what an item needs to draw its options."""

    subject: str
    stem: str
    answer: str
    why: str
    note: str
    candidates: tuple[str, ...]  # distractor values, the answer and its kin included
    excluded: frozenset[str]  # values that are not wrong: the answer's, and its key's
    pool: _Pool
    longest: str  # the longest wrong value among the candidates

    def distractors(self, rng: random.Random, count: int) -> list[str]:
        """``count`` wrong options; a draw that cues the answer is drawn again."""
        size = min(len(self.candidates), count + len(self.excluded))
        chosen: list[str] = []
        for _ in range(_DRAWS):
            drawn = rng.sample(self.candidates, size)
            chosen = [value for value in drawn if value not in self.excluded][:count]
            if not self._cues(chosen):
                return chosen
        # A long answer among short values ("American Standard Code for Information
        # Interchange"): the longest wrong value keeps it from standing out.
        if self.longest not in chosen:
            chosen[0] = self.longest
        return chosen

    def rationale(self, distractors: Sequence[str]) -> str:
        """Why the answer is right and, by their text, what the distractors are."""
        clauses = [self.pool.clauses[value] for value in distractors]
        if all(clauses):
            return f"{self.why} Of the other options, {_join(clauses)}."
        return f"{self.why} {self.note}"

    def _cues(self, distractors: Sequence[str]) -> bool:
        longest = max(len(value) for value in distractors)
        length = len(self.answer)
        if length >= LONGEST_RATIO * longest and length - longest >= LONGEST_MARGIN:
            return True
        words = self.pool.words
        frequency = Counter(w for value in (self.answer, *distractors) for w in words[value])

        def score(value: str) -> int:
            return sum(frequency[word] - 1 for word in words[value])

        shared = sum(frequency[word] > 1 for word in words[self.answer])
        best_other = max(score(value) for value in distractors)
        return shared >= MIN_CONVERGENT_TERMS and score(self.answer) > best_other


def _pool(form: Form, rows: Sequence[Row]) -> _Pool:
    first: dict[str, Row] = {}
    for row in rows:
        first.setdefault(_option(row[form.answer]), row)
    return _Pool(
        values=tuple(first),
        clauses=MappingProxyType(
            {value: form.other.format(**_fields(row)) for value, row in first.items()}
        ),
        words=MappingProxyType({value: frozenset(content_words(value)) for value in first}),
    )


def _questions(form: Form) -> list[Question]:
    table = TABLES[form.table]
    needed = {name for name in table.columns if "{" + name in form.stem + form.why}
    rows = [
        row
        for row in table.rows
        if row[form.answer]
        and all(row[name] for name in needed)
        and (form.when is None or form.when(row))
    ]
    pool = _pool(form, rows)
    kin: defaultdict[str, set[str]] = defaultdict(set)
    groups: defaultdict[str, list[str]] = defaultdict(list)
    for row in rows:
        kin[row[form.key]].add(_option(row[form.answer]))
        if form.group:
            value = _option(row[form.answer])
            if value not in groups[row[form.group]]:
                groups[row[form.group]].append(value)
    questions = []
    for row in rows:
        answer = _option(row[form.answer])
        excluded = frozenset(kin[row[form.key]] | {answer})
        candidates = pool.values
        nearby = tuple(groups[row[form.group]]) if form.group else ()
        if len(set(nearby) - excluded) >= MAX_DISTRACTORS:
            candidates = nearby
        stem = _fill(form.stem, row)
        if set(content_words(stem)) & set(content_words(answer)):
            continue  # the answer would repeat the stem's words
        questions.append(
            Question(
                subject=table.subject,
                stem=stem,
                answer=answer,
                why=_fill(form.why, row),
                note=_fill(form.note, row) if form.note else "",
                candidates=candidates,
                excluded=excluded & frozenset(candidates),
                pool=pool,
                longest=_longest(candidates, excluded),
            )
        )
    return questions


def _longest(candidates: Sequence[str], excluded: frozenset[str]) -> str:
    return max((value for value in candidates if value not in excluded), key=len)


def _bank() -> tuple[Question, ...]:
    seen: set[str] = set()
    bank = []
    for form in FORMS:
        for question in _questions(form):
            key = question.stem.casefold()
            if key not in seen:
                seen.add(key)
                bank.append(question)
    return tuple(bank)


#: Every distinct question the demo generator asks, in table order.
BANK = _bank()
#: How many questions of the bank each subject has.
BANK_SIZES = MappingProxyType(dict(Counter(question.subject for question in BANK)))


def _negative_questions() -> tuple[Question, ...]:
    """Questions with a negative lead-in ("… is not one of the noble gases?"), which the
    unemphasised-negative flaw asks (emphasised, the rules would still warn about them)."""
    table = TABLES["elements"]
    form = Form("elements", "", "name", "", other="{name_lc} is one of the {family_lc}")
    members: defaultdict[str, list[str]] = defaultdict(list)
    for row in table.rows:
        if row["family"]:
            members[row["family"]].append(row["name"])
    pool = _pool(form, [row for row in table.rows if row["family"]])
    families = [family for family, names in members.items() if len(names) > MAX_DISTRACTORS]
    questions = []
    for position, family in enumerate(families):
        outsider_family = families[(position + 1) % len(families)]
        outsider = members[outsider_family][0]
        questions.append(
            Question(
                subject="chemistry",
                stem=f"Which of the following elements is not one of the {family.lower()}?",
                answer=outsider,
                why=f"{outsider} is one of the {outsider_family.lower()}.",
                note="",
                candidates=tuple(members[family]),
                excluded=frozenset(),
                pool=pool,
                longest=_longest(members[family], frozenset()),
            )
        )
    return tuple(questions)


#: Questions with a lower-case negative, for the ``lowercase_negative`` flaw.
NEGATIVE_QUESTIONS = _negative_questions()
