"""The live progress view in a real browser: following, windowing, reconnecting, actions.

Every test drives Debian's Chromium against a real bulkgen server on a temporary database
and compares what the page shows with what the API says at the end. The server's
generators wait behind a gate (``helpers.gate``) until the test lets items through, so the
page sees the batch run, and the feed changes only when the test says.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from helpers.api import all_items
from helpers.api import create_batch as create
from helpers.browser import PageProblems, assert_clean
from helpers.gate import Gate
from helpers.progress_view import (
    FEED_STATE,
    FEED_WINDOW,
    SETTLED_TOP,
    assert_rows_match,
    assert_shows_final,
    connection,
    feed_rows,
    feed_state,
    open_view,
    probe,
)
from helpers.server import LiveServer
from helpers.sse import read_stream
from helpers.wait import (
    PAGE_WAIT,
    wait_connection,
    wait_finished,
    wait_finished_count,
    wait_until_finished,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def follow_then_run(page: Page, gate: Gate) -> None:
    """Once the page follows the batch live, let the batch run."""
    wait_connection(page, "live")
    gate.open()


# -- following a batch -----------------------------------------------------------------------


def test_a_batch_followed_from_start_to_end_matches_the_api(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client,
        count=60,
        generator_options={
            "seed": 11,
            "latency_ms": [20, 80],
            "fail_rate": 0.1,
            "invalid_rate": 0.1,
        },
    )
    open_view(page, live.url, batch["id"])
    follow_then_run(page, gate)
    wait_until_finished(page)
    final = wait_finished(client, batch["id"])
    items = all_items(client, batch["id"])

    assert_shows_final(page, final)
    assert len(feed_rows(page)) == 60
    assert_rows_match(page, items)
    seen = probe(page)
    assert "live" in seen["connections"]
    assert seen["connections"][-1] == "finished"
    # The page followed from the state it rendered, then closed the stream at the end.
    assert len(seen["sources"]) == 1
    assert "?after=" in seen["sources"][0]["url"]
    assert seen["sources"][0]["ended"] is True
    expect(page.locator("[data-role=eta]")).to_have_text("Done")
    expect(page.locator("[data-role=throughput]")).to_contain_text("items/min")
    expect(page.locator("[data-action=cancel]")).to_be_disabled()
    assert_clean(problems)


def test_failed_rows_expand_to_show_rules_and_generation_errors(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client,
        count=30,
        concurrency=6,
        generator_options={"seed": 5, "latency_ms": [5, 20], "fail_rate": 0.3, "invalid_rate": 0.3},
    )
    open_view(page, live.url, batch["id"])
    follow_then_run(page, gate)
    wait_until_finished(page)
    wait_finished(client, batch["id"])
    failed = [i for i in all_items(client, batch["id"]) if i["status"] == "failed"]
    validation = next(i for i in failed if i["error"]["kind"] == "validation")
    generation = next(i for i in failed if i["error"]["kind"] != "validation")

    # Rows built by the browser from events, then rows rendered by the server.
    for _ in ("live", "rendered"):
        row = page.locator(f'[data-role=feed-list] > li[data-index="{validation["index"]}"]')
        detail = row.locator("[data-role=detail]")
        expect(detail).to_be_hidden()
        row.locator("summary").click()
        expect(detail).to_be_visible()
        expect(detail).to_contain_text("Validation failed")
        for rule in validation["error"]["rules"]:
            entry = detail.locator(f'[data-rule="{rule["rule"]}"]')
            expect(entry.locator(".rule-id")).to_have_text(rule["rule"])
            expect(entry.locator(".rule-message")).to_have_text(rule["message"])

        row = page.locator(f'[data-role=feed-list] > li[data-index="{generation["index"]}"]')
        row.locator("summary").click()
        error = generation["error"]
        expect(row.locator("[data-role=error-kind]")).to_have_text(error["kind"])
        expect(row.locator("[data-role=error-message]")).to_have_text(error["message"])
        expect(row.locator("[data-role=error-attempts]")).to_have_text(
            str(len(generation["attempts"]))
        )
        expect(row.locator("[data-role=error-transient]")).to_have_text(
            "yes" if error["transient"] else "no"
        )
        page.reload()
        expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")
    assert_clean(problems)


def test_passed_rows_expand_to_show_the_whole_item(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client, count=12, concurrency=3, generator_options={"seed": 8, "latency_ms": [5, 20]}
    )
    open_view(page, live.url, batch["id"])
    follow_then_run(page, gate)
    wait_until_finished(page)
    wait_finished(client, batch["id"])
    items = all_items(client, batch["id"])
    passed = [item for item in items if item["status"] == "completed"]
    assert len(passed) >= 2
    flagged = next((item for item in items if item["result"] and item["error"]), None)
    loads: list[str] = []
    page.on(
        "request", lambda request: loads.append(request.url) if "limit=1" in request.url else None
    )

    # Rows built by the browser from events, then rows rendered by the server.
    for _ in ("live", "rendered"):
        for item in [passed[0], passed[-1], *([flagged] if flagged else [])]:
            result = item["result"]
            row = page.locator(f'[data-role=feed-list] > li[data-index="{item["index"]}"]')
            content = row.locator("[data-role=item-content]")
            expect(content).to_be_hidden()
            row.locator("summary").click()
            expect(content).to_have_attribute("data-state", "loaded")
            expect(content.locator("[data-role=stem]")).to_have_text(result["stem"])
            expect(content.locator("[data-role=rationale]")).to_have_text(result["rationale"])
            options = content.locator(".item-option")
            expect(options).to_have_count(len(result["options"]))
            for position, option in enumerate(result["options"]):
                entry = options.nth(position)
                expect(entry).to_have_attribute("data-key", option["key"])
                expect(entry.locator(".option-text")).to_have_text(option["text"])
            key = content.locator(".item-option-key")
            expect(key).to_have_count(1)
            expect(key).to_have_attribute("data-key", result["answer"])
            expect(key.locator(".key-mark")).to_have_text("✓ Answer")
            for warning in item["warnings"]:
                expect(row.locator(f'[data-rule="{warning["rule"]}"]').first).to_be_visible()
            # Closing and opening again shows the content without loading it twice.
            row.locator("summary").click()
            expect(content).to_be_hidden()
            row.locator("summary").click()
            expect(content).to_be_visible()
            assert len(loads) == 1 and f"offset={item['index']}&" in loads[0], loads
            loads.clear()
        page.reload()
        expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")
    assert_clean(problems)


def wait_last_row(page: Page, index: int) -> None:
    """The feed's last row is item ``index``."""
    page.wait_for_function(f"() => ({FEED_STATE})().last === {index}")


def test_auto_scroll_follows_pauses_when_scrolled_up_and_resumes(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    # Two workers: with the gate at n, items below n are done and items n and n + 1 are
    # in flight, so the feed's last row is n + 1.
    batch = create(
        client, count=400, concurrency=2, generator_options={"seed": 4, "latency_ms": [0, 5]}
    )
    open_view(page, live.url, batch["id"])
    wait_connection(page, "live")
    feed = page.locator("[data-role=feed]")
    gate.advance(60)
    wait_last_row(page, 61)
    state = feed_state(page)
    assert state["overflows"], state
    assert state["following"] == "true" and state["atBottom"], state

    # It follows: newer rows arrive and the feed stays at its bottom.
    gate.advance(80)
    wait_last_row(page, 81)
    page.wait_for_function(f"() => ({FEED_STATE})().atBottom")
    assert feed_state(page)["following"] == "true"

    # Scrolling up pauses it, and arriving items leave the scroll position alone.
    box = feed.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    expect(feed).to_have_attribute("data-following", "false")
    top = page.evaluate(SETTLED_TOP)
    assert not feed_state(page)["atBottom"]
    gate.advance(100)
    wait_last_row(page, 101)
    assert feed_state(page)["top"] == top
    expect(feed).to_have_attribute("data-following", "false")

    # The visible control resumes following and jumps to the bottom.
    page.locator("[data-action=resume]").click()
    expect(feed).to_have_attribute("data-following", "true")
    page.wait_for_function(f"() => ({FEED_STATE})().atBottom")

    # The Pause control pauses too; rows past the window are then left out below.
    page.locator("[data-action=pause]").click()
    expect(feed).to_have_attribute("data-following", "false")
    top = page.evaluate(SETTLED_TOP)
    gate.advance(230)
    wait_finished_count(page, 230)
    expect(page.locator("[data-role=follow-state]")).to_have_text(
        "Paused — newer items are not shown"
    )
    state = feed_state(page)
    assert (state["first"], state["last"], state["top"]) == (0, FEED_WINDOW - 1, top)

    # "Jump to latest" fetches the newest window (no item moves meanwhile) and follows.
    page.get_by_role("button", name="Jump to latest").click()
    expect(feed).to_have_attribute("data-following", "true")
    page.wait_for_function(f"() => ({FEED_STATE})().atBottom")
    state = feed_state(page)
    assert (state["first"], state["last"], state["rows"]) == (32, 231, FEED_WINDOW)

    gate.open()
    wait_until_finished(page)
    page.wait_for_function(f"() => ({FEED_STATE})().atBottom")
    state = feed_state(page)
    assert state["following"] == "true"
    assert state["last"] == 399 and state["rows"] == FEED_WINDOW
    assert_shows_final(page, wait_finished(client, batch["id"]))
    assert_clean(problems)


def test_a_reload_mid_batch_loses_and_duplicates_nothing(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client,
        count=120,
        concurrency=3,
        generator_options={
            "seed": 8,
            "latency_ms": [30, 70],
            "fail_rate": 0.1,
            "invalid_rate": 0.1,
        },
    )
    open_view(page, live.url, batch["id"])
    wait_connection(page, "live")
    gate.advance(30)
    wait_finished_count(page, 30)
    gate.advance(60)  # items keep moving during the reload; the batch cannot end
    page.reload()
    expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")
    rendered_at = int(page.locator("#progress-view").get_attribute("data-last-event-id") or "0")
    assert rendered_at > 0
    gate.open()
    wait_until_finished(page)
    final = wait_finished(client, batch["id"])

    assert_shows_final(page, final)
    assert_rows_match(page, all_items(client, batch["id"]))
    # After the reload the page resumed from the state it rendered, not from zero.
    sources = probe(page)["sources"]
    assert len(sources) == 1
    assert sources[0]["url"].endswith(f"?after={rendered_at}")
    assert_clean(problems)


def test_the_page_recovers_by_itself_when_the_server_restarts(
    live: LiveServer,
    gate: Gate,
    client: httpx.Client,
    make_server: Callable[..., LiveServer],
    page: Page,
    problems: PageProblems,
) -> None:
    batch = create(
        client,
        count=150,
        concurrency=3,
        generator_options={"seed": 9, "latency_ms": [5, 20], "fail_rate": 0.1},
    )
    open_view(page, live.url, batch["id"])
    wait_connection(page, "live")
    gate.advance(20)
    wait_finished_count(page, 20)

    live.stop()  # mid-batch: the items past the gate are in flight
    wait_connection(page, "reconnecting")
    expect(connection(page)).to_have_text("Reconnecting…")
    again = Gate(at=40)  # the restarted server runs items up to 40, then holds them
    restarted = make_server(port=live.port, gate=again)
    wait_connection(page, "live")
    again.open()
    wait_until_finished(page)

    with httpx.Client(base_url=restarted.url, timeout=60) as http:
        final = wait_finished(http, batch["id"])
        items = all_items(http, batch["id"])
    assert_shows_final(page, final)
    assert_rows_match(page, items)
    states = probe(page)["connections"]
    assert states.index("reconnecting") < len(states) - 1 - states[::-1].index("live")
    assert_clean(problems)


def test_generated_markup_is_shown_as_text_and_runs_nothing(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client,
        topic='Renal <img src=x onerror=alert("topic")>',
        count=8,
        generator_options={"latency_ms": [5, 15], "markup_rate": 1.0, "invalid_rate": 0.5},
    )
    open_view(page, live.url, batch["id"])
    follow_then_run(page, gate)
    wait_until_finished(page)
    wait_finished(client, batch["id"])
    expected = {
        item["index"]: item["result"]["stem"][:200]
        for item in all_items(client, batch["id"])
        if item["result"]
    }
    assert any("<img src=x onerror=alert(1)>" in stem for stem in expected.values())
    # Rows built from events, then the same rows rendered by the server.
    for _ in ("live", "rendered"):
        view = page.locator("#progress-view")
        for index, stem in expected.items():
            row = page.locator(f'[data-role=feed-list] > li[data-index="{index}"]')
            expect(row.locator(".feed-stem")).to_have_text(stem)
        expect(page.locator("h1")).to_have_text('Renal <img src=x onerror=alert("topic")>')
        assert view.locator("img").count() == 0
        assert view.locator("script:not(#progress-snapshot)").count() == 0
        for summary in page.locator("[data-role=feed-list] summary").all():
            summary.click()
        loaded = view.locator("[data-role=item-content][data-state=loaded]")
        expect(loaded).to_have_count(len(expected))
        assert any("<img" in text for text in loaded.all_inner_texts())
        assert view.locator("img").count() == 0
        page.reload()
        expect(view).to_have_attribute("data-ready", "true")
    assert_clean(problems)


# Holds the page's stream request until the test releases it: the page then catches up on
# everything the batch did meanwhile from one response.
HOLD_STREAM = """
(() => {
  const fetchNow = window.fetch;
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  window.__stream = { held: false, release: () => release() };
  window.fetch = function (input, init) {
    if (!String(typeof input === "string" ? input : input.url).includes("/progress?")) {
      return fetchNow.call(this, input, init);
    }
    window.__stream.held = true;
    return released.then(() => fetchNow.call(this, input, init));
  };
})();
"""


def test_a_large_backlog_is_caught_up_and_a_reload_shows_the_same_rows(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    count = 3000
    batch = create(
        client,
        count=count,
        concurrency=16,
        generator_options={
            "seed": 4,
            "latency_ms": [0, 0],
            "fail_rate": 0.05,
            "invalid_rate": 0.05,
        },
    )
    page.add_init_script(HOLD_STREAM)
    open_view(page, live.url, batch["id"])
    rendered_at = int(page.locator("#progress-view").get_attribute("data-last-event-id") or "0")
    page.wait_for_function("() => window.__stream.held")
    gate.open()
    final = wait_finished(client, batch["id"])
    page.evaluate("() => window.__stream.release()")  # thousands of events in one response
    wait_until_finished(page)

    items = all_items(client, batch["id"])
    newest = sorted(i["index"] for i in items if i["status"] != "pending")[-FEED_WINDOW:]
    status = {item["index"]: item["status"] for item in items}

    def assert_newest_rows() -> None:
        assert_shows_final(page, final)
        rows = feed_rows(page)
        assert [row["index"] for row in rows] == newest
        assert all(row["status"] == status[row["index"]] for row in rows)
        assert all(f"indicator-{row['status']}" in row["indicator"] for row in rows)

    assert_newest_rows()
    seen = probe(page)
    assert seen["maxRows"] <= FEED_WINDOW
    # One request, from the rendered state, read to the batch's end.
    assert [(s["url"].rsplit("?", 1)[1], s["ended"]) for s in seen["sources"]] == [
        (f"after={rendered_at}", True)
    ]
    page.reload()
    expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")
    expect(connection(page)).to_have_attribute("data-connection", "finished")
    assert_newest_rows()
    assert probe(page)["sources"] == []  # a finished batch opens no stream
    assert_clean(problems)


@pytest.mark.slow
def test_a_ten_thousand_item_batch_keeps_the_feed_bounded(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client,
        count=10_000,
        concurrency=64,
        generator_options={
            "seed": 1,
            "latency_ms": [0, 0],
            "fail_rate": 0.02,
            "invalid_rate": 0.02,
        },
    )
    open_view(page, live.url, batch["id"])
    follow_then_run(page, gate)
    page.wait_for_function(f"() => ({FEED_STATE})().rows >= {FEED_WINDOW}")
    assert feed_state(page)["rows"] <= FEED_WINDOW
    wait_until_finished(page, timeout=5 * PAGE_WAIT)
    final = wait_finished(client, batch["id"])

    assert_shows_final(page, final)
    seen = probe(page)
    # How responsive the page stayed depends on the machine: reported, measured in bench/.
    print(
        f"\n10,000 items: longest task {seen['longest']:.0f} ms, "
        f"{seen['longTasks']} long tasks (> 50 ms), longest gap between frames "
        f"{seen['frameGap']:.0f} ms, at most {seen['maxRows']} feed rows"
    )
    assert "live" in seen["connections"]  # the page followed the batch as it ran
    assert seen["maxRows"] <= FEED_WINDOW
    nodes = page.evaluate(
        "() => document.querySelector('[data-role=feed]').querySelectorAll('*').length"
    )
    assert nodes < 40 * FEED_WINDOW
    state = feed_state(page)
    assert (state["first"], state["last"], state["rows"]) == (9800, 9999, FEED_WINDOW)
    expect(page.locator("[data-role=earlier-count]")).to_have_text("9,800 earlier items not shown")

    # "Load earlier" puts the previous rows on top, keeps the rows in view where they were
    # and keeps the DOM bounded.
    load_earlier = page.locator("[data-action=load-earlier]")
    page.route(
        "**/items?*",
        lambda route: route.fulfill(
            status=503, content_type="application/json", body='{"detail": "database is busy"}'
        ),
    )
    load_earlier.click()
    expect(page.locator("[data-role=follow-state]")).to_have_text(
        "Could not load items: database is busy"
    )
    page.unroute("**/items?*")
    assert feed_state(page)["first"] == 9800
    row_top = "() => document.querySelector('[data-index=\"9800\"]').getBoundingClientRect().top"
    before = page.evaluate(row_top)
    load_earlier.click()
    page.wait_for_function(f"() => ({FEED_STATE})().first === 9700")
    assert abs(page.evaluate(row_top) - before) <= 1
    state = feed_state(page)
    assert (state["last"], state["rows"], state["following"]) == (9899, FEED_WINDOW, "false")
    # "Jump to latest" fetches the newest rows back.
    page.locator("[data-action=resume]").click()
    page.wait_for_function(f"() => ({FEED_STATE})().last === 9999")
    state = feed_state(page)
    assert (state["first"], state["rows"], state["following"]) == (9800, FEED_WINDOW, "true")
    assert_clean(problems)


# -- actions -------------------------------------------------------------------------------


def test_cancel_from_the_page_ends_the_batch_and_the_stream(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client, count=200, concurrency=2, generator_options={"seed": 2, "latency_ms": [5, 20]}
    )
    open_view(page, live.url, batch["id"])
    cancel = page.locator("[data-action=cancel]")
    retry = page.locator("[data-action=retry]")
    wait_connection(page, "live")
    expect(cancel).to_be_enabled()
    expect(retry).to_be_disabled()
    gate.advance(5)  # then two items wait in flight: the batch is running when cancelled
    wait_finished_count(page, 5)

    # An error from the API is shown, and the button stays usable.
    page.route(
        "**/cancel",
        lambda route: route.fulfill(
            status=409, content_type="application/json", body='{"detail": "try again later"}'
        ),
    )
    cancel.click()
    expect(page.locator("[data-role=action-message]")).to_have_text(
        "Could not cancel: try again later"
    )
    expect(cancel).to_be_enabled()
    page.unroute("**/cancel")

    cancel.click()
    wait_until_finished(page)
    expect(page.locator("#progress-view")).to_have_attribute("data-status", "cancelled")
    final = wait_finished(client, batch["id"])
    assert final["status"] == "cancelled"
    assert_shows_final(page, final)
    assert_rows_match(page, all_items(client, batch["id"]))
    expect(page.locator("[data-role=action-message]")).to_be_hidden()
    expect(cancel).to_be_disabled()
    expect(retry).to_be_enabled()  # the cancelled batch's pending items can still run
    assert all(source["ended"] for source in probe(page)["sources"])
    assert_clean(problems)


def test_retry_failed_from_the_page_follows_the_new_run(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    gate.open()
    batch = create(
        client,
        count=40,
        generator_options={"seed": 5, "latency_ms": [5, 20], "fail_rate": 0.4},
    )
    first = wait_finished(client, batch["id"])
    assert first["progress"]["failed"] > 0
    open_view(page, live.url, batch["id"])
    # A finished batch shows its final state and opens no stream at all.
    assert_shows_final(page, first)
    expect(connection(page)).to_have_attribute("data-connection", "finished")
    assert probe(page)["sources"] == []
    retry = page.locator("[data-action=retry]")
    expect(retry).to_be_enabled()

    retry.click()
    page.wait_for_function(
        """() => window.__probe.sources.length === 1
            && window.__probe.sources[0].ended
            && document.querySelector("[data-connection]").dataset.connection === "finished"
        """
    )
    second = wait_finished(client, batch["id"])
    assert second["last_event_id"] > first["last_event_id"]
    assert second["progress"]["failed"] < first["progress"]["failed"]
    assert_shows_final(page, second)
    assert_rows_match(page, all_items(client, batch["id"]))
    seen = probe(page)
    # The new run was followed from the page's own position, never from zero.
    assert seen["sources"][0]["url"].endswith(f"?after={first['last_event_id']}")
    assert seen["connections"][0] == "finished" and seen["connections"][-1] == "finished"
    assert "connecting" in seen["connections"]
    if second["progress"]["failed"] == 0:
        expect(retry).to_be_disabled()
    else:
        expect(retry).to_be_enabled()
    assert_clean(problems)


def shown_reasons(page: Page) -> list[tuple[str, int, str]]:
    """The failures panel's rows in order: reason key, count shown, label shown."""
    rows: list[list[Any]] = page.evaluate(
        """() => [...document.querySelectorAll("[data-role=reason-list] > li")].map((row) => [
            row.dataset.reason,
            Number(row.querySelector("[data-role=reason-count]").textContent.replaceAll(",", "")),
            row.querySelector("[data-role=reason-label]").textContent,
        ])"""
    )
    return [(str(key), int(count), str(label)) for key, count, label in rows]


def test_failures_by_reason_are_live_and_one_group_can_be_retried(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client,
        count=80,
        generator_options={
            "seed": 21,
            "latency_ms": [20, 60],
            "fail_rate": 0.25,
            "invalid_rate": 0.25,
        },
    )
    open_view(page, live.url, batch["id"])
    panel = page.locator("[data-role=reasons]")
    expect(panel).to_be_hidden()
    wait_connection(page, "live")
    gate.advance(20)
    wait_finished_count(page, 20)
    expect(panel).to_be_visible()  # the first failure shows the panel live
    # While the batch runs no group can be retried.
    running, all_disabled = page.evaluate(
        """() => [
            document.querySelector("#progress-view").dataset.status,
            [...document.querySelectorAll("[data-action=retry-reason]")].every((b) => b.disabled),
        ]"""
    )
    assert (running, all_disabled) == ("running", True)
    gate.open()
    wait_until_finished(page)
    first = wait_finished(client, batch["id"])
    reasons = first["progress"]["failure_reasons"]
    assert any(k.startswith("rule:") for k in reasons) and any(
        k.startswith("kind:") for k in reasons
    )
    shown = shown_reasons(page)
    assert [(key, count) for key, count, _ in shown] == list(reasons.items())
    assert [count for _, count, _ in shown] == sorted((c for _, c, _ in shown), reverse=True)
    assert all(label == key.partition(":")[2] for key, _, label in shown)

    reason = next(k for k in reasons if k.startswith("rule:"))
    before = {item["index"]: item for item in all_items(client, batch["id"])}
    group = {
        index
        for index, item in before.items()
        if item["status"] == "failed"
        and reason in {f"rule:{r['rule']}" for r in item["error"]["rules"]}
    }
    assert len(group) == reasons[reason]
    button = page.locator(f'[data-reason="{reason}"] [data-action=retry-reason]')
    expect(button).to_be_enabled()
    assert len(probe(page)["sources"]) == 1  # the first run's stream, closed at its end
    button.click()
    page.wait_for_function(
        """() => window.__probe.sources.length === 2
            && window.__probe.sources[1].ended
            && document.querySelector("[data-connection]").dataset.connection === "finished"
        """
    )
    second = wait_finished(client, batch["id"])
    assert second["last_event_id"] > first["last_event_id"]
    after = {item["index"]: item for item in all_items(client, batch["id"])}
    assert {index for index in before if after[index] != before[index]} == group
    log = read_stream(live.url, batch["id"], after=first["last_event_id"])
    assert sorted(f.data["index"] for f in log.frames if f.event == "item.requeued") == sorted(
        group
    )
    assert_shows_final(page, second)
    assert_rows_match(page, list(after.values()))
    final_reasons = second["progress"]["failure_reasons"]
    assert [(key, count) for key, count, _ in shown_reasons(page)] == list(final_reasons.items())
    # The new run was followed from the page's own position, never from zero.
    assert probe(page)["sources"][1]["url"].endswith(f"?after={first['last_event_id']}")
    expect(page.locator("[data-action=retry-reason]").first).to_be_enabled()
    assert_clean(problems)


# -- screenshots -----------------------------------------------------------------------------


def test_screenshots_of_a_running_and_a_finished_batch(
    live: LiveServer,
    gate: Gate,
    client: httpx.Client,
    page: Page,
    problems: PageProblems,
    tmp_path: Path,
) -> None:
    """Screenshots for the docs: BULKGEN_UPDATE_SCREENSHOTS=1 writes them to docs/."""
    folder = ROOT / "docs" if os.environ.get("BULKGEN_UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(exist_ok=True)
    batch = create(
        client,
        topic="Cardiac physiology",
        title="Cardiac physiology — week 3 quiz",
        count=80,
        concurrency=3,
        generator_options={
            "seed": 7,
            "latency_ms": [150, 350],
            "fail_rate": 0.12,
            "invalid_rate": 0.15,
        },
    )
    open_view(page, live.url, batch["id"])
    wait_connection(page, "live")
    gate.advance(24)  # the running shot shows 24 finished items and three in flight
    wait_finished_count(page, 24)
    flagged = page.locator("[data-role=feed-list] > li[data-status=failed]:has([data-rule])")
    expect(flagged.first).to_be_attached()
    row = flagged.last
    row.locator("summary").click()
    expect(row.locator("[data-role=detail]")).to_be_visible()
    row.scroll_into_view_if_needed()
    page.evaluate(SETTLED_TOP)  # rows scrolled into view are painted a frame later
    running = folder / "progress-running.png"
    page.screenshot(path=str(running))

    gate.open()
    wait_until_finished(page)
    page.locator("[data-action=resume]").click()
    page.wait_for_function(f"() => ({FEED_STATE})().atBottom")
    page.evaluate(SETTLED_TOP)
    finished = folder / "progress-finished.png"
    page.screenshot(path=str(finished))

    for shot in (running, finished):
        data = shot.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000, shot
    assert_clean(problems)


def test_jump_to_latest_while_items_arrive_keeps_following_to_the_end(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client, count=300, concurrency=2, generator_options={"seed": 4, "latency_ms": [0, 5]}
    )
    open_view(page, live.url, batch["id"])
    wait_connection(page, "live")
    feed = page.locator("[data-role=feed]")
    gate.advance(210)
    wait_last_row(page, 211)
    page.locator("[data-action=pause]").click()
    expect(feed).to_have_attribute("data-following", "false")
    gate.advance(230)
    wait_finished_count(page, 230)
    expect(page.locator("[data-role=follow-state]")).to_have_text(
        "Paused — newer items are not shown"
    )

    # "Jump to latest" while the newest window is on its way and items keep moving.
    held: list[Route] = []
    page.route("**/items?*", lambda route: held.append(route))
    with page.expect_request("**/items?*"):
        page.get_by_role("button", name="Jump to latest").click()
    page.evaluate("() => 0")  # a round trip: the route handler ran before its answer
    [fetch] = held
    gate.advance(260)
    wait_finished_count(page, 260)  # the page has these events before the window arrives
    fetch.continue_()
    page.unroute("**/items?*")
    expect(feed).to_have_attribute("data-following", "true")

    gate.open()
    wait_until_finished(page)
    page.wait_for_function(f"() => ({FEED_STATE})().atBottom")
    state = feed_state(page)
    assert state["following"] == "true"
    assert (state["last"], state["rows"]) == (299, FEED_WINDOW)
    assert_clean(problems)


# -- the followed row stays in view -----------------------------------------------------------

#: Whether the feed's last row is inside both the feed and the window, the page unscrolled.
LATEST_IN_VIEW = """() => {
  const feed = document.querySelector("[data-role=feed]");
  const row = document.querySelector("[data-role=feed-list] > li:last-child");
  if (!row || window.scrollY !== 0) return false;
  const box = row.getBoundingClientRect();
  const inside = feed.getBoundingClientRect();
  return box.top >= inside.top - 1 && box.bottom <= inside.bottom + 1
    && box.top >= 0 && box.bottom <= window.innerHeight;
}"""


def test_the_followed_row_stays_in_view_when_the_panels_above_grow(
    live: LiveServer, gate: Gate, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client,
        count=120,
        concurrency=2,
        generator_options={"seed": 6, "latency_ms": [1, 5], "fail_rate": 0.4, "invalid_rate": 0.5},
    )
    open_view(page, live.url, batch["id"])
    wait_connection(page, "live")
    page.wait_for_function(LATEST_IN_VIEW)
    gate.advance(80)
    wait_finished_count(page, 80)
    reasons = page.locator("[data-role=reason-list] > li")
    expect(reasons.nth(5)).to_be_visible()  # the panel grew by at least six rows
    page.wait_for_function(LATEST_IN_VIEW)
    expect(page.locator("[data-role=feed]")).to_have_attribute("data-following", "true")

    page.locator("[data-action=pause-batch]").click()  # a banner appears above too
    expect(page.locator("[data-role=pause-banner]")).to_be_visible()
    page.wait_for_function(LATEST_IN_VIEW)
    page.locator("[data-action=resume-batch]").click()
    gate.open()
    wait_until_finished(page)
    page.wait_for_function(LATEST_IN_VIEW)
    assert feed_state(page)["last"] == 119
    assert_clean(problems)
