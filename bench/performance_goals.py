"""Every performance goal in one command: fan-out next to its peers, the pipeline, the page.

Runs, one after the other, ``fanout_peers.py`` (bulkgen, sse-starlette, Starlette and
nginx + Nchan at 1,000 and 10,000 viewers), ``pipeline_throughput.py`` (10,000 items,
zero-latency generator, vs raw SQLite inserts) and ``progress_page.py`` (the progress page
in Chromium during a 10,000-item batch), each printing its own tables as it goes, then
every goal with its figure and MET / NOT MET from their JSON lines. About 6 minutes on
2 cores; start it on a quiet machine, the figures are ratios measured within each run.

    .venv/bin/python bench/performance_goals.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, emit_json, machine
from fanout_peers import goals as fanout_goals

BENCH = Path(__file__).resolve().parent
SIZES = [(1000, 100.0), (10000, 10.0)]


def run(script: str, *args: str) -> dict[str, Any]:
    """Run one bench, its output shown as it goes; its final JSON line."""
    print(f"\n=== {script} {' '.join(args)}".rstrip(), flush=True)
    process = subprocess.Popen(
        [PYTHON, str(BENCH / script), *args], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    last = ""
    for line in process.stdout:
        if line.startswith("{"):
            last = line
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or not last:
        raise SystemExit(f"{script} failed (exit code {process.returncode})")
    result: dict[str, Any] = json.loads(last)
    return result


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def pipeline_goals(out: dict[str, Any]) -> list[str]:
    stages = ", ".join(f"{name} {us:.0f}" for name, us in out["stage_us_per_item"].items())
    return [
        f"pipeline: >= {out['goal_items_per_s']:,.0f} items/s end to end: "
        f"{out['items_per_s']:,.0f}: {verdict(out['goal_met'])}",
        f"pipeline: >= {out['goal_ratio']:.2f} of raw inserts in the same run: "
        f"{out['ratio']:.3f} ({out['raw_rows_per_s']:,.0f} rows/s): "
        f"{verdict(out['goal_ratio_met'])}",
        f"pipeline: CPU per item {out['cpu_us_per_item']:.0f} us; by stage (us): {stages}",
    ]


def page_goals(out: dict[str, Any]) -> list[str]:
    met = out["goals_met"]
    longest = out["longest_long_task_ms"]
    shown = f"{longest:.0f} ms" if out["long_tasks"] else "none >= 50 ms"
    return [
        f"page: longest task <= 50 ms: {shown} ({out['long_tasks']} long tasks): "
        f"{verdict(met['longest_task'])}",
        f"page: no forced synchronous layout: {out['trace']['forced_layouts']}: "
        f"{verdict(met['no_forced_layout'])}",
        f"page: caught up within 1 s of batch.complete: {out['caught_up_s'] * 1000:.0f} ms: "
        f"{verdict(met['caught_up'])}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="bulkgen and Nchan only, one pipeline repetition"
    )
    args = parser.parse_args()
    peers = ["--servers", "bulkgen,nchan"] if args.quick else []
    fanout = run("fanout_peers.py", *peers)
    pipeline = run("pipeline_throughput.py", "--reps", "1" if args.quick else "3")
    page = run("progress_page.py")
    lines = fanout_goals(fanout["rows"], SIZES) + pipeline_goals(pipeline) + page_goals(page)
    print("\nperformance goals:")
    for line in lines:
        print(f"- {line}")
    info = machine()
    load = info["loadavg_1m_at_end"]
    print(f"\nmachine: {info['cpus']} cores, load average (1 min) at the end {load}")
    emit_json(
        {
            "bench": "performance_goals",
            "goals": lines,
            "fanout_peers": fanout,
            "pipeline_throughput": pipeline,
            "progress_page": page,
            "machine": info,
        }
    )


if __name__ == "__main__":
    main()
