"""Control latency: how long pause, resume and cancel take to reach open SSE streams.

The server runs as a subprocess (``python -m bulkgen serve``, uvicorn, its own SQLite file
in a temp dir, loopback only). For each viewer count (``--viewers``, default 1 and 100):

1. ``--cancels`` batches, one after the other, each running and far from done for the
   whole measurement (demo generator, ``--count`` 10,000 items, latency ``--latency-ms``
   50..200 ms, concurrency 4).
2. Per batch, N viewers in this process: an ``httpx.AsyncClient`` stream each on
   ``GET /api/generation/batch/{id}/progress`` (no cursor: the first frame is the
   ``batch.progress`` snapshot), one task per viewer reading the ``event:`` lines. The
   actions start once every viewer has its first frame.
3. Pause/resume cycles (``--cycles`` per viewer count, spread over the batches), then one
   cancel per batch. For each action: t0, ``POST …/pause`` (``/resume``, ``/cancel``), then
   wait until every viewer has the action's event (``batch.paused``, ``batch.resumed``,
   ``batch.complete``) or ``--timeout`` passes; a viewer without it by then counts as lost.
   delay = arrival (``time.perf_counter()`` when the viewer's task reads the ``event:``
   line) − t0, per (viewer, action). The HTTP reply time of the action is t0 → response.
   A random wait of 0..``--gap`` s (default 1 s, the period of the feed's poll) before
   each action puts it at a random phase of that poll, as a user's click is; with a
   shorter gap the actions follow the previous delivery, i.e. the poll, in step.

    .venv/bin/python bench/control_latency.py [--viewers 1,100] [--cycles 20] [--cancels 5]
        [--count 10000] [--latency-ms 50 200] [--concurrency 4] [--timeout 5] [--gap 1]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx

from _common import (
    HOST,
    emit_json,
    free_port,
    machine,
    percentile,
    raise_fd_limit,
    serve_command,
    spawn_server,
    stop_server,
    table,
    wait_batch,
    wait_healthy,
)

#: action -> the event that tells the streams
ACTIONS = {"pause": "batch.paused", "resume": "batch.resumed", "cancel": "batch.complete"}


@dataclass
class Viewer:
    """One open stream; ``first`` is set on its first frame."""

    index: int
    first: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None


class Probe:
    """Collects, for the action under way, the first arrival of its event per viewer."""

    def __init__(self, viewers: int) -> None:
        self.viewers = viewers
        self.event = ""
        self.arrivals: dict[int, float] = {}
        self.all_arrived = asyncio.Event()

    def expect(self, event: str) -> None:
        self.event = event
        self.arrivals = {}
        self.all_arrived = asyncio.Event()

    def arrived(self, viewer: int, event: str, at: float) -> None:
        if event == self.event and viewer not in self.arrivals:
            self.arrivals[viewer] = at
            if len(self.arrivals) == self.viewers:
                self.all_arrived.set()


@dataclass
class Figures:
    """Every sample of one (action, viewer count)."""

    delays_ms: list[float] = field(default_factory=list)  # per (viewer, action)
    first_ms: list[float] = field(default_factory=list)  # the first viewer, per action
    replies_ms: list[float] = field(default_factory=list)  # per action
    actions: int = 0
    lost: int = 0  # (viewer, action) pairs without the event within the timeout


async def follow(client: httpx.AsyncClient, url: str, viewer: Viewer, probe: Probe) -> None:
    """Read a stream's ``event:`` lines until it ends."""
    try:
        async with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as reply:
            if reply.status_code != 200:
                viewer.error = f"HTTP {reply.status_code}"
                return
            async for line in reply.aiter_lines():
                if line.startswith("event:"):
                    at = time.perf_counter()
                    viewer.first.set()
                    probe.arrived(viewer.index, line[6:].strip(), at)
    except Exception as error:
        viewer.error = f"{type(error).__name__}: {error}"
    finally:
        viewer.first.set()  # a viewer that failed must not hold up the start


async def act(
    control: httpx.AsyncClient,
    probe: Probe,
    batch_id: str,
    action: str,
    timeout: float,
    figures: Figures,
) -> None:
    """POST the action; record each viewer's delay until the action's event reaches it."""
    probe.expect(ACTIONS[action])
    t0 = time.perf_counter()
    reply = await control.post(f"/api/generation/batch/{batch_id}/{action}")
    replied = time.perf_counter()
    reply.raise_for_status()
    try:
        async with asyncio.timeout(timeout):
            await probe.all_arrived.wait()
    except TimeoutError:
        pass
    delays = sorted((at - t0) * 1000 for at in probe.arrivals.values())
    figures.actions += 1
    figures.replies_ms.append((replied - t0) * 1000)
    figures.delays_ms.extend(delays)
    figures.lost += probe.viewers - len(delays)
    if delays:
        figures.first_ms.append(delays[0])


async def one_batch(
    base: str,
    control: httpx.AsyncClient,
    args: argparse.Namespace,
    viewers: int,
    cycles: int,
    results: dict[str, Figures],
    rng: random.Random,
) -> list[str]:
    """A running batch with ``viewers`` streams: ``cycles`` pauses and resumes, one cancel."""
    low, high = args.latency_ms
    created = await control.post(
        "/api/generation/batch",
        json={
            "topic": "Cardiac physiology",
            "count": args.count,
            "concurrency": args.concurrency,
            "title": f"control latency, {viewers} viewers",
            "generator_options": {"seed": rng.randrange(1 << 30), "latency_ms": [low, high]},
        },
    )
    created.raise_for_status()
    batch_id = str(created.json()["id"])
    probe = Probe(viewers)
    url = f"{base}/api/generation/batch/{batch_id}/progress"
    limits = httpx.Limits(max_connections=viewers, max_keepalive_connections=0)
    timeouts = httpx.Timeout(10.0, read=60.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeouts) as streams:
        states = [Viewer(i) for i in range(viewers)]
        tasks = [asyncio.create_task(follow(streams, url, v, probe)) for v in states]
        try:
            try:
                async with asyncio.timeout(60):
                    await asyncio.gather(*(v.first.wait() for v in states))
            except TimeoutError:
                raise RuntimeError("viewers without a first frame after 60 s") from None
            failed = [v.error for v in states if v.error]
            if failed:
                raise RuntimeError(f"{len(failed)} viewers could not connect: {failed[0]}")
            await asyncio.sleep(0.3)  # let items flow before the first action
            for _ in range(cycles):
                for action in ("pause", "resume"):
                    await asyncio.sleep(rng.uniform(0, args.gap))
                    await act(control, probe, batch_id, action, args.timeout, results[action])
            await asyncio.sleep(rng.uniform(0, args.gap))
            await act(control, probe, batch_id, "cancel", args.timeout, results["cancel"])
            # The server ends every stream after batch.complete.
            _done, pending = await asyncio.wait(tasks, timeout=args.timeout)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    unended = len(pending)
    errors = [v.error for v in states if v.error]
    return errors + [f"{unended} streams still open after batch.complete"] * bool(unended)


async def loop_lag(lags: list[float]) -> None:
    """How late this process's event loop wakes a 5 ms sleep (its own share of a delay)."""
    while True:
        start = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append((time.perf_counter() - start - 0.005) * 1000)


async def measure(
    base: str, args: argparse.Namespace
) -> tuple[dict[Any, Figures], dict[int, list[float]], list[str]]:
    """Figures per (action, viewers), this process's loop lag (ms) per viewer count, problems."""
    rng = random.Random(args.seed)
    results: dict[Any, Figures] = {}
    lags: dict[int, list[float]] = {}
    problems: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as control:
        for viewers in args.viewers:
            figures = {action: Figures() for action in ACTIONS}
            lags[viewers] = []
            monitor = asyncio.create_task(loop_lag(lags[viewers]))
            try:
                for b in range(args.cancels):
                    # Spread the cycles over the batches: 20 over 5 is 4 each.
                    cycles = args.cycles // args.cancels + (b < args.cycles % args.cancels)
                    problems += await one_batch(base, control, args, viewers, cycles, figures, rng)
            finally:
                monitor.cancel()
            for action, figure in figures.items():
                results[action, viewers] = figure
    return results, lags, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--viewers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 100],
        help="viewer counts, comma-separated (default 1,100)",
    )
    parser.add_argument(
        "--cycles", type=int, default=20, help="pause/resume cycles per viewer count"
    )
    parser.add_argument(
        "--cancels", type=int, default=5, help="batches (one cancel each) per viewer count"
    )
    parser.add_argument("--count", type=int, default=10_000, help="items per batch")
    parser.add_argument(
        "--latency-ms",
        type=int,
        nargs=2,
        default=[50, 200],
        metavar=("MIN", "MAX"),
        help="demo generator latency per item",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="batch concurrency")
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="s to wait for an event before it is lost"
    )
    parser.add_argument(
        "--gap", type=float, default=1.0, help="random wait of 0..GAP s before each action"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the gaps and batches")
    args = parser.parse_args()
    if args.cancels < 1:
        parser.error("--cancels must be at least 1")
    raise_fd_limit(2 * max(args.viewers) + 256)

    tmp = tempfile.TemporaryDirectory(prefix="bulkgen-bench-")
    db = Path(tmp.name) / "control.db"
    log = Path(tmp.name) / "server.log"
    port = free_port()
    base = f"http://{HOST}:{port}"
    server = spawn_server(serve_command(db, port), log)
    started = time.perf_counter()
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_healthy(client, server, log)
            # Warm-up (first-use costs: statement compilation, imports).
            warm = client.post(
                "/api/generation/batch",
                json={"topic": "Warm-up", "count": 20, "generator_options": {"latency_ms": [0, 0]}},
            )
            warm.raise_for_status()
            wait_batch(client, warm.json()["id"], lambda b: b["status"] == "completed", 30)
        results, lags, problems = asyncio.run(measure(base, args))
    finally:
        stop_server(server)
        tmp.cleanup()
    wall = time.perf_counter() - started

    rows = []
    summary: list[dict[str, Any]] = []
    for (action, viewers), f in results.items():
        row = {
            "action": action,
            "event": ACTIONS[action],
            "viewers": viewers,
            "actions": f.actions,
            "deliveries": len(f.delays_ms),
            "lost": f.lost,
            "event_p50_ms": percentile(f.delays_ms, 50),
            "event_p99_ms": percentile(f.delays_ms, 99),
            "event_max_ms": max(f.delays_ms, default=math.nan),
            "first_viewer_p50_ms": percentile(f.first_ms, 50),
            "reply_p50_ms": percentile(f.replies_ms, 50),
            "reply_p99_ms": percentile(f.replies_ms, 99),
        }
        summary.append(row)
        rows.append([
            action, viewers, f.actions, row["deliveries"], f.lost,
            row["event_p50_ms"], row["event_p99_ms"], row["event_max_ms"],
            row["first_viewer_p50_ms"], row["reply_p50_ms"], row["reply_p99_ms"],
        ])  # fmt: skip

    low, high = args.latency_ms
    print(
        f"Control latency: demo batches of {args.count:,} items, concurrency "
        f"{args.concurrency}, latency {low}..{high} ms; {args.cycles} pause/resume cycles and "
        f"{args.cancels} cancels per viewer count; lost = no event within {args.timeout:g} s"
    )
    print(
        table(
            ["action", "viewers", "actions", "deliveries", "lost", "event p50 ms",
             "event p99 ms", "event max ms", "1st viewer p50 ms", "HTTP reply p50 ms",
             "HTTP reply p99 ms"],
            rows,
        )
    )  # fmt: skip
    print("event = action's POST sent -> its event read by a viewer (every viewer, every action)")
    lag_rows = [
        [n, percentile(v, 50), percentile(v, 99), max(v, default=math.nan)] for n, v in lags.items()
    ]
    print(table(["viewers", "bench loop lag p50 ms", "p99 ms", "max ms"], lag_rows))
    if problems:
        print("problems:", *sorted(set(problems)), sep="\n  ")
    emit_json(
        {
            "bench": "control_latency",
            "count": args.count,
            "concurrency": args.concurrency,
            "latency_ms": [low, high],
            "cycles": args.cycles,
            "cancels": args.cancels,
            "timeout_s": args.timeout,
            "gap_s": args.gap,
            "results": summary,
            "bench_loop_lag_ms": {
                str(n): {"p50": percentile(v, 50), "p99": percentile(v, 99)}
                for n, v in lags.items()
            },
            "problems": problems,
            "wall_s": wall,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
