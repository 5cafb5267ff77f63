"""WCAG 2.1 AA on every page and state, checked by axe-core in Chromium.

Each test walks a page through its states (empty and full history, the form with and
without errors, a batch live, paused, finished, with a failed and a passed row expanded)
and runs axe at each one. No state may have a serious or critical violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from helpers.api import all_items
from helpers.api import create_batch as create
from helpers.axe import axe_context, blocking, describe
from helpers.browser import PageProblems, assert_clean
from helpers.gate import Gate
from helpers.server import LiveServer
from helpers.wait import (
    PAGE_WAIT,
    wait_connection,
    wait_finished,
    wait_finished_count,
    wait_for_event,
    wait_until_finished,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def axe_page(browser: Any, problems: PageProblems) -> Iterator[Page]:
    context = axe_context(browser)
    opened = context.new_page()
    opened.set_default_timeout(PAGE_WAIT)
    opened.on("pageerror", lambda error: problems.errors.append(str(error)))
    yield opened
    context.close()


class Audit:
    """The serious and critical violations found in each state, reported together."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.found: dict[str, list[dict[str, Any]]] = {}

    def check(self, state: str) -> None:
        self.found[state] = blocking(self.page)

    def assert_clean(self) -> None:
        assert self.found, "no state was checked"
        report = {
            f"{state}: {len(found)} rules, {sum(len(v['targets']) for v in found)} elements": (
                describe(found)
            )
            for state, found in self.found.items()
            if found
        }
        assert not report, "\n".join(f"== {state}\n{text}" for state, text in report.items())


def open_progress(page: Page, url: str, batch_id: str) -> None:
    page.goto(f"{url}/faculty/generate/batch/{batch_id}")
    expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")


def test_history_empty_and_with_batches(
    live: LiveServer, gate: Gate, client: httpx.Client, axe_page: Page, problems: PageProblems
) -> None:
    audit = Audit(axe_page)
    axe_page.goto(f"{live.url}/faculty/generate/batch")
    expect(axe_page.locator(".empty")).to_be_visible()
    audit.check("history, empty")

    options = {"seed": 3, "latency_ms": [5, 20], "fail_rate": 0.2, "invalid_rate": 0.2}
    done = create(client, title="Finished", count=6, generator_options=options)
    paused = create(client, title="Paused", count=40, concurrency=1, generator_options=options)
    cancelled = create(client, title="Cancelled", count=5, generator_options=options)
    client.post(f"/api/generation/batch/{cancelled['id']}/cancel")
    wait_finished(client, cancelled["id"])
    gate.advance(6)
    wait_finished(client, done["id"])
    client.post(f"/api/generation/batch/{paused['id']}/pause")
    wait_for_event(client, paused["id"], "batch.paused")
    create(client, title="Running", count=30, generator_options=options)
    axe_page.goto(f"{live.url}/faculty/generate/batch")
    expect(axe_page.locator(".history-row")).to_have_count(4)
    for status in ("completed", "paused", "cancelled", "running"):
        expect(axe_page.locator(f'.history-row[data-status="{status}"]')).to_have_count(1)
    audit.check("history, with batches")

    axe_page.goto(f"{live.url}/faculty/generate/batch/no-such-batch")
    audit.check("progress, unknown batch")
    audit.assert_clean()
    assert_clean(problems)


#: The options of each select whose text is wider than the select shows (arrow aside).
CUT_OFF_OPTIONS = """() => {
  const context = document.createElement("canvas").getContext("2d");
  const cut = [];
  for (const select of document.querySelectorAll("select")) {
    const style = getComputedStyle(select);
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = select.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight) - 20;
    for (const option of select.options) {
      if (context.measureText(option.text).width > room) cut.push(`${select.id}: ${option.text}`);
    }
  }
  return cut;
}"""


def test_form_without_and_with_errors(
    live: LiveServer, gate: Gate, axe_page: Page, problems: PageProblems
) -> None:
    audit = Audit(axe_page)
    axe_page.goto(f"{live.url}/faculty/generate/batch/new")
    audit.check("form")
    expect(axe_page.locator("#mode")).to_have_accessible_description(re.compile("N valid items"))
    assert axe_page.evaluate(CUT_OFF_OPTIONS) == []
    axe_page.fill("#topic", "")
    axe_page.fill("#count", "0")
    axe_page.fill("#concurrency", "100")
    axe_page.fill("#latency_min", "500")
    axe_page.fill("#latency_max", "100")
    axe_page.click("button[type=submit]")
    expect(axe_page.locator(".form-summary")).to_be_visible()
    expect(axe_page.locator("#count")).to_have_accessible_description(
        "Enter how many items to generate, from 1 to 10,000."
    )
    expect(axe_page.locator("#latency_max")).to_have_accessible_description(
        "Make the longest latency at least as long as the shortest."
    )
    audit.check("form, with errors")
    audit.assert_clean()
    assert_clean(problems)


def test_progress_live_paused_finished_and_expanded_rows(
    live: LiveServer, gate: Gate, client: httpx.Client, axe_page: Page, problems: PageProblems
) -> None:
    audit = Audit(axe_page)
    batch = create(
        client,
        count=40,
        concurrency=2,
        generator_options={"seed": 5, "latency_ms": [5, 20], "fail_rate": 0.3, "invalid_rate": 0.3},
    )
    open_progress(axe_page, live.url, batch["id"])
    wait_connection(axe_page, "live")
    audit.check("progress, live, nothing finished")
    gate.advance(12)
    wait_finished_count(axe_page, 12)
    expect(axe_page.locator("[data-role=reasons]")).to_be_visible()
    expect(axe_page.locator("[data-role=export]")).to_be_visible()
    audit.check("progress, live")

    axe_page.locator("[data-action=pause-batch]").click()
    gate.open()
    banner = axe_page.locator("[data-role=pause-banner]")
    expect(banner).to_be_visible()
    expect(axe_page.locator("[data-count=in_progress]")).to_have_text("0")
    audit.check("progress, paused")

    axe_page.locator("[data-action=resume-batch]").click()
    wait_until_finished(axe_page)
    wait_finished(client, batch["id"])
    audit.check("progress, finished")

    items = all_items(client, batch["id"])
    failed = [item for item in items if item["status"] == "failed"]
    rows = {
        "a failed row (rules)": next(i for i in failed if i["error"]["kind"] == "validation"),
        "a failed row (generation error)": next(
            i for i in failed if i["error"]["kind"] != "validation"
        ),
        "a passed row": next(i for i in items if i["status"] == "completed"),
    }
    for what, item in rows.items():
        row = axe_page.locator(f'[data-role=feed-list] > li[data-index="{item["index"]}"]')
        row.locator("summary").click()
        expect(row.locator("[data-role=detail]")).to_be_visible()
        if item["status"] == "completed":
            content = row.locator("[data-role=item-content]")
            expect(content).to_have_attribute("data-state", "loaded")
        audit.check(f"progress, finished, {what} expanded")
    axe_page.reload()
    expect(axe_page.locator("#progress-view")).to_have_attribute("data-ready", "true")
    audit.check("progress, finished, reloaded")
    audit.assert_clean()
    assert_clean(problems)
