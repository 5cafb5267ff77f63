"""SSE fan-out side by side with peers: bulkgen, sse-starlette, Starlette, nginx + Nchan.

Every server gets the same load generator (``fanout.py``'s viewers: raw asyncio streams
in ``--workers`` processes), the same number of viewers, the same event rate and the same
event size (the mean data size of bulkgen's own events in the same run). Per size
(``--sizes VIEWERS:RATE,...``):

- **bulkgen**: ``fanout.py`` as a subprocess (a real batch; delay = event commit →
  arrival); its CPU per delivery is net of what the pipeline costs alone (calibrated);
- **sse-starlette** and **Starlette** ``StreamingResponse``: ``_peer_apps.py`` under
  ``uvicorn`` with its defaults, a queue per viewer;
- **nginx + Nchan**: Debian's ``nginx`` and ``libnginx-mod-nchan`` (installed by
  ``scripts/nginx install nchan`` when missing), one worker process.

A peer's events are published by this process with ``POST /pub`` at the rate, one
event a request, and its delay is publish → arrival. The figures: CPU µs per delivery
(server process(es) over the run / deliveries), delay p50/p99, KiB per idle connection
(RSS with idle viewers − RSS before, / viewers), time to accept every stream (100
connects in flight per viewer process), every viewer got every event; and bulkgen/peer
ratios.

    .venv/bin/python bench/fanout_peers.py                      # 1,000 and 10,000 viewers, ~5 min
    .venv/bin/python bench/fanout_peers.py --full               # 20 s per run
    .venv/bin/python bench/fanout_peers.py --sizes 1000:100 --servers bulkgen,nchan
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx

from _common import (
    HOST,
    PYTHON,
    ROOT,
    cpu_seconds,
    emit_json,
    free_port,
    machine,
    percentile,
    raise_fd_limit,
    rss_kib,
    spawn_server,
    table,
)
from fanout import ViewerResult, receive, worker_main

PEERS = ("sse-starlette", "starlette", "nchan")
NCHAN_MODULE = Path("/usr/lib/nginx/modules/ngx_nchan_module.so")
VIEWERS_PER_PROCESS = 2500


def viewer_processes(viewers: int) -> int:
    return max(1, math.ceil(viewers / VIEWERS_PER_PROCESS))


# -- bulkgen: fanout.py ---------------------------------------------------------------------


def run_bulkgen(viewers: int, rate: float, duration: float) -> dict[str, Any]:
    command = [
        PYTHON, str(ROOT / "bench" / "fanout.py"), "--viewers", str(viewers), "--rate",
        str(rate), "--duration", str(duration), "--workers", str(viewer_processes(viewers)),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"fanout.py failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    out = json.loads(lines[-1])
    return {
        "server": "bulkgen",
        "viewers": viewers,
        "connected": out["connected"],
        "every": out["every_viewer_every_event"],
        "events": out["durable_events"],
        "event_rate": out["event_rate_per_s"],
        "cpu_us": out["server_cpu_us_per_delivery_net"],
        "cpu_us_gross": out["server_cpu_us_per_delivery"],
        "p50_ms": out["delay_p50_ms"],
        "p99_ms": out["delay_p99_ms"],
        "kib": out["kib_per_connection"],
        "accept_s": out["connect_all_s"],
        "data_bytes": out["event_data_bytes_mean"],
    }


# -- peers ----------------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live children (nginx's master and workers)."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            if int(raw[raw.rindex(")") + 2 :].split()[1]) == pid:
                pids.append(int(entry.name))
    return pids


class Peer:
    """A peer server: started, measured (CPU and RSS of its processes), stopped."""

    def __init__(self, name: str, directory: Path, viewers: int) -> None:
        self.name, self.dir, self.viewers = name, directory, viewers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.master = 0

    def start(self) -> None:
        log = self.dir / f"{self.name}.log"
        if self.name == "nchan":
            conf = self.dir / "nginx.conf"
            conf.write_text(nchan_config(self.dir, self.port, self.viewers * 2 + 1024))
            nginx = ["/usr/sbin/nginx", "-p", f"{self.dir}/", "-c", str(conf), "-e", str(log)]
            subprocess.run(nginx, check=True)
            self.master = int((self.dir / "nginx.pid").read_text())
        else:
            app = {"sse-starlette": "sse_starlette_app", "starlette": "starlette_app"}[self.name]
            command = [
                PYTHON, "-m", "uvicorn", "--app-dir", str(ROOT / "bench"), f"_peer_apps:{app}",
                "--host", HOST, "--port", str(self.port), "--log-level", "warning",
                "--no-access-log", "--backlog", "4096",
            ]  # fmt: skip
            self.proc = spawn_server(command, log)
            self.master = self.proc.pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://{HOST}:{self.port}/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start: {log.read_text()[-2000:]}")

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in process_tree(self.master))

    def rss(self) -> int:
        return sum(rss_kib(pid) for pid in process_tree(self.master))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        elif self.master:
            os.kill(self.master, 15)
            deadline = time.monotonic() + 15
            while Path(f"/proc/{self.master}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)


def nchan_config(directory: Path, port: int, files: int) -> str:
    user = "user root;" if os.getuid() == 0 else ""
    return f"""
load_module {NCHAN_MODULE};
{user}
worker_processes 1;
worker_rlimit_nofile {files};
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections {files}; }}
http {{
    access_log off;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{
        listen {HOST}:{port} backlog=4096;
        location = /health {{ return 200 "ok"; }}
        location = /sub {{ nchan_subscriber eventsource; nchan_channel_id bench; }}
        location = /pub {{
            nchan_publisher;
            nchan_channel_id bench;
            nchan_message_buffer_length 64;
        }}
    }}
}}
"""


def nchan_available() -> str | None:
    """None when nginx and Nchan are there (installed now if need be), else why not."""
    if NCHAN_MODULE.exists() and Path("/usr/sbin/nginx").exists():
        return None
    done = subprocess.run(
        [str(ROOT / "scripts" / "nginx"), "install", "nchan"], capture_output=True, text=True
    )
    if done.returncode == 0 and NCHAN_MODULE.exists():
        return None
    return f"could not install nginx + Nchan: {(done.stderr or done.stdout).strip()[-300:]}"


def publish_all(port: int, count: int, rate: float, data_bytes: int) -> dict[int, float]:
    """``count`` events at ``rate`` on a steady schedule; the publish time of each.

    The requests are pipelined on one keep-alive connection (a thread reads the answers),
    so a server busy delivering does not slow the publisher down: it gets the rate, in
    order, whether or not it keeps up (if it does not, its delay grows).
    """
    published: dict[int, float] = {}
    pad = "x" * max(0, data_bytes - 40)
    sock = socket.create_connection((HOST, port))
    answers = [0]

    def read_answers() -> None:
        tail = b""  # a status line's start split between two reads
        while answers[0] < count:
            data = sock.recv(65536)
            if not data:
                return
            seen = tail + data
            answers[0] += seen.count(b"HTTP/1.1 ")
            tail = seen[-8:]

    reader = threading.Thread(target=read_answers, daemon=True)
    reader.start()
    try:
        start = time.time()
        for seq in range(1, count + 1):
            due = start + (seq - 1) / rate
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            event = "batch.complete" if seq == count else "item.completed"
            # {"seq":N,...} first: the viewers read Nchan's events' number from the data.
            data = f'{{"seq":{seq},"pad":"{pad}"}}'.encode()
            head = (
                f"POST /pub HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(data)}\r\n"
                f"X-Seq: {seq}\r\nX-Event: {event}\r\nX-EventSource-Event: {event}\r\n\r\n"
            )
            published[seq] = time.time()
            sock.sendall(head.encode() + data)
        reader.join(60)
    finally:
        sock.close()
    return published


def run_peer(
    name: str, viewers: int, rate: float, duration: float, data_bytes: int, work: Path
) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work))
    directory.chmod(0o755)
    peer = Peer(name, directory, viewers)
    count = max(2, round(rate * duration))
    workers = viewer_processes(viewers)
    share = [viewers // workers + (1 if w < viewers % workers else 0) for w in range(workers)]
    timeout = duration * 4 + 60
    procs: list[Any] = []
    peer.start()
    try:
        time.sleep(0.5)
        rss_before = peer.rss()
        ctx = mp.get_context("spawn")
        pipes = []
        t_connect0 = time.time()
        for n in share:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(peer.port, "/sub", n, child, timeout))
            proc.start()
            procs.append(proc)
            child.close()
            pipes.append(parent)
        connected = 0
        for pipe in pipes:
            kind, ok, _at = receive(pipe, 120)
            assert kind == "connected"
            connected += ok
        accept_s = time.time() - t_connect0
        time.sleep(1.0)
        rss_idle = peer.rss()
        for pipe in pipes:
            pipe.send("go")
        cpu0 = peer.cpu()
        published = publish_all(peer.port, count, rate, data_bytes)
        outs = [receive(pipe, timeout + 30)[1] for pipe in pipes]
        cpu1 = peer.cpu()
        for proc in procs:
            proc.join(10)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        peer.stop()
    results: list[ViewerResult] = [r for out in outs for r in out["results"]]
    expected = array("q", range(1, count + 1))
    exact = sum(1 for r in results if r.ids == expected)
    delays = sorted(
        (t - published[i]) * 1000 for r in results for i, t in zip(r.ids, r.times, strict=True)
    )
    span = max(published.values()) - min(published.values())
    return {
        "server": name,
        "viewers": viewers,
        "connected": connected,
        "every": exact == viewers == connected,
        "events": count,
        "event_rate": (count - 1) / span if span else math.nan,
        "cpu_us": (cpu1 - cpu0) / len(delays) * 1e6 if delays else math.nan,
        "p50_ms": percentile(delays, 50),
        "p99_ms": percentile(delays, 99),
        "kib": (rss_idle - rss_before) / max(connected, 1),
        "accept_s": accept_s,
    }


# -- the table ------------------------------------------------------------------------------


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def report(rows: list[dict[str, Any]]) -> str:
    lines = []
    for viewers in dict.fromkeys(r["viewers"] for r in rows):
        group = [r for r in rows if r["viewers"] == viewers]
        ours = next((r for r in group if r["server"] == "bulkgen"), None)
        rate = group[0]["event_rate"]
        lines.append(f"\n{viewers:,} viewers, ~{rate:.0f} events/s")
        body = []
        for r in group:
            body.append([
                r["server"], f"{r['connected']:,}", "yes" if r["every"] else "NO",
                r["cpu_us"], f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}", r["kib"], r["accept_s"],
            ])  # fmt: skip
        if ours is not None:
            for r in group:
                if r is ours:
                    continue
                body.append([
                    f"bulkgen/{r['server']}", "", "",
                    ratio(ours["cpu_us"], r["cpu_us"]),
                    f"{ratio(ours['p50_ms'], r['p50_ms']):.2f} / "
                    f"{ratio(ours['p99_ms'], r['p99_ms']):.2f}",
                    ratio(ours["kib"], r["kib"]), ratio(ours["accept_s"], r["accept_s"]),
                ])  # fmt: skip
        headers = [
            "server", "connected", "every event", "CPU us/delivery", "delay p50 / p99 ms",
            "KiB/conn", "accept all s",
        ]  # fmt: skip
        lines.append(table(headers, body))
    return "\n".join(lines)


def goals(rows: list[dict[str, Any]], sizes: list[tuple[int, float]]) -> list[str]:
    """Issue 12's fan-out goals, each with its figures and MET / NOT MET."""
    lines = []

    def row(server: str, viewers: int) -> dict[str, Any] | None:
        return next((r for r in rows if r["server"] == server and r["viewers"] == viewers), None)

    def verdict(ok: bool) -> str:
        return "MET" if ok else "NOT MET"

    for viewers, rate in sizes:
        ours, nchan = row("bulkgen", viewers), row("nchan", viewers)
        if ours is None:
            continue
        at = f"{viewers:,} viewers"
        if nchan is not None:
            cpu = ratio(ours["cpu_us"], nchan["cpu_us"])
            lines.append(
                f"{at}: CPU/delivery <= Nchan's: {cpu:.2f}x net "
                f"({ratio(ours['cpu_us_gross'], nchan['cpu_us']):.2f}x gross): {verdict(cpu <= 1)}"
            )
            p99 = ratio(ours["p99_ms"], nchan["p99_ms"])
            lines.append(f"{at}: p99 <= 2x Nchan's: {p99:.2f}x: {verdict(p99 <= 2)}")
        if viewers == 1000:
            lines.append(
                f"{at}: p99 < 100 ms: {ours['p99_ms']:.0f} ms: {verdict(ours['p99_ms'] < 100)}"
            )
            lines.append(
                f"{at}: accepted in ~1 s: {ours['accept_s']:.2f} s: "
                f"{verdict(ours['accept_s'] <= 1.2)}"
            )
        if viewers >= 10000:
            ok = ours["every"] and ours["p99_ms"] < 1000
            lines.append(
                f"{at}: every event delivered ({ours['every']}) and p99 < 1 s "
                f"({ours['p99_ms']:.0f} ms): {verdict(ok)}"
            )
        lines.append(f"{at}: <= 15 KiB per idle connection: {ours['kib']:.1f}: "
                     f"{verdict(ours['kib'] <= 15)}")  # fmt: skip
        slowed = ours["event_rate"] / rate
        lines.append(
            f"{at}: generation not slowed: {ours['event_rate']:.1f} of {rate:g} events/s "
            f"({slowed:.0%}): {verdict(slowed >= 0.97)}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1000:100,10000:10", help="VIEWERS:EVENTS_PER_S,... (one run each)"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of events per run")
    parser.add_argument("--full", action="store_true", help="20 s per run (the issue's length)")
    parser.add_argument("--servers", default="bulkgen," + ",".join(PEERS))
    args = parser.parse_args()
    duration = 20.0 if args.full else args.duration
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    sizes = [(int(v), float(r)) for v, r in (s.split(":") for s in args.sizes.split(","))]
    raise_fd_limit(max(v for v, _r in sizes) * 2 + 2048)
    skipped: dict[str, str] = {}
    if "nchan" in servers:
        why = nchan_available()
        if why is not None:
            skipped["nchan"] = why
            servers.remove("nchan")
            print(f"nginx + Nchan skipped: {why}")
    work = Path(tempfile.mkdtemp(prefix="bulkgen-peers-"))
    work.chmod(0o755)
    rows: list[dict[str, Any]] = []
    data_bytes = 700
    try:
        for viewers, rate in sizes:
            for name in servers:
                print(f"... {name}: {viewers:,} viewers at {rate:g} events/s", flush=True)
                if name == "bulkgen":
                    row = run_bulkgen(viewers, rate, duration)
                    data_bytes = round(row["data_bytes"])
                else:
                    row = run_peer(name, viewers, rate, duration, data_bytes, work)
                rows.append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"\nSSE fan-out side by side: same load generator, event data ~{data_bytes} bytes; "
        "bulkgen's delay is event commit → arrival and its CPU is net of the pipeline's, "
        "a peer's delay is publish → arrival"
    )
    print(report(rows))
    verdicts = goals(rows, sizes)
    if verdicts:
        print("\ngoals (issue 12):\n" + "\n".join(f"- {line}" for line in verdicts))
    info = machine()
    load = info["loadavg_1m_at_end"]
    print(f"\nmachine: {info['cpus']} cores, load average (1 min) at the end {load}")
    emit_json({"bench": "fanout_peers", "rows": rows, "skipped": skipped, "machine": info})


if __name__ == "__main__":
    main()
