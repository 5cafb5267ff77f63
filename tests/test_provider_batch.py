"""Delivery ``provider_batch`` end to end: a real bulkgen server and a local server that
speaks OpenAI's Batch API (upload, status and request counts, output and error files,
expiry, cancel), with a gate on its answers so the test decides when the batch moves."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.api import BATCHES, all_items, get_batch
from helpers.fake_openai import FakeOpenAI, Recorded, Reply, flawed, ok, server_error
from helpers.gate import Gate
from helpers.server import LiveServer, ServerProcess
from helpers.sse import Received, read_stream
from helpers.wait import wait_finished, wait_for

KEY = "sk-test-provider-batch-0123456789"
FAST = {"provider_batch_poll_seconds": 0.05, "openai_requests_per_minute": 60000}


def body(count: int, **changes: Any) -> dict[str, Any]:
    return {
        "topic": "Cardiac physiology",
        "count": count,
        "generator": "openai",
        "delivery": "provider_batch",
        **changes,
    }


def provider(received: Received) -> dict[str, Any] | None:
    """The latest ``provider_batch`` a progress frame showed."""
    for frame in reversed(received.frames):
        if frame.event == "batch.progress" and frame.data.get("provider_batch"):
            return dict(frame.data["provider_batch"])
    return None


def provider_at(status: str, completed: int) -> Callable[[Received], bool]:
    def condition(received: Received) -> bool:
        seen = provider(received)
        return seen is not None and seen["status"] == status and seen["completed"] >= completed

    return condition


def finishes(received: Received) -> Counter[int]:
    return Counter(
        f.data["index"] for f in received.frames if f.event in ("item.completed", "item.failed")
    )


def server(make_server: Callable[..., LiveServer], fake: FakeOpenAI, **more: Any) -> LiveServer:
    return make_server(openai_base_url=fake.url + "/v1", openai_api_key=KEY, **FAST, **more)


def test_counts_move_then_answers_and_errors_go_through_the_pipeline(
    make_server: Callable[..., LiveServer],
) -> None:
    def answer(_request: Recorded, number: int) -> Reply:
        if number == 3:
            return flawed(number)  # fails the rules
        if number == 4:
            return server_error(500)  # transient: sent again in round 2
        if number == 5:
            return Reply(status=400, error={"message": "Invalid value", "code": None})
        return ok(number)

    gate = Gate(at=0)
    with FakeOpenAI(answer, gate=gate) as fake:
        live = server(make_server, fake)
        with httpx.Client(base_url=live.url, timeout=60) as http:
            created = http.post(BATCHES, json=body(6))
            assert created.status_code == 201, created.text
            batch_id = created.json()["id"]
            assert created.json()["config"]["early_stop"] is None
            wait_for(http, batch_id, provider_at("in_progress", 0), what="the upload")
            assert fake.batch_calls[:2] == ["POST /v1/files", "POST /v1/batches"]
            lines = fake.files["file-1"].decode().splitlines()
            assert len(lines) == 6 and f'"custom_id": "{batch_id}:0"' in lines[0]
            mid = get_batch(http, batch_id)
            assert mid["progress"]["pending"] == 6 and mid["progress"]["completed"] == 0
            gate.advance(2)
            moved = wait_for(http, batch_id, provider_at("in_progress", 2), what="counts")
            assert provider(moved) is not None
            gate.open()
            final = wait_finished(http, batch_id)
            log = read_stream(live.url, batch_id, after=0)
            items = {i["index"]: i for i in all_items(http, batch_id)}
            exports = {
                kind: http.get(f"{BATCHES}/{batch_id}/export", params={"format": kind})
                for kind in ("jsonl", "csv", "moodle", "qti")
            }
    assert final["status"] == "completed"
    progress = final["progress"]
    assert (progress["completed"], progress["failed"]) == (4, 2)
    assert items[2]["error"]["kind"] == "validation"
    assert items[4]["error"]["kind"] == "bad_request"
    assert items[3]["status"] == "completed"  # its 500 was sent again in round 2
    assert progress["provider_batch"]["round"] == 2
    assert set(finishes(log).values()) == {1} and set(finishes(log)) == set(range(6))
    assert fake.batch_calls.count("POST /v1/batches") == 2
    assert all(r.via_batch for r in fake.requests)
    # five answers carried usage (4 passed, 1 failed the rules): 120 in, 80 out each
    assert progress["usage"]["prompt_tokens"] == 600
    assert progress["usage"]["completion_tokens"] == 400
    cost = progress["cost"]
    assert cost["discount"] == 0.5
    assert cost["usd"] == pytest.approx((600 * 0.15 + 400 * 0.60) / 1e6 * 0.5)
    assert cost["per_valid_item_usd"] == pytest.approx(cost["usd"] / 4)
    assert final["cost"] == cost

    # The exports carry the tokens of each item and the batch's cost per valid item.
    rows = [json.loads(line) for line in exports["jsonl"].text.splitlines()]
    assert [row["tokens"] for row in rows] == [200] * 4
    assert {row["batch_cost_per_valid_item_usd"] for row in rows} == {cost["per_valid_item_usd"]}
    table = list(csv.DictReader(io.StringIO(exports["csv"].text)))
    assert [row["tokens"] for row in table] == ["200"] * 4
    assert table[0]["batch_cost_per_valid_item_usd"] == f"{cost['per_valid_item_usd']:.6f}"
    summary = (
        f"bulkgen batch {batch_id}: 600 prompt + 400 completion tokens; estimated cost "
        f"${cost['usd']:.4f} (${cost['per_valid_item_usd']:.6f} per valid item)"
    )
    assert f"<!-- {summary} -->" in exports["moodle"].text
    with zipfile.ZipFile(io.BytesIO(exports["qti"].content)) as package:
        assert f"<!-- {summary} -->" in package.read("imsmanifest.xml").decode()


@pytest.mark.parametrize("max_attempts", [1, 3])
def test_expired_requests_are_sent_again_or_fail_as_timeout(
    make_server: Callable[..., LiveServer], max_attempts: int
) -> None:
    gate = Gate(at=2)
    with FakeOpenAI(gate=gate) as fake:
        live = server(make_server, fake, max_attempts=max_attempts)
        with httpx.Client(base_url=live.url, timeout=60) as http:
            batch_id = http.post(BATCHES, json=body(4)).json()["id"]
            wait_for(http, batch_id, provider_at("in_progress", 2), what="two answers")
            fake.expire()
            if max_attempts > 1:
                wait_for(
                    http,
                    batch_id,
                    lambda r: (provider(r) or {}).get("round") == 2,
                    what="round 2",
                )
                gate.open()
            final = wait_finished(http, batch_id)
            items = {i["index"]: i for i in all_items(http, batch_id)}
    progress = final["progress"]
    if max_attempts == 1:
        assert (progress["completed"], progress["failed"]) == (2, 2)
        assert items[2]["error"]["kind"] == items[3]["error"]["kind"] == "timeout"
        assert "24-hour window" in items[3]["error"]["message"]
    else:
        assert (progress["completed"], progress["failed"]) == (4, 0)
        assert fake.batches["batch_1"]["status"] == "expired"
        assert fake.batches["batch_2"]["request_counts"]["total"] == 2


def test_cancel_cancels_the_provider_batch(make_server: Callable[..., LiveServer]) -> None:
    gate = Gate(at=1)
    with FakeOpenAI(gate=gate) as fake:
        live = server(make_server, fake)
        with httpx.Client(base_url=live.url, timeout=60) as http:
            batch_id = http.post(BATCHES, json=body(3)).json()["id"]
            wait_for(http, batch_id, provider_at("in_progress", 1), what="one answer")
            cancelled = http.post(f"{BATCHES}/{batch_id}/cancel")
            assert cancelled.status_code == 200, cancelled.text
            assert cancelled.json()["status"] == "cancelled"
    assert "POST /v1/batches/batch_1/cancel" in fake.batch_calls


def test_bad_delivery_is_a_422_naming_the_field(make_server: Callable[..., LiveServer]) -> None:
    live = make_server(openai_api_key=KEY)
    with httpx.Client(base_url=live.url, timeout=60) as http:
        demo = http.post(BATCHES, json={**body(2), "generator": "demo"})
        assert demo.status_code == 422
        assert "delivery" in demo.text
        early = http.post(BATCHES, json=body(2, early_stop={"enabled": True}))
        assert early.status_code == 422
        assert "early_stop" in early.text
        wrong = http.post(BATCHES, json=body(2, delivery="carrier_pigeon"))
        assert wrong.status_code == 422 and "delivery" in wrong.text


def test_restart_follows_the_provider_batch_without_sending_it_again(tmp_path: Path) -> None:
    gate = Gate(at=3)
    with FakeOpenAI(gate=gate) as fake:
        process = ServerProcess(
            tmp_path / "provider.db",
            env={
                "BULKGEN_OPENAI_BASE_URL": fake.url + "/v1",
                "BULKGEN_OPENAI_API_KEY": KEY,
                "BULKGEN_PROVIDER_BATCH_POLL_SECONDS": "0.05",
            },
        )
        process.start()
        try:
            with httpx.Client(base_url=process.url, timeout=60) as http:
                batch_id = http.post(BATCHES, json=body(8)).json()["id"]
                wait_for(http, batch_id, provider_at("in_progress", 3), what="three answers")
        finally:
            process.kill()
        gate.open()
        process.start()
        try:
            with httpx.Client(base_url=process.url, timeout=60) as http:
                final = wait_finished(http, batch_id)
                log = read_stream(process.url, batch_id, after=0)
        finally:
            process.terminate()
    assert final["status"] == "completed" and final["progress"]["completed"] == 8
    assert set(finishes(log)) == set(range(8)) and set(finishes(log).values()) == {1}
    assert fake.batch_calls.count("POST /v1/files") == 1
    assert fake.batch_calls.count("POST /v1/batches") == 1
    assert len(fake.requests) == 8
