"""Pause, resume and the early stop in the live progress view (a real browser)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from helpers.api import BATCHES, all_items
from helpers.api import create_batch as create
from helpers.browser import PageProblems, assert_clean
from helpers.gate import Gate
from helpers.progress_view import assert_rows_match, assert_shows_final, connection, open_view
from helpers.server import LiveServer
from helpers.wait import (
    wait_connection,
    wait_finished,
    wait_finished_count,
    wait_until_finished,
)

pytestmark = pytest.mark.browser


def test_pause_and_resume_from_the_page(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client, count=80, concurrency=2, generator_options={"seed": 4, "latency_ms": [5, 20]}
    )
    open_view(page, live.url, batch["id"])
    pause = page.locator("[data-action=pause-batch]")
    resume = page.locator("[data-action=resume-batch]")
    banner = page.locator("[data-role=pause-banner]")
    wait_connection(page, "live")
    expect(pause).to_be_visible()
    expect(resume).to_be_hidden()
    expect(banner).to_be_hidden()
    gate.advance(4)  # then two items wait in flight: the batch is running when paused
    wait_finished_count(page, 4)

    pause.click()
    expect(page.locator("#progress-view")).to_have_attribute("data-status", "paused")
    expect(page.locator("#progress-view [data-role=status]")).to_have_text("paused")
    gate.open()  # the items in flight finish; no new one starts
    expect(banner).to_be_visible()
    expect(banner.locator("[data-role=pause-title]")).to_have_text("Paused")
    expect(banner).to_contain_text("resume or cancel")
    expect(resume).to_be_visible()
    expect(pause).to_be_hidden()
    expect(page.locator("[data-action=cancel]")).to_be_enabled()
    expect(page.locator("[data-count=in_progress]")).to_have_text("0")
    # Paused is not finished: the stream stays live.
    expect(connection(page)).to_have_attribute("data-connection", "live")

    # After a reload the banner is rendered by the server.
    page.reload()
    expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")
    expect(banner).to_be_visible()
    expect(resume).to_be_visible()
    history = client.get("/faculty/generate/batch").text
    assert re.search(r'class="badge status-paused"[^>]*>paused<', history)

    resume.click()
    expect(banner).to_be_hidden()
    expect(resume).to_be_hidden()
    wait_until_finished(page)
    final = wait_finished(client, batch["id"])
    assert final["status"] == "completed"
    assert_shows_final(page, final)
    assert_rows_match(page, all_items(client, batch["id"]))
    expect(pause).to_be_hidden()
    assert_clean(problems)


def test_the_early_stop_banner_appears_live(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client,
        count=60,
        concurrency=1,
        early_stop={"enabled": True, "min_finished": 10, "max_failure_rate": 0.5},
        generator_options={"seed": 9, "latency_ms": [5, 20], "invalid_rate": 1.0},
    )
    open_view(page, live.url, batch["id"])
    banner = page.locator("[data-role=pause-banner]")
    expect(banner).to_be_hidden()
    wait_connection(page, "live")
    gate.open()
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("data-reason", "early_stop")
    expect(banner.locator("[data-role=pause-title]")).to_have_text("Paused by the early stop")
    expect(banner.locator("[data-role=pause-message]")).to_contain_text(
        re.compile(r"^\d+ of the first \d+ finished items failed \(100% ≥ 50%\)")
    )
    expect(page.locator("[data-action=resume-batch]")).to_be_visible()
    page.locator("[data-action=cancel]").click()
    wait_until_finished(page)
    expect(banner).to_be_hidden()
    assert client.get(f"{BATCHES}/{batch['id']}").json()["status"] == "cancelled"
    assert_clean(problems)


def test_a_stall_and_the_provider_back_off_are_shown(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    """The stream (scripted here: the rule itself is unit-tested) says the batch stalled."""
    batch = create(client, count=20, concurrency=1)  # it waits at the gate: no item ends
    snapshot = client.get(f"{BATCHES}/{batch['id']}").json()["progress"]
    now = datetime.now(UTC)
    snapshot.update(
        status="running",
        stalled=True,
        last_finished_at=(now - timedelta(seconds=80)).isoformat(),
        backoff_until=(now + timedelta(minutes=10)).isoformat(),
    )
    body = f"retry: 600000\n\nevent: batch.progress\ndata: {json.dumps(snapshot)}\n\n"
    page.route(
        "**/progress?after=*",
        lambda route: route.fulfill(status=200, content_type="text/event-stream", body=body),
    )
    open_view(page, live.url, batch["id"])
    stall = page.locator("[data-role=stall]")
    expect(stall).to_be_visible()
    expect(stall).to_contain_text(re.compile(r"Stalled — no item finished for 1 min 2\d s"))
    expect(stall).to_contain_text(re.compile(r"The provider asked to wait until \d\d:\d\d:\d\d"))
    client.post(f"{BATCHES}/{batch['id']}/cancel")
    assert_clean(problems)
