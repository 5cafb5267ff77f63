"""The blind review: its verdict on an item (pure), the ``openai`` generator's review request
against a real local Chat Completions server, and whole batches in a live bulkgen."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bulkgen.errors import PermanentGenerationError, TransientGenerationError
from bulkgen.generation import GenerationRequest, OpenAIGenerator, build_generator
from bulkgen.generation.base import reviewer_of
from bulkgen.generation.review import ReviewAnswer, review_verdict, to_review
from bulkgen.models import (
    BatchConfig,
    Difficulty,
    GeneratedItem,
    ItemReview,
    ItemType,
    OpenAIOptions,
    TokenUsage,
)
from bulkgen.settings import Settings

from helpers.api import BATCHES, all_items
from helpers.fake_openai import (
    REVIEW_USAGE,
    USAGE,
    FakeOpenAI,
    Reply,
    item,
    malformed,
    ok,
    review,
    server_error,
)
from helpers.server import LiveServer
from helpers.wait import wait_finished

KEY = "sk-test-REVIEW"
PATIENT = 30.0
TOPIC = "Cardiac physiology"
ITEM = GeneratedItem.model_validate(item(1))


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


# -- the verdict ---------------------------------------------------------------------------


def reviewed_as(**answer: Any) -> ItemReview:
    return to_review(ReviewAnswer.model_validate(answer), ITEM, model="m", usage=None)


def test_an_agreeing_review_raises_nothing() -> None:
    found = reviewed_as(correct=["A"], answer="A", flaws=[])
    assert found.agrees and found.answer == "A" and found.correct == ["A"]
    assert review_verdict(ITEM, found) == []


def test_another_answer_is_a_key_mismatch_naming_both_options() -> None:
    found = reviewed_as(correct=["B"], answer="B", flaws=[])
    assert not found.agrees
    [result] = review_verdict(ITEM, found)
    assert (result.rule, result.severity) == ("review.key_mismatch", "error")
    assert 'chose B ("The right ventricle")' in result.message
    assert 'the key is A ("The left ventricle")' in result.message


def test_two_correct_options_are_an_error_even_when_the_answer_is_the_key() -> None:
    found = reviewed_as(correct=["C", "A"], answer="A", flaws=[])
    assert found.correct == ["A", "C"] and not found.agrees
    [result] = review_verdict(ITEM, found)
    assert result.rule == "review.multiple_correct"
    assert 'A ("The left ventricle") and C ("The left atrium")' in result.message


def test_flaws_are_warnings_bounded_in_number_and_length() -> None:
    found = reviewed_as(answer="A", flaws=["Vague stem.", " ", "x" * 1000, *["More."] * 9])
    results = review_verdict(ITEM, found)
    assert [r.rule for r in results] == ["review.flaw"] * 5
    assert {r.severity for r in results} == {"warning"}
    assert results[0].message == "Reviewer: Vague stem."
    assert len(results[1].message) < 320


@pytest.mark.parametrize(
    ("answer", "expected_answer", "expected_correct"),
    [
        ({"correct": ["a "], "answer": "Option A", "flaws": []}, "A", ["A"]),
        ({"correct": "B", "answer": None}, "B", ["B"]),  # a lone key is its answer
        ({"answer": "(c)"}, "C", ["C"]),  # correct missing: the answer is
        ({"correct": ["Z", "D."], "answer": "D"}, "D", ["D"]),  # unknown keys are dropped
    ],
)
def test_answers_are_read_tolerantly(
    answer: dict[str, Any], expected_answer: str, expected_correct: list[str]
) -> None:
    found = reviewed_as(**answer)
    assert (found.answer, found.correct) == (expected_answer, expected_correct)


def test_an_answer_naming_no_option_is_refused() -> None:
    with pytest.raises(ValueError, match="names no option"):
        reviewed_as(correct=["A", "B"], answer="Both")


# -- the generator's review request --------------------------------------------------------


def generator(base_url: str, **review: Any) -> OpenAIGenerator:
    return OpenAIGenerator(
        OpenAIOptions(review=review),
        base_url=base_url,
        api_key=SecretStr(KEY),
        model="fake-model",
        timeout_seconds=PATIENT,
        requests_per_minute=60_000,
    )


def request() -> GenerationRequest:
    return GenerationRequest(
        batch_id="b1",
        index=0,
        attempt=1,
        topic=TOPIC,
        item_type=ItemType.MCQ,
        difficulty=Difficulty.MEDIUM,
    )


async def review_once(fake: FakeOpenAI, *replies: Reply, **options: Any) -> Any:
    fake.push_review(*replies)
    made = generator(fake.url + "/v1", **options)
    try:
        return await made.review(ITEM, request())
    except (TransientGenerationError, PermanentGenerationError) as error:
        return error
    finally:
        await made.aclose()


async def test_the_review_request_shows_the_item_without_its_key(fake: FakeOpenAI) -> None:
    found = await review_once(fake, review("A", flaws=["The stem is long."]))
    assert found == ItemReview(
        model="fake-model",
        answer="A",
        correct=["A"],
        flaws=["The stem is long."],
        agrees=True,
        usage=TokenUsage(
            prompt_tokens=REVIEW_USAGE[0],
            completion_tokens=REVIEW_USAGE[1],
            total_tokens=sum(REVIEW_USAGE),
        ),
    )
    [sent] = fake.requests
    assert sent.is_review
    assert ITEM.stem in sent.prompt
    for option in ITEM.options:
        assert f"{option.key}. {option.text}" in sent.prompt
    assert ITEM.rationale not in sent.prompt
    assert '"answer"' not in sent.prompt and "key is A" not in sent.prompt
    schema = sent.body["response_format"]["json_schema"]
    assert schema["strict"] is True
    assert schema["schema"]["properties"]["answer"]["enum"] == ["A", "B", "C", "D"]
    assert sent.body["temperature"] == 0


async def test_another_review_model_is_sent(fake: FakeOpenAI) -> None:
    found = await review_once(fake, review("A"), model="judge-model")
    assert found.model == "judge-model"
    assert fake.requests[0].body["model"] == "judge-model"


async def test_a_malformed_review_is_a_permanent_error_with_the_raw_text(
    fake: FakeOpenAI,
) -> None:
    found = await review_once(fake, malformed('{"answer": "A", "corr'))
    assert isinstance(found, PermanentGenerationError)
    assert found.kind == "malformed_output"
    assert '{"answer": "A", "corr' in found.message
    found = await review_once(fake, Reply(content=json.dumps({"answer": "Q", "correct": []})))
    assert isinstance(found, PermanentGenerationError)
    assert "names no option" in found.message


def test_the_factory_builds_a_reviewer_only_when_asked() -> None:
    settings = Settings(openai_api_key="sk-x", _env_file=None)  # type: ignore[call-arg]
    plain = BatchConfig(topic="t", count=1, generator="openai")
    asked = BatchConfig.model_validate(
        {"topic": "t", "count": 1, "generator": "openai", "generator_options": {"review": {}}}
    )
    off = BatchConfig.model_validate(
        {
            "topic": "t",
            "count": 1,
            "generator": "openai",
            "generator_options": {"review": {"enabled": False}},
        }
    )
    demo = BatchConfig(topic="t", count=1)
    assert reviewer_of(build_generator(plain, settings)) is None
    assert reviewer_of(build_generator(off, settings)) is None
    assert reviewer_of(build_generator(demo, settings)) is None
    assert reviewer_of(build_generator(asked, settings)) is not None


# -- whole batches in a live bulkgen -------------------------------------------------------


@pytest.fixture
def openai_server(
    make_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> Callable[..., LiveServer]:
    def make(**overrides: Any) -> LiveServer:
        values: dict[str, Any] = {
            "openai_base_url": fake.url + "/v1",
            "openai_api_key": KEY,
            "openai_timeout_seconds": PATIENT,
            "openai_model": "served-model",
            "openai_requests_per_minute": 60_000,
            "retry_backoff_seconds": 0.01,
        }
        values.update(overrides)
        return make_server(**values)

    return make


def reviewed_batch(count: int = 1, **review_options: Any) -> dict[str, Any]:
    return {
        "topic": TOPIC,
        "count": count,
        "concurrency": 1,
        "generator": "openai",
        "generator_options": {"review": review_options},
    }


def run_batch(live: LiveServer, body: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    with httpx.Client(base_url=live.url, timeout=60) as http:
        created = http.post(BATCHES, json=body)
        assert created.status_code == 201, created.text
        batch_id = created.json()["id"]
        batch = wait_finished(http, batch_id)
        return batch, sorted(all_items(http, batch_id), key=lambda i: i["index"])


def test_an_agreeing_reviewer_passes_the_item_with_its_review_stored(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    fake.push_review(review("A", flaws=["Option C could be read as also correct."]))
    batch, [found] = run_batch(openai_server(), reviewed_batch())
    assert found["status"] == "completed"
    stored = found["result"]["review"]
    assert stored == {
        "model": "served-model",  # the batch's generation model: the server's default
        "answer": "A",
        "correct": ["A"],
        "flaws": ["Option C could be read as also correct."],
        "agrees": True,
        "usage": {
            "prompt_tokens": REVIEW_USAGE[0],
            "completion_tokens": REVIEW_USAGE[1],
            "total_tokens": sum(REVIEW_USAGE),
        },
    }
    assert [(w["rule"], w["severity"]) for w in found["warnings"]] == [("review.flaw", "warning")]
    assert batch["progress"]["completed"] == 1
    [generation] = fake.generation_requests
    [reviewing] = fake.review_requests
    assert generation.received_at < reviewing.received_at


def test_a_reviewer_that_answers_otherwise_fails_the_item_with_key_mismatch(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    fake.push_review(review("B"))
    batch, [found] = run_batch(openai_server(), reviewed_batch())
    assert found["status"] == "failed"
    assert found["error"]["kind"] == "validation"
    [rule] = found["error"]["rules"]
    assert rule["rule"] == "review.key_mismatch"
    assert "chose B" in rule["message"] and "the key is A" in rule["message"]
    assert found["result"]["review"]["answer"] == "B"
    assert found["result"]["review"]["agrees"] is False
    assert batch["progress"]["failure_reasons"] == {"rule:review.key_mismatch": 1}


def test_two_correct_options_fail_the_item_with_multiple_correct(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    fake.push_review(review("A", correct=["A", "C"]))
    batch, [found] = run_batch(openai_server(), reviewed_batch())
    assert found["status"] == "failed"
    assert [r["rule"] for r in found["error"]["rules"]] == ["review.multiple_correct"]
    assert found["result"]["review"]["correct"] == ["A", "C"]
    assert batch["progress"]["failure_reasons"] == {"rule:review.multiple_correct": 1}


def test_the_tokens_of_both_calls_count_in_the_batch_usage(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    fake.push_review(review("A"), review("B"), review("A"))
    live = openai_server()
    batch, items = run_batch(live, reviewed_batch(count=3))
    assert [i["status"] for i in items].count("failed") == 1
    per_item = [sum(USAGE) + sum(REVIEW_USAGE)] * 3
    assert [
        i["result"]["usage"]["total_tokens"] + i["result"]["review"]["usage"]["total_tokens"]
        for i in items
    ] == per_item
    expected = {
        "prompt_tokens": 3 * (USAGE[0] + REVIEW_USAGE[0]),
        "completion_tokens": 3 * (USAGE[1] + REVIEW_USAGE[1]),
        "total_tokens": sum(per_item),
    }
    assert batch["usage"] == expected
    assert batch["progress"]["usage"] == expected
    with httpx.Client(base_url=live.url, timeout=60) as http:
        page = http.get(f"/faculty/generate/batch/{batch['id']}").text
    assert f"{expected['total_tokens']:,} (prompt {expected['prompt_tokens']:,}" in page
    assert '<dd data-role="review-config">on</dd>' in page


def test_another_review_model_is_named_in_the_review_requests_only(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    body = reviewed_batch(model="judge-model")
    body["model"] = "writer-model"
    _batch, [found] = run_batch(openai_server(), body)
    assert found["status"] == "completed"
    assert found["result"]["review"]["model"] == "judge-model"
    assert [r.body["model"] for r in fake.generation_requests] == ["writer-model"]
    assert [r.body["model"] for r in fake.review_requests] == ["judge-model"]


def test_a_review_endpoint_of_its_own_gets_the_review_requests(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    with FakeOpenAI() as judge:
        live = openai_server(
            openai_review_base_url=judge.url + "/v1", openai_review_api_key="sk-judge"
        )
        _batch, [found] = run_batch(live, reviewed_batch())
    assert found["status"] == "completed" and found["result"]["review"]["agrees"] is True
    assert fake.review_requests == [] and len(fake.generation_requests) == 1
    [sent] = judge.requests
    assert sent.is_review and sent.headers["authorization"] == "Bearer sk-judge"


def test_a_reviewer_that_keeps_failing_passes_the_item_with_a_warning(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    fake.push_review(server_error(503), server_error(500), server_error(502))
    fake.push_review(malformed("no json"))
    batch, items = run_batch(openai_server(), reviewed_batch(count=2))
    for found in items:
        assert found["status"] == "completed"
        assert found["result"]["review"] is None
        [warning] = found["warnings"]
        assert warning["rule"] == "review.unavailable"
        assert warning["severity"] == "warning"
    assert "provider_error" in items[0]["warnings"][0]["message"]
    assert "malformed_output" in items[1]["warnings"][0]["message"]
    assert len(fake.review_requests) == 4  # three tries for the 5xx, one for the malformed
    assert batch["usage"]["total_tokens"] == 2 * sum(USAGE)


def test_a_transient_review_error_is_retried(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    fake.push_review(server_error(500), review("A"))
    _batch, [found] = run_batch(openai_server(), reviewed_batch())
    assert found["status"] == "completed"
    assert found["result"]["review"]["agrees"] is True and found["warnings"] == []
    assert len(fake.review_requests) == 2


def test_a_refused_review_fails_the_item_with_kind_review_error(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    fake.push_review(Reply(status=404, error={"message": "The model judge-x does not exist"}))
    batch, [found] = run_batch(openai_server(), reviewed_batch(model="judge-x"))
    assert found["status"] == "failed"
    assert found["error"]["kind"] == "review_error"
    assert "judge-x does not exist" in found["error"]["message"]
    assert found["result"]["stem"].startswith("Question")  # the item is kept, not lost
    assert batch["progress"]["failure_reasons"] == {"kind:review_error": 1}


def test_a_flawed_item_is_not_reviewed(
    openai_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    fake.push(ok(1, rationale="Short."))
    _batch, [found] = run_batch(openai_server(), reviewed_batch())
    assert found["status"] == "failed" and found["result"]["review"] is None
    assert fake.review_requests == []


def test_review_options_are_bounded_with_422s_naming_the_field(
    openai_server: Callable[..., LiveServer],
) -> None:
    live = openai_server()
    cases = [
        ("openai", {"review": {"model": ""}}, "generator_options.review.model"),
        ("openai", {"review": {"model": "m" * 201}}, "generator_options.review.model"),
        ("openai", {"review": {"enabled": "perhaps"}}, "generator_options.review.enabled"),
        ("openai", {"review": {"base_url": "http://x"}}, "generator_options.review.base_url"),
        ("demo", {"review": {"enabled": True}}, "generator_options.review"),
    ]
    with httpx.Client(base_url=live.url, timeout=60) as http:
        for generator_name, options, field in cases:
            body = {"topic": TOPIC, "count": 1, "generator": generator_name}
            body["generator_options"] = options
            response = http.post(BATCHES, json=body)
            assert response.status_code == 422, options
            problems = response.json()["detail"]
            locations = [".".join(map(str, e["loc"][1:])) for e in problems]
            assert locations == [field], (options, locations)
        demo = http.post(
            BATCHES, json={"topic": TOPIC, "count": 1, "generator_options": {"review": {}}}
        )
        assert "only available for the openai generator" in demo.json()["detail"][0]["msg"]
