"""Scale-out on PostgreSQL: pipeline items/s with 1, 2 and 4 worker processes, commit ->
arrival on another replica, and 1,000 viewers over 2 replicas.

Everything runs on one throwaway PostgreSQL 15 server (``scripts/postgres start``, a Unix
socket in a temp dir) that the bench starts and stops itself; the bulkgen processes are
subprocesses with ``BULKGEN_DATABASE_URL`` set: API replicas (``bulkgen serve
--no-workers``, loopback) and generation workers (``bulkgen worker``).

1. **Pipeline**: replica A + N workers (N in ``--workers``, default 1,2,4), each with
   ``BULKGEN_GLOBAL_CONCURRENCY=64``. A small warm-up batch, then one batch of ``--count``
   items, concurrency 64, demo generator with zero latency; created over HTTP on A.
   items/s = count / (the batch row's finished_at - started_at), read with GET
   /api/generation/batch/{id}. Beside it, in the same run on the same server: raw inserts of
   ``--count`` event-shaped rows into a scratch table with psycopg, one row per
   transaction (autocommit) and batched (executemany, COPY) in one transaction.
2. **Commit -> arrival**: replicas A and B, no worker yet. A batch (``--latency-count``
   items, concurrency 4, latency 30-50 ms) is created on A; one viewer streams
   ``/progress?after=0`` from B (and one from A, for comparison); once both streams are
   open, one worker starts. delay = arrival (``time.time()`` when the bytes were read) -
   ``events.created_at`` (read from PostgreSQL afterwards, joined on the SSE id) for every
   event committed after the streams opened.
3. **Fan-out**: ``--viewers`` viewers, half on A, half on B (raw asyncio streams in this
   process), all connected before a worker starts; a batch of ``--fanout-count`` items at
   ``--rate`` durable events/s. Every viewer must get every event (ids 1..last) once, in
   order.

    .venv/bin/python bench/scale_out.py [--count 10000] [--workers 1,2,4] [--viewers 1000]
        [--parts 1,2,3]   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import psycopg

from _common import (
    HOST,
    PYTHON,
    cpu_seconds,
    emit_json,
    free_port,
    machine,
    percentile,
    postmaster_pid,
    raise_fd_limit,
    spawn_server,
    start_postgres,
    stop_postgres,
    table,
    tree_cpu_seconds,
    wait_batch,
    wait_healthy,
    wait_log_line,
)
from bulkgen.log.pgbus import libpq_url
from fanout import ViewerResult, _loop_lag, _viewer

GOAL_ARRIVAL_P99_MS = 100.0
FINISHED = {"completed", "cancelled", "failed"}


class Cluster:
    """The bulkgen processes of this run on one PostgreSQL database."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []
        self._names = 0

    def _log(self, name: str) -> Path:
        self._names += 1
        return self.workdir / f"{self._names:02d}-{name}.log"

    def replica(self, name: str) -> tuple[httpx.Client, subprocess.Popen[bytes], int]:
        """``bulkgen serve --no-workers`` on a free loopback port, healthy."""
        port = free_port()
        log = self._log(f"replica-{name}")
        command = [PYTHON, "-m", "bulkgen", "serve", "--no-workers", "--port", str(port),
                   "--log-level", "warning"]  # fmt: skip
        proc = spawn_server(command, log, {"BULKGEN_DATABASE_URL": self.url})
        self.procs.append(proc)
        client = httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30)
        wait_healthy(client, proc, log)
        return client, proc, port

    def worker(self, name: str, slots: int = 64) -> tuple[subprocess.Popen[bytes], Path]:
        """``bulkgen worker`` (not waited for: see :meth:`ready`)."""
        log = self._log(f"worker-{name}")
        env = {"BULKGEN_DATABASE_URL": self.url, "BULKGEN_GLOBAL_CONCURRENCY": str(slots)}
        proc = spawn_server([PYTHON, "-m", "bulkgen", "worker"], log, env)
        self.procs.append(proc)
        return proc, log

    def stop(self, procs: Sequence[subprocess.Popen[bytes]] | None = None) -> None:
        """Ctrl-C the processes all at once (workers finish running items for up to
        10 s), kill what is left after 20 s."""
        chosen = list(self.procs if procs is None else procs)
        for proc in chosen:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 20
        for proc in chosen:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc in self.procs:
                self.procs.remove(proc)


def create(
    client: httpx.Client,
    count: int,
    concurrency: int,
    latency_ms: tuple[int, int],
    title: str,
) -> str:
    response = client.post(
        "/api/generation/batch",
        json={
            "topic": "Cardiac physiology",
            "count": count,
            "concurrency": concurrency,
            "title": title,
            "generator_options": {
                "latency_ms": list(latency_ms),
                "fail_rate": 0,
                "invalid_rate": 0,
                "seed": 1,
            },
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def xid(conninfo: str) -> int:
    """PostgreSQL's next transaction id: write transactions in between = the difference."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert row is not None
        return int(row[0])


def event_times(conninfo: str, batch_id: str) -> dict[int, float]:
    """``seq -> created_at`` of the batch's events (the store's commit clock)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT seq, created_at FROM events WHERE batch_id = %s", (batch_id,)
        ).fetchall()
    return {int(seq): float(at) for seq, at in rows}


# -- part 1: pipeline items/s --------------------------------------------------------------


def pipeline(
    cluster: Cluster,
    client: httpx.Client,
    conninfo: str,
    pg_pid: int,
    workers: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    started = [cluster.worker(f"{workers}x-{n}") for n in range(workers)]
    try:
        for proc, log in started:
            wait_log_line(proc, log, "worker ready")
        if args.warmup:
            warm = create(client, args.warmup, args.concurrency, (0, 0), "warm-up")
            wait_batch(client, warm, lambda b: b["status"] in FINISHED, args.timeout, every=0.1)
        pids = [proc.pid for proc, _log in started]
        cpu_w0 = sum(cpu_seconds(pid) for pid in pids)
        cpu_pg0 = tree_cpu_seconds(pg_pid)
        xid0 = xid(conninfo)
        t0 = time.time()
        batch_id = create(client, args.count, args.concurrency, (0, 0), f"pipeline {workers}")
        final = wait_batch(
            client, batch_id, lambda b: b["status"] in FINISHED, args.timeout, every=0.2
        )
        cpu_w = sum(cpu_seconds(pid) for pid in pids) - cpu_w0
        cpu_pg = tree_cpu_seconds(pg_pid) - cpu_pg0
        txns = xid(conninfo) - xid0 - 1
        # Which worker ran which slot (a worker logs "batch B: slot N started"), and how
        # many items each slot generated.
        slot_worker: dict[int, int] = {}
        marker = f"batch {batch_id}: slot "
        for n, (_proc, log) in enumerate(started):
            for line in log.read_text(errors="replace").splitlines():
                if marker in line:
                    slot = int(line.split(marker, 1)[1].split(" ", 1)[0])
                    slot_worker[slot] = n
        with psycopg.connect(conninfo, autocommit=True) as conn:
            per_slot = conn.execute(
                "SELECT slot, count(*) FROM items WHERE batch_id = %s GROUP BY slot",
                (batch_id,),
            ).fetchall()
            data_bytes = conn.execute(
                "SELECT avg(length(data)) FROM events WHERE batch_id = %s AND type LIKE 'item.%%'",
                (batch_id,),
            ).fetchone()
    finally:
        cluster.stop([proc for proc, _log in started])
    items_of = [0] * workers
    for slot, n in per_slot:
        if slot is not None and slot in slot_worker:
            items_of[slot_worker[slot]] += int(n)
    progress = final["progress"]
    count = args.count
    done = progress["completed"] + progress["failed"]
    run_s = math.nan
    total_s = math.nan
    if progress.get("started_at") and progress.get("finished_at"):
        run_s = epoch(progress["finished_at"]) - epoch(progress["started_at"])
        total_s = epoch(progress["finished_at"]) - t0
    return {
        "workers": workers,
        "status": final["status"],
        "items_done": done,
        "run_s": run_s,
        "items_per_s": count / run_s if run_s > 0 else math.nan,
        "items_per_s_from_create": count / total_s if total_s > 0 else math.nan,
        "worker_cpu_us_per_item": cpu_w / count * 1e6,
        "worker_cpu_util": cpu_w / run_s / workers if run_s > 0 else math.nan,
        "postgres_cpu_us_per_item": cpu_pg / count * 1e6,
        "postgres_cpu_util": cpu_pg / run_s if run_s > 0 else math.nan,
        "write_txns_per_item": txns / count,
        "items_per_worker": items_of,
        "slots_per_worker": [list(slot_worker.values()).count(n) for n in range(workers)],
        "event_data_bytes": float(data_bytes[0]) if data_bytes and data_bytes[0] else math.nan,
    }


def raw_inserts(conninfo: str, rows: int, row_bytes: int) -> dict[str, float]:
    """Rows/s of event-shaped inserts (batch_id, seq, type, data, created_at) on the same
    server: one row per transaction, and all rows in one transaction."""
    batch = "0" * 32
    data = [
        (batch, i, "item.completed", f'{{"index": {i}, "stem": "'.ljust(row_bytes - 2, "a") + '"}',
         time.time())
        for i in range(1, rows + 1)
    ]  # fmt: skip
    insert = "INSERT INTO bench_scratch VALUES (%s, %s, %s, %s, %s)"
    out: dict[str, float] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_scratch")
        conn.execute(
            "CREATE TABLE bench_scratch (batch_id text, seq int, type text, data text, "
            "created_at double precision, PRIMARY KEY (batch_id, seq))"
        )

        def timed(name: str, fill: Callable[[psycopg.Cursor[Any]], None]) -> None:
            conn.execute("TRUNCATE bench_scratch")
            with conn.cursor() as cur:
                start = time.perf_counter()
                fill(cur)
                out[name] = rows / (time.perf_counter() - start)

        def single(cur: psycopg.Cursor[Any]) -> None:
            for row in data:  # autocommit: each INSERT is its own transaction
                cur.execute(insert, row)

        def many(cur: psycopg.Cursor[Any]) -> None:
            with conn.transaction():
                cur.executemany(insert, data)

        def copy(cur: psycopg.Cursor[Any]) -> None:
            with conn.transaction(), cur.copy("COPY bench_scratch FROM STDIN") as feed:
                for row in data:
                    feed.write_row(row)

        timed("one_row_per_txn", single)
        timed("executemany_one_txn", many)
        timed("copy_one_txn", copy)
        conn.execute("DROP TABLE bench_scratch")
    return out


# -- parts 2 and 3: viewers on the replicas ------------------------------------------------


async def watch(
    ports: Sequence[int], path: str, go: Callable[[], Any], timeout: float
) -> dict[str, Any]:
    """One viewer per entry of ``ports``; once all streams are open, ``go()`` (start the
    worker); then until every stream ended after ``batch.complete`` or ``timeout``."""
    results = [ViewerResult() for _ in ports]
    gate = asyncio.Semaphore(100)  # connects in flight at once
    connected = asyncio.Event()
    counter = [0]
    t_open = time.time()
    tasks = [
        asyncio.create_task(_viewer(port, path, r, gate, connected, counter, len(ports)))
        for port, r in zip(ports, results, strict=True)
    ]
    try:
        async with asyncio.timeout(120):
            await connected.wait()
    except TimeoutError:
        pass
    t_connected = time.time()
    lags = array("d")
    monitor = asyncio.create_task(_loop_lag(lags))
    go()
    _done, pending = await asyncio.wait(tasks, timeout=timeout)
    monitor.cancel()
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for r in results:
        if r.error is None and not r.complete and r.status == 200:
            r.error = "timed out before batch.complete"
    return {
        "results": results,
        "connect_s": t_connected - t_open,
        "t_connected": t_connected,
        "loop_lag_p99_ms": percentile(sorted(x * 1000 for x in lags), 99),
    }


def run_viewers(ports: Sequence[int], path: str, go: Callable[[], Any], timeout: float) -> Any:
    coroutine = watch(ports, path, go, timeout)
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def deliveries(
    results: Sequence[ViewerResult], created: dict[int, float], since: float
) -> dict[str, Any]:
    """Completeness and delay (arrival - created_at) over every (viewer, event) pair whose
    event was committed after ``since`` (the streams were open)."""
    last = max(created)
    expected = array("q", range(1, last + 1))
    delays: list[float] = []
    errors: dict[str, int] = {}
    for r in results:
        if r.error:
            errors[r.error] = errors.get(r.error, 0) + 1
        for i, t in zip(r.ids, r.times, strict=True):
            at = created.get(i)
            if at is not None and at >= since:
                delays.append((t - at) * 1000)
    delays.sort()
    live = sum(1 for at in created.values() if at >= since)
    first, end = min(created.values()), max(created.values())
    return {
        "viewers": len(results),
        "complete": sum(1 for r in results if r.ids == expected and r.complete),
        "events_expected": last,
        "events_min_received": min((len(r.ids) for r in results), default=0),
        "events_live": live,
        "event_rate_per_s": last / (end - first) if end > first else math.nan,
        "delay_p50_ms": percentile(delays, 50),
        "delay_p95_ms": percentile(delays, 95),
        "delay_p99_ms": percentile(delays, 99),
        "delay_max_ms": delays[-1] if delays else math.nan,
        "deliveries_measured": len(delays),
        "errors": errors,
    }


def arrival(
    cluster: Cluster, client: httpx.Client, port_a: int, port_b: int, conninfo: str,
    args: argparse.Namespace,
) -> dict[str, Any]:  # fmt: skip
    """Part 2: created on A, watched on B (and A), one worker started once both watch."""
    low, high = args.latency_ms
    batch_id = create(client, args.latency_count, 4, (low, high), "arrival")
    path = f"/api/generation/batch/{batch_id}/progress?after=0"
    started: list[subprocess.Popen[bytes]] = []
    try:
        out = run_viewers(
            [port_b, port_a],
            path,
            lambda: started.append(cluster.worker("arrival")[0]),
            args.timeout,
        )
        final = wait_batch(client, batch_id, lambda b: b["status"] in FINISHED, 30)
        created = event_times(conninfo, batch_id)
    finally:
        cluster.stop(started)
    on_b = deliveries(out["results"][:1], created, out["t_connected"])
    on_a = deliveries(out["results"][1:], created, out["t_connected"])
    progress = final["progress"]
    run_s = epoch(progress["finished_at"]) - epoch(progress["started_at"])
    return {
        "batch_items": args.latency_count,
        "latency_ms": [low, high],
        "items_per_s": args.latency_count / run_s,
        "viewer_b": on_b,
        "viewer_a": on_a,
        "goal_p99_ms": GOAL_ARRIVAL_P99_MS,
        "goal_met": on_b["complete"] == 1 and on_b["delay_p99_ms"] < GOAL_ARRIVAL_P99_MS,
    }


def fan_out(
    cluster: Cluster, a: tuple[httpx.Client, int, int], b: tuple[int, int], conninfo: str,
    args: argparse.Namespace, overhead_ms: float,
) -> dict[str, Any]:  # fmt: skip
    """Part 3: ``--viewers`` over A and B, all connected before the worker starts."""
    client, port_a, pid_a = a
    port_b, pid_b = b
    concurrency = args.fanout_concurrency
    period_ms = 1000.0 * concurrency / (args.rate / 2)  # per item and slot
    mean = max(1.0, period_ms - overhead_ms)
    latency = (round(mean * 0.5), round(mean * 1.5))
    batch_id = create(client, args.fanout_count, concurrency, latency, "fan-out")
    path = f"/api/generation/batch/{batch_id}/progress?after=0"
    half = args.viewers // 2
    ports = [port_a] * (args.viewers - half) + [port_b] * half
    started: list[subprocess.Popen[bytes]] = []
    cpu: dict[str, float] = {}

    def go() -> None:
        cpu["a"], cpu["b"], cpu["t"] = cpu_seconds(pid_a), cpu_seconds(pid_b), time.time()
        started.append(cluster.worker("fan-out")[0])

    try:
        out = run_viewers(ports, path, go, args.timeout)
        t_end = time.time()
        cpu_a, cpu_b = cpu_seconds(pid_a) - cpu["a"], cpu_seconds(pid_b) - cpu["b"]
        final = wait_batch(client, batch_id, lambda b: b["status"] in FINISHED, 30)
        created = event_times(conninfo, batch_id)
    finally:
        cluster.stop(started)
    results = out["results"]
    on_a = [r for r, port in zip(results, ports, strict=True) if port == port_a]
    on_b = [r for r, port in zip(results, ports, strict=True) if port == port_b]
    since = out["t_connected"]
    first = min(at for at in created.values() if at >= since)
    wall = t_end - first
    return {
        "viewers_connected": sum(1 for r in results if r.status == 200),
        "connect_s": out["connect_s"],
        "batch_items": args.fanout_count,
        "concurrency": concurrency,
        "latency_ms": list(latency),
        "status": final["status"],
        "all": deliveries(results, created, since),
        "replica_a": deliveries(on_a, created, since),
        "replica_b": deliveries(on_b, created, since),
        # Replica CPU from the worker's start to the last stream's end.
        "replica_a_cpu_util": cpu_a / (t_end - cpu["t"]),
        "replica_b_cpu_util": cpu_b / (t_end - cpu["t"]),
        "span_s": wall,
        "bench_loop_lag_p99_ms": out["loop_lag_p99_ms"],
    }


# -- the conductor -------------------------------------------------------------------------


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 1 or 2,3")
    parser.add_argument("--count", type=int, default=10_000, help="part 1: items per batch")
    parser.add_argument("--workers", default="1,2,4", help="part 1: worker processes to try")
    parser.add_argument("--concurrency", type=int, default=64, help="part 1: batch concurrency")
    parser.add_argument("--warmup", type=int, default=200, help="part 1: warm-up batch items")
    parser.add_argument("--row-bytes", type=int, default=300, help="raw inserts: data bytes")
    parser.add_argument("--latency-count", type=int, default=1000, help="part 2: items")
    parser.add_argument(
        "--latency-ms", type=int, nargs=2, default=[30, 50], help="part 2: demo latency range"
    )
    parser.add_argument("--viewers", type=int, default=1000, help="part 3: viewers (A + B)")
    parser.add_argument("--fanout-count", type=int, default=300, help="part 3: items")
    parser.add_argument("--fanout-concurrency", type=int, default=16, help="part 3: slots")
    parser.add_argument("--rate", type=float, default=100.0, help="part 3: durable events/s")
    parser.add_argument("--timeout", type=float, default=600.0, help="s per batch")
    args = parser.parse_args()
    parts = {int(p) for p in args.parts.split(",")}
    worker_counts = [int(n) for n in args.workers.split(",")]

    # Ctrl-C and kill end the run through the ``finally`` below (children, PostgreSQL and
    # its directory); SIGINT is restored in case the shell started the bench ignoring it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    limit = raise_fd_limit(args.viewers * 2 + 1024)  # the replicas inherit it
    tmp = Path(tempfile.mkdtemp(prefix="bulkgen-scale-"))
    # Its own directory directly in the temp dir: as root the server runs as `postgres`,
    # which must reach it (``tmp`` is private to this user).
    pgdir = Path(tempfile.mkdtemp(prefix="bulkgen-pg-"))
    summary: dict[str, Any] = {"parts": sorted(parts)}
    cluster: Cluster | None = None
    try:
        url = start_postgres(pgdir)
        conninfo = libpq_url(url)
        pg_pid = postmaster_pid(pgdir)
        with psycopg.connect(conninfo) as conn:
            version = conn.execute("SHOW server_version").fetchone()
            fsync = conn.execute("SHOW fsync").fetchone()
        summary["postgres"] = {"version": version and version[0], "fsync": fsync and fsync[0]}
        cluster = Cluster(url, tmp)
        client_a, proc_a, port_a = cluster.replica("A")
        if 1 in parts:
            runs = []
            for n in worker_counts:
                runs.append(pipeline(cluster, client_a, conninfo, pg_pid, n, args))
                print(f"  pipeline, {n} worker(s): {runs[-1]['items_per_s']:,.0f} items/s",
                      file=sys.stderr, flush=True)  # fmt: skip
            raw = raw_inserts(conninfo, args.count, args.row_bytes)
            for run in runs:
                run["ratio_to_one_row_txns"] = run["items_per_s"] / raw["one_row_per_txn"]
                run["ratio_to_executemany"] = run["items_per_s"] / raw["executemany_one_txn"]
                run["ratio_to_copy"] = run["items_per_s"] / raw["copy_one_txn"]
            summary["pipeline"] = runs
            summary["raw_inserts_rows_per_s"] = raw
        overhead_ms = 10.0
        if parts & {2, 3}:
            client_b, proc_b, port_b = cluster.replica("B")
            if 2 in parts:
                part2 = arrival(cluster, client_a, port_a, port_b, conninfo, args)
                summary["arrival"] = part2
                mean = sum(args.latency_ms) / 2
                overhead_ms = max(0.0, 1000 * 4 / part2["items_per_s"] - mean)
                print(f"  arrival: p99 {part2['viewer_b']['delay_p99_ms']:.1f} ms",
                      file=sys.stderr, flush=True)  # fmt: skip
            if 3 in parts:
                summary["fanout"] = fan_out(
                    cluster,
                    (client_a, port_a, proc_a.pid),
                    (port_b, proc_b.pid),
                    conninfo,
                    args,
                    overhead_ms,
                )
            client_b.close()
        client_a.close()
        summary["slot_overhead_ms"] = overhead_ms
    finally:
        if cluster is not None:
            cluster.stop()
        stop_postgres(pgdir)
        shutil.rmtree(pgdir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    summary["fd_limit"] = limit
    report(summary, args)
    emit_json({"bench": "scale_out", **summary, "machine": machine()})


def report(summary: dict[str, Any], args: argparse.Namespace) -> None:
    pg = summary.get("postgres", {})
    print(f"PostgreSQL {pg.get('version')} (Unix socket, fsync={pg.get('fsync')})")
    if "pipeline" in summary:
        raw = summary["raw_inserts_rows_per_s"]
        print(
            f"\n1. Pipeline: {args.count:,} items, concurrency {args.concurrency}, demo latency 0;"
            " items/s = count / (finished_at - started_at)"
        )
        rows = []
        for run in summary["pipeline"]:
            rows.append(
                [
                    run["workers"],
                    run["items_per_s"],
                    run["items_per_s_from_create"],
                    run["run_s"],
                    run["worker_cpu_us_per_item"],
                    run["postgres_cpu_us_per_item"],
                    run["write_txns_per_item"],
                    "/".join(f"{n:,}" for n in run["items_per_worker"]),
                    run["ratio_to_one_row_txns"],
                    run["ratio_to_executemany"],
                ]
            )
        print(
            table(
                [
                    "workers",
                    "items/s",
                    "items/s from create",
                    "run s",
                    "worker CPU us/item",
                    "PG CPU us/item",
                    "PG write txns/item",
                    "items per worker",
                    "÷ 1-row txns",
                    "÷ executemany",
                ],
                rows,
            )
        )
        print(
            f"\n   raw PostgreSQL inserts, same server, {args.count:,} rows of ~{args.row_bytes} B"
        )
        print(
            table(
                ["form", "rows/s"],
                [
                    ["one row per transaction (autocommit INSERT)", raw["one_row_per_txn"]],
                    ["executemany, one transaction", raw["executemany_one_txn"]],
                    ["COPY, one transaction", raw["copy_one_txn"]],
                ],
            )
        )
    if "arrival" in summary:
        part2 = summary["arrival"]
        low, high = part2["latency_ms"]
        b, a = part2["viewer_b"], part2["viewer_a"]
        print(
            f"\n2. Commit -> arrival: batch created on replica A, {part2['batch_items']:,} items,"
            f" concurrency 4, latency {low}-{high} ms, 1 worker: {part2['items_per_s']:.1f}"
            f" items/s, {b['event_rate_per_s']:.1f} events/s"
        )
        rows = []
        for name, d in (("B (other replica)", b), ("A (creating replica)", a)):
            rows.append(
                [
                    name,
                    f"{d['complete']}/{d['viewers']}",
                    d["deliveries_measured"],
                    d["delay_p50_ms"],
                    d["delay_p95_ms"],
                    d["delay_p99_ms"],
                    d["delay_max_ms"],
                ]
            )
        print(
            table(
                ["viewer on", "complete", "events timed", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                rows,
            )
        )
        print(
            f"   goal p99 < {GOAL_ARRIVAL_P99_MS:.0f} ms on B: "
            f"{'MET' if part2['goal_met'] else 'NOT MET'}"
        )
    if "fanout" in summary:
        f = summary["fanout"]
        low, high = f["latency_ms"]
        d = f["all"]
        print(
            f"\n3. Fan-out: {args.viewers:,} viewers over 2 replicas (connected in "
            f"{f['connect_s']:.1f} s), {f['batch_items']:,} items, concurrency "
            f"{f['concurrency']}, latency {low}-{high} ms, 1 worker: "
            f"{d['event_rate_per_s']:.1f} events/s"
        )
        rows = []
        for name, key in (("both", "all"), ("replica A", "replica_a"), ("replica B", "replica_b")):
            x = f[key]
            util = f.get(f"{key}_cpu_util")
            rows.append(
                [
                    name,
                    f"{x['complete']:,}/{x['viewers']:,}",
                    f"{x['events_expected']:,} / {x['events_min_received']:,}",
                    x["delay_p50_ms"],
                    x["delay_p99_ms"],
                    x["delay_max_ms"],
                    "-" if util is None else f"{util:.0%}",
                ]
            )
        print(
            table(
                [
                    "viewers",
                    "complete",
                    "events expected / min received",
                    "delay p50 ms",
                    "p99 ms",
                    "max ms",
                    "replica CPU",
                ],
                rows,
            )
        )
        every = d["complete"] == args.viewers
        print(
            f"   every viewer got every event: {'YES' if every else 'NO'}"
            + (f" (errors: {d['errors']})" if d["errors"] else "")
            + f"; bench loop lag p99 {f['bench_loop_lag_p99_ms']:.1f} ms"
        )


if __name__ == "__main__":
    main()
