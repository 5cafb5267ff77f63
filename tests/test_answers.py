"""Reading a model's answer tolerantly (pure): where the JSON may hide, and what is refused."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from bulkgen.generation.answers import MAX_OBJECT_STARTS, Unreadable, json_candidates, read_answer


class Pair(BaseModel):
    left: str
    right: int


PAIR = {"left": "a {brace} inside", "right": 2}
TEXT = json.dumps(PAIR)


@pytest.mark.parametrize(
    "answer",
    [
        TEXT,
        f"  {TEXT}\n",
        f"```json\n{TEXT}\n```",
        f"```\n{TEXT}\n```",
        f"Here you go {{as asked}}:\n```JSON\n{TEXT}\n```\nAnything else?",
        f"<think>The user wants a pair.</think>\n{TEXT}",
        f"Sure! {{}} Here is it: {TEXT} Hope it helps {{:",
        f"```json\n{TEXT}",  # a fence never closed
    ],
)
def test_the_object_is_found_wherever_the_model_put_it(answer: str) -> None:
    assert read_answer([answer], Pair, "pair") == Pair.model_validate(PAIR)


def test_the_first_text_that_validates_wins_over_earlier_texts() -> None:
    found = read_answer(["I will call the tool.", TEXT], Pair, "pair")
    assert found == Pair.model_validate(PAIR)


def test_json_of_another_shape_names_the_schema_and_its_fields() -> None:
    found = read_answer(['```json\n{"left": "x"}\n```'], Pair, "pair")
    assert found == Unreadable("not the pair's schema (right: Field required)")


def test_text_without_json_says_what_the_parser_says() -> None:
    found = read_answer(['{"left": "x", "rig'], Pair, "pair")
    assert found == Unreadable(
        "not valid JSON (Unterminated string starting at: line 1 column 15 (char 14))"
    )


def test_blank_texts_are_an_empty_answer() -> None:
    assert read_answer(["", "  \n"], Pair, "pair") == Unreadable("empty", empty=True)


def test_prose_full_of_braces_is_searched_a_bounded_number_of_times() -> None:
    prose = "{ " * (MAX_OBJECT_STARTS * 4) + TEXT
    assert sum(1 for _ in json_candidates(prose)) == 0  # the object is past the bound
    assert read_answer([prose], Pair, "pair") == Unreadable(
        "not valid JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 3 (char 2))"
    )
