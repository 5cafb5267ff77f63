"""Reading a model's answer tolerantly: the JSON object in it, wherever the model put it.

Models asked for "one JSON object and nothing else" still wrap it in a Markdown fence
(```json … ```), write a sentence before it, or hand it over as a tool call's arguments.
An endpoint without structured output makes that common. The answer's texts (the message
content, then each tool call's arguments) are searched, most likely reading first:

1. the whole text;
2. each fenced block;
3. each JSON value that starts at a ``{`` (prose before or after it is ignored).

The first candidate that validates against the expected model wins, so a tolerant read
never accepts what the schema refuses. When none does, :class:`Unreadable` says why, in
the terms of the first candidate: not JSON at all, or JSON of another shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError

__all__ = ["Unreadable", "json_candidates", "read_answer"]

#: Most ``{`` positions tried in one text: prose full of braces costs no more than this.
MAX_OBJECT_STARTS = 50
#: Most schema problems named in a message.
MAX_PROBLEMS = 5

_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9]*[ \t]*\r?\n(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Why no candidate of an answer validated: ``reason`` completes "the answer is …"."""

    reason: str
    empty: bool = False


def json_candidates(text: str) -> Iterator[object]:
    """The JSON values ``text`` may hold, most likely reading first (see the module)."""
    stripped = text.strip()
    pieces = [stripped, *(match.group(1).strip() for match in _FENCE.finditer(stripped))]
    for piece in pieces:
        value = _decoded(piece, 0, whole=True)
        if value is not _NOTHING:
            yield value
    start = stripped.find("{", 1)  # 0 is the whole text, tried above
    for _ in range(MAX_OBJECT_STARTS):
        if start == -1:
            return
        value = _decoded(stripped, start, whole=False)
        if value is not _NOTHING:
            yield value
        start = stripped.find("{", start + 1)


_NOTHING = object()


def _decoded(text: str, start: int, *, whole: bool) -> object:
    """The JSON value of ``text`` (``whole``) or the one that starts at ``start``."""
    try:
        return json.loads(text) if whole else _DECODER.raw_decode(text, start)[0]
    except ValueError:
        return _NOTHING


def read_answer(texts: Sequence[str], model: type[Model], what: str) -> Model | Unreadable:
    """The first JSON value in ``texts`` that validates as ``model``, or why there is none
    (``what`` names the schema in the reason: "item", "review")."""
    first_problem: ValidationError | None = None
    for text in texts:
        for candidate in json_candidates(text):
            try:
                return model.model_validate(candidate)
            except ValidationError as error:
                first_problem = first_problem or error
    if first_problem is not None:
        return Unreadable(f"not the {what}'s schema ({_problems(first_problem)})")
    written = [text.strip() for text in texts if text.strip()]
    if not written:
        return Unreadable("empty", empty=True)
    return Unreadable(f"not valid JSON ({_json_problem(written[0])})")


def _json_problem(text: str) -> str:
    """What the JSON parser says of ``text`` (which holds no JSON value)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return str(error)
    return "no JSON object"


def _problems(error: ValidationError) -> str:
    problems = error.errors(include_url=False)[:MAX_PROBLEMS]
    return "; ".join(
        f"{'.'.join(map(str, problem['loc'])) or 'answer'}: {problem['msg']}"
        for problem in problems
    )
