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

With ``--profile``, it also says what the long tasks were: the events inside each task
of 50 ms or more (the trace), and the functions that ran in them (a V8 CPU profile of the
same run), so a change is aimed at the real cost.

    .venv/bin/python bench/progress_page.py [--count 10000] [--profile]
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
LONG_TASK_US = 50_000

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
    long_tasks = [
        e
        for e in events
        if (e.get("pid"), e.get("tid")) in mains
        and e.get("ph") == "X"
        and e["name"] == "RunTask"
        and float(e.get("dur", 0)) >= LONG_TASK_US
    ]
    return {
        "windows": [(float(e["ts"]), float(e["ts"]) + float(e["dur"])) for e in long_tasks],
        "inside": [inside_task(task, events) for task in long_tasks],
        "tasks": len(tasks),
        "longest_task_ms": max(tasks, default=0.0),
        "tasks_over_50ms": sum(t >= 50 for t in tasks),
        "layouts": len(layouts),
        "forced_layouts": len(forced),
        "forced_layout_ms": sum(forced),
    }


def event_label(event: dict[str, Any]) -> str:
    """A trace event's name with what it ran: the event type, the function, the script."""
    data = event.get("args", {}).get("data", {}) or {}
    detail = data.get("type") or data.get("functionName") or ""
    url = str(data.get("url") or "").rsplit("/", 1)[-1]
    return " ".join(part for part in (event["name"], detail, url) if part)


#: Trace events that only wrap the work of a task: their children are shown instead.
WRAPPERS = {"ThreadControllerImpl::RunTask", "RunTask", "BlinkScheduler_PerformMicrotaskCheckpoint"}


def inside_task(task: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """What one long task spent its time on: the work under its wrappers, by label, in ms."""
    key, start = (task["pid"], task["tid"]), float(task["ts"])
    end = start + float(task["dur"])
    nested = sorted(
        (
            e
            for e in events
            if e.get("ph") == "X"
            and (e.get("pid"), e.get("tid")) == key
            and e is not task
            and start <= float(e["ts"]) < end
        ),
        key=lambda e: (float(e["ts"]), -float(e.get("dur", 0))),
    )
    spent: dict[str, float] = {}
    stack: list[float] = []  # the ends of the counted events that enclose the next one
    for e in nested:
        begin = float(e["ts"])
        while stack and begin >= stack[-1]:
            stack.pop()
        if stack:
            continue  # inside work already counted
        if e["name"] in WRAPPERS:
            continue  # look at what it runs
        stack.append(begin + float(e.get("dur", 0)))
        label = event_label(e)
        spent[label] = spent.get(label, 0.0) + float(e.get("dur", 0)) / 1000
    top = sorted(spent.items(), key=lambda kv: -kv[1])[:5]
    return {"ms": float(task["dur"]) / 1000, "children": [[k, round(v, 1)] for k, v in top]}


def profile_in_windows(
    profile: dict[str, Any], windows: list[tuple[float, float]]
) -> list[tuple[str, float]]:
    """Self time per function (ms) of the CPU profile's samples that fall in long tasks."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    spent: dict[str, float] = {}
    at = float(profile["startTime"])
    samples, deltas = profile.get("samples", []), profile.get("timeDeltas", [])
    for index, (node_id, delta) in enumerate(zip(samples, deltas, strict=False)):
        at += float(delta)
        if not any(a <= at < b for a, b in windows):
            continue
        following = float(deltas[index + 1]) if index + 1 < len(deltas) else 0.0
        frame = nodes[node_id]["callFrame"]
        url = str(frame.get("url") or "").rsplit("/", 1)[-1]
        line = int(frame.get("lineNumber", 0)) + 1
        name = f"{frame.get('functionName') or '(anonymous)'} {url}:{line}"
        spent[name] = spent.get(name, 0.0) + following / 1000
    return sorted(spent.items(), key=lambda kv: -kv[1])


def print_profile(trace: dict[str, Any], profile: dict[str, Any] | None) -> None:
    """Where the long tasks' time went (``--profile``)."""
    print("\nlong tasks (trace), longest first: their largest direct children")
    for task in sorted(trace["inside"], key=lambda t: -t["ms"])[:8]:
        parts = "; ".join(f"{label} {ms:.1f}" for label, ms in task["children"])
        print(f"  {task['ms']:6.1f} ms  {parts}")
    if profile is not None:
        print("\nself time inside long tasks (CPU profile), ms")
        for name, ms in profile_in_windows(profile, trace["windows"])[:15]:
            print(f"  {ms:7.1f}  {name}")


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="items in the batch")
    parser.add_argument("--timeout", type=float, default=60.0, help="give up after N s")
    parser.add_argument(
        "--profile", action="store_true", help="say what ran in the long tasks (CPU profile)"
    )
    parser.add_argument(
        "--save-trace", type=Path, help="also write the trace here (for DevTools or Perfetto)"
    )
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
                    profiler = None
                    if args.profile:
                        profiler = page.context.new_cdp_session(page)
                        profiler.send("Profiler.enable")
                        profiler.send("Profiler.setSamplingInterval", {"interval": 200})
                        profiler.send("Profiler.start")
                    started = time.time()
                    client.post(f"/api/generation/batch/{blocker}/cancel").raise_for_status()
                    page.wait_for_function(
                        CAUGHT_UP, arg=args.count, polling="raf", timeout=args.timeout * 1000
                    )
                    caught_up = page.evaluate("window.__caughtUp") / 1000
                    page.wait_for_timeout(300)  # the last frames and observer callbacks
                    long_tasks = page.evaluate("window.__longTasks")
                    profile = profiler.send("Profiler.stop")["profile"] if profiler else None
                    raw_trace = browser.stop_tracing()
                    if args.save_trace:
                        args.save_trace.write_bytes(raw_trace)
                    trace = read_trace(raw_trace)
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
    if args.profile:
        print_profile(trace, profile)
    del trace["windows"], trace["inside"]
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
