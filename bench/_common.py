"""Helpers shared by the bench scripts: stats, tables, JSON output, sockets, /proc, and a
``bulkgen serve`` subprocess."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
if not Path(PYTHON).exists():  # run from another interpreter: use the current one
    PYTHON = sys.executable
HOST = "127.0.0.1"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            if math.isnan(value):
                return "-"
            if abs(value) >= 100:
                return f"{value:,.0f}"
            if abs(value) >= 1:
                return f"{value:.2f}"
            return f"{value:.4f}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    text = [[cell(h) for h in headers]] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in text) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(text):
        lines.append(
            "  ".join(c.rjust(w) if n else c.ljust(w) for c, w in zip(row, widths, strict=True))
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What ran the bench; a load average well above 0 means others shared the cores."""
    return {
        "cpus": os.cpu_count(),
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def emit_json(payload: dict[str, Any]) -> None:
    """The final single line of JSON every bench prints."""
    print(json.dumps(payload, separators=(",", ":"), default=_plain), flush=True)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards ``wanted``; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            # Root may raise the hard limit as well.
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (from /proc/PID/stat), in seconds."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    # After "pid (comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (from /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


# -- a bulkgen server in a subprocess ------------------------------------------------------


def serve_command(db: Path, port: int) -> list[str]:
    """``bulkgen serve`` as shipped, on its own SQLite file, loopback only."""
    return [PYTHON, "-m", "bulkgen", "serve", "--database", str(db), "--port", str(port),
            "--log-level", "warning"]  # fmt: skip


def spawn_server(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` (see :func:`serve_command`), its output in ``log``.

    Benchmarks run on loopback as one user, so sign-in is off unless ``env`` says
    otherwise (edge_limits measures the server as shipped, it passes its own)."""
    base = {"BULKGEN_HOST": HOST, "BULKGEN_REQUIRE_SIGN_IN": "false"}
    return subprocess.Popen(
        command,
        env={**os.environ, **base, **(env or {})},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_healthy(client: httpx.Client, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become healthy")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Ctrl-C the server (it ends its streams and its runs), kill it if that hangs."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_batch(
    client: httpx.Client, batch_id: str, until: Any, timeout: float, every: float = 0.05
) -> dict[str, Any]:
    """Poll the batch until ``until(batch)`` or ``timeout``; the last batch read."""
    deadline = time.monotonic() + timeout
    while True:
        batch = client.get(f"/api/generation/batch/{batch_id}").json()
        if until(batch) or time.monotonic() > deadline:
            return dict(batch)
        time.sleep(every)


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its children: its own utime + stime, its reaped children's
    (cutime + cstime) and its live children's (e.g. a PostgreSQL postmaster's backends)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    total = sum(int(f) for f in fields[11:15]) / _TICKS
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:  # ppid
            total += sum(int(f) for f in fields[11:15]) / _TICKS
    return total


def wait_log_line(proc: subprocess.Popen[bytes], log: Path, text: str, timeout: float = 60) -> None:
    """Wait until ``text`` appears in ``log`` (the process's output)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text.encode() in log.read_bytes():
            return
        if proc.poll() is not None:
            raise RuntimeError(f"process exited: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"no {text!r} in {log} after {timeout:.0f} s")


# -- a throwaway PostgreSQL server (scripts/postgres) --------------------------------------

POSTGRES_SCRIPT = ROOT / "scripts" / "postgres"


def start_postgres(directory: Path) -> str:
    """``scripts/postgres start DIR``: a fresh server on a Unix socket in ``directory``;
    its SQLAlchemy URL."""
    done = subprocess.run(
        [str(POSTGRES_SCRIPT), "start", str(directory)],
        check=False,
        capture_output=True,
        text=True,
        start_new_session=True,  # a Ctrl-C in the terminal reaches the bench, not pg_ctl
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/postgres start failed: {done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def stop_postgres(directory: Path) -> None:
    """``scripts/postgres stop DIR`` (fast shutdown), if it is running."""
    if (directory / "data" / "postmaster.pid").exists():
        subprocess.run(
            [str(POSTGRES_SCRIPT), "stop", str(directory)],
            check=False,
            capture_output=True,
            start_new_session=True,
        )


def postmaster_pid(directory: Path) -> int:
    """The PostgreSQL server's main process (first line of ``data/postmaster.pid``)."""
    return int((directory / "data" / "postmaster.pid").read_text().split()[0])
