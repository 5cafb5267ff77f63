"""The progress page in Chromium while a 10,000-item zero-latency batch runs.

A ``bulkgen serve`` subprocess; a *blocker* batch takes every global slot so the measured
batch (``--count`` items, concurrency 64, demo latency [0, 0]) is running but idle while
the page opens and connects; the blocker is cancelled and the batch runs at full speed.

Measured in the page (Debian's Chromium through Playwright, headless):

- **long tasks**: a ``PerformanceObserver`` for ``longtask`` entries (every main-thread
  task of 50 ms or more), installed before the page's own scripts;
- **every task and forced layouts**: a DevTools timeline trace of the run; the longest
  ``RunTask`` of the renderer's main thread, and the ``Layout`` events that ran *inside*
  script (a timer, an animation frame callback, an event handler): layouts that script
  forced synchronously, instead of the one the frame does after script;
- **caught up**: when the page first shows the batch completed with every item counted,
  against the ``created_at`` of its ``batch.complete`` event in the server's log.

    .venv/bin/python bench/progress_page.py [--count 10000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _common import (
    emit_json,
    free_port,
    machine,
    serve_command,
    spawn_server,
    stop_server,
    table,
    wait_batch,
    wait_healthy,
)

from helpers.browser import CHROMIUM, CHROMIUM_ARGS

CONCURRENCY = 64
GOAL_LONGEST_MS = 50.0
GOAL_CAUGHT_UP_S = 1.0

#: Installed before any script of the page: collect every long task.
OBSERVE = """
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__longTasks.push({start: entry.startTime, duration: entry.duration});
  }
}).observe({type: "longtask", buffered: true});
"""
#: True once the page shows the batch completed with every item counted; notes when.
CAUGHT_UP = """(count) => {
  const view = document.getElementById("progress-view");
  const done = document.querySelector("[data-role=finished-count], #finished-count");
  const shown = done ? Number(done.textContent.replace(/,/g, "")) : NaN;
  if (view && view.dataset.status === "completed" && shown === count) {
    window.__caughtUp = window.__caughtUp || Date.now();
    return true;
  }
  return false;
}"""
#: Timeline events in which script runs: a layout inside one was forced by that script.
SCRIPT_EVENTS = {"FunctionCall", "TimerFire", "FireAnimationFrame", "EventDispatch"}


def create(client: httpx.Client, count: int, latency_ms: int, title: str) -> str:
    response = client.post(
        "/api/generation/batch",
        json={
            "topic": "Cardiac physiology",
            "count": count,
            "concurrency": CONCURRENCY,
            "title": title,
            "generator_options": {"seed": 1, "latency_ms": [latency_ms, latency_ms]},
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


def read_trace(raw: bytes) -> dict[str, Any]:
    """The renderer main thread's longest task and the layouts script forced."""
    trace = json.loads(raw)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e.get("args", {}).get("name") == "CrRendererMain"
    }
    spans: dict[tuple[int, int], list[tuple[float, float]]] = {}
    tasks: list[float] = []
    layouts: list[tuple[tuple[int, int], float, float]] = []
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if key not in mains or e.get("ph") != "X":
            continue
        start, dur = float(e["ts"]), float(e.get("dur", 0))
        if e["name"] == "RunTask":
            tasks.append(dur / 1000)
        elif e["name"] in SCRIPT_EVENTS:
            spans.setdefault(key, []).append((start, start + dur))  # type: ignore[arg-type]
        elif e["name"] == "Layout":
            layouts.append((key, start, dur / 1000))  # type: ignore[arg-type]
    forced = [
        took for key, start, took in layouts if any(a <= start < b for a, b in spans.get(key, []))
    ]
    return {
        "tasks": len(tasks),
        "longest_task_ms": max(tasks, default=0.0),
        "tasks_over_50ms": sum(t >= 50 for t in tasks),
        "layouts": len(layouts),
        "forced_layouts": len(forced),
        "forced_layout_ms": sum(forced),
    }


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="items in the batch")
    parser.add_argument("--timeout", type=float, default=60.0, help="give up after N s")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bulkgen-bench-") as tmp:
        db, port, log = Path(tmp) / "page.db", free_port(), Path(tmp) / "server.log"
        server = spawn_server(
            serve_command(db, port),
            log,
            # One local user on loopback: the page needs no sign-in.
            {"BULKGEN_GLOBAL_CONCURRENCY": str(CONCURRENCY), "BULKGEN_REQUIRE_SIGN_IN": "false"},
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                wait_healthy(client, server, log)
                blocker = create(client, CONCURRENCY, 60_000, "blocker")
                wait_batch(
                    client, blocker, lambda b: b["progress"]["in_progress"] == CONCURRENCY, 10
                )
                batch_id = create(client, args.count, 0, "page")
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                    )
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.add_init_script(OBSERVE)
                    page.goto(f"http://127.0.0.1:{port}/faculty/generate/batch/{batch_id}")
                    page.wait_for_selector("[data-connection=live]", timeout=15_000)
                    browser.start_tracing(
                        page=page,
                        categories=[
                            "toplevel",
                            "devtools.timeline",
                            "disabled-by-default-devtools.timeline",
                        ],
                    )
                    started = time.time()
                    client.post(f"/api/generation/batch/{blocker}/cancel").raise_for_status()
                    page.wait_for_function(
                        CAUGHT_UP, arg=args.count, polling="raf", timeout=args.timeout * 1000
                    )
                    caught_up = page.evaluate("window.__caughtUp") / 1000
                    page.wait_for_timeout(300)  # the last frames and observer callbacks
                    long_tasks = page.evaluate("window.__longTasks")
                    trace = read_trace(browser.stop_tracing())
                    browser.close()
        finally:
            stop_server(server)
        with sqlite3.connect(db) as conn:
            (complete_at,) = conn.execute(
                "SELECT created_at FROM events WHERE batch_id=? AND type='batch.complete'",
                (batch_id,),
            ).fetchone()
    durations = [float(t["duration"]) for t in long_tasks]
    longest = max(durations, default=0.0)
    lag = caught_up - complete_at
    rows = [
        ["batch run (cancel of the blocker → batch.complete)", f"{complete_at - started:.2f} s"],
        ["long tasks (PerformanceObserver, ≥ 50 ms)", len(durations)],
        ["longest long task", f"{longest:.0f} ms" if durations else "none ≥ 50 ms"],
        ["main-thread tasks (trace)", trace["tasks"]],
        ["longest task (trace)", f"{trace['longest_task_ms']:.1f} ms"],
        ["layouts (trace)", trace["layouts"]],
        ["forced synchronous layouts (inside script)", trace["forced_layouts"]],
        ["time in forced layouts", f"{trace['forced_layout_ms']:.1f} ms"],
        ["page caught up after batch.complete", f"{lag * 1000:.0f} ms"],
    ]
    print(f"progress page, {args.count:,}-item zero-latency batch, Chromium {CHROMIUM}")
    print(table(["figure", "value"], rows))
    met_task = longest <= GOAL_LONGEST_MS
    met_layout = trace["forced_layouts"] == 0
    met_lag = lag <= GOAL_CAUGHT_UP_S
    print(
        f"goals: longest task <= {GOAL_LONGEST_MS:.0f} ms {'MET' if met_task else 'NOT MET'}; "
        f"no forced layout {'MET' if met_layout else 'NOT MET'}; "
        f"caught up within {GOAL_CAUGHT_UP_S:.0f} s {'MET' if met_lag else 'NOT MET'}"
    )
    emit_json(
        {
            "bench": "progress_page",
            "count": args.count,
            "run_s": complete_at - started,
            "long_tasks": len(durations),
            "longest_long_task_ms": longest,
            "long_task_ms": durations,
            "trace": trace,
            "caught_up_s": lag,
            "goals_met": {
                "longest_task": met_task,
                "no_forced_layout": met_layout,
                "caught_up": met_lag,
            },
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
