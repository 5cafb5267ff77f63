"""The ``openai`` generator through the official SDK against a real local Chat Completions
server: alone for each answer the server can give, then end to end in a live bulkgen."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bulkgen.errors import PermanentGenerationError, TransientGenerationError
from bulkgen.generation import GenerationRequest, OpenAIGenerator, build_generator
from bulkgen.generation.openai_compat import MAX_RAW_TEXT, retry_after
from bulkgen.generation.ratelimit import RateLimiter
from bulkgen.generation.validators import validate_item
from bulkgen.models import BatchConfig, Difficulty, ItemType, OpenAIOptions, Severity
from bulkgen.settings import Settings

from helpers.api import BATCHES, all_items
from helpers.fake_openai import (
    USAGE,
    FakeOpenAI,
    Reply,
    flawed,
    malformed,
    ok,
    rate_limited,
    server_error,
    slow,
)
from helpers.server import LiveServer
from helpers.sse import read_stream
from helpers.wait import wait_finished

KEY = "sk-test-SECRET"
#: Seconds the client waits for an answer: long enough for any load. Tests of timeouts set
#: a short one and a provider that never answers in time.
PATIENT = 30.0
TOPIC = "Cardiac physiology"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def generator(
    base_url: str, *, timeout: float = PATIENT, key: str | None = KEY, **options: Any
) -> OpenAIGenerator:
    return OpenAIGenerator(
        OpenAIOptions(**options),
        base_url=base_url,
        api_key=None if key is None else SecretStr(key),
        model="fake-model",
        timeout_seconds=timeout,
        requests_per_minute=60_000,
    )


def request(index: int = 0, attempt: int = 1, model: str | None = None) -> GenerationRequest:
    return GenerationRequest(
        batch_id="b1",
        index=index,
        attempt=attempt,
        topic=TOPIC,
        item_type=ItemType.MCQ,
        difficulty=Difficulty.HARD,
        model=model,
    )


async def one(fake: FakeOpenAI, *replies: Reply, **options: Any) -> Any:
    """Push the replies, ask for one item, return it or the error raised."""
    fake.push(*replies)
    made = generator(fake.url + "/v1", **options)
    try:
        return await made.generate(request())
    except (TransientGenerationError, PermanentGenerationError) as error:
        return error
    finally:
        await made.aclose()


# -- the generator alone ------------------------------------------------------------------


async def test_a_valid_answer_is_an_item_with_its_usage(fake: FakeOpenAI) -> None:
    result = await one(
        fake, ok(7), learning_objective="Explain ventricular ejection", temperature=0.2
    )
    assert result.stem.startswith("Question 7:")
    assert [o.key for o in result.options] == ["A", "B", "C", "D"]
    assert result.answer == "A"
    assert result.usage.model_dump() == {
        "prompt_tokens": USAGE[0],
        "completion_tokens": USAGE[1],
        "total_tokens": sum(USAGE),
    }
    assert validate_item(result, topic=TOPIC) == []

    [sent] = fake.requests
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.body["model"] == "fake-model"
    assert sent.body["temperature"] == 0.2
    assert TOPIC in sent.prompt
    assert "Explain ventricular ejection" in sent.prompt
    assert "hard" in sent.prompt
    assert "question 1 of a set" in sent.prompt
    response_format = sent.body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "mcq_item"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["required"] == ["stem", "options", "answer", "rationale"]
    assert schema["additionalProperties"] is False
    assert sent.body["max_tokens"] == 2048  # the default bounds every answer


async def test_max_tokens_is_the_batch_s_option(fake: FakeOpenAI) -> None:
    await one(fake, ok(1), max_tokens=700)
    assert fake.requests[0].body["max_tokens"] == 700


async def test_the_batch_model_overrides_the_default(fake: FakeOpenAI) -> None:
    made = generator(fake.url + "/v1")
    try:
        await made.generate(request(model="llama-3.1-8b"))
    finally:
        await made.aclose()
    assert fake.requests[0].body["model"] == "llama-3.1-8b"


async def test_a_flawed_item_is_returned_for_validation_to_fail(fake: FakeOpenAI) -> None:
    result = await one(fake, flawed())
    failed = {r.rule for r in validate_item(result, topic=TOPIC) if r.severity is Severity.ERROR}
    assert failed == {"options.all_none_of_the_above", "rationale.length"}


async def test_malformed_json_is_a_permanent_error_with_the_raw_text(fake: FakeOpenAI) -> None:
    text = '{"stem": "Which chamber pumps blood into the aorta?", "opt'
    error = await one(fake, malformed(text))
    assert isinstance(error, PermanentGenerationError)
    assert error.kind == "malformed_output"
    assert not error.transient
    assert "not valid JSON" in error.message
    assert text in error.message


async def test_the_raw_text_kept_is_bounded(fake: FakeOpenAI) -> None:
    text = "Sure! Here is your question: " + "x" * 10_000
    error = await one(fake, malformed(text))
    assert error.kind == "malformed_output"
    assert text[:MAX_RAW_TEXT] in error.message
    assert len(error.message) < MAX_RAW_TEXT + 200
    assert "more characters" in error.message


async def test_json_of_another_shape_is_malformed_output(fake: FakeOpenAI) -> None:
    text = json.dumps({"question": "Which chamber?", "choices": ["A", "B"]})
    error = await one(fake, malformed(text))
    assert error.kind == "malformed_output"
    assert "not the item's schema" in error.message
    assert "stem" in error.message
    assert text in error.message


async def test_429_is_transient_and_carries_retry_after(fake: FakeOpenAI) -> None:
    error = await one(fake, rate_limited("2"))
    assert isinstance(error, TransientGenerationError)
    assert error.kind == "rate_limited"
    assert error.retry_after == 2.0
    assert "retry after 2 s" in error.message


async def test_429_retry_after_as_an_http_date(fake: FakeOpenAI) -> None:
    before = datetime.now(UTC)
    when = (before + timedelta(seconds=30)).replace(microsecond=0)  # HTTP dates: seconds
    error = await one(fake, rate_limited(format_datetime(when, usegmt=True)))
    after = datetime.now(UTC)
    assert error.kind == "rate_limited"
    # The wait is counted from when the answer was read, between before and after.
    assert (when - after).total_seconds() <= error.retry_after <= (when - before).total_seconds()


async def test_429_without_retry_after(fake: FakeOpenAI) -> None:
    error = await one(fake, rate_limited(None))
    assert error.kind == "rate_limited"
    assert error.transient
    assert error.retry_after is None


async def test_a_429_holds_off_the_batch_s_next_requests(fake: FakeOpenAI) -> None:
    fake.push(rate_limited("0.3"), ok(2))
    made = generator(fake.url + "/v1")
    try:
        with pytest.raises(TransientGenerationError):
            await made.generate(request(0))
        await made.generate(request(1))  # another worker of the same batch
    finally:
        await made.aclose()
    limited, next_one = fake.requests
    # The hold-off starts when the 429 arrives, so after the provider sent it.
    assert limited.answered_at is not None
    assert next_one.received_at - limited.answered_at >= 0.3


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_a_transient_provider_error(fake: FakeOpenAI, status: int) -> None:
    error = await one(fake, server_error(status))
    assert isinstance(error, TransientGenerationError)
    assert error.kind == "provider_error"
    assert error.message.startswith(f"{status} from the provider")
    assert error.retry_after is None


async def test_an_answer_slower_than_the_timeout_is_a_transient_timeout(fake: FakeOpenAI) -> None:
    error = await one(fake, slow(600.0), timeout=0.3)  # it would never come in time
    assert isinstance(error, TransientGenerationError)
    assert error.kind == "timeout"
    assert "0.3 s" in error.message


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_errors_are_permanent_and_never_repeat_the_key(
    fake: FakeOpenAI, status: int
) -> None:
    refused = Reply(
        status=status,
        error={"message": f"Incorrect API key provided: {KEY}.", "code": "invalid_api_key"},
    )
    error = await one(fake, refused)
    assert isinstance(error, PermanentGenerationError)
    assert error.kind == "auth_error"
    assert str(status) in error.message
    assert KEY not in error.message
    assert "SECRET" not in error.message


@pytest.mark.parametrize("status", [400, 409, 422])
async def test_other_4xx_are_permanent_bad_requests(fake: FakeOpenAI, status: int) -> None:
    refused = Reply(status=status, error={"message": f"messages[1] is too long ({KEY})"})
    error = await one(fake, refused)
    assert isinstance(error, PermanentGenerationError)
    assert error.kind == "bad_request"
    assert error.message == f"{status} from the provider: messages[1] is too long ([api key])"
    assert KEY not in error.message  # scrubbed wherever a provider echoes it


async def test_an_unreachable_endpoint_is_a_transient_provider_error() -> None:
    made = generator("http://127.0.0.1:9/v1")
    try:
        with pytest.raises(TransientGenerationError) as raised:
            await made.generate(request())
    finally:
        await made.aclose()
    assert raised.value.kind == "provider_error"


async def test_without_a_key_every_item_fails_with_auth_error() -> None:
    made = generator("http://127.0.0.1:9/v1", key=None)
    with pytest.raises(PermanentGenerationError) as raised:
        await made.generate(request())
    assert raised.value.kind == "auth_error"


def test_retry_after_headers() -> None:
    assert retry_after(httpx.Headers({"retry-after": "3"})) == 3.0
    assert retry_after(httpx.Headers({"retry-after": "0.5"})) == 0.5
    assert retry_after(httpx.Headers({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert retry_after(httpx.Headers({"retry-after": past})) == 0.0
    assert retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after(httpx.Headers({"retry-after": "inf"})) is None
    assert retry_after(httpx.Headers({})) is None


async def test_rate_limiter_spaces_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the limiter's clock moves by its waits only
        waits.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(asyncio, "sleep", sleep)
    limiter = RateLimiter(1200, clock=lambda: now[0])  # one every 50 ms
    for _ in range(5):
        await limiter.acquire()
    assert waits == pytest.approx([0.05] * 4)  # the first goes at once, no burst after it
    limiter.hold_off(0.2)
    await limiter.acquire()
    assert waits[-1] == pytest.approx(0.2)
    now[0] += 1.0  # a quiet second: the next slot is free at once
    await limiter.acquire()
    assert len(waits) == 5


def test_the_factory_builds_each_generator_with_settings_and_batch_options() -> None:
    settings = Settings(openai_api_key="sk-x", openai_model="m1", openai_requests_per_minute=30)
    config = BatchConfig(topic="Optics", count=2, generator="openai")
    built = build_generator(config, settings)
    assert isinstance(built, OpenAIGenerator)
    assert built.limiter.interval == 2.0
    faster = BatchConfig(
        topic="Optics",
        count=2,
        generator="openai",
        generator_options={"requests_per_minute": 600},
    )
    built = build_generator(faster, settings)
    assert isinstance(built, OpenAIGenerator)
    assert built.limiter.interval == 0.1
    assert build_generator(BatchConfig(topic="Optics", count=2), settings).name == "demo"


def test_the_key_comes_from_either_variable_and_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BULKGEN_OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-standard")
    settings = Settings()
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-standard"
    monkeypatch.setenv("BULKGEN_OPENAI_API_KEY", "sk-bulkgen")
    settings = Settings()
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-bulkgen"
    assert "sk-bulkgen" not in repr(settings)
    assert "sk-bulkgen" not in settings.model_dump_json()


# -- end to end in a live bulkgen ----------------------------------------------------------


@pytest.fixture
def openai_server(
    make_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> Callable[..., LiveServer]:
    def make(**overrides: Any) -> LiveServer:
        values: dict[str, Any] = {
            "openai_base_url": fake.url + "/v1",
            "openai_api_key": KEY,
            "openai_timeout_seconds": PATIENT,
            "openai_requests_per_minute": 60_000,
            "retry_backoff_seconds": 0.01,
        }
        values.update(overrides)
        return make_server(**values)

    return make


def openai_batch(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "topic": TOPIC,
        "count": 1,
        "concurrency": 1,
        "generator": "openai",
        "generator_options": {"learning_objective": "Trace blood through the heart"},
    }
    body.update(overrides)
    return body


def create(http: httpx.Client, body: dict[str, Any]) -> str:
    response = http.post(BATCHES, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_batch_of_valid_items_completes_over_sse(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = openai_server()
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch_id = create(http, openai_batch(count=6, concurrency=3, model="fake-model-x"))
        received = read_stream(live.url, batch_id, after=0)
        assert received.ended
        completed = [f for f in received.durable if f.event == "item.completed"]
        assert sorted(f.data["index"] for f in completed) == list(range(6))
        assert received.durable[-1].event == "batch.complete"
        assert received.durable[-1].data["completed"] == 6

        batch = http.get(f"{BATCHES}/{batch_id}").json()
        assert batch["config"]["generator"] == "openai"
        assert batch["config"]["generator_options"]["learning_objective"] == (
            "Trace blood through the heart"
        )
        items = all_items(http, batch_id)
        assert all(i["status"] == "completed" for i in items)
        for found in items:  # usage is stored with each result
            assert found["result"]["usage"] == {
                "prompt_tokens": USAGE[0],
                "completion_tokens": USAGE[1],
                "total_tokens": sum(USAGE),
            }
    assert len(fake.requests) == 6
    for sent in fake.requests:
        assert sent.headers["authorization"] == f"Bearer {KEY}"
        assert sent.body["model"] == "fake-model-x"
        assert TOPIC in sent.prompt
        assert "Trace blood through the heart" in sent.prompt


def test_the_default_model_is_the_setting(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = openai_server(openai_model="served-model")
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch_id = create(http, openai_batch())
        assert wait_finished(http, batch_id)["status"] == "completed"
    assert fake.requests[0].body["model"] == "served-model"


def test_a_rate_limited_item_succeeds_on_a_later_attempt(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = openai_server()
    fake.push(rate_limited("0.4"), ok(1))
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch_id = create(http, openai_batch())
        assert wait_finished(http, batch_id)["progress"]["completed"] == 1
        [found] = all_items(http, batch_id)
    assert found["status"] == "completed"
    first, second = found["attempts"]
    assert first["error_kind"] == "rate_limited"
    assert "retry after 0.4 s" in first["error_message"]
    assert second["error_kind"] is None
    waited = datetime.fromisoformat(second["started_at"]) - datetime.fromisoformat(
        first["finished_at"]
    )
    assert waited.total_seconds() >= 0.39  # Retry-After wins over the 10 ms backoff


def test_5xx_answers_are_retried(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = openai_server()
    fake.push(server_error(500), server_error(503), ok(1))
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch_id = create(http, openai_batch())
        wait_finished(http, batch_id)
        [found] = all_items(http, batch_id)
    assert found["status"] == "completed"
    assert [a["error_kind"] for a in found["attempts"]] == [
        "provider_error",
        "provider_error",
        None,
    ]


def test_a_malformed_answer_fails_the_item_with_the_raw_text(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = openai_server()
    text = '{"stem": "Which chamber pumps blood into the aorta?", "options": [{"key": "A"'
    fake.push(malformed(text))
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch_id = create(http, openai_batch())
        received = read_stream(live.url, batch_id, after=0)
        [found] = all_items(http, batch_id)
    [failed] = [f for f in received.durable if f.event == "item.failed"]
    assert failed.data["error"]["kind"] == "malformed_output"
    assert found["status"] == "failed"
    assert found["error"]["kind"] == "malformed_output"
    assert found["error"]["transient"] is False
    assert text in found["error"]["message"]
    assert len(found["attempts"]) == 1  # permanent: not retried
    assert len(fake.requests) == 1


def test_a_flawed_answer_fails_validation(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = openai_server()
    fake.push(flawed())
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch_id = create(http, openai_batch())
        wait_finished(http, batch_id)
        [found] = all_items(http, batch_id)
    assert found["error"]["kind"] == "validation"
    assert "options.all_none_of_the_above" in {r["rule"] for r in found["error"]["rules"]}
    assert found["result"]["usage"]["total_tokens"] == sum(USAGE)


def test_timeouts_are_retried_then_fail_with_kind_timeout(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = openai_server(max_attempts=3, openai_timeout_seconds=0.5)
    fake.script = lambda _request, number: slow(600.0, number)  # never in time
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch_id = create(http, openai_batch())
        received = read_stream(live.url, batch_id, after=0)
        [found] = all_items(http, batch_id)
    assert received.durable[-1].event == "batch.complete"
    assert found["status"] == "failed"
    assert found["error"]["kind"] == "timeout"
    assert found["error"]["transient"] is True
    assert "gave up after 3 attempts" in found["error"]["message"]
    assert [a["error_kind"] for a in found["attempts"]] == ["timeout"] * 3
    assert len(fake.requests) == 3


def test_openai_options_are_bounded_with_422s_naming_the_field(
    openai_server: Callable[..., LiveServer],
) -> None:
    live = openai_server()
    cases = [
        ({"temperature": 2.5}, "generator_options.temperature"),
        ({"temperature": -1}, "generator_options.temperature"),
        ({"learning_objective": "x" * 501}, "generator_options.learning_objective"),
        ({"requests_per_minute": 0}, "generator_options.requests_per_minute"),
        ({"requests_per_minute": 10_001}, "generator_options.requests_per_minute"),
        ({"max_tokens": 63}, "generator_options.max_tokens"),
        ({"max_tokens": 32_769}, "generator_options.max_tokens"),
        ({"max_tokens": "2048"}, "generator_options.max_tokens"),
        ({"max_tokens": 100.5}, "generator_options.max_tokens"),
        ({"seed": 7}, "generator_options.seed"),  # a demo option is unknown here
    ]
    with httpx.Client(base_url=live.url, timeout=60) as http:
        for options, field in cases:
            response = http.post(BATCHES, json=openai_batch(generator_options=options))
            assert response.status_code == 422, options
            locations = [".".join(map(str, e["loc"][1:])) for e in response.json()["detail"]]
            assert locations == [field], (options, locations)
        omitted = openai_batch()
        del omitted["generator_options"]
        response = http.post(BATCHES, json=omitted)
        assert response.status_code == 201
        assert response.json()["config"]["generator_options"] == {
            "learning_objective": None,
            "temperature": 0.7,
            "requests_per_minute": None,
            "max_tokens": 2048,
            "review": None,
        }


def test_an_openai_batch_without_a_key_is_refused_at_creation(
    make_server: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("BULKGEN_OPENAI_API_KEY", raising=False)
    live = make_server()
    with httpx.Client(base_url=live.url, timeout=60) as http:
        response = http.post(BATCHES, json=openai_batch())
        assert response.status_code == 422
        [problem] = response.json()["detail"]
        assert problem["loc"] == ["body", "generator"]
        assert "openai needs BULKGEN_OPENAI_API_KEY or OPENAI_API_KEY" in problem["msg"]
        assert http.get(BATCHES).json()["total"] == 0


def test_the_key_appears_in_no_response_event_log_line_or_file(
    openai_server: Callable[..., LiveServer],
    fake: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    live = openai_server(log_level="debug")
    # uvicorn's own loggers do not propagate to the root logger (and starting a server
    # configures them afresh): listen to them too, once it runs.
    uvicorn_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    for logger in uvicorn_loggers:
        logger.addHandler(caplog.handler)
    try:
        key_echo = {"message": f"Incorrect API key provided: {KEY}.", "code": "invalid_api_key"}
        fake.push(
            ok(1),
            rate_limited("0.05"),
            ok(2),
            malformed(f"not json, and the key {KEY} echoed"),
            server_error(500),
            ok(3),
            Reply(status=401, error=key_echo),
            flawed(4),
            Reply(status=400, error={"message": f"bad request from {KEY}"}),
        )
        bodies: list[str] = []
        with httpx.Client(base_url=live.url, timeout=60) as http:
            created = http.post(BATCHES, json=openai_batch(count=7))
            bodies.append(created.text)
            batch_id = created.json()["id"]
            received = read_stream(live.url, batch_id, after=0)
            bodies.append("\n".join(received.lines))
            for path in (
                f"{BATCHES}/{batch_id}",
                f"{BATCHES}/{batch_id}/items?limit=500",
                f"{BATCHES}/{batch_id}/items?status=failed",
                BATCHES,
                f"/faculty/generate/batch/{batch_id}",
                "/faculty/generate/batch",
                "/openapi.json",
                "/health",
            ):
                response = http.get(path)
                assert response.status_code == 200, path
                bodies.append(response.text)
            bodies.append("\n".join(read_stream(live.url, batch_id, after=0).lines))
    finally:
        for logger in uvicorn_loggers:
            logger.removeHandler(caplog.handler)

    # The key went where it belongs, and the batch met every kind of answer …
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in fake.requests)
    assert len(fake.requests) == 9
    kinds = {f.data["error"]["kind"] for f in received.durable if f.event == "item.failed"}
    assert kinds == {"malformed_output", "auth_error", "validation", "bad_request"}
    # … and nowhere else: no response, no event, no log record, not the database.
    for body in bodies:
        assert KEY not in body
        assert "SECRET" not in body
    names = {record.name for record in caplog.records}
    assert {"openai._base_client", "uvicorn.access"} <= names, names  # the capture listened
    for record in caplog.records:
        assert KEY not in record.getMessage()
    assert KEY not in caplog.text
    for stored in tmp_path.glob("bulkgen.db*"):
        assert KEY.encode() not in stored.read_bytes(), stored


def test_usage_totals_per_batch_equal_the_sum_over_its_items(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = openai_server()

    def script(_request: Any, number: int) -> Reply:
        reply = (
            flawed(number) if number % 3 == 0 else malformed() if number % 5 == 0 else ok(number)
        )
        reply.usage = (100 + number, 10 + 2 * number)
        return reply

    fake.script = script
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch_id = create(http, openai_batch(count=9, concurrency=3))
        received = read_stream(live.url, batch_id, after=0)
        batch = wait_finished(http, batch_id)
        items = all_items(http, batch_id)
    used = [i["result"]["usage"] for i in items if i["result"] is not None]
    assert {i["status"] for i in items} == {"completed", "failed"}
    assert len(used) < len(items)  # a malformed answer leaves no result to count
    expected = {
        key: sum(u[key] for u in used)
        for key in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    assert expected["total_tokens"] == expected["prompt_tokens"] + expected["completion_tokens"]
    assert batch["usage"] == expected
    assert batch["progress"]["usage"] == expected
    assert received.durable[-1].data["usage"] == expected
    assert batch["progress"]["failure_reasons"]["kind:malformed_output"] >= 1


def test_a_provider_back_off_shows_in_the_snapshot_while_it_lasts(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = openai_server()
    fake.push(rate_limited("30"), ok(1))
    with httpx.Client(base_url=live.url, timeout=60) as http:
        before = datetime.now(UTC)
        batch_id = create(http, openai_batch())
        # The feed sends the batch's progress while it waits: the back-off is in it.
        waiting = read_stream(
            http,
            batch_id,
            until=lambda r: any(f.data.get("backoff_until") for f in r.events("batch.progress")),
        )
        seen = datetime.now(UTC)
        shown = next(f for f in waiting.events("batch.progress") if f.data["backoff_until"])
        until = datetime.fromisoformat(shown.data["backoff_until"])
        # Set when the 429 arrived: after the batch was created, before the test saw it.
        assert before + timedelta(seconds=30) <= until <= seen + timedelta(seconds=30)
        assert shown.data["status"] == "running"
        cancelled = http.post(f"{BATCHES}/{batch_id}/cancel").json()
    assert cancelled["progress"]["backoff_until"] is None, "only shown while running"
