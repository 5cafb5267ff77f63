"""The live progress view as browser tests read it: a probe, the feed's state, the counts.

A probe installed before the page's own scripts records the streams the page opens (each
``fetch`` of a ``/progress`` URL, and whether it has ended: read to its end, aborted, or
refused), the connection states it shows, the most feed rows it ever held and its longest
task.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

FEED_WINDOW = 200

PROBE = """
(() => {
  const probe = {
    sources: [], connections: [], longest: 0, longTasks: 0, maxRows: 0, frameGap: 0,
  };
  window.__probe = probe;
  // A stream request ends when its body is read to the end, when the page aborts it, or
  // when the server answers without a stream (204, an error).
  const nativeFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = new URL(typeof input === "string" ? input : input.url, location.href);
    const answer = nativeFetch.call(this, input, init);
    if (!url.pathname.endsWith("/progress")) return answer;
    const stream = { url: url.href, ended: false, status: null };
    probe.sources.push(stream);
    init?.signal?.addEventListener("abort", () => { stream.ended = true; });
    return answer.then((response) => {
      stream.status = response.status;
      if (!response.body || response.status !== 200) {
        stream.ended = true;
        return response;
      }
      const getReader = response.body.getReader.bind(response.body);
      response.body.getReader = (...args) => {
        const reader = getReader(...args);
        const read = reader.read.bind(reader);
        reader.read = () => read().then(
          (chunk) => { if (chunk.done) stream.ended = true; return chunk; },
          (error) => { stream.ended = true; throw error; },
        );
        return reader;
      };
      return response;
    }, (error) => { stream.ended = true; throw error; });
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


def open_view(page: Page, url: str, batch_id: str) -> None:
    page.add_init_script(PROBE)
    page.goto(f"{url}/faculty/generate/batch/{batch_id}")
    expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")


def connection(page: Page) -> Any:
    return page.locator("[data-connection]")


def shown_counts(page: Page) -> dict[str, int]:
    counts: dict[str, int] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("[data-count]")].map(
            (cell) => [cell.dataset.count, Number(cell.textContent.replaceAll(",", ""))]))"""
    )
    return counts


def finished_shown(page: Page) -> int:
    return int(page.locator("[data-role=finished-count]").inner_text().replace(",", ""))


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
            sources: window.__probe.sources.map((s) => ({ url: s.url, ended: s.ended })),
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
    assert finished_shown(page) == snapshot["completed"] + snapshot["failed"]
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
