"""History page and new-batch form in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from helpers.api import BATCHES, batch_body
from helpers.browser import PageProblems
from helpers.gate import Gate
from helpers.server import LiveServer
from helpers.wait import wait_finished

pytestmark = pytest.mark.browser


def test_history_lists_batches_and_updates_a_running_one_live(
    make_server: Callable[..., LiveServer], page: Any, problems: PageProblems
) -> None:
    gate = Gate(at=3)  # a batch's first three items run, the others wait at the gate
    live = make_server(gate=gate)
    with httpx.Client(base_url=live.url, timeout=60) as client:
        done = client.post(BATCHES, json=batch_body(count=3, title="Finished one")).json()
        wait_finished(client, done["id"])
        # Another topic: the first batch's stems would fail this one's first items as
        # duplicates of the owner's earlier batch on the topic.
        running = client.post(
            BATCHES,
            json=batch_body(count=30, concurrency=2, title="Running one", topic="Renal physiology"),
        ).json()
        page.goto(f"{live.url}/faculty/generate/batch")
        rows = page.locator(".history-row")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Running one")
        expect(rows.nth(1)).to_contain_text("Finished one")
        row = page.locator(f'[data-batch-id="{running["id"]}"]')
        expect(row.locator("a")).to_have_attribute(
            "href", f"/faculty/generate/batch/{running['id']}"
        )
        expect(row).to_have_attribute("data-status", "running")
        expect(row.locator('[data-count="completed"]')).to_have_text("3")
        # the running batch's row follows the stream to the end without a reload
        gate.open()
        expect(row).to_have_attribute("data-status", "completed")
        final = client.get(f"{BATCHES}/{running['id']}").json()["progress"]
    expect(row.locator('[data-count="completed"]')).to_have_text(str(final["completed"]))
    expect(row.locator('[data-count="failed"]')).to_have_text(str(final["failed"]))
    expect(row.locator('[data-count="percent"]')).to_have_text("100.0%")
    expect(row.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "30")
    assert done["id"] in page.content()
    assert problems.errors == []


def test_form_rejects_bad_values_with_field_messages_then_creates(
    live: LiveServer, client: httpx.Client, page: Any, problems: PageProblems
) -> None:
    page.goto(f"{live.url}/faculty/generate/batch/new")
    page.fill("#topic", "")
    page.fill("#count", "0")
    page.fill("#concurrency", "100")
    page.click("button[type=submit]")
    expect(page.locator('[data-error-for="topic"]')).to_be_visible()
    expect(page.locator('[data-error-for="count"]')).to_contain_text("from 1 to 10,000")
    expect(page.locator('[data-error-for="concurrency"]')).to_contain_text("64")
    expect(page.locator("#count")).to_have_attribute("aria-invalid", "true")
    assert client.get(BATCHES).json()["total"] == 0

    page.fill("#topic", "Pharmacokinetics")
    page.fill("#count", "8")
    page.fill("#concurrency", "4")
    page.fill("#latency_min", "5")
    page.fill("#latency_max", "20")
    page.click("button[type=submit]")
    page.wait_for_url("**/faculty/generate/batch/*")
    batch_id = page.url.rsplit("/", 1)[-1]
    batch = client.get(f"{BATCHES}/{batch_id}").json()
    assert batch["config"]["topic"] == "Pharmacokinetics" and batch["config"]["count"] == 8
    assert problems.errors == []
