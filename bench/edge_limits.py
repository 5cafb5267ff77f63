"""The edge under a flood and the store through a full disk: what one process holds, what
it answers past that, and how fast it is back.

1. **A flood of viewers.** ``bulkgen serve`` runs with the common open-file limit of 1,024
   (set on the child, as ``ulimit -n 1024`` would); ``--viewers`` SSE connections (1,000 by
   default) open on one running batch. Printed: streams held (200) and refused (503 with
   ``Retry-After``), and, while they are all open, the answers to ``/health``, a create and
   a read, with their times. Before the stream caps this setting hung the whole server at
   about 950 streams.
2. **A full disk.** In this process: a 2,000-item demo batch runs on SQLite; its writer
   connection is capped (``PRAGMA max_page_count``: SQLite then answers ``SQLITE_FULL``, as
   on a full disk) until the event log reports the fault; then the cap is lifted. Printed:
   how long until the fault was seen, how long from the disk having room to the writes
   going in again and to ``/ready``-equivalent health, and that every item finished once.

    .venv/bin/python bench/edge_limits.py [--viewers 1000] [--open-files 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx

from _common import (
    HOST,
    emit_json,
    free_port,
    machine,
    raise_fd_limit,
    serve_command,
    stop_server,
    table,
    wait_healthy,
)

BATCHES = "/api/generation/batch"


# -- 1. a flood of viewers ------------------------------------------------------------------


async def open_stream(port: int, path: str) -> tuple[int, asyncio.StreamWriter | None]:
    """Open one SSE stream; its status, and the open connection when it was admitted."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode())
    await writer.drain()
    line = await reader.readline()
    status = int(line.split()[1])
    if status == 200:
        return status, writer
    writer.close()
    return status, None


async def flood(port: int, batch_id: str, viewers: int) -> dict[str, Any]:
    path = f"{BATCHES}/{batch_id}/progress"
    opened: list[asyncio.StreamWriter] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    for first in range(0, viewers, 100):  # in waves, as browsers arrive
        results = await asyncio.gather(
            *(open_stream(port, path) for _ in range(min(100, viewers - first)))
        )
        for status, writer in results:
            statuses[status] = statuses.get(status, 0) + 1
            if writer is not None:
                opened.append(writer)
    accepted_in = time.perf_counter() - started
    answers: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as http:
        for name, call in (
            ("health", lambda: http.get("/health")),
            ("create", lambda: http.post(BATCHES, json={"topic": "Optics", "count": 1})),
            ("read", lambda: http.get(f"{BATCHES}/{batch_id}")),
        ):
            began = time.perf_counter()
            response = await call()
            answers[name] = (response.status_code, time.perf_counter() - began)
    for writer in opened:
        writer.close()
    return {
        "held": statuses.get(200, 0),
        "refused_503": statuses.get(503, 0),
        "other": {k: v for k, v in statuses.items() if k not in (200, 503)},
        "open_seconds": accepted_in,
        "answers": answers,
    }


def viewers_part(viewers: int, open_files: int) -> dict[str, Any]:
    raise_fd_limit(viewers + 512)  # this process holds one socket per viewer
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        server = __import__("_common").spawn_server(
            serve_command(Path(folder) / "edge.db", port),
            log,
            env={"BULKGEN_REQUIRE_SIGN_IN": "false"},
        )
        # The child's limit, as `ulimit -n` would set it; the server raises its soft limit
        # to the hard one at start, which is this same number.
        resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (open_files, open_files))
        try:
            with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as http:
                wait_healthy(http, server, log)
                body = {"topic": "Optics", "count": 5,
                        "generator_options": {"latency_ms": [60_000, 60_000]}}  # fmt: skip
                batch = http.post(BATCHES, json=body).json()
            return asyncio.run(flood(port, batch["id"], viewers))
        finally:
            stop_server(server)


# -- 2. a full disk ---------------------------------------------------------------------------


async def disk_part(count: int) -> dict[str, Any]:
    from bulkgen.models import BatchConfig, DemoOptions
    from bulkgen.services import Services
    from bulkgen.settings import Settings

    logging.getLogger("bulkgen").setLevel(logging.CRITICAL)  # the fault's own log lines
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database=Path(folder) / "disk.db", require_sign_in=False)
        services = await Services.start(settings)
        store: Any = services.store
        try:

            async def pragma(statement: str) -> None:
                async with store._write.connect() as conn:
                    await conn.run_sync(
                        lambda sync: sync.connection.dbapi_connection.cursor().execute(statement)
                    )

            config = BatchConfig(
                topic="Optics", count=count, concurrency=8,
                generator_options=DemoOptions(latency_ms=(2, 5), seed=3),
            )  # fmt: skip
            batch = await services.create_batch(settings.local_user, config)
            full_at = time.perf_counter()
            await pragma("PRAGMA max_page_count = 1")
            while services.log.fault is None:
                await asyncio.sleep(0.005)
            seen = time.perf_counter() - full_at
            reason = services.log.fault.reason
            held = services.log.fault
            await asyncio.sleep(2.0)  # the disk stays full a while; items wait in memory
            room_at = time.perf_counter()
            await pragma("PRAGMA max_page_count = 1073741823")
            while services.log.fault is not None:
                await asyncio.sleep(0.005)
            recovered = time.perf_counter() - room_at
            while True:
                record = await services.store.get_batch(batch.id, None)
                if record.status.finished:
                    break
                await asyncio.sleep(0.05)
            counts = record.counts
            return {
                "reason": reason,
                "fault_seen_s": seen,
                "recovered_s": recovered,
                "since_recorded": held.since > 0,
                "finished": counts.completed + counts.failed,
                "total": counts.total,
            }
        finally:
            await services.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--open-files", type=int, default=1024)
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()

    flooded = viewers_part(args.viewers, args.open_files)
    print(f"{args.viewers:,} viewers of one batch, server at ulimit -n {args.open_files}")
    rows = [
        ["streams held (200)", f"{flooded['held']:,}"],
        ["streams refused (503 + Retry-After)", f"{flooded['refused_503']:,}"],
        ["other answers", str(flooded["other"] or "none")],
        ["time to answer them all", f"{flooded['open_seconds']:.2f} s"],
    ]
    for name, (status, seconds) in flooded["answers"].items():
        rows.append([f"{name} while flooded", f"{status} in {seconds * 1000:.0f} ms"])
    print(table(["", "figure"], rows))

    disk = asyncio.run(disk_part(args.count))
    print(f"\nfull disk (SQLITE_FULL) during a {args.count:,}-item batch")
    print(
        table(
            ["", "figure"],
            [
                ["fault reported as", disk["reason"]],
                ["fault seen after", f"{disk['fault_seen_s'] * 1000:.0f} ms"],
                ["writes back after the disk had room", f"{disk['recovered_s'] * 1000:.0f} ms"],
                ["items finished, of total", f"{disk['finished']:,} of {disk['total']:,}"],
            ],
        )
    )
    emit_json({"bench": "edge_limits", "flood": flooded, "disk": disk, "machine": machine()})
    os._exit(0)


if __name__ == "__main__":
    main()
