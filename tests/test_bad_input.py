"""Bad input at the HTTP edge is a 4xx in the API's JSON shape, never a 500.

Each case was once a 500 or a non-JSON answer: a validation error that could not encode
the input it echoed (NaN, a lone surrogate), a rule's error re-raised without its context,
a text/plain 413, a body in the wrong content type, a NUL byte stored as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers.api import BATCHES, batch_body

pytestmark = pytest.mark.databases

JSON = {"content-type": "application/json"}


def post_raw(client: httpx.Client, body: str | bytes, headers: dict[str, str] = JSON) -> Any:
    return client.post(BATCHES, content=body, headers=headers)


def problems(response: httpx.Response) -> dict[tuple[Any, ...], str]:
    """``loc`` → ``msg`` of a 422's problems (the response must be the JSON shape)."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    return {tuple(problem["loc"]): problem["msg"] for problem in response.json()["detail"]}


def test_a_rule_error_and_an_option_error_together_are_both_named(
    client: httpx.Client,
) -> None:
    body = batch_body(max_items=1, generator_options={"bogus": 1})
    found = problems(client.post(BATCHES, json=body))
    assert found[("body", "max_items")] == "max_items is only allowed with mode 'valid'"
    assert found[("body", "generator_options", "bogus")] == "Extra inputs are not permitted"


@pytest.mark.parametrize(
    ("literal", "echo"), [("NaN", "nan"), ("1e999", "inf"), ("-1e999", "-inf")]
)
def test_a_number_that_is_not_finite_is_422(client: httpx.Client, literal: str, echo: str) -> None:
    body = (
        f'{{"topic": "Renal", "count": {literal}, "generator_options": {{"fail_rate": {literal}}}}}'
    )
    response = post_raw(client, body)
    assert set(problems(response)) == {
        ("body", "count"),
        ("body", "generator_options", "fail_rate"),
    }
    assert [problem["input"] for problem in response.json()["detail"]] == [echo, echo]


@pytest.mark.parametrize(
    ("field", "value"),
    [("count", "5.5"), ("count", '"5"'), ("concurrency", "true"), ("early_stop", '{"enabled": 1}')],
)
def test_numbers_and_flags_are_not_coerced(client: httpx.Client, field: str, value: str) -> None:
    """JSON has numbers and booleans: "5" or 5.5 for a count, or 1 for a flag, are refused."""
    response = post_raw(client, f'{{"topic": "Renal", "count": 3, "{field}": {value}}}')
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ('{"topic": "ab\\ud800cd", "count": 1}', ("body", "topic"), "unpaired surrogate"),
        ('{"topic": "ab\\u0000cd", "count": 1}', ("body", "topic"), "NUL"),
        ('{"topic": "ok", "count": 1, "title": "a\\u0007b"}', ("body", "title"), "control"),
        (
            '{"topic": "ok", "count": 1, "generator": "demo", "generator_options": '
            '{"seed": 1, "latency_ms": [0, 1]}, "model": "m\\udfff"}',
            ("body", "model"),
            "unpaired surrogate",
        ),
    ],
)
def test_text_that_no_database_should_hold_is_422_naming_the_field(
    client: httpx.Client, body: str, field: tuple[str, ...], message: str
) -> None:
    found = problems(post_raw(client, body))
    assert list(found) == [field]
    assert message in found[field]
    listed = client.get(BATCHES).json()
    assert listed["total"] == 0, "nothing was stored"


def test_tabs_and_line_breaks_are_plain_text(client: httpx.Client) -> None:
    response = client.post(BATCHES, json=batch_body(title="Week 3\tquiz\nsection B"))
    assert response.status_code == 201
    assert response.json()["title"] == "Week 3\tquiz\nsection B"


def test_a_long_input_is_echoed_shortened(client: httpx.Client) -> None:
    response = client.post(BATCHES, json=batch_body(count="x" * 5000))
    (problem,) = response.json()["detail"]
    assert response.status_code == 422
    assert len(problem["input"]) < 300


def test_a_body_over_the_limit_is_a_json_413(client: httpx.Client) -> None:
    response = post_raw(client, b'{"topic": "' + b"a" * 100_000 + b'", "count": 1}')
    assert response.status_code == 413
    assert response.json() == {"detail": "request body is larger than 64 KiB"}


def test_a_streamed_body_over_the_limit_is_a_json_413(client: httpx.Client) -> None:
    """No Content-Length: the body is counted as it arrives."""

    def chunks() -> Iterator[bytes]:
        yield b'{"topic": "'
        for _ in range(40):
            yield b"a" * 4096
        yield b'", "count": 1}'

    response = client.post(BATCHES, content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert response.json() == {"detail": "request body is larger than 64 KiB"}


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_in_another_content_type_is_415_naming_it(
    client: httpx.Client, content_type: str
) -> None:
    response = post_raw(client, '{"topic": "Renal", "count": 1}', {"content-type": content_type})
    assert response.status_code == 415
    detail = response.json()["detail"]
    assert "application/json" in detail and content_type in detail


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/vnd.api+json"]
)
def test_json_content_types_are_accepted(client: httpx.Client, content_type: str) -> None:
    response = post_raw(client, '{"topic": "Renal", "count": 1}', {"content-type": content_type})
    assert response.status_code == 201


def test_malformed_json_is_422(client: httpx.Client) -> None:
    response = post_raw(client, '{"topic": "Renal", "count": ')
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    "batch_id", ["ab%00cd", "ab%ED%A0%80", "%C2%B2", "x" * 300, "0" * 31 + "G", "0" * 32]
)
@pytest.mark.parametrize("suffix", ["", "/items", "/progress", "/export?format=csv"])
def test_an_id_that_names_no_batch_is_404_in_json(
    client: httpx.Client, batch_id: str, suffix: str
) -> None:
    response = client.get(f"{BATCHES}/{batch_id}{suffix}")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("no batch")


def test_an_unknown_printable_id_is_repeated_in_the_message(client: httpx.Client) -> None:
    response = client.get(f"{BATCHES}/no-such-batch")
    assert response.json() == {"detail": "no batch no-such-batch"}
