"""The live progress view in a real browser: following, windowing, reconnecting, actions.

Every test drives Debian's Chromium against a real bulkgen server on a temporary database
and compares what the page shows with what the API says at the end. A probe installed
before the page's own scripts records the EventSources the page opens, the connection
states it shows, the most feed rows it ever held and its longest task.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from conftest import (
    LiveServer,
    PageProblems,
    all_items,
    batch_body,
    read_stream,
    wait_finished,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
BATCHES = "/api/generation/batch"
WAIT = 20_000  # ms: the longest any single expectation waits
FEED_WINDOW = 200
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PROBE = """
(() => {
  const probe = {
    sources: [], connections: [], longest: 0, longTasks: 0, maxRows: 0, frameGap: 0,
  };
  window.__probe = probe;
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init);
      probe.sources.push(this);
    }
  };
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        probe.longTasks += 1;
        probe.longest = Math.max(probe.longest, entry.duration);
      }
    }).observe({ type: "longtask", buffered: true });
  } catch (error) {
    probe.longest = -1;
  }
  // "interactive" comes before module scripts run, so the page's first change is seen.
  document.addEventListener("readystatechange", () => {
    if (document.readyState !== "interactive") return;
    const connection = document.querySelector("[data-connection]");
    const list = document.querySelector("[data-role=feed-list]");
    if (!connection || !list) return;
    probe.connections.push(connection.dataset.connection);
    new MutationObserver(() => {
      const state = connection.dataset.connection;
      if (probe.connections.at(-1) !== state) probe.connections.push(state);
    }).observe(connection, { attributes: true, attributeFilter: ["data-connection"] });
    const count = () => { probe.maxRows = Math.max(probe.maxRows, list.children.length); };
    count();
    new MutationObserver(count).observe(list, { childList: true });
    // The longest wait between two animation frames: how long the page could not paint.
    let last = performance.now();
    const frame = (now) => {
      probe.frameGap = Math.max(probe.frameGap, now - last);
      last = now;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
})();
"""

FEED_STATE = """() => {
  const feed = document.querySelector("[data-role=feed]");
  const rows = [...document.querySelectorAll("[data-role=feed-list] > li")];
  return {
    top: feed.scrollTop,
    atBottom: feed.scrollHeight - feed.scrollTop - feed.clientHeight <= 8,
    overflows: feed.scrollHeight > feed.clientHeight + 200,
    following: feed.dataset.following,
    rows: rows.length,
    first: rows.length ? Number(rows[0].dataset.index) : null,
    last: rows.length ? Number(rows.at(-1).dataset.index) : null,
  };
}"""

# Resolves once the feed's scroll position has stopped moving (wheel scrolling animates).
SETTLED_TOP = """async () => {
  const feed = document.querySelector("[data-role=feed]");
  const frame = () => new Promise((done) => requestAnimationFrame(done));
  for (;;) {
    const top = feed.scrollTop;
    await frame();
    await frame();
    await frame();
    if (feed.scrollTop === top) return top;
  }
}"""


# -- helpers -------------------------------------------------------------------------------


def create(http: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = http.post(BATCHES, json=batch_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def open_view(page: Page, url: str, batch_id: str) -> None:
    page.add_init_script(PROBE)
    page.goto(f"{url}/faculty/generate/batch/{batch_id}")
    expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")


def connection(page: Page) -> Any:
    return page.locator("[data-connection]")


def wait_until_finished(page: Page, timeout: float = WAIT) -> None:
    expect(connection(page)).to_have_attribute("data-connection", "finished", timeout=timeout)


def wait_finished_count(page: Page, at_least: int) -> None:
    page.wait_for_function(
        """(least) => Number(document.querySelector("[data-role=finished-count]")
            .textContent.replaceAll(",", "")) >= least""",
        arg=at_least,
    )


def shown_counts(page: Page) -> dict[str, int]:
    counts: dict[str, int] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("[data-count]")].map(
            (cell) => [cell.dataset.count, Number(cell.textContent.replaceAll(",", ""))]))"""
    )
    return counts


def feed_rows(page: Page) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = page.evaluate(
        """() => [...document.querySelectorAll("[data-role=feed-list] > li")].map((row) => ({
            index: Number(row.dataset.index),
            status: row.dataset.status,
            indicator: row.querySelector("[data-role=indicator]").className,
        }))"""
    )
    return rows


def feed_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(FEED_STATE)
    return state


def probe(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        """() => ({
            ...window.__probe,
            sources: window.__probe.sources.map((s) => ({ url: s.url, state: s.readyState })),
        })"""
    )
    return found


def assert_shows_final(page: Page, final: dict[str, Any]) -> None:
    """The bar, the percent and the four counts are the API's final snapshot."""
    snapshot = final["progress"]
    assert shown_counts(page) == {
        key: snapshot[key] for key in ("completed", "in_progress", "failed", "pending")
    }
    bar = page.locator("#progress-view [role=progressbar]")
    assert bar.get_attribute("aria-valuenow") == str(snapshot["completed"] + snapshot["failed"])
    assert bar.get_attribute("aria-valuemax") == str(snapshot["total"])
    assert bar.get_attribute("aria-valuemin") == "0"
    assert f"{snapshot['completed']:,} passed" in (bar.get_attribute("aria-valuetext") or "")
    percent = page.locator("[data-role=percent]").inner_text()
    assert float(percent.rstrip("%")) == snapshot["percent"]
    finished = page.locator("[data-role=finished-count]").inner_text().replace(",", "")
    assert int(finished) == snapshot["completed"] + snapshot["failed"]
    assert page.locator("#progress-view").get_attribute("data-status") == final["status"]
    expect(page.locator("#progress-view [data-role=status]")).to_have_text(final["status"])


def assert_rows_match(page: Page, items: list[dict[str, Any]]) -> None:
    """One row per started item, each with the API's status and the matching indicator."""
    rows = feed_rows(page)
    indices = [row["index"] for row in rows]
    assert len(indices) == len(set(indices)), "a row is duplicated"
    assert indices == sorted(indices)
    assert {row["index"]: row["status"] for row in rows} == {
        item["index"]: item["status"] for item in items if item["status"] != "pending"
    }
    for row in rows:
        assert f"indicator-{row['status']}" in row["indicator"], row


def assert_clean(problems: PageProblems) -> None:
    assert problems.errors == []
    assert problems.dialogs == []


# -- following a batch -----------------------------------------------------------------------


def test_a_batch_followed_from_start_to_end_matches_the_api(
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
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
    assert seen["sources"][0]["state"] == 2  # EventSource.CLOSED
    expect(page.locator("[data-role=eta]")).to_have_text("Done")
    expect(page.locator("[data-role=throughput]")).to_contain_text("items/min")
    expect(page.locator("[data-action=cancel]")).to_be_disabled()
    assert_clean(problems)


def test_failed_rows_expand_to_show_rules_and_generation_errors(
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client,
        count=30,
        concurrency=6,
        generator_options={"seed": 5, "latency_ms": [5, 20], "fail_rate": 0.3, "invalid_rate": 0.3},
    )
    open_view(page, live.url, batch["id"])
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


def test_auto_scroll_follows_pauses_when_scrolled_up_and_resumes(
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client, count=400, concurrency=2, generator_options={"seed": 4, "latency_ms": [25, 45]}
    )
    open_view(page, live.url, batch["id"])
    feed = page.locator("[data-role=feed]")
    page.wait_for_function(f"() => ({FEED_STATE})().overflows")
    state = feed_state(page)
    assert state["following"] == "true" and state["atBottom"], state

    # It follows: newer rows arrive and the feed stays at its bottom.
    page.wait_for_function(f"(last) => ({FEED_STATE})().last >= last + 3", arg=state["last"])
    state = feed_state(page)
    assert state["following"] == "true" and state["atBottom"], state

    # Scrolling up pauses it, and arriving items leave the scroll position alone.
    box = feed.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    expect(feed).to_have_attribute("data-following", "false")
    top = page.evaluate(SETTLED_TOP)
    assert not feed_state(page)["atBottom"]
    done = int(page.locator("[data-role=finished-count]").inner_text().replace(",", ""))
    wait_finished_count(page, done + 15)
    assert feed_state(page)["top"] == top
    expect(feed).to_have_attribute("data-following", "false")

    # The visible control resumes following and jumps to the bottom.
    page.locator("[data-action=resume]").click()
    expect(feed).to_have_attribute("data-following", "true")
    page.wait_for_function(f"() => ({FEED_STATE})().atBottom")

    # The Pause control pauses too.
    page.locator("[data-action=pause]").click()
    expect(feed).to_have_attribute("data-following", "false")
    top = page.evaluate(SETTLED_TOP)
    done = int(page.locator("[data-role=finished-count]").inner_text().replace(",", ""))
    wait_finished_count(page, done + 15)
    assert feed_state(page)["top"] == top
    page.get_by_role("button", name="Jump to latest").click()
    expect(feed).to_have_attribute("data-following", "true")

    wait_until_finished(page)
    page.wait_for_function(f"() => ({FEED_STATE})().atBottom")
    state = feed_state(page)
    assert state["following"] == "true"
    assert state["last"] == 399 and state["rows"] == FEED_WINDOW
    assert_shows_final(page, wait_finished(client, batch["id"]))
    assert_clean(problems)


def test_a_reload_mid_batch_loses_and_duplicates_nothing(
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
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
    wait_finished_count(page, 30)
    page.reload()
    expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")
    rendered_at = int(page.locator("#progress-view").get_attribute("data-last-event-id") or "0")
    assert rendered_at > 0
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
    make_server: Callable[..., LiveServer], page: Page, problems: PageProblems
) -> None:
    server = make_server()
    with httpx.Client(base_url=server.url, timeout=20) as http:
        batch = create(
            http,
            count=150,
            concurrency=3,
            generator_options={"seed": 9, "latency_ms": [40, 80], "fail_rate": 0.1},
        )
    open_view(page, server.url, batch["id"])
    expect(connection(page)).to_have_attribute("data-connection", "live")
    wait_finished_count(page, 20)

    port = int(server.url.rsplit(":", 1)[1])
    server.stop()
    expect(connection(page)).to_have_attribute("data-connection", "reconnecting")
    expect(connection(page)).to_have_text("Reconnecting…")
    restarted = make_server(port=port)
    expect(connection(page)).to_have_attribute("data-connection", "live", timeout=WAIT)
    wait_until_finished(page)

    with httpx.Client(base_url=restarted.url, timeout=20) as http:
        final = wait_finished(http, batch["id"])
        items = all_items(http, batch["id"])
    assert_shows_final(page, final)
    assert_rows_match(page, items)
    states = probe(page)["connections"]
    assert states.index("reconnecting") < len(states) - 1 - states[::-1].index("live")
    assert_clean(problems)


def test_generated_markup_is_shown_as_text_and_runs_nothing(
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client,
        topic='Renal <img src=x onerror=alert("topic")>',
        count=8,
        generator_options={"latency_ms": [5, 15], "markup_rate": 1.0, "invalid_rate": 0.5},
    )
    open_view(page, live.url, batch["id"])
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
        assert view.locator("img").count() == 0
        page.reload()
        expect(view).to_have_attribute("data-ready", "true")
    assert_clean(problems)


def test_a_ten_thousand_item_batch_keeps_the_feed_bounded_and_responsive(
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
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
    page.wait_for_function(f"() => ({FEED_STATE})().rows >= {FEED_WINDOW}")
    assert feed_state(page)["rows"] <= FEED_WINDOW
    wait_until_finished(page, timeout=60_000)
    final = wait_finished(client, batch["id"], timeout=60)

    assert_shows_final(page, final)
    seen = probe(page)
    print(
        f"\n10,000 items: longest task {seen['longest']:.0f} ms, "
        f"{seen['longTasks']} long tasks (> 50 ms), longest gap between frames "
        f"{seen['frameGap']:.0f} ms, at most {seen['maxRows']} feed rows"
    )
    assert "live" in seen["connections"]  # the page followed the batch as it ran
    assert seen["maxRows"] <= FEED_WINDOW
    assert 0 <= seen["longest"] < 1000
    assert seen["frameGap"] < 1000
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
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    batch = create(
        client, count=200, concurrency=2, generator_options={"seed": 2, "latency_ms": [40, 80]}
    )
    open_view(page, live.url, batch["id"])
    cancel = page.locator("[data-action=cancel]")
    retry = page.locator("[data-action=retry]")
    expect(connection(page)).to_have_attribute("data-connection", "live")
    expect(cancel).to_be_enabled()
    expect(retry).to_be_disabled()
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
    assert all(source["state"] == 2 for source in probe(page)["sources"])
    assert_clean(problems)


def test_retry_failed_from_the_page_follows_the_new_run(
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
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
            && window.__probe.sources[0].readyState === 2
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
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
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
    expect(panel).to_be_visible()  # the first failure shows the panel live
    # While the batch runs no group can be retried (read in one go: no race with the end).
    running, all_disabled = page.evaluate(
        """() => [
            document.querySelector("#progress-view").dataset.status,
            [...document.querySelectorAll("[data-action=retry-reason]")].every((b) => b.disabled),
        ]"""
    )
    assert running != "running" or all_disabled
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
            && window.__probe.sources[1].readyState === 2
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
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems, tmp_path: Path
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
