"""What the ``openai`` generator asks a model: one item, or the blind review of one.

The generation request carries the item-writing rules in its system message and the
item's topic, difficulty and number in the user message, and asks for the JSON schema
``mcq_item``. The review request (see :mod:`bulkgen.generation.review`) shows the stem and
the options, keys as given, never the key or the rationale, and asks for ``item_review``.
When the endpoint does not take the schema as ``response_format`` (see
:mod:`bulkgen.generation.chat`), the system message spells it out instead.
"""

from __future__ import annotations

import json

from openai.types.chat import ChatCompletionMessageParam

from bulkgen.generation.base import GenerationRequest
from bulkgen.models import Difficulty, GeneratedItem, ItemType

__all__ = [
    "ITEM_SCHEMA",
    "MAX_FLAWS",
    "build_messages",
    "build_review_messages",
    "review_schema",
]

#: Most flaws a review may list.
MAX_FLAWS = 5
_KEYS = ["A", "B", "C", "D", "E"]

ITEM_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "stem": {"type": "string", "description": "The question, complete on its own."},
        "options": {
            "type": "array",
            "minItems": 4,
            "maxItems": 5,
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": "string", "enum": _KEYS},
                    "text": {"type": "string"},
                },
                "required": ["key", "text"],
                "additionalProperties": False,
            },
        },
        "answer": {
            "type": "string",
            "enum": _KEYS,
            "description": "Key of the one correct option.",
        },
        "rationale": {
            "type": "string",
            "description": "Why the answer is correct and the other options are not.",
        },
    },
    "required": ["stem", "options", "answer", "rationale"],
    "additionalProperties": False,
}

_SYSTEM = """\
You write multiple-choice questions for university exams. Answer with one JSON object \
that matches the given schema, and nothing else.
Every question follows these item-writing rules:
- The stem is a complete question of 20 to 1000 characters that can be answered \
without seeing the options.
- 4 or 5 options keyed A, B, C, D (and E): all plausible, all different, exactly one \
correct; `answer` is the key of the correct one.
- Never "all of the above" or "none of the above".
- A negative word in the stem (NOT, EXCEPT, LEAST, FALSE) is written in capitals.
- Options are of similar length; the correct one is not conspicuously the longest.
- No absolute words (always, never, only, all, none, every) in the wrong options.
- No option combines others ("Both A and C"); no two options say the same thing; \
numeric options do not overlap; no vague frequency words (usually, often, may).
- The stem's grammar fits every option, and no stem word reappears only in the answer.
- The rationale names options by their text, never by their letter: options are shuffled.
- The rationale, two or three sentences, says why the answer is correct and why the \
other options are not."""

_ITEM_TYPES = {ItemType.MCQ: "multiple-choice question with one best answer"}
_DIFFICULTIES = {
    Difficulty.EASY: "easy: recall of a fact, term or definition",
    Difficulty.MEDIUM: "medium: applying a concept to a short situation",
    Difficulty.HARD: "hard: analysing a scenario, data or a study and judging what follows",
}


def _with_schema(system: str, schema: dict[str, object] | None) -> str:
    """The system message, with the schema written out when the request cannot carry it."""
    if schema is None:
        return system
    return (
        f"{system}\n\nThe JSON schema of your answer:\n{json.dumps(schema)}\n"
        "Write the JSON object alone: no code fence, no text before or after it."
    )


def build_messages(
    request: GenerationRequest,
    learning_objective: str | None,
    schema: dict[str, object] | None = None,
) -> list[ChatCompletionMessageParam]:
    """The chat messages that ask for one item of a batch; ``schema`` is written into the
    system message when given."""
    number = request.index + 1
    lines = [
        f"Write one {_ITEM_TYPES[request.item_type]}.",
        f"Topic: {request.topic}",
        f"Difficulty: {_DIFFICULTIES[request.difficulty]}",
    ]
    if learning_objective:
        lines.append(f"Learning objective it assesses: {learning_objective}")
    lines.append(
        f"This is question {number} of a set on this topic; questions of the set must not "
        f"repeat each other, so pick the aspect of the topic that question {number} of a "
        "varied set would cover."
    )
    return [
        {"role": "system", "content": _with_schema(_SYSTEM, schema)},
        {"role": "user", "content": "\n".join(lines)},
    ]


_REVIEW_SYSTEM = """\
You review multiple-choice exam questions written by someone else. You are not told \
which option is keyed as correct. Answer with one JSON object that matches the given \
schema, and nothing else:
- `correct`: the key of every option that is a correct answer to the question as \
written (more than one if the question has more than one defensible answer);
- `answer`: the key of the single best answer;
- `flaws`: item-writing problems you see, each a short sentence (for example an \
ambiguous stem, a second defensible answer, a cue that gives the answer away, an option \
that cannot be true, absolute or vague words); an empty list when there are none."""


def review_schema(keys: list[str]) -> dict[str, object]:
    """The JSON schema of a review's answer, its keys limited to the item's."""
    key = {"type": "string", "enum": keys}
    return {
        "type": "object",
        "properties": {
            "correct": {"type": "array", "items": key},
            "answer": {**key, "description": "Key of the single best answer."},
            "flaws": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_FLAWS},
        },
        "required": ["correct", "answer", "flaws"],
        "additionalProperties": False,
    }


def build_review_messages(
    item: GeneratedItem, schema: dict[str, object] | None = None
) -> list[ChatCompletionMessageParam]:
    """The chat messages of a review: the stem and the options, never the key; ``schema``
    is written into the system message when given."""
    options = "\n".join(f"{option.key}. {option.text}" for option in item.options)
    question = f"Question:\n{item.stem}\n\nOptions:\n{options}"
    return [
        {"role": "system", "content": _with_schema(_REVIEW_SYSTEM, schema)},
        {"role": "user", "content": question},
    ]
