"""Storage faults are seen and survived: a full disk, a read-only database and a deleted
database file, while a batch runs in a real server.

SQLite answers ``SQLITE_FULL`` when a write would grow the file past ``max_page_count``
(the error a full disk gives) and ``SQLITE_READONLY`` under ``query_only``: each is set
on the server's writer connection, so the server meets the same errors as on a full or
read-only disk, and clearing it is the disk freeing up.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bulkgen.services import Services

from helpers.api import BATCHES, batch_body, get_batch
from helpers.gate import Gate
from helpers.server import LiveServer, ServerProcess
from helpers.sse import Received, read_stream
from helpers.wait import wait_finished

COUNT = 40


def on_writer(live: LiveServer, *statements: str) -> None:
    """Run ``statements`` on the server's one writer connection (settings that stay on it),
    outside any transaction: under ``query_only`` even a BEGIN IMMEDIATE fails."""

    def pragma(sync: Any) -> None:
        cursor = sync.connection.dbapi_connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()

    async def run() -> None:
        services: Services = live.server.app.state.services
        async with services.store._write.connect() as conn:
            await conn.run_sync(pragma)

    live.call(run())


def fault_shown(reason: str) -> Callable[[Received], bool]:
    def shown(received: Received) -> bool:
        return any(
            frame.data.get("storage_fault") == reason for frame in received.events("batch.progress")
        )

    return shown


def wait_ready(http: httpx.Client, status: int) -> httpx.Response:
    """``/ready`` until it answers ``status``; bounded by attempts (each one a request)."""
    for _ in range(2000):
        response = http.get("/ready")
        if response.status_code == status:
            return response
    raise AssertionError(f"/ready never answered {status}: {response.text}")


def fault_then_recovery(
    make_server: Callable[..., LiveServer], fault: str, clear: str, reason: str
) -> dict[str, Any]:
    """Run a batch into the fault, check every place that shows it, clear it; the batch."""
    gate = Gate(at=0)
    live = make_server(gate=gate)
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch = http.post(BATCHES, json=batch_body(count=COUNT, concurrency=4)).json()
        on_writer(live, *fault)
        gate.open()
        # The batch's viewers are told, with the reason, while the items keep coming.
        received = read_stream(http, batch["id"], until=fault_shown(reason))
        assert received.status == 200

        ready = wait_ready(http, 503)
        assert reason in ready.json()["detail"]
        assert http.get("/health").json()["storage_fault"] == reason
        refused = http.post(BATCHES, json=batch_body(count=1))
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        assert refused.json() == {
            "detail": f"the database cannot be used right now: {reason}; try again later"
        }
        shown = get_batch(http, batch["id"])
        assert shown["status"] == "running"
        assert shown["progress"]["storage_fault"] == reason

        on_writer(live, clear)  # the disk has room again: work resumes by itself
        finished = wait_finished(http, batch["id"])
        assert wait_ready(http, 200).json() == {"status": "ready"}
        assert "storage_fault" not in http.get("/health").json()
        assert http.post(BATCHES, json=batch_body(count=1)).status_code == 201
    return finished


def test_a_full_disk_is_shown_everywhere_and_nothing_is_lost_when_it_clears(
    make_server: Callable[..., LiveServer],
) -> None:
    finished = fault_then_recovery(
        make_server,
        fault=["PRAGMA max_page_count = 1"],  # no page more than the file has
        clear="PRAGMA max_page_count = 1073741823",
        reason="the disk is full",
    )
    progress = finished["progress"]
    assert finished["status"] == "completed"
    assert progress["completed"] + progress["failed"] == COUNT
    assert progress["storage_fault"] is None


def test_a_read_only_database_is_shown_and_survived(
    make_server: Callable[..., LiveServer],
) -> None:
    finished = fault_then_recovery(
        make_server,
        fault=["PRAGMA query_only = 1"],
        clear="PRAGMA query_only = 0",
        reason="the database is read-only",
    )
    assert finished["progress"]["completed"] + finished["progress"]["failed"] == COUNT


def test_a_deleted_database_file_stops_writes_and_a_restart_says_it_is_new(
    tmp_path: Path,
) -> None:
    database = tmp_path / "gone.db"
    server = ServerProcess(database)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            slow = batch_body(count=5, generator_options={"latency_ms": [60_000, 60_000]})
            batch = http.post(BATCHES, json=slow).json()
            for leftover in tmp_path.glob("gone.db*"):
                leftover.unlink()
            # The next write finds the file gone: nothing more is written into it.
            refused = http.post(BATCHES, json=batch_body(count=1))
            assert refused.status_code == 503, refused.text
            reason = f"the database file {database} was deleted; restore it and restart bulkgen"
            assert reason in json.loads(refused.text)["detail"]
            ready = wait_ready(http, 503)
            assert reason in ready.json()["detail"]
            assert get_batch(http, batch["id"])["progress"]["storage_fault"] == reason
    finally:
        server.kill()
    assert not database.exists()

    server = ServerProcess(database)
    server.start()
    server.kill()
    banner = [line for line in server.log if "serving on" in line]
    assert banner and "a new file: no earlier batches" in banner[0], server.log
    assert os.path.exists(database)
