"""The JSON API on a real server: create, bounds, history, items, errors, cancel, retry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from helpers.api import BATCHES, all_items, batch_body, replay
from helpers.gate import Gate
from helpers.server import LiveServer
from helpers.sse import read_stream
from helpers.wait import wait_finished

pytestmark = pytest.mark.databases


def test_create_returns_201_location_and_the_batch(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(gate=Gate(at=0))  # no item ends before the test looks
    with httpx.Client(base_url=live.url, timeout=60) as client:
        response = client.post(BATCHES, json=batch_body(title="Week 3 quiz"))
        assert response.status_code == 201
        batch = response.json()
        assert response.headers["location"] == f"{BATCHES}/{batch['id']}"
        assert batch["title"] == "Week 3 quiz"
        assert batch["config"]["count"] == 12
        assert batch["progress"]["total"] == 12
        assert batch["status"] in ("queued", "running")
        fetched = client.get(response.headers["location"]).json()
        assert fetched["id"] == batch["id"]
        assert fetched["config"] == batch["config"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": 10_001}, "count"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 65}, "concurrency"),
        ({"topic": ""}, "topic"),
        ({"topic": "   "}, "topic"),
        ({"topic": "x" * 201}, "topic"),
        ({"title": "t" * 201}, "title"),
        ({"item_type": "essay"}, "item_type"),
        ({"difficulty": "extreme"}, "difficulty"),
        ({"generator": "nope"}, "generator"),
        ({"colour": "red"}, "colour"),
        ({"generator_options": {"fail_rate": 1.5}}, "fail_rate"),
        ({"generator_options": {"invalid_rate": -0.1}}, "invalid_rate"),
        ({"generator_options": {"latency_ms": [500, 100]}}, "generator_options"),
        ({"generator_options": {"latency_ms": [0, 600_000]}}, "latency_ms"),
        ({"generator_options": {"temperature": 2}}, "temperature"),
    ],
)
def test_create_rejects_each_bound_with_422_naming_the_field(
    client: httpx.Client, change: dict[str, object], field: str
) -> None:
    body = batch_body()
    change = dict(change)  # the parameter is shared by every run of the test
    options = change.pop("generator_options", None)
    body.update(change)
    if options is not None:
        body["generator_options"] = {**body["generator_options"], **options}
    response = client.post(BATCHES, json=body)
    assert response.status_code == 422
    locations = [".".join(map(str, e["loc"])) for e in response.json()["detail"]]
    assert any(field in loc for loc in locations), locations


def test_create_rejects_a_missing_topic_and_a_non_json_body(client: httpx.Client) -> None:
    body = batch_body()
    del body["topic"]
    missing = client.post(BATCHES, json=body)
    assert missing.status_code == 422
    assert ["body", "topic"] in [e["loc"] for e in missing.json()["detail"]]
    garbage = client.post(
        BATCHES, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 422


def test_oversized_body_is_refused(client: httpx.Client) -> None:
    response = client.post(BATCHES, json={**batch_body(), "title": "x" * 200_000})
    assert response.status_code == 413


def test_history_is_newest_first_and_paginated(client: httpx.Client) -> None:
    ids = [
        client.post(BATCHES, json=batch_body(count=2, title=f"b{i}")).json()["id"] for i in range(5)
    ]
    first = client.get(BATCHES, params={"limit": 2}).json()
    second = client.get(BATCHES, params={"limit": 2, "offset": 2}).json()
    assert first["total"] == 5
    assert [b["id"] for b in first["items"]] == ids[::-1][:2]
    assert [b["id"] for b in second["items"]] == ids[::-1][2:4]
    assert all("progress" in b for b in first["items"])
    assert client.get(BATCHES, params={"limit": 0}).status_code == 422
    assert client.get(BATCHES, params={"limit": 101}).status_code == 422


def test_items_filter_by_status_and_paginate(client: httpx.Client) -> None:
    batch = client.post(
        BATCHES,
        json=batch_body(count=40, generator_options={"invalid_rate": 0.3, "seed": 11}),
    ).json()
    final = wait_finished(client, batch["id"])
    items = all_items(client, batch["id"])
    assert [i["index"] for i in items] == list(range(40))
    failed = client.get(f"{BATCHES}/{batch['id']}/items", params={"status": "failed"}).json()
    assert failed["total"] == final["progress"]["failed"] > 0
    assert all(i["status"] == "failed" for i in failed["items"])
    page = client.get(f"{BATCHES}/{batch['id']}/items", params={"limit": 5, "offset": 10}).json()
    assert [i["index"] for i in page["items"]] == list(range(10, 15))
    assert page["total"] == 40
    bad = client.get(f"{BATCHES}/{batch['id']}/items", params={"status": "done"})
    assert bad.status_code == 422


def test_progress_snapshot_matches_the_items_the_api_lists(client: httpx.Client) -> None:
    batch = client.post(
        BATCHES,
        json=batch_body(count=30, generator_options={"invalid_rate": 0.2, "fail_rate": 0.1}),
    ).json()
    final = wait_finished(client, batch["id"])
    items = all_items(client, batch["id"])
    progress = final["progress"]
    by_status = {
        s: sum(1 for i in items if i["status"] == s)
        for s in ("completed", "failed", "in_progress", "pending")
    }
    assert {k: progress[k] for k in by_status} == by_status
    assert progress["total"] == 30
    assert progress["percent"] == 100.0
    assert progress["success_rate"] == pytest.approx(by_status["completed"] / 30, abs=1e-3)
    assert progress["throughput_per_min"] > 0
    assert progress["eta_seconds"] == 0.0
    assert final["last_event_id"] > 0
    assert final["finished_at"] is not None


def test_failed_items_carry_validation_rules_and_generation_errors(client: httpx.Client) -> None:
    batch = client.post(
        BATCHES,
        json=batch_body(count=60, generator_options={"invalid_rate": 0.25, "fail_rate": 0.25}),
    ).json()
    wait_finished(client, batch["id"])
    failed = [i for i in all_items(client, batch["id"]) if i["status"] == "failed"]
    validation = [i for i in failed if i["error"]["kind"] == "validation"]
    generation = [i for i in failed if i["error"]["kind"] != "validation"]
    assert validation and generation
    for item in validation:
        assert item["error"]["rules"], item
        assert all(
            r["severity"] == "error" and r["rule"] and r["message"] for r in item["error"]["rules"]
        )
        assert item["result"]["stem"]
    for item in generation:
        assert item["error"]["kind"] in {"timeout", "rate_limited", "malformed_output"}
        assert item["error"]["message"]
        assert item["attempts"] and item["attempts"][-1]["error_kind"] == item["error"]["kind"]
        if item["error"]["transient"]:
            # transient errors are retried up to the attempt budget before giving up
            assert len(item["attempts"]) == 3
        else:
            assert len(item["attempts"]) == 1


def test_unknown_batch_is_404_everywhere(client: httpx.Client) -> None:
    for method, path in [
        ("GET", f"{BATCHES}/nope"),
        ("GET", f"{BATCHES}/nope/items"),
        ("GET", f"{BATCHES}/nope/progress"),
        ("POST", f"{BATCHES}/nope/cancel"),
        ("POST", f"{BATCHES}/nope/retry"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 404, (method, path)
        assert "detail" in response.json()


def test_a_user_sees_only_their_own_batches(make_server: Callable[..., LiveServer]) -> None:
    live = make_server(user_header="X-User")
    with httpx.Client(base_url=live.url, timeout=60) as http:
        mine = http.post(BATCHES, json=batch_body(), headers={"X-User": "ada"}).json()
        other = {"X-User": "bob"}
        assert http.get(f"{BATCHES}/{mine['id']}", headers=other).status_code == 404
        assert http.get(f"{BATCHES}/{mine['id']}/items", headers=other).status_code == 404
        assert http.post(f"{BATCHES}/{mine['id']}/cancel", headers=other).status_code == 404
        assert http.get(BATCHES, headers=other).json()["total"] == 0
        assert read_stream(live.url, mine["id"], headers=other).status == 404
        assert http.get(BATCHES).status_code == 401
        assert http.get(BATCHES, headers={"X-User": "ada"}).json()["total"] == 1


def test_cancel_fails_in_flight_items_and_ends_the_batch(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(gate=Gate(at=6))  # items 6 to 9 start, then stay in flight
    with httpx.Client(base_url=live.url, timeout=60) as client:
        batch = client.post(BATCHES, json=batch_body(count=200)).json()
        # 6 items started and finished, 4 more started: all the batch can do until the gate
        partial = read_stream(live.url, batch["id"], after=0, stop_after=16)
        assert len(partial.durable) == 16
        cancelled = client.post(f"{BATCHES}/{batch['id']}/cancel")
        assert cancelled.status_code == 200
        body = cancelled.json()
        assert body["status"] == "cancelled"
        progress = body["progress"]
        assert progress["in_progress"] == 0
        assert progress["pending"] == 190
        items = all_items(client, batch["id"])
        stopped = [
            i for i in items if i["status"] == "failed" and i["error"]["kind"] == "cancelled"
        ]
        assert [i["index"] for i in stopped] == [6, 7, 8, 9], "items in flight end cancelled"
        assert sum(i["status"] == "pending" for i in items) == progress["pending"]
        rest = read_stream(live.url, batch["id"], last_event_id=partial.last_id)
        assert rest.ended and rest.frames[-1].event == "batch.complete"
        assert rest.frames[-1].data["status"] == "cancelled"
        assert client.post(f"{BATCHES}/{batch['id']}/cancel").status_code == 409


def test_retry_requeues_failed_items_and_runs_the_batch_again(
    client: httpx.Client, live: LiveServer
) -> None:
    batch = client.post(
        BATCHES,
        json=batch_body(count=40, generator_options={"fail_rate": 0.4, "seed": 5}),
    ).json()
    first = wait_finished(client, batch["id"])
    failed_before = first["progress"]["failed"]
    assert failed_before > 0
    retried = client.post(f"{BATCHES}/{batch['id']}/retry")
    assert retried.status_code == 200
    assert retried.json()["status"] in ("queued", "running", "completed")
    second = wait_finished(client, batch["id"])
    assert second["status"] == "completed"
    assert second["progress"]["completed"] + second["progress"]["failed"] == 40
    # transient failures that exhausted their budget get more attempts and some pass
    assert second["progress"]["failed"] < failed_before
    assert second["last_event_id"] > first["last_event_id"]
    log = read_stream(live.url, batch["id"], after=0)
    requeued = [f for f in log.frames if f.event == "item.requeued"]
    assert len(requeued) == failed_before
    assert [f.id for f in log.durable] == list(range(1, second["last_event_id"] + 1))
    states = {i["index"]: i["status"] for i in all_items(client, batch["id"])}
    assert replay(log.frames) == states
    completed_now = wait_finished(client, batch["id"])
    if completed_now["progress"]["failed"] == 0:
        assert client.post(f"{BATCHES}/{batch['id']}/retry").status_code == 409


def test_health_and_openapi_docs(client: httpx.Client) -> None:
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/api/generation/batch/{batch_id}/progress" in spec["paths"]
    assert client.get("/docs").status_code == 200


# -- failure reasons -----------------------------------------------------------------------


def reasons_from_items(items: list[dict[str, Any]]) -> dict[str, int]:
    """Failure reasons recounted from the items API (the rule the server documents)."""
    counts: Counter[str] = Counter()
    for item in items:
        if item["status"] != "failed":
            continue
        error = item["error"]
        rules = [r["rule"] for r in error["rules"] if r["severity"] == "error"]
        if error["kind"] == "validation" and rules:
            counts.update(f"rule:{rule}" for rule in dict.fromkeys(rules))
        else:
            counts[f"kind:{error['kind']}"] += 1
    return dict(counts)


def test_failure_reasons_in_the_snapshot_equal_a_recount_of_the_items(
    client: httpx.Client, live: LiveServer
) -> None:
    batch = client.post(
        BATCHES,
        json=batch_body(count=60, generator_options={"invalid_rate": 0.3, "fail_rate": 0.3}),
    ).json()
    received = read_stream(live.url, batch["id"], after=0)
    final = wait_finished(client, batch["id"])
    expected = reasons_from_items(all_items(client, batch["id"]))
    reasons = final["progress"]["failure_reasons"]
    assert reasons == expected
    assert any(k.startswith("rule:") for k in reasons) and any(
        k.startswith("kind:") for k in reasons
    )
    counts = list(reasons.values())
    assert counts == sorted(counts, reverse=True) and min(counts) > 0
    assert received.frames[-1].event == "batch.complete"
    assert received.frames[-1].data["failure_reasons"] == expected
    progress = [f for f in received.frames if f.event == "batch.progress"]
    assert progress[-1].data["failure_reasons"] == expected
    listed = client.get(BATCHES).json()["items"][0]
    assert listed["progress"]["failure_reasons"] == expected
    assert final["usage"] is None and final["progress"]["usage"] is None  # demo: no tokens


def test_retry_by_reason_requeues_only_that_group(client: httpx.Client, live: LiveServer) -> None:
    batch = client.post(
        BATCHES,
        json=batch_body(count=60, generator_options={"invalid_rate": 0.3, "fail_rate": 0.3}),
    ).json()
    first = wait_finished(client, batch["id"])
    before = {i["index"]: i for i in all_items(client, batch["id"])}
    reasons = first["progress"]["failure_reasons"]
    reason = next(k for k in reasons if k.startswith("kind:"))
    group = sorted(
        i
        for i, item in before.items()
        if item["status"] == "failed" and reason in reasons_from_items([item])
    )
    assert len(group) == reasons[reason]

    retried = client.post(f"{BATCHES}/{batch['id']}/retry", params={"reason": reason})
    assert retried.status_code == 200, retried.text
    assert reason not in retried.json()["progress"]["failure_reasons"]
    rest = read_stream(live.url, batch["id"], after=first["last_event_id"])
    assert rest.ended and rest.frames[-1].event == "batch.complete"
    requeued = sorted(f.data["index"] for f in rest.frames if f.event == "item.requeued")
    assert requeued == group
    started = {f.data["index"] for f in rest.frames if f.event == "item.started"}
    assert started == set(group)

    second = wait_finished(client, batch["id"])
    after = {i["index"]: i for i in all_items(client, batch["id"])}
    for index, item in before.items():
        if index not in group:  # every other item is exactly as it was
            assert after[index] == item
    assert second["progress"]["failure_reasons"] == reasons_from_items(list(after.values()))


def test_retry_by_reason_conflicts_and_bounds(client: httpx.Client) -> None:
    batch = client.post(BATCHES, json=batch_body(count=4)).json()
    wait_finished(client, batch["id"])
    path = f"{BATCHES}/{batch['id']}/retry"
    none_failed = client.post(path, params={"reason": "kind:timeout"})
    assert none_failed.status_code == 409
    assert "kind:timeout" in none_failed.json()["detail"]
    for bad in ("timeout", "kind:", "kind:Timeout", "rule:a b", "other:x", "kind:" + "x" * 65):
        response = client.post(path, params={"reason": bad})
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["query", "reason"]
    assert (
        client.post(f"{BATCHES}/nope/retry", params={"reason": "kind:timeout"}).status_code == 404
    )
