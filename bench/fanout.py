"""SSE fan-out: one batch, many concurrent viewers on one server process.

The server runs as a subprocess (``python -m bulkgen serve``, uvicorn, its own SQLite file
in a temp dir, loopback only). Viewers are non-blocking sockets on one epoll loop in this
process (or spread over ``--workers`` processes; no task or stream object per read, so the
load generator's own backlog adds little to the delays): a minimal HTTP/1.1 GET, a
chunked-transfer decoder and a minimal SSE parser that keeps, per viewer, the id and
arrival time (``time.time()``, stamped when the bytes were read) of every durable event;
``batch.progress`` frames and comments are skipped.

Sequence:

1. Start the server with ``BULKGEN_GLOBAL_CONCURRENCY = c`` (the measured batch's
   concurrency); wait for ``/health``.
2. Calibration batch (no viewers, ~``--calibrate`` s): measures the per-item overhead on
   top of the demo latency so the measured batch runs at ``--rate`` durable events/s, and
   the server CPU the pipeline alone costs per item (subtracted for the *net* figure).
3. Server RSS with no viewers.
4. A *blocker* batch takes every global slot (c items, latency 60 s) so the measured batch,
   created next, is ``running`` but emits nothing yet: its log is empty (last id 0).
5. ``--viewers`` connections to ``/api/generation/batch/{id}/progress?after=0``; once all
   have their ``200`` response head and a second has passed: server RSS again
   (viewers connected and idle). KiB/connection = (RSS idle − RSS before) / viewers.
6. Cancel the blocker: the measured batch starts. Server CPU (utime+stime from
   /proc/PID/stat) is taken here and when every stream has ended after
   ``batch.complete``.
7. Each event's ``created_at`` is read from the server's ``events`` table. Note it is the
   writer's clock when the group-commit transaction began (``apply(changes, now)``), so the
   delay includes the commit itself. delay = arrival − created_at over every
   (viewer, durable event) pair.

Checks: every viewer got every durable event (ids 1..last) exactly once, in order;
p99 delay < 250 ms at 100 events/s.

    .venv/bin/python bench/fanout.py [--viewers 1000] [--rate 100] [--duration 25] [--workers 1]
        [--trace] [--gc-threshold A,B,C] [--loop asyncio|uvloop]   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import math
import multiprocessing as mp
import os
import select
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx

from _common import (
    HOST,
    PYTHON,
    cpu_seconds,
    emit_json,
    free_port,
    machine,
    percentile,
    raise_fd_limit,
    rss_kib,
    serve_command,
    spawn_server,
    stop_server,
    table,
    wait_batch,
    wait_healthy,
)

GOAL_P99_MS = 250.0
BLOCKER_LATENCY_MS = 60_000


# -- the viewer side (runs in worker processes or in-process) ------------------------------


class ViewerResult:
    __slots__ = ("bytes", "complete", "connected_at", "error", "ids", "status", "times")

    def __init__(self) -> None:
        self.status = 0
        self.ids = array("q")
        self.times = array("d")
        self.error: str | None = None
        self.complete = False
        self.connected_at = 0.0
        self.bytes = 0

    def __reduce__(self) -> Any:
        return (
            _viewer_result,
            (
                self.status,
                self.ids,
                self.times,
                self.error,
                self.complete,
                self.connected_at,
                self.bytes,
            ),
        )


def _viewer_result(*state: Any) -> ViewerResult:
    result = ViewerResult()
    (
        result.status,
        result.ids,
        result.times,
        result.error,
        result.complete,
        result.connected_at,
        result.bytes,
    ) = state
    return result


class Decoder:
    """One viewer's response body: chunked transfer decoding and SSE frames, keeping the
    id and arrival time of every durable event (``batch.progress`` and comments skipped)."""

    __slots__ = ("chunked", "ended", "raw", "result", "sse")

    def __init__(self, result: ViewerResult, chunked: bool) -> None:
        self.result = result
        self.chunked = chunked
        self.raw = b""  # undecoded transfer bytes
        self.sse = b""  # decoded SSE bytes not yet split into frames
        self.ended = False

    def feed(self, data: bytes, now: float) -> bool:
        """Take bytes read at ``now``; True once the stream is over."""
        result = self.result
        result.bytes += len(data)
        if self.chunked:
            raw = self.raw + data
            pieces = []
            pos = 0
            while True:
                eol = raw.find(b"\r\n", pos)
                if eol < 0:
                    break
                size = int(raw[pos:eol].split(b";", 1)[0], 16)
                if size == 0:
                    self.ended = True
                    pos = eol + 2
                    break
                end = eol + 2 + size
                if len(raw) < end + 2:
                    break
                pieces.append(raw[eol + 2 : end])
                pos = end + 2
            self.raw = raw[pos:]
            sse = self.sse + b"".join(pieces)
        else:
            sse = self.sse + data
        if b"\r" in sse:  # a peer that ends lines with CRLF (sse-starlette)
            sse = sse.replace(b"\r\n", b"\n")
        if b"\n\n" not in sse:
            self.sse = sse
            return self.ended
        frames = sse.split(b"\n\n")
        self.sse = frames.pop()
        ids, times = result.ids, result.times
        for frame in frames:
            event_id = name = None
            for line in frame.split(b"\n"):  # retry:, comments and data are skipped
                if line.startswith(b"id: "):
                    event_id = line[4:]
                elif line.startswith(b"event: "):
                    name = line[7:]
            if event_id is None or name == b"batch.progress":
                continue
            if not event_id.isdigit():
                # A peer with ids of its own (Nchan's "time:tag"): the sequence number
                # is the data's first field, {"seq":N,...}.
                start = frame.index(b'"seq":') + 6
                event_id = frame[start : frame.index(b",", start)]
            ids.append(int(event_id))
            times.append(now)
            if name == b"batch.complete":
                result.complete = True
                self.ended = True  # peers keep the stream open; bulkgen ends it too
        return self.ended


def request_head(port: int, path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    ).encode()


async def _viewer(
    port: int,
    path: str,
    result: ViewerResult,
    gate: asyncio.Semaphore,
    connected: asyncio.Event,
    counter: list[int],
    total: int,
) -> None:
    """One SSE viewer on asyncio streams (scale_out.py's viewers of several replicas)."""
    writer = None
    try:
        try:
            async with gate:
                reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(request_head(port, path))
                head = await reader.readuntil(b"\r\n\r\n")
                result.status = int(head.split(b" ", 2)[1])
                result.connected_at = time.time()
        finally:
            counter[0] += 1  # connected or failed: either way this viewer is settled
            if counter[0] == total:
                connected.set()
        if result.status != 200:
            result.error = f"HTTP {result.status}"
            return
        decoder = Decoder(result, b"transfer-encoding: chunked" in head.lower())
        while True:
            data = await reader.read(262144)
            if not data or decoder.feed(data, time.time()):
                break
    except Exception as error:
        result.error = f"{type(error).__name__}: {error}"
    finally:
        if writer is not None:
            writer.close()


_CONNECTING, _HEAD, _BODY = 0, 1, 2


class _Connection:
    __slots__ = ("decoder", "head", "result", "sock", "state")

    def __init__(self, sock: socket.socket, result: ViewerResult) -> None:
        self.sock = sock
        self.result = result
        self.state = _CONNECTING
        self.head = b""
        self.decoder: Decoder | None = None


def _viewers(port: int, path: str, count: int, control: Any, timeout: float) -> dict[str, Any]:
    """``count`` viewers on one epoll loop of non-blocking sockets: no task, future or
    stream object per read, so the load generator spends little CPU per delivery and the
    delays are the server's, not the generator's own backlog (100 connects in flight)."""
    results = [ViewerResult() for _ in range(count)]
    request = request_head(port, path)
    poller = select.epoll()
    open_: dict[int, _Connection] = {}
    started = settled = 0
    # One buffer for every read (a fresh 256 KiB bytes object per recv costs more than
    # the read itself).
    buffer = memoryview(bytearray(262144))
    cpu0 = time.process_time()

    def close(conn: _Connection) -> None:
        fd = conn.sock.fileno()
        poller.unregister(fd)
        del open_[fd]
        conn.sock.close()

    def fail(conn: _Connection, error: str) -> None:
        nonlocal settled
        if conn.result.error is None:
            conn.result.error = error
        if conn.state != _BODY:
            settled += 1
        close(conn)

    def serve(events: list[tuple[int, int]], now: float) -> None:
        nonlocal settled
        for fd, mask in events:
            conn = open_.get(fd)
            if conn is None:
                continue
            try:
                if conn.state == _CONNECTING:
                    if mask & (select.EPOLLERR | select.EPOLLHUP):
                        fail(conn, "ConnectionRefusedError: connect failed")
                        continue
                    conn.sock.send(request)
                    conn.state = _HEAD
                    poller.modify(fd, select.EPOLLIN)
                    continue
                data = buffer[: conn.sock.recv_into(buffer)].tobytes()
                if not data:
                    if conn.state == _BODY:
                        close(conn)  # ended before batch.complete: reported below
                    else:
                        fail(conn, "the server closed the connection")
                    continue
                if conn.state == _HEAD:
                    conn.head += data
                    if b"\r\n\r\n" not in conn.head:
                        continue
                    head, data = conn.head.split(b"\r\n\r\n", 1)
                    conn.result.status = int(head.split(b" ", 2)[1])
                    conn.result.connected_at = now
                    settled += 1
                    conn.state = _BODY
                    if conn.result.status != 200:
                        conn.result.error = f"HTTP {conn.result.status}"
                        close(conn)
                        continue
                    conn.decoder = Decoder(
                        conn.result, b"transfer-encoding: chunked" in head.lower()
                    )
                    if not data:
                        continue
                assert conn.decoder is not None
                if conn.decoder.feed(data, now):
                    close(conn)
            except OSError as error:
                fail(conn, f"{type(error).__name__}: {error}")

    deadline = time.monotonic() + 60
    while settled < count and time.monotonic() < deadline:
        while started < count and started - settled < 100:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex((HOST, port))
            open_[sock.fileno()] = _Connection(sock, results[started])
            poller.register(sock.fileno(), select.EPOLLOUT)
            started += 1
        serve(poller.poll(0.05), time.time())
    ok = sum(1 for r in results if r.status == 200)
    control.send(("connected", ok, time.time()))
    cpu_connect = time.process_time() - cpu0
    while not control.poll(0):  # the go-ahead: the measured batch starts
        serve(poller.poll(0.01), time.time())
    control.recv()
    cpu1 = time.process_time()
    wall1 = time.time()
    lags = array("d")
    end = time.monotonic() + timeout
    while open_ and time.monotonic() < end:
        events = poller.poll(0.005)
        returned = time.perf_counter()
        serve(events, time.time())
        # How long bytes that arrived meanwhile wait to be read: this loop's own share
        # of the delay (what a timer's lateness is for an event loop).
        lags.append(time.perf_counter() - returned)
    for conn in list(open_.values()):
        close(conn)
    poller.close()
    for r in results:
        if r.error is None and not r.complete and r.status == 200:
            r.error = "timed out before batch.complete"
    return {
        "results": results,
        "cpu_connect_s": cpu_connect,
        "cpu_run_s": time.process_time() - cpu1,
        "wall_run_s": time.time() - wall1,
        "loop_lags": lags,
    }


async def _loop_lag(lags: array[float]) -> None:
    """How late this process's event loop wakes a 5 ms sleep (its own share of the delay)."""
    while True:
        start = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append(time.perf_counter() - start - 0.005)


def worker_main(port: int, path: str, count: int, control: Any, timeout: float) -> None:
    raise_fd_limit(count * 2 + 256)
    out = _viewers(port, path, count, control, timeout)
    control.send(("done", out))
    control.close()


# -- the conductor -------------------------------------------------------------------------


# The server is ``bulkgen serve`` as shipped unless an option below needs a launcher; the
# launcher runs the very same ``bulkgen.http.server.serve(Settings(...))`` with, on top:
#
# * ``--loop uvloop``: under uvloop (``bulkgen serve`` does ``asyncio.run(serve(...))``, so
#   uvicorn runs on the stdlib loop even though uvloop is installed) - for comparison;
# * ``--gc-threshold A,B,C``: ``gc.set_threshold(A, B, C)`` first - an experiment on the
#   collector's share of the delay tail;
# * ``--trace``: probes patched in in the server process (nothing under src/ changes): the
#   wall time of every ``SQLStore.apply`` (its ``now`` argument is the events'
#   ``created_at``), every ``BatchFeed._notify`` (with the feed's ``high``), the event loop's
#   lag (a 5 ms sleep, how late it wakes) and every GC pause, written as JSON at exit. It
#   splits each event's delay into commit, feed pick-up and fan-out.
_PROBES = """
applies, notifies, lags, pauses, gc_start = [], [], [], [], [0.0]
_apply, _notify = SQLStore.apply, BatchFeed._notify
async def apply(self, changes, now):
    result = await _apply(self, changes, now)
    applies.append((now, time.time(), len(changes)))
    return result
def notify(self):
    notifies.append((time.time(), self.high))
    _notify(self)
def on_gc(phase, info):
    if phase == "start":
        gc_start[0] = time.perf_counter()
    else:
        pauses.append((time.time(), time.perf_counter() - gc_start[0], info["generation"]))
async def lag_probe():
    while True:
        start = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append((time.time(), time.perf_counter() - start - 0.005))
SQLStore.apply, BatchFeed._notify = apply, notify
gc.callbacks.append(on_gc)
def dump():
    with open(TRACE, "w") as out:
        json.dump({"applies": applies, "notifies": notifies, "lags": lags, "gc": pauses}, out)
atexit.register(dump)
"""

_LAUNCHER = """
import asyncio, atexit, gc, json, sys, time
from bulkgen.live.feed import BatchFeed
from bulkgen.http.server import serve
from bulkgen.settings import Settings
from bulkgen.log.sql import SQLStore
DB, PORT, TRACE, LOOP, GC = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
if GC:
    gc.set_threshold(*(int(n) for n in GC.split(",")))
if TRACE:
    exec(PROBES)
async def main():
    probe = asyncio.create_task(lag_probe()) if TRACE else None
    await serve(Settings(database=DB, port=PORT, log_level="warning"))
    if probe is not None:
        probe.cancel()
if LOOP == "uvloop":
    import uvloop
    uvloop.run(main())
else:
    asyncio.run(main())
"""


def start_server(
    db: Path,
    port: int,
    concurrency: int,
    log: Path,
    *,
    loop: str = "asyncio",
    trace: Path | None = None,
    gc_threshold: str = "",
    max_streams: int = 1000,
) -> subprocess.Popen[bytes]:
    if trace is not None or loop != "asyncio" or gc_threshold:
        code = f"PROBES = {_PROBES!r}\n{_LAUNCHER}"
        command = [PYTHON, "-c", code, str(db), str(port), str(trace or ""), loop, gc_threshold]
    else:
        command = serve_command(db, port)
    env = {
        "BULKGEN_GLOBAL_CONCURRENCY": str(concurrency),
        # One user (the bench) holds every stream: lift the per-user cap above --viewers.
        "BULKGEN_MAX_STREAMS_PER_USER": str(max_streams),
    }
    return spawn_server(command, log, env)


def create(
    client: httpx.Client,
    count: int,
    concurrency: int,
    latency_ms: int,
    title: str,
    jitter: float = 0.0,
) -> str:
    low, high = round(latency_ms * (1 - jitter)), round(latency_ms * (1 + jitter))
    response = client.post(
        "/api/generation/batch",
        json={
            "topic": "Cardiac physiology",
            "count": count,
            "concurrency": concurrency,
            "title": title,
            "generator_options": {"seed": 1, "latency_ms": [low, high]},
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


def receive(pipe: Any, timeout: float) -> Any:
    """The next message from a viewer process; an error if it died or went silent."""
    if not pipe.poll(timeout):
        raise RuntimeError(f"a viewer process sent nothing for {timeout:.0f} s")
    return pipe.recv()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="durable events/s of the batch")
    parser.add_argument("--duration", type=float, default=25.0, help="seconds the batch runs")
    parser.add_argument("--workers", type=int, default=1, help="viewer processes")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="batch concurrency (default: rate/2 items/s x 0.32 s, max 64)",
    )
    parser.add_argument(
        "--jitter",
        type=float,
        default=0.5,
        help="demo latency is uniform in mean x [1-j, 1+j] (0: fixed)",
    )
    parser.add_argument(
        "--loop",
        choices=["asyncio", "uvloop"],
        default="asyncio",
        help="server event loop: asyncio = `bulkgen serve` as shipped",
    )
    parser.add_argument(
        "--gc-threshold",
        default="",
        help="experiment: gc.set_threshold(A,B,C) in the server first, e.g. 20000,50,100",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="probe the server: split the delay into commit, feed, fan-out",
    )
    parser.add_argument("--calibrate", type=float, default=4.0, help="seconds of calibration batch")
    args = parser.parse_args()

    limit = raise_fd_limit(args.viewers * 2 + 1024)
    items_per_s = args.rate / 2  # item.started + item.completed per item
    # A worker period of ~320 ms: with 1,000 viewers the server's event loop lags by tens
    # of ms per hop, which throttles a concurrency-2 batch with 40 ms latency to ~2/3 of its
    # rate; a longer period per worker keeps the rate near --rate under load.
    concurrency = args.concurrency or max(1, min(64, math.ceil(items_per_s * 0.32)))
    period_ms = 1000.0 * concurrency / items_per_s  # per item and worker
    count = max(1, min(10_000, round(items_per_s * args.duration)))

    tmp = tempfile.TemporaryDirectory(prefix="bulkgen-bench-")
    db = Path(tmp.name) / "fanout.db"
    log = Path(tmp.name) / "server.log"
    port = free_port()
    trace = Path(tmp.name) / "trace.json" if args.trace else None
    server = start_server(
        db,
        port,
        concurrency,
        log,
        loop=args.loop,
        trace=trace,
        gc_threshold=args.gc_threshold,
        max_streams=max(1000, args.viewers + 16),
    )
    procs: list[Any] = []
    try:
        client = httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30)
        wait_healthy(client, server, log)
        pid = server.pid

        # Warm-up (first-use costs: statement compilation, schema building, imports),
        # then calibration: per-item overhead beyond the demo latency, pipeline-only CPU.
        warm_id = create(client, 50, concurrency, 0, "warm-up")
        wait_batch(client, warm_id, lambda b: b["status"] == "completed", 60)
        cal_count = max(concurrency, round(items_per_s * args.calibrate))
        cal_latency = max(0, round(period_ms))
        cpu_a = cpu_seconds(pid)
        cal_id = create(client, cal_count, concurrency, cal_latency, "calibration", args.jitter)
        # Polled slowly: the poll's own CPU would be charged to the pipeline.
        cal = wait_batch(client, cal_id, lambda b: b["status"] == "completed", 60, every=0.5)
        cpu_b = cpu_seconds(pid)
        cal_elapsed = cal["progress"]["elapsed_seconds"]
        cal_rate = cal_count / cal_elapsed
        overhead_ms = max(0.0, 1000.0 * concurrency / cal_rate - cal_latency)
        latency_ms = max(0, round(period_ms - overhead_ms))
        pipeline_cpu_per_item = (cpu_b - cpu_a) / cal_count

        time.sleep(0.5)
        rss_before = rss_kib(pid)

        blocker = create(client, concurrency, concurrency, BLOCKER_LATENCY_MS, "blocker")
        wait_batch(client, blocker, lambda b: b["progress"]["in_progress"] == concurrency, 10)
        batch_id = create(client, count, concurrency, latency_ms, "fanout", args.jitter)
        assert client.get(f"/api/generation/batch/{batch_id}").json()["last_event_id"] == 0

        path = f"/api/generation/batch/{batch_id}/progress?after=0"
        ctx = mp.get_context("spawn")
        share = [
            args.viewers // args.workers + (1 if w < args.viewers % args.workers else 0)
            for w in range(args.workers)
        ]
        timeout = args.duration * 4 + 60
        pipes = []
        t_connect0 = time.time()
        for n in share:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(port, path, n, child, timeout))
            proc.start()
            procs.append(proc)
            child.close()  # so a worker that dies shows up as EOFError, not a hang
            pipes.append(parent)
        connected = 0
        for pipe in pipes:
            kind, ok, _at = receive(pipe, 120)
            assert kind == "connected"
            connected += ok
        t_connected = time.time()
        time.sleep(1.0)
        rss_idle = rss_kib(pid)
        fds = len(os.listdir(f"/proc/{pid}/fd"))

        cpu0 = cpu_seconds(pid)
        t0 = time.time()
        client.post(f"/api/generation/batch/{blocker}/cancel").raise_for_status()
        for pipe in pipes:
            pipe.send("go")
        outs = [receive(pipe, timeout + 30)[1] for pipe in pipes]
        t1 = time.time()
        cpu1 = cpu_seconds(pid)
        for proc in procs:
            proc.join(10)
        final = wait_batch(client, batch_id, lambda b: b["status"] == "completed", 30)
        client.close()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        stop_server(server)

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        created = dict(
            conn.execute("SELECT seq, created_at FROM events WHERE batch_id = ?", (batch_id,))
        )
        # The mean size of an event's data: the peers in fanout_peers.py publish this much.
        (data_bytes,) = conn.execute(
            "SELECT avg(length(data)) FROM events WHERE batch_id = ?", (batch_id,)
        ).fetchone()
    traced = None
    if trace is not None and trace.exists():
        traced = json.loads(trace.read_text())
    tmp.cleanup()
    last = max(created)
    expected = array("q", range(1, last + 1))

    results: list[ViewerResult] = [r for out in outs for r in out["results"]]
    errors: dict[str, int] = {}
    exact = 0
    delays: list[float] = []
    for r in results:
        if r.error:
            errors[r.error] = errors.get(r.error, 0) + 1
        if r.ids == expected:
            exact += 1
        created_of = created.get
        delays.extend(t - created_of(i, math.nan) for i, t in zip(r.ids, r.times, strict=True))
    deliveries = len(delays)
    # Per event: the first viewer's delay (commit -> feed -> first socket) and the spread
    # between the first and the last viewer (the fan-out itself, server writes and
    # this process's reads).
    first_at = [math.inf] * (last + 1)
    last_at = [-math.inf] * (last + 1)
    for r in results:
        for i, t in zip(r.ids, r.times, strict=True):
            if t < first_at[i]:
                first_at[i] = t
            if t > last_at[i]:
                last_at[i] = t
    seen = [i for i in range(1, last + 1) if first_at[i] != math.inf]
    first_ms = sorted((first_at[i] - created[i]) * 1000 for i in seen)
    split: dict[str, float] = {}
    if traced is not None:
        committed = {now: end for now, end, _n in traced["applies"]}
        notifies = sorted(traced["notifies"])
        highs = [high for _t, high in notifies]
        commit_ms, pickup_ms, fan_ms = [], [], []
        for i in seen:
            end = committed.get(created[i])
            k = bisect.bisect_left(highs, i)
            if end is None or k == len(notifies):
                continue
            commit_ms.append((end - created[i]) * 1000)
            pickup_ms.append((notifies[k][0] - end) * 1000)
            fan_ms.append((first_at[i] - notifies[k][0]) * 1000)
        window = [x for x in traced["lags"] if t0 <= x[0] <= t1]
        lag_ms = sorted(lag * 1000 for _t, lag in window)
        pauses = [p for p in traced["gc"] if t0 <= p[0] <= t1]
        split["server_loop_lag_p50_ms"] = percentile(lag_ms, 50)
        split["server_loop_lag_p99_ms"] = percentile(lag_ms, 99)
        split["server_loop_lag_max_ms"] = lag_ms[-1] if lag_ms else math.nan
        split["server_gc_pauses"] = len(pauses)
        split["server_gc_gen2_pauses"] = sum(1 for p in pauses if p[2] == 2)
        split["server_gc_max_ms"] = max((p[1] * 1000 for p in pauses), default=0.0)
        split["server_gc_total_ms"] = sum(p[1] * 1000 for p in pauses)
        for name, values in (
            ("commit", commit_ms),
            ("feed_pickup", pickup_ms),
            ("notify_to_first_viewer", fan_ms),
        ):
            values.sort()
            split[f"{name}_p50_ms"] = percentile(values, 50)
            split[f"{name}_p99_ms"] = percentile(values, 99)
    spread_ms = sorted((last_at[i] - first_at[i]) * 1000 for i in seen)
    delays_ms = sorted(d * 1000 for d in delays if not math.isnan(d))
    first_event = min(created.values())
    last_arrival = max((r.times[-1] for r in results if r.times), default=t1)
    span = last_arrival - first_event
    every = exact == args.viewers and connected == args.viewers
    p50, p99 = percentile(delays_ms, 50), percentile(delays_ms, 99)
    cpu_run = cpu1 - cpu0
    cpu_net = max(0.0, cpu_run - pipeline_cpu_per_item * count)
    event_rate = last / (max(created.values()) - first_event)
    kib_per_conn = (rss_idle - rss_before) / max(connected, 1)
    viewer_cpu = sum(o["cpu_run_s"] for o in outs)
    lags_ms = sorted(x * 1000 for o in outs for x in o["loop_lags"])

    summary = {
        "viewers": args.viewers,
        "connected": connected,
        "workers": args.workers,
        "server_loop": args.loop,
        "server_gc_threshold": args.gc_threshold or "default",
        "every_viewer_every_event": every,
        "viewers_exact": exact,
        "viewer_errors": errors,
        "durable_events": last,
        "event_data_bytes_mean": data_bytes,
        "event_rate_per_s": event_rate,
        "batch_items": count,
        "concurrency": concurrency,
        "latency_ms": latency_ms,
        "deliveries": deliveries,
        "deliveries_per_s": deliveries / span,
        "span_s": span,
        "delay_p50_ms": p50,
        "delay_p99_ms": p99,
        "delay_max_ms": delays_ms[-1] if delays_ms else math.nan,
        "first_viewer_delay_p50_ms": percentile(first_ms, 50),
        "first_viewer_delay_p99_ms": percentile(first_ms, 99),
        "viewer_spread_p50_ms": percentile(spread_ms, 50),
        "viewer_spread_p99_ms": percentile(spread_ms, 99),
        **split,
        "delay_mean_ms": sum(delays_ms) / len(delays_ms) if delays_ms else math.nan,
        "server_cpu_s": cpu_run,
        "server_cpu_util": cpu_run / (t1 - t0),
        "server_cpu_us_per_delivery": cpu_run / deliveries * 1e6 if deliveries else math.nan,
        "server_cpu_us_per_delivery_net": cpu_net / deliveries * 1e6 if deliveries else math.nan,
        "pipeline_cpu_us_per_item": pipeline_cpu_per_item * 1e6,
        "server_rss_before_kib": rss_before,
        "server_rss_idle_kib": rss_idle,
        "kib_per_connection": kib_per_conn,
        "server_fds_with_viewers": fds,
        "connect_all_s": t_connected - t_connect0,
        "viewer_loop_lag_p50_ms": percentile(lags_ms, 50),
        "viewer_loop_lag_p99_ms": percentile(lags_ms, 99),
        "viewer_cpu_util": viewer_cpu / sum(o["wall_run_s"] for o in outs) * args.workers,
        "final_status": final["status"],
        "fd_limit": limit,
        "goal_p99_ms": GOAL_P99_MS,
        "goal_met": every and p99 < GOAL_P99_MS,
    }

    def both(name: str) -> str:
        return f"{summary[name + '_p50_ms']:.1f} / {summary[name + '_p99_ms']:.1f}"

    print(
        f"SSE fan-out: {args.viewers:,} viewers ({args.workers} viewer process"
        f"{'es' if args.workers > 1 else ''}), one batch of {count:,} items, concurrency "
        f"{concurrency}, latency {latency_ms} ms ±{args.jitter:.0%} -> "
        f"{event_rate:.1f} durable events/s for {span:.1f} s ({last:,} events)"
    )
    launcher = [f"loop {args.loop}"] if args.loop != "asyncio" else []
    launcher += [f"gc.set_threshold({args.gc_threshold})"] if args.gc_threshold else []
    launcher += ["probes"] if args.trace else []
    print(
        "server: "
        + ("`bulkgen serve` as shipped" if not launcher else "launcher, " + ", ".join(launcher))
    )
    print(
        table(
            ["figure", "value"],
            [
                [
                    "viewers connected",
                    f"{connected:,}/{args.viewers:,} in {summary['connect_all_s']:.2f} s",
                ],
                ["every viewer got every event once, in order", f"{every} ({exact:,} exact)"],
                ["viewer errors", str(errors) if errors else "none"],
                ["deliveries (viewer x durable event)", deliveries],
                ["deliveries/s", summary["deliveries_per_s"]],
                ["delay p50 ms", p50],
                ["delay p99 ms", p99],
                ["delay max ms", summary["delay_max_ms"]],
                ["first viewer's delay p50 / p99 ms", both("first_viewer_delay")],
                ["first-to-last viewer spread p50 / p99 ms", both("viewer_spread")],
                *(
                    [
                        [f"  {name} p50 / p99 ms", both(name)]
                        for name in ("commit", "feed_pickup", "notify_to_first_viewer")
                    ]
                    if split
                    else []
                ),
                *(
                    [
                        [
                            "  server loop lag p50 / p99 / max ms",
                            f"{both('server_loop_lag')} / {summary['server_loop_lag_max_ms']:.1f}",
                        ],
                        [
                            "  server GC pauses (gen 2) / total ms / max ms",
                            "{server_gc_pauses} ({server_gc_gen2_pauses}) / "
                            "{server_gc_total_ms:.0f} / {server_gc_max_ms:.1f}".format(**summary),
                        ],
                    ]
                    if split
                    else []
                ),
                [
                    "server CPU s over the run (utilisation)",
                    f"{cpu_run:.2f} ({summary['server_cpu_util']:.0%})",
                ],
                ["server CPU us / delivery (gross)", summary["server_cpu_us_per_delivery"]],
                [
                    "server CPU us / delivery (net of pipeline)",
                    summary["server_cpu_us_per_delivery_net"],
                ],
                ["pipeline-only CPU us / item (calibration)", summary["pipeline_cpu_us_per_item"]],
                ["server RSS before / idle viewers (KiB)", f"{rss_before:,} / {rss_idle:,}"],
                ["server KiB / connection", kib_per_conn],
                ["viewer process CPU utilisation", f"{summary['viewer_cpu_util']:.0%}"],
                ["viewer process loop lag p50 / p99 ms", both("viewer_loop_lag")],
            ],
        )
    )
    print(
        f"goal: every viewer every event and p99 < {GOAL_P99_MS:.0f} ms: "
        f"{'MET' if summary['goal_met'] else 'NOT MET'}"
    )
    emit_json({"bench": "fanout", **summary, "machine": machine()})


if __name__ == "__main__":
    main()
