"""A server killed with SIGKILL mid-batch resumes the batch on restart, counting nothing twice."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from conftest import all_items, batch_body, read_stream, replay, wait_finished

BATCHES = "/api/generation/batch"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(database: Path, port: int) -> subprocess.Popen[bytes]:
    log = database.with_suffix(".log")
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bulkgen",
                "serve",
                "--database",
                str(database),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env={**os.environ, "BULKGEN_RETRY_BACKOFF_SECONDS": "0.01"},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    process.wait()
    raise AssertionError(f"server did not start: {log.read_text()}")


def test_sigkill_mid_batch_then_restart_finishes_with_every_item_once(tmp_path: Path) -> None:
    database = tmp_path / "restart.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(database, port)
    try:
        with httpx.Client(base_url=url, timeout=20) as http:
            batch = http.post(
                BATCHES,
                json=batch_body(
                    count=120,
                    concurrency=6,
                    generator_options={
                        "latency_ms": [20, 80],
                        "invalid_rate": 0.15,
                        "fail_rate": 0.1,
                    },
                ),
            ).json()
            before = read_stream(url, batch["id"], after=0, stop_after=70)
            mid = http.get(f"{BATCHES}/{batch['id']}").json()
            assert mid["status"] == "running"
            assert mid["progress"]["in_progress"] > 0
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)

    server = start(database, port)
    try:
        with httpx.Client(base_url=url, timeout=20) as http:
            after = read_stream(url, batch["id"], last_event_id=before.last_id)
            assert after.ended
            final = wait_finished(http, batch["id"])
            progress = final["progress"]
            assert final["status"] == "completed"
            assert progress["completed"] + progress["failed"] == 120
            assert progress["pending"] == progress["in_progress"] == 0
            items = all_items(http, batch["id"])
            statuses = Counter(i["status"] for i in items)
            assert statuses["completed"] == progress["completed"]
            assert statuses["failed"] == progress["failed"]
            # the log has contiguous ids, and a client that resumed across the crash agrees
            log = read_stream(url, batch["id"], after=0)
            assert [f.id for f in log.durable] == list(range(1, final["last_event_id"] + 1))
            assert replay(before.frames + after.frames) == {i["index"]: i["status"] for i in items}
            # items interrupted by the crash went back to pending, then ran to the end once
            requeued = [f.data["index"] for f in log.frames if f.event == "item.requeued"]
            assert requeued, "the kill interrupted items in flight"
            finishes = Counter(
                f.data["index"] for f in log.frames if f.event in ("item.completed", "item.failed")
            )
            assert set(finishes) == set(range(120)) and set(finishes.values()) == {1}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
