"""The whole flow with a keyboard only: the form, a feed row's details, the batch's controls.

Chromium is driven through ``page.keyboard`` alone (no clicks, no filling): Tab moves the
focus until it reaches what a user would look for, and the test reads which element has
the focus and what the page shows.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from helpers.api import BATCHES
from helpers.browser import PageProblems, assert_clean
from helpers.gate import Gate
from helpers.server import LiveServer
from helpers.wait import wait_connection, wait_finished_count, wait_until_finished

pytestmark = pytest.mark.browser

#: Tab presses before giving up on reaching an element: more than any page here has stops.
MAX_TABS = 80


def focused_matches(page: Page, selector: str) -> bool:
    matched: bool = page.evaluate(
        "(selector) => document.activeElement?.matches(selector) ?? false", selector
    )
    return matched


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(MAX_TABS):
        if focused_matches(page, selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def type_into(page: Page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)


def test_create_follow_and_control_a_batch_with_the_keyboard_only(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    page.goto(f"{live.url}/faculty/generate/batch/new")
    type_into(page, "#topic", "Renal physiology")
    type_into(page, "#count", "30")
    type_into(page, "#concurrency", "2")
    type_into(page, "#latency_min", "1")
    type_into(page, "#latency_max", "5")
    page.keyboard.press("Enter")  # submits the form from any of its fields
    page.wait_for_url(re.compile(r"/faculty/generate/batch/\w+$"))
    expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")
    batch = client.get(BATCHES).json()["items"][0]
    assert batch["config"]["topic"] == "Renal physiology" and batch["config"]["count"] == 30
    wait_connection(page, "live")
    gate.advance(8)
    wait_finished_count(page, 8)

    # The export links appear once an item passed.
    tab_to(page, "[data-export=moodle]")
    # A feed row: Enter opens its details and closes them again.
    tab_to(page, "[data-role=feed-list] > li[data-status=completed] summary")
    row = page.locator("[data-role=feed-list] details:has(summary:focus)")
    detail = row.locator("[data-role=detail]")
    expect(detail).to_be_hidden()
    page.keyboard.press("Enter")
    expect(detail).to_be_visible()
    expect(row.locator("[data-role=item-content]")).to_have_attribute("data-state", "loaded")
    page.keyboard.press("Enter")
    expect(detail).to_be_hidden()

    # The batch's controls: pause, then resume, then cancel.
    view = page.locator("#progress-view")
    tab_to(page, "[data-action=pause-batch]")
    page.keyboard.press("Enter")
    expect(view).to_have_attribute("data-status", "paused")
    tab_to(page, "[data-action=resume-batch]")
    page.keyboard.press("Enter")
    expect(view).to_have_attribute("data-status", "running")
    tab_to(page, "[data-action=cancel]")
    page.keyboard.press("Enter")
    wait_until_finished(page)
    expect(view).to_have_attribute("data-status", "cancelled")
    assert client.get(f"{BATCHES}/{batch['id']}").json()["status"] == "cancelled"
    assert_clean(problems)
