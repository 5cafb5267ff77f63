"""Per-user quotas: items per day at create time, provider tokens per day at create time
and while a batch runs, shown in the API and on the form."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from helpers.api import BATCHES, batch_body
from helpers.fake_openai import USAGE, FakeOpenAI
from helpers.gate import Gate
from helpers.server import LiveServer
from helpers.wait import wait_for_event

USER = "X-Test-User"
ADA = {USER: "ada"}
GRACE = {USER: "grace"}


def test_the_items_quota_refuses_a_batch_it_has_no_room_for(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(user_header=USER, quota_items_per_day=30)
    with httpx.Client(base_url=live.url, timeout=60) as http:
        assert http.post(BATCHES, json=batch_body(count=20), headers=ADA).status_code == 201

        refused = http.post(BATCHES, json=batch_body(count=15), headers=ADA)
        assert refused.status_code == 429
        [problem] = refused.json()["detail"]
        assert problem["loc"] == ["body", "count"]
        assert problem["type"] == "quota_exceeded"
        assert "asks for 15 items and your daily quota has 10 of 30 left" in problem["msg"]
        assert 0 < int(refused.headers["retry-after"]) <= 24 * 3600

        assert http.post(BATCHES, json=batch_body(count=10), headers=ADA).status_code == 201
        assert http.get("/api/quota", headers=ADA).json() == {
            "window_hours": 24,
            "items_per_day": {"limit": 30, "used": 30, "remaining": 0},
            "tokens_per_day": {"limit": None, "used": 0, "remaining": None},
        }
        # Another user's quota is their own.
        assert http.post(BATCHES, json=batch_body(count=30), headers=GRACE).status_code == 201

        form = http.get("/faculty/generate/batch/new", headers=ADA).text
        assert "Your quota: 0 of 30 items left" in form
        posted = http.post(
            "/faculty/generate/batch/new",
            data={"topic": "Optics", "count": "5", "csrf_token": csrf_of(form)},
            headers={**ADA, "Origin": live.url},
        )
        assert posted.status_code == 429
        assert "asks for 5 items and your daily quota has 0 of 30 left" in posted.text


def csrf_of(form: str) -> str:
    marker = 'name="csrf_token" value="'
    start = form.index(marker) + len(marker)
    return form[start : form.index('"', start)]


def test_a_batch_that_spends_the_tokens_quota_pauses_and_may_not_resume(
    make_server: Callable[..., LiveServer],
) -> None:
    answered = 4
    quota = answered * sum(USAGE)  # spent once the first four answers are counted
    gate = Gate(at=answered)
    with FakeOpenAI(gate=gate) as fake:
        live = make_server(
            user_header=USER,
            openai_base_url=fake.url + "/v1",
            openai_api_key="sk-test-quota",
            openai_requests_per_minute=60_000,
            quota_tokens_per_day=quota,
            run_lease_seconds=0.6,  # the runner looks at the quota every 0.2 s
        )
        body = {"topic": "Cardiac physiology", "count": 20, "concurrency": 1}
        with httpx.Client(base_url=live.url, timeout=60, headers=ADA) as http:
            created = http.post(BATCHES, json={**body, "generator": "openai"}, headers=ADA)
            assert created.status_code == 201, created.text
            batch = created.json()
            paused = wait_for_event(http, batch["id"], "batch.paused")
            gate.open()
            event = paused.events("batch.paused")[0].data
            assert event["reason"] == "quota"
            assert f"your daily quota of {quota:,} provider tokens is spent" in event["message"]

            again = http.post(f"{BATCHES}/{batch['id']}/resume", headers=ADA)
            assert again.status_code == 429
            assert again.json()["detail"][0]["loc"] == ["body", "generator"]
            more = http.post(BATCHES, json={**body, "generator": "openai"}, headers=ADA)
            assert more.status_code == 429
            # The tokens quota bounds provider batches only, and only the owner's.
            assert http.post(BATCHES, json=batch_body(), headers=ADA).status_code == 201
            other = http.post(BATCHES, json={**body, "generator": "openai"}, headers=GRACE)
            assert other.status_code == 201

            used = http.get("/api/quota", headers=ADA).json()["tokens_per_day"]
            assert used["limit"] == quota and used["used"] >= quota and used["remaining"] == 0
            page = http.get(f"/faculty/generate/batch/{batch['id']}", headers=ADA).text
            assert "Paused: the daily quota is spent" in page
