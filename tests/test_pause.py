"""Pause and resume by hand, the early stop, and a paused batch across a restart.

The batches here run behind a gate (``helpers.gate``): the items past it start and then
wait in flight, so a batch is still running when the test pauses it, whatever the load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from helpers.api import BATCHES, all_items, batch_body, finished_count, get_batch, replay
from helpers.fake_openai import FakeOpenAI, Recorded, Reply, malformed, server_error
from helpers.gate import Gate
from helpers.server import LiveServer
from helpers.sse import Frame, Received, open_stream, read_stream
from helpers.wait import (
    has_event,
    paused_and_idle,
    wait_finished,
    wait_for_event,
    wait_paused_and_idle,
)

KEY = "sk-test-pause-0123456789"


def slow_batch(**overrides: Any) -> dict[str, Any]:
    return batch_body(
        count=60, concurrency=3, generator_options={"latency_ms": [0, 20]}, **overrides
    )


def after_event(frames: list[Frame], name: str) -> list[Frame]:
    """The frames that came after the first ``name`` event."""
    events = [f.event for f in frames]
    return frames[events.index(name) + 1 :]


def between(frames: list[Frame], first: str, last: str) -> list[Frame]:
    rest = after_event(frames, first)
    return rest[: [f.event for f in rest].index(last)]


def started(frames: list[Frame]) -> list[int]:
    return [f.data["index"] for f in frames if f.event == "item.started"]


def test_pause_lets_in_flight_items_finish_and_starts_nothing_new(
    make_server: Callable[..., LiveServer],
) -> None:
    gate = Gate(at=8)  # items 8, 9 and 10 start, then wait in flight
    live = make_server(gate=gate)
    with httpx.Client(base_url=live.url, timeout=60) as client:
        batch = client.post(BATCHES, json=slow_batch()).json()
        # One connection from the start to the end: a paused batch's stream stays open.
        with open_stream(live.url, batch["id"], after=0) as stream:
            stream.read_until(lambda r: len(started(r.frames)) == 11, what="11 items started")
            paused = client.post(f"{BATCHES}/{batch['id']}/pause")
            assert paused.status_code == 200, paused.text
            body = paused.json()
            assert body["status"] == "paused"
            assert body["progress"]["pause"]["reason"] == "manual"
            assert body["progress"]["in_progress"] == 3

            gate.open()
            stream.read_until(paused_and_idle, what="the in-flight items finished")
            still = get_batch(client, batch["id"])
            assert still["status"] == "paused"
            assert still["progress"]["in_progress"] == 0
            assert still["progress"]["pending"] == 60 - 11
            items = all_items(client, batch["id"])
            assert not any(
                i["status"] == "failed" and i["error"]["kind"] == "cancelled" for i in items
            ), "in-flight items finish normally"
            assert client.post(f"{BATCHES}/{batch['id']}/pause").status_code == 409

            resumed = client.post(f"{BATCHES}/{batch['id']}/resume")
            assert resumed.status_code == 200, resumed.text
            assert resumed.json()["status"] in ("running", "completed")
            assert resumed.json()["progress"]["pause"] is None
            received = stream.read_to_end()
        final = wait_finished(client, batch["id"])
        assert final["status"] == "completed"
        assert final["progress"]["completed"] == 60

        assert received.ended
        types = [f.event for f in received.durable]
        assert (
            types.index("batch.paused")
            < types.index("batch.resumed")
            < types.index("batch.complete")
        )
        while_paused = between(received.durable, "batch.paused", "batch.resumed")
        assert started(while_paused) == [], "nothing started while paused"
        assert sorted(f.data["index"] for f in while_paused) == [8, 9, 10]
        paused_event = received.events("batch.paused")[0]
        assert paused_event.data["reason"] == "manual"
        assert paused_event.data["snapshot"]["status"] == "paused"
        log = read_stream(live.url, batch["id"], after=0)
        states = {i["index"]: i["status"] for i in all_items(client, batch["id"])}
        assert replay(log.frames) == states
        assert [f.id for f in log.durable] == list(range(1, final["last_event_id"] + 1))


def test_pause_and_resume_conflicts(client: httpx.Client) -> None:
    batch = client.post(BATCHES, json=batch_body(count=3)).json()
    done = wait_finished(client, batch["id"])
    assert client.post(f"{BATCHES}/{done['id']}/pause").status_code == 409
    assert client.post(f"{BATCHES}/{done['id']}/resume").status_code == 409
    running = client.post(BATCHES, json=slow_batch()).json()
    assert client.post(f"{BATCHES}/{running['id']}/resume").status_code == 409
    assert client.post(f"{BATCHES}/{'0' * 32}/pause").status_code == 404
    client.post(f"{BATCHES}/{running['id']}/cancel")


def test_cancel_a_paused_batch(make_server: Callable[..., LiveServer]) -> None:
    live = make_server(gate=Gate(at=2))
    with httpx.Client(base_url=live.url, timeout=60) as client:
        batch = client.post(BATCHES, json=slow_batch()).json()
        read_stream(live.url, batch["id"], after=0, stop_after=4)
        assert client.post(f"{BATCHES}/{batch['id']}/pause").status_code == 200
        cancelled = client.post(f"{BATCHES}/{batch['id']}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["progress"]["pause"] is None
        received = read_stream(live.url, batch["id"], after=0)
        assert received.ended and received.durable[-1].event == "batch.complete"


def test_a_paused_batch_stays_paused_after_a_restart(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(gate=Gate(at=2))  # items 2, 3 and 4 start, then wait in flight
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch = http.post(BATCHES, json=slow_batch()).json()
        read_stream(live.url, batch["id"], after=0, until=lambda r: len(started(r.frames)) == 5)
        assert http.post(f"{BATCHES}/{batch['id']}/pause").status_code == 200
    live.stop()  # the items held in flight are interrupted
    again = make_server()
    with httpx.Client(base_url=again.url, timeout=60) as http:
        found = get_batch(http, batch["id"])
        assert found["status"] == "paused"
        assert found["progress"]["in_progress"] == 0
        # Start-up is over once the server answers: it started no run for the batch.
        assert http.get("/health").json()["running_batches"] == 0
        assert http.post(f"{BATCHES}/{batch['id']}/resume").status_code == 200
        final = wait_finished(http, batch["id"])
        assert final["status"] == "completed"
        assert final["progress"]["completed"] + final["progress"]["failed"] == 60
        log = read_stream(again.url, batch["id"], after=0)
    assert started(between(log.durable, "batch.paused", "batch.resumed")) == []
    requeued = [f.data["index"] for f in log.durable if f.event == "item.requeued"]
    assert requeued == [2, 3, 4], "the interrupted items went back to pending"


EARLY = {"enabled": True, "min_finished": 10, "max_failure_rate": 0.5}


def test_early_stop_pauses_on_a_high_failure_rate_then_resumes_once(
    make_server: Callable[..., LiveServer],
) -> None:
    gate = Gate(at=10)  # items 0-9 can finish; any later item would wait in flight
    live = make_server(gate=gate)
    body = batch_body(
        count=60,
        concurrency=2,
        early_stop=EARLY,
        generator_options={"invalid_rate": 0.9, "latency_ms": [0, 10], "seed": 11},
    )
    with httpx.Client(base_url=live.url, timeout=60) as client:
        batch = client.post(BATCHES, json=body).json()
        assert batch["config"]["early_stop"] == EARLY
        upto_pause = wait_for_event(client, batch["id"], "batch.paused")
        event = upto_pause.frames[-1]
        assert event.data["reason"] == "early_stop"
        # Judged at the commit that brought the finished items to min_finished: the
        # snapshot counts exactly the finishes logged before the pause.
        snapshot = event.data["snapshot"]
        finishes = finished_count(upto_pause.durable)
        failures = sum(f.event == "item.failed" for f in upto_pause.durable)
        assert snapshot["completed"] + snapshot["failed"] == finishes == 10
        assert snapshot["failed"] == failures >= 5
        # The judgement needs ten finishes: no eleventh item started before it.
        assert sorted(started(upto_pause.durable)) == list(range(10))
        assert snapshot["in_progress"] == 0
        message = event.data["message"]
        assert message.startswith(f"{failures} of the first 10 finished items failed (")
        assert "≥ 50%" in message and "resume or cancel" in message
        paused = get_batch(client, batch["id"])
        assert paused["status"] == "paused"
        assert paused["progress"]["pause"]["reason"] == "early_stop"
        assert paused["progress"]["pause"]["message"] == message

        gate.open()
        settled_log = wait_paused_and_idle(client, batch["id"])
        after_pause = after_event(settled_log.durable, "batch.paused")
        assert started(after_pause) == [], "no item started after the pause"
        assert finished_count(after_pause) == 0  # none was in flight
        settled = get_batch(client, batch["id"])
        assert settled["progress"]["pending"] == 60 - 10

        assert client.post(f"{BATCHES}/{batch['id']}/resume").status_code == 200
        final = wait_finished(client, batch["id"])
        assert final["status"] == "completed", "a resumed batch is not paused again"
        assert final["progress"]["completed"] + final["progress"]["failed"] == 60
        log = read_stream(live.url, batch["id"], after=0)
        assert len(log.events("batch.paused")) == 1, "judged once"


def test_early_stop_is_off_by_default_for_demo(client: httpx.Client) -> None:
    body = batch_body(count=20, generator_options={"invalid_rate": 1.0})
    batch = client.post(BATCHES, json=body).json()
    assert batch["config"]["early_stop"] is None
    assert wait_finished(client, batch["id"])["status"] == "completed"
    log = read_stream(client, batch["id"], after=0)
    assert log.events("batch.paused") == []


def test_early_stop_bounds_are_422(client: httpx.Client) -> None:
    for bad in ({"min_finished": 0}, {"min_finished": 1001}, {"max_failure_rate": 1.5}):
        response = client.post(BATCHES, json=batch_body(early_stop=bad))
        assert response.status_code == 422
        assert "early_stop" in response.text


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    def answer(_request: Recorded, _number: int) -> Reply:
        return malformed("not json at all")

    # The first ten requests are answered at once, the next ones when the test says.
    with FakeOpenAI(answer, gate=Gate(at=10)) as server:
        yield server


def test_early_stop_is_on_by_default_for_openai(
    make_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = make_server(
        openai_base_url=fake.url + "/v1",
        openai_api_key=KEY,
        openai_requests_per_minute=60_000,
    )
    with httpx.Client(base_url=live.url, timeout=60) as http:
        body = {"topic": "Renal physiology", "count": 30, "concurrency": 1, "generator": "openai"}
        created = http.post(BATCHES, json=body)
        assert created.status_code == 201, created.text
        batch = created.json()
        assert batch["config"]["early_stop"] == {
            "enabled": True,
            "min_finished": 10,
            "max_failure_rate": 0.5,
        }
        upto_pause: Received = wait_for_event(http, batch["id"], "batch.paused")
        paused = get_batch(http, batch["id"])
        assert paused["progress"]["pause"]["reason"] == "early_stop"
        message = paused["progress"]["pause"]["message"]
        assert message == upto_pause.frames[-1].data["message"]
        assert message.startswith("10 of the first 10 finished items failed (100% ≥ 50%)")

        assert fake.gate is not None
        fake.gate.open()  # a request beyond the first ten would now be answered
        settled_log = wait_paused_and_idle(http, batch["id"])
        assert started(after_event(settled_log.durable, "batch.paused")) == []
        settled = get_batch(http, batch["id"])
        failed = settled["progress"]["failed"]
        assert failed == 10, "the judgement needed ten requests, and no more were sent"
        assert settled["progress"]["failure_reasons"] == {"kind:malformed_output": failed}
        assert len(fake.requests) == failed, "no request after the pause"
        assert settled["progress"]["pending"] == 30 - 10
        assert http.post(f"{BATCHES}/{batch['id']}/cancel").json()["status"] == "cancelled"
        assert has_event("batch.complete")(read_stream(http, batch["id"], after=0))


@pytest.mark.databases
@pytest.mark.parametrize(("count", "concurrency"), [(20, 20), (1000, 64)])
def test_a_batch_whose_every_request_fails_pauses_after_min_finished_requests(
    make_server: Callable[..., LiveServer], count: int, concurrency: int
) -> None:
    """No overshoot: before the judgement, a batch sends no more requests than the
    ``min_finished`` items it judges on (and their retries), whatever its concurrency; a
    batch no larger than its concurrency is paused too, with items left to save."""
    with FakeOpenAI(lambda _request, _number: server_error(503)) as fake:
        live = make_server(
            openai_base_url=fake.url + "/v1",
            openai_api_key=KEY,
            openai_requests_per_minute=60_000,
            retry_backoff_seconds=0,
        )
        with httpx.Client(base_url=live.url, timeout=60) as http:
            body = {
                "topic": "Renal physiology",
                "count": count,
                "concurrency": concurrency,
                "generator": "openai",
            }
            batch = http.post(BATCHES, json=body).json()
            settled_log = wait_paused_and_idle(http, batch["id"])
            settled = get_batch(http, batch["id"])["progress"]
            assert settled["pause"]["reason"] == "early_stop"
            assert settled["failed"] == 10 and settled["completed"] == 0
            assert settled["pending"] == count - 10
            assert len(started(settled_log.durable)) == 10
            attempts = live.settings.max_attempts
            assert len(fake.requests) == 10 * attempts, "ten items, each tried max_attempts times"
