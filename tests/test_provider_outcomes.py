"""What real endpoints answer, against a real local Chat Completions server: the fallback
of structured output and its memory, tolerant reading of the answer, every provider outcome
as a named error kind with its message and retry decision, and the request deadline."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bulkgen.errors import GenerationError
from bulkgen.generation import GenerationRequest, OpenAIGenerator
from bulkgen.generation.validators import validate_item
from bulkgen.models import Difficulty, GeneratedItem, ItemType, OpenAIOptions

from helpers.api import BATCHES, all_items
from helpers.fake_openai import (
    FakeOpenAI,
    Recorded,
    Reply,
    cut_off,
    fenced,
    filtered,
    html_page,
    item,
    rate_limited,
    refused,
    server_error,
    tool_call,
    with_prose,
)
from helpers.server import STARTUP_SECONDS, LiveServer
from helpers.trickle import TricklingServer
from helpers.wait import wait_finished

KEY = "sk-test-OUTCOMES"
PATIENT = 30.0
TOPIC = "Cardiac physiology"
SCHEMA_IN_PROMPT = "The JSON schema of your answer"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def generator(base_url: str, *, timeout: float = PATIENT, **options: Any) -> OpenAIGenerator:
    return OpenAIGenerator(
        OpenAIOptions(**options),
        base_url=base_url,
        api_key=SecretStr(KEY),
        model="fake-model",
        timeout_seconds=timeout,
        requests_per_minute=60_000,
    )


def request(index: int = 0) -> GenerationRequest:
    return GenerationRequest(
        batch_id="b1",
        index=index,
        attempt=1,
        topic=TOPIC,
        item_type=ItemType.MCQ,
        difficulty=Difficulty.MEDIUM,
    )


async def one(base_url: str, **options: Any) -> GeneratedItem | GenerationError:
    """One item from a new generator, or the generation error it raised."""
    made = generator(base_url, **options)
    try:
        return await made.generate(request())
    except GenerationError as error:
        return error
    finally:
        await made.aclose()


# -- structured output degrades gracefully -------------------------------------------------


async def test_a_refused_json_schema_falls_back_to_json_object_and_is_remembered(
    fake: FakeOpenAI,
) -> None:
    fake.refused_formats = {"json_schema"}
    made = generator(fake.url + "/v1")
    try:
        first = await made.generate(request(0))
        second = await made.generate(request(1))
    finally:
        await made.aclose()
    assert first.stem.startswith("Question 2:") and second.stem.startswith("Question 3:")
    # One refusal, then the remembered mode: the second item asks json_object at once.
    assert fake.modes() == ["json_schema", "json_object", "json_object"]
    assert made.output_mode == "json_object"
    refused_request, fallback, _ = fake.requests
    assert SCHEMA_IN_PROMPT not in refused_request.prompt  # response_format carried it
    assert fallback.body["response_format"] == {"type": "json_object"}
    assert SCHEMA_IN_PROMPT in fallback.prompt and '"rationale"' in fallback.prompt
    assert {r.body["max_tokens"] for r in fake.requests} == {2048}


async def test_an_endpoint_without_json_modes_is_asked_by_the_prompt_alone(
    fake: FakeOpenAI,
) -> None:
    fake.refused_formats = {"json_schema", "json_object"}
    made = generator(fake.url + "/v1")
    try:
        for index in range(3):
            assert isinstance(await made.generate(request(index)), GeneratedItem)
    finally:
        await made.aclose()
    assert fake.modes() == ["json_schema", "json_object", "prompt", "prompt", "prompt"]
    assert all("response_format" not in r.body for r in fake.requests[2:])
    assert all(SCHEMA_IN_PROMPT in r.prompt for r in fake.requests[1:])
    # The memory is the batch run's (one generator): the next batch asks json_schema again.
    fake.refused_formats = set()
    assert isinstance(await one(fake.url + "/v1"), GeneratedItem)
    assert fake.modes()[-1] == "json_schema"


async def test_the_review_shares_the_endpoint_s_remembered_mode(fake: FakeOpenAI) -> None:
    fake.refused_formats = {"json_schema"}
    made = generator(fake.url + "/v1", review={})
    try:
        found = await made.generate(request())
        verdict = await made.review(found, request())
        again = await made.review(found, request())
    finally:
        await made.aclose()
    assert verdict.agrees and again.agrees
    assert fake.modes() == ["json_schema", "json_object"]
    assert fake.modes(review=True) == ["json_object", "json_object"]
    assert SCHEMA_IN_PROMPT in fake.review_requests[0].prompt
    assert fake.review_requests[0].body["max_tokens"] == 2048


async def test_a_review_endpoint_of_its_own_learns_its_own_mode(fake: FakeOpenAI) -> None:
    with FakeOpenAI() as judge:
        judge.refused_formats = {"json_schema", "json_object"}
        made = OpenAIGenerator(
            OpenAIOptions(review={}),
            base_url=fake.url + "/v1",
            api_key=SecretStr(KEY),
            model="fake-model",
            timeout_seconds=PATIENT,
            requests_per_minute=60_000,
            review_base_url=judge.url + "/v1",
        )
        try:
            found = await made.generate(request())
            assert (await made.review(found, request())).agrees
        finally:
            await made.aclose()
        assert judge.modes(review=True) == ["json_schema", "json_object", "prompt"]
    assert fake.modes() == ["json_schema"]


async def test_an_endpoint_refusing_max_tokens_gets_max_completion_tokens(
    fake: FakeOpenAI,
) -> None:
    fake.refuses_max_tokens = True
    made = generator(fake.url + "/v1", max_tokens=900)
    try:
        for index in range(2):
            assert isinstance(await made.generate(request(index)), GeneratedItem)
    finally:
        await made.aclose()
    limits = [
        {key: r.body[key] for key in ("max_tokens", "max_completion_tokens") if key in r.body}
        for r in fake.requests
    ]
    assert limits == [
        {"max_tokens": 900},
        {"max_completion_tokens": 900},
        {"max_completion_tokens": 900},
    ]
    assert fake.modes() == ["json_schema"] * 3  # the output mode is not touched


async def test_a_400_about_something_else_is_a_bad_request_without_fallback(
    fake: FakeOpenAI,
) -> None:
    fake.push(Reply(status=400, error={"message": "temperature must be at most 1 here"}))
    error = await one(fake.url + "/v1")
    assert isinstance(error, GenerationError)
    assert (error.kind, error.transient) == ("bad_request", False)
    assert error.message == "400 from the provider: temperature must be at most 1 here"
    assert fake.modes() == ["json_schema"]


@pytest.mark.parametrize("reply", [fenced(5), with_prose(5), tool_call(5)])
async def test_an_item_wrapped_in_a_fence_prose_or_a_tool_call_is_read(
    fake: FakeOpenAI, reply: Reply
) -> None:
    fake.push(reply)
    found = await one(fake.url + "/v1")
    assert isinstance(found, GeneratedItem)
    assert found.model_dump(exclude={"usage", "review"}) == item(5)
    assert validate_item(found, topic=TOPIC) == []


async def test_a_wrapped_answer_of_another_shape_is_still_malformed(fake: FakeOpenAI) -> None:
    wrong = json.dumps({"question": "Which chamber?", "choices": ["A", "B"]})
    fake.push(Reply(content=f"```json\n{wrong}\n```"))
    error = await one(fake.url + "/v1")
    assert isinstance(error, GenerationError)
    assert (error.kind, error.transient) == ("malformed_output", False)
    assert error.message.startswith("the answer is not the item's schema (stem: Field required;")
    assert wrong in error.message


async def test_an_answer_cut_off_after_a_complete_item_is_that_item(fake: FakeOpenAI) -> None:
    fake.push(Reply(content=json.dumps(item(3)) + "\n\n\n", finish_reason="length"))
    found = await one(fake.url + "/v1")
    assert isinstance(found, GeneratedItem) and found.stem.startswith("Question 3:")


# -- every outcome, named ------------------------------------------------------------------

NOT_FOUND_HINT = (
    "The model \"fake-model\" or the endpoint's address is unknown there: check the batch's "
    "model (or the openai_model setting) and openai_base_url, which usually ends in /v1"
)
OUTCOMES: list[tuple[str, Reply, str, bool, str]] = [
    (
        "content filter",
        filtered(),
        "content_filtered",
        False,
        "the provider's content filter blocked the answer (finish_reason content_filter); "
        "rephrase the topic or learning objective if it could read as harmful, or ask "
        "whoever runs the endpoint about its filter",
    ),
    (
        "content filter on the prompt (Azure)",
        Reply(
            status=400,
            error={"message": "The prompt triggered the content policy.", "code": "content_filter"},
        ),
        "content_filtered",
        False,
        "the provider's content filter blocked the request (400: The prompt triggered the "
        "content policy.); rephrase the topic or learning objective",
    ),
    (
        "refusal",
        refused("I can't help with that."),
        "refused",
        False,
        'the model declined to write it: "I can\'t help with that."; rephrase the topic or '
        "learning objective, or choose another model",
    ),
    (
        "cut off",
        cut_off(1),
        "truncated",
        False,
        "the answer was cut off at the token limit (max_tokens 2048) before the item was "
        "complete; raise generator_options.max_tokens (a model that reasons before it answers "
        f"needs more); raw answer: {json.dumps(item(1))[:120]}",
    ),
    (
        "HTML page with status 200",
        html_page(),
        "provider_error",
        False,
        'the endpoint answered with an HTML page titled "Sign in - Campus Proxy" (status 200), '
        "not a chat completion: openai_base_url probably points at a web page, such as a "
        "proxy's sign-in page or a server's home page, rather than the API (which usually "
        "ends in /v1)",
    ),
    (
        "plain text with status 200",
        Reply(body="upstream connect error", body_type="text/plain"),
        "provider_error",
        False,
        "the endpoint's answer (status 200, text/plain; charset=utf-8) is not JSON, so not a "
        "chat completion; check openai_base_url. It begins: upstream connect error",
    ),
    (
        "JSON without choices",
        Reply(body='{"object": "list", "data": []}'),
        "provider_error",
        False,
        "the endpoint answered with JSON that is not a chat completion (it has no choices); "
        'check openai_base_url. It begins: {"object": "list", "data": []}',
    ),
    (
        "an error object with status 200",
        Reply(body='{"error": {"message": "upstream model overloaded"}}'),
        "provider_error",
        False,
        "the endpoint answered status 200 with an error instead of a completion: "
        "upstream model overloaded",
    ),
    (
        "404",
        Reply(status=404, error={"message": "The model `fake-model` does not exist."}),
        "not_found",
        False,
        f"404 from the provider: The model `fake-model` does not exist. {NOT_FOUND_HINT}",
    ),
    (
        "unknown model as a 400 (Ollama)",
        Reply(status=400, error={"message": "model 'fake-model' not found, try pulling it"}),
        "not_found",
        False,
        f"400 from the provider: model 'fake-model' not found, try pulling it. {NOT_FOUND_HINT}",
    ),
    (
        "401",
        Reply(status=401, error={"message": f"Incorrect API key provided: {KEY}"}),
        "auth_error",
        False,
        "401: the provider refused the API key (check BULKGEN_OPENAI_API_KEY or "
        "OPENAI_API_KEY and the model's access)",
    ),
    (
        "429",
        rate_limited("2"),
        "rate_limited",
        True,
        "429 Too Many Requests: Rate limit reached for requests; retry after 2 s",
    ),
    (
        "503",
        server_error(503),
        "provider_error",
        True,
        "503 from the provider: The server had an error while processing your request.",
    ),
    (
        "an empty answer",
        Reply(content=""),
        "malformed_output",
        False,
        "the answer is empty (finish_reason stop)",
    ),
]


@pytest.mark.parametrize(
    ("reply", "kind", "transient", "message"),
    [case[1:] for case in OUTCOMES],
    ids=[case[0] for case in OUTCOMES],
)
async def test_each_outcome_is_a_named_kind_with_an_actionable_message(
    fake: FakeOpenAI, reply: Reply, kind: str, transient: bool, message: str
) -> None:
    fake.push(reply)
    error = await one(fake.url + "/v1")
    assert isinstance(error, GenerationError)
    assert (error.kind, error.transient, error.message) == (kind, transient, message)
    assert len(fake.requests) == 1


# -- the deadline --------------------------------------------------------------------------


async def test_headers_trickled_a_byte_at_a_time_end_at_the_deadline() -> None:
    # A byte every 20 ms never trips a 300 ms per-read timeout; only a deadline on the
    # whole request ends the wait before the 4,000 bytes of headers are through.
    with TricklingServer(interval=0.02) as slow:
        error = await one(slow.url + "/v1", timeout=0.3)
        assert slow.abandoned.wait(STARTUP_SECONDS), "the client never left"
    assert isinstance(error, GenerationError)
    assert (error.kind, error.transient) == ("timeout", True)
    assert error.message == (
        "the provider did not answer within 0.3 s (the whole request: connecting, headers "
        "and body); it is retried, and openai_timeout_seconds can be raised for a slow model"
    )
    assert len(slow.requests) == 1
    [sent] = slow.sent
    assert sent < len(slow.headers)  # it gave up halfway through the headers


# -- end to end in a live bulkgen ----------------------------------------------------------


@pytest.fixture
def openai_server(make_server: Callable[..., LiveServer]) -> Callable[..., LiveServer]:
    def make(base_url: str, **overrides: Any) -> LiveServer:
        values: dict[str, Any] = {
            "openai_base_url": base_url,
            "openai_api_key": KEY,
            "openai_timeout_seconds": PATIENT,
            "openai_requests_per_minute": 60_000,
            "retry_backoff_seconds": 0.01,
            "max_attempts": 2,
        }
        values.update(overrides)
        return make_server(**values)

    return make


def run_batch(live: LiveServer, count: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Create an ``openai`` batch of ``count`` items, one at a time; the finished batch and
    its items."""
    body = {
        "topic": TOPIC,
        "count": count,
        "concurrency": 1,
        "generator": "openai",
        "early_stop": {"enabled": False},
    }
    with httpx.Client(base_url=live.url, timeout=60) as http:
        created = http.post(BATCHES, json=body)
        assert created.status_code == 201, created.text
        batch = wait_finished(http, created.json()["id"])
        return batch, all_items(http, batch["id"])


def number_of(sent: Recorded) -> int:
    """The item a generation request asks for (its prompt's "question n of a set")."""
    return int(sent.prompt.split("This is question ")[1].split(" ")[0])


def test_a_batch_on_an_endpoint_without_json_schema_asks_json_object_after_one_refusal(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    fake.refused_formats = {"json_schema"}
    batch, items = run_batch(openai_server(fake.url + "/v1"), 4)
    assert batch["progress"]["completed"] == 4
    assert [len(found["attempts"]) for found in items] == [1] * 4  # the fallback is no retry
    assert fake.modes() == ["json_schema"] + ["json_object"] * 4


def test_each_outcome_fails_its_item_with_its_kind_and_attempts(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    replies = {
        1: filtered,
        2: lambda: refused("No."),
        3: lambda: cut_off(3),
        4: html_page,
        5: lambda: server_error(502),
        6: lambda: fenced(6),
    }
    fake.script = lambda sent, _number: replies[number_of(sent)]()
    batch, items = run_batch(openai_server(fake.url + "/v1"), len(replies))
    found = {i["index"] + 1: i for i in items}
    outcomes = {
        number: (
            i["error"]["kind"] if i["error"] else None,
            i["error"]["transient"] if i["error"] else None,
            len(i["attempts"]),
        )
        for number, i in found.items()
    }
    assert outcomes == {
        1: ("content_filtered", False, 1),
        2: ("refused", False, 1),
        3: ("truncated", False, 1),
        4: ("provider_error", False, 1),
        5: ("provider_error", True, 2),
        6: (None, None, 1),
    }
    assert found[5]["error"]["message"] == (
        "502 from the provider: The server had an error while processing your request. "
        "(gave up after 2 attempts)"
    )
    assert "Error:" not in json.dumps(items)  # no exception's text in any item
    assert batch["progress"]["failure_reasons"] == {
        "kind:content_filtered": 1,
        "kind:refused": 1,
        "kind:truncated": 1,
        "kind:provider_error": 2,
    }
    assert sum(number_of(sent) == 5 for sent in fake.requests) == 2


def test_a_trickling_endpoint_fails_each_attempt_at_the_deadline(
    openai_server: Callable[..., LiveServer],
) -> None:
    with TricklingServer(interval=0.02) as slow:
        live = openai_server(slow.url + "/v1", openai_timeout_seconds=0.3)
        _batch, [found] = run_batch(live, 1)
        assert len(slow.requests) == 2
    assert found["status"] == "failed"
    assert (found["error"]["kind"], found["error"]["transient"]) == ("timeout", True)
    assert found["error"]["message"].endswith("(gave up after 2 attempts)")
    assert [a["error_kind"] for a in found["attempts"]] == ["timeout", "timeout"]
