"""Pause and resume by hand, the early stop, and a paused batch across a restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from fake_openai import FakeOpenAI, Recorded, Reply, malformed

from conftest import LiveServer, all_items, batch_body, read_stream, replay, wait_finished

BATCHES = "/api/generation/batch"
KEY = "sk-test-pause-0123456789"


def wait_status(
    http: httpx.Client, batch_id: str, status: str, timeout: float = 20
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = http.get(f"{BATCHES}/{batch_id}").json()
        if batch["status"] == status:
            return dict(batch)
        time.sleep(0.03)
    raise AssertionError(f"batch {batch_id} never became {status}: {batch['status']}")


def wait_idle(http: httpx.Client, batch_id: str, timeout: float = 20) -> dict[str, Any]:
    """Poll a paused batch until its in-flight items have finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = http.get(f"{BATCHES}/{batch_id}").json()
        if batch["progress"]["in_progress"] == 0:
            return dict(batch)
        time.sleep(0.03)
    raise AssertionError("in-flight items never finished")


def slow_batch(**overrides: Any) -> dict[str, Any]:
    return batch_body(
        count=60, concurrency=3, generator_options={"latency_ms": [60, 120]}, **overrides
    )


def test_pause_lets_in_flight_items_finish_and_starts_nothing_new(
    client: httpx.Client, live: LiveServer
) -> None:
    batch = client.post(BATCHES, json=slow_batch()).json()
    partial = read_stream(live.url, batch["id"], after=0, stop_after=8)
    paused = client.post(f"{BATCHES}/{batch['id']}/pause")
    assert paused.status_code == 200, paused.text
    body = paused.json()
    assert body["status"] == "paused"
    assert body["progress"]["pause"]["reason"] == "manual"
    settled = wait_idle(client, batch["id"])
    time.sleep(0.4)
    still = client.get(f"{BATCHES}/{batch['id']}").json()
    assert still["status"] == "paused"
    assert still["progress"] == {**still["progress"], "in_progress": 0}
    assert still["last_event_id"] == settled["last_event_id"], "nothing started while paused"
    assert still["progress"]["pending"] > 0
    items = all_items(client, batch["id"])
    assert not any(i["status"] == "failed" and i["error"]["kind"] == "cancelled" for i in items), (
        "in-flight items finish normally"
    )
    assert client.post(f"{BATCHES}/{batch['id']}/pause").status_code == 409

    # The stream of a paused batch stays open: it carries batch.paused and does not end.
    seen: dict[str, Any] = {}

    def read() -> None:
        seen["received"] = read_stream(live.url, batch["id"], last_event_id=partial.last_id)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=1.5)
    assert reader.is_alive(), "the stream of a paused batch must stay open"

    resumed = client.post(f"{BATCHES}/{batch['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] in ("running", "completed")
    assert resumed.json()["progress"]["pause"] is None
    final = wait_finished(client, batch["id"])
    reader.join(timeout=20)
    assert final["status"] == "completed"
    assert final["progress"]["completed"] == 60
    received = seen["received"]
    assert received.ended
    types = [f.event for f in received.durable]
    assert (
        types.index("batch.paused") < types.index("batch.resumed") < types.index("batch.complete")
    )
    paused_event = next(f for f in received.durable if f.event == "batch.paused")
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


def test_cancel_a_paused_batch(client: httpx.Client, live: LiveServer) -> None:
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
    live = make_server()
    with httpx.Client(base_url=live.url, timeout=20) as http:
        batch = http.post(BATCHES, json=slow_batch()).json()
        read_stream(live.url, batch["id"], after=0, stop_after=4)
        assert http.post(f"{BATCHES}/{batch['id']}/pause").status_code == 200
    live.stop()
    again = make_server()
    with httpx.Client(base_url=again.url, timeout=20) as http:
        time.sleep(0.5)
        found = http.get(f"{BATCHES}/{batch['id']}").json()
        assert found["status"] == "paused"
        assert found["progress"]["in_progress"] == 0
        last = found["last_event_id"]
        time.sleep(0.3)
        assert http.get(f"{BATCHES}/{batch['id']}").json()["last_event_id"] == last
        assert http.post(f"{BATCHES}/{batch['id']}/resume").status_code == 200
        final = wait_finished(http, batch["id"])
        assert final["status"] == "completed"
        assert final["progress"]["completed"] + final["progress"]["failed"] == 60


EARLY = {"enabled": True, "min_finished": 10, "max_failure_rate": 0.5}


def test_early_stop_pauses_on_a_high_failure_rate_then_resumes_once(
    client: httpx.Client, live: LiveServer
) -> None:
    body = batch_body(
        count=60,
        concurrency=2,
        early_stop=EARLY,
        generator_options={"invalid_rate": 0.9, "latency_ms": [5, 15], "seed": 11},
    )
    batch = client.post(BATCHES, json=body).json()
    assert batch["config"]["early_stop"] == EARLY
    paused = wait_status(client, batch["id"], "paused")
    pause = paused["progress"]["pause"]
    assert pause["reason"] == "early_stop"
    assert "of the first" in pause["message"] and "≥ 50%" in pause["message"]
    assert "resume or cancel" in pause["message"]
    settled = wait_idle(client, batch["id"])
    assert settled["progress"]["pending"] > 0
    log = read_stream(live.url, batch["id"], after=0, stop_after=settled["last_event_id"])
    event = next(f for f in log.durable if f.event == "batch.paused")
    assert event.data["reason"] == "early_stop"
    assert event.data["message"] == pause["message"]
    finished = event.data["snapshot"]["completed"] + event.data["snapshot"]["failed"]
    assert 10 <= finished < 14
    assert client.post(f"{BATCHES}/{batch['id']}/resume").status_code == 200
    final = wait_finished(client, batch["id"])
    assert final["status"] == "completed", "a resumed batch is not paused again"
    assert final["progress"]["completed"] + final["progress"]["failed"] == 60


def test_early_stop_is_off_by_default_for_demo(client: httpx.Client) -> None:
    body = batch_body(count=20, generator_options={"invalid_rate": 1.0})
    batch = client.post(BATCHES, json=body).json()
    assert batch["config"]["early_stop"] is None
    assert wait_finished(client, batch["id"])["status"] == "completed"


def test_early_stop_bounds_are_422(client: httpx.Client) -> None:
    for bad in ({"min_finished": 0}, {"min_finished": 1001}, {"max_failure_rate": 1.5}):
        response = client.post(BATCHES, json=batch_body(early_stop=bad))
        assert response.status_code == 422
        assert "early_stop" in response.text


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    def answer(_request: Recorded, _number: int) -> Reply:
        reply = malformed("not json at all")
        reply.delay = 0.04  # a provider takes a while; the writer commits in between
        return reply

    with FakeOpenAI(answer) as server:
        yield server


def test_early_stop_is_on_by_default_for_openai(
    make_server: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    live = make_server(
        openai_base_url=fake.url + "/v1",
        openai_api_key=KEY,
        openai_requests_per_minute=60_000,
    )
    with httpx.Client(base_url=live.url, timeout=20) as http:
        body = {"topic": "Renal physiology", "count": 30, "concurrency": 1, "generator": "openai"}
        created = http.post(BATCHES, json=body)
        assert created.status_code == 201, created.text
        batch = created.json()
        assert batch["config"]["early_stop"] == {
            "enabled": True,
            "min_finished": 10,
            "max_failure_rate": 0.5,
        }
        paused = wait_status(http, batch["id"], "paused")
        settled = wait_idle(http, batch["id"])
        assert paused["progress"]["pause"]["reason"] == "early_stop"
        # Judged at the first commit with 10 or more finishes (a commit can carry several).
        message = paused["progress"]["pause"]["message"]
        judged = int(message.split(" ")[0])
        assert 10 <= judged <= 20
        assert message.startswith(
            f"{judged} of the first {judged} finished items failed (100% ≥ 50%)"
        )
        failed = settled["progress"]["failed"]
        assert settled["progress"]["failure_reasons"] == {"kind:malformed_output": failed}
        time.sleep(0.3)
        assert len(fake.requests) == failed, "no request after the pause"
        assert http.get(f"{BATCHES}/{batch['id']}").json()["progress"]["pending"] > 0
        assert http.post(f"{BATCHES}/{batch['id']}/cancel").json()["status"] == "cancelled"
