"""The form's messages are plain words with the field's bounds; the API keeps pydantic's."""

from __future__ import annotations

import re

import httpx
import pytest

from bulkgen.http.form_errors import plain_message
from bulkgen.http.pages import FORM_DEFAULTS, parse_form

from helpers.api import BATCHES, batch_body

#: Wording that belongs to a validation library, not to a page.
JARGON = re.compile(r"\b(Input should|String should|Value error|min <= max|max_items|latency_ms)\b")


def errors_for(**values: str) -> dict[str, str]:
    config, errors = parse_form({**FORM_DEFAULTS, "topic": "Renal physiology", **values})
    assert config is None
    return errors


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"topic": ""}, "topic", "Enter a topic: what the questions are about."),
        ({"topic": "t" * 201}, "topic", "Shorten the topic to 200 characters or fewer."),
        ({"title": "t" * 201}, "title", "Shorten the title to 200 characters or fewer."),
        ({"count": "0"}, "count", "Enter how many items to generate, from 1 to 10,000."),
        ({"count": "10001"}, "count", "Enter how many items to generate, from 1 to 10,000."),
        ({"concurrency": "65"}, "concurrency", "from 1 to 64."),
        ({"fail_rate": "2"}, "fail_rate", "Enter a share from 0 to 1"),
        ({"latency_min": "-1"}, "latency_min", "from 0 to 60,000."),
        (
            {"latency_min": "500", "latency_max": "100"},
            "latency_max",
            "Make the longest latency at least as long as the shortest.",
        ),
        ({"max_items": "50"}, "max_items", "for “N valid items” only"),
        (
            {"mode": "valid", "max_items": "5"},
            "max_items",
            "Enter an attempt cap from 20 (the number of items) to 200.",
        ),
        ({"difficulty": "extreme"}, "difficulty", "Choose one of the options in the list."),
        ({"topic": "a\x01b"}, "topic", "Remove the invisible control characters"),
    ],
)
def test_each_problem_says_what_to_enter(values: dict[str, str], field: str, message: str) -> None:
    errors = errors_for(**values)
    assert message in errors[field]
    assert not JARGON.search(errors[field]), errors[field]


def test_a_problem_without_a_sentence_of_its_own_is_still_plain() -> None:
    problem = {"type": "less_than_equal", "msg": "Input should be less than or equal to 5"}
    assert plain_message("something_new", problem) == "Enter 5 or less."
    problem = {"type": "value_error", "msg": "Value error, the reason"}
    assert plain_message("something_new", problem) == "The reason."


def test_the_api_keeps_its_own_messages(client: httpx.Client) -> None:
    response = client.post(BATCHES, json=batch_body(count=0))
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "count"]
    assert problem["msg"] == "Input should be greater than or equal to 1"
