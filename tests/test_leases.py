"""One runner per batch: a second server on the same database never re-runs a batch that a
live one runs, and takes it over once that one is gone.

The store's leases on both databases, then two real servers on one SQLite file: one a
child process (so it can be killed), the other in the test's thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bulkgen.generation.runner import dead_here, runner_id
from bulkgen.log import SQLStore
from bulkgen.models import BatchConfig, BatchStatus
from bulkgen.services import Services

from helpers.api import BATCHES, batch_body, get_batch
from helpers.server import LiveServer, ServerProcess
from helpers.sse import Received, read_stream

CONCURRENCY = 4


@pytest.mark.databases
async def test_a_lease_is_taken_only_when_free_own_or_run_out(database_url: str) -> None:
    store = SQLStore(database_url)
    await store.migrate()
    try:
        record = await store.create_batch("ada", BatchConfig(topic="t", count=3), 1.0)
        assert await store.claim_run(record.id, "first", now=10.0, until=20.0)
        assert not await store.claim_run(record.id, "second", now=15.0, until=25.0)
        assert await store.claim_run(record.id, "first", now=15.0, until=25.0)  # its own
        assert await store.lease_holders(24.0) == ["first"]
        assert await store.claim_run(record.id, "second", now=26.0, until=36.0)  # ran out
        await store.release_lease("first", [record.id])  # not first's any more: no effect
        assert await store.lease_holders(30.0) == ["second"]

        # Recovery skips a batch another live runner holds, and leases the rest.
        await store.mark_running(record.id, 30.0)
        assert await store.recover(30.0, "third", 40.0) == []
        assert await store.recover(37.0, "third", 47.0) == [record.id]
        assert await store.lease_holders(40.0) == ["third"]
        await store.release_lease("third", None)
        assert await store.lease_holders(40.0) == []
        assert (await store.get_batch(record.id, "ada")).status is BatchStatus.RUNNING
    finally:
        await store.close()


def test_a_runner_id_names_its_process_and_machine() -> None:
    mine = runner_id()
    assert len(mine) == 32 and mine != runner_id()
    assert not dead_here(mine)  # this process is alive
    exited = f"{0x7FFFFFFF:08x}{mine[8:]}"  # beyond any pid this machine hands out
    assert dead_here(exited)
    assert not dead_here("0" * 32)  # another machine's: never judged from here


def started(received: Received) -> list[int]:
    return [f.data["index"] for f in received.events("item.started")]


def test_a_second_server_leaves_a_live_ones_batch_alone_and_takes_it_over_when_it_dies(
    tmp_path: Path, make_server: Callable[..., LiveServer]
) -> None:
    database = tmp_path / "bulkgen.db"  # the file make_server's database_url names
    first = ServerProcess(database, env={"BULKGEN_RUN_LEASE_SECONDS": "1"})
    first.start()
    try:
        with httpx.Client(base_url=first.url, timeout=60) as http:
            slow = {"latency_ms": [60_000, 60_000]}  # in flight until the test ends it
            body = batch_body(count=12, concurrency=CONCURRENCY, generator_options=slow)
            batch = http.post(BATCHES, json=body).json()
            before = read_stream(
                first.url, batch["id"], after=0, until=lambda r: len(started(r)) == CONCURRENCY
            )

        second = make_server(run_lease_seconds=1)
        services: Services = second.server.app.state.services
        # The first server renews its lease many times over while the second looks for
        # batches to take over three times a second: it never takes this one.
        lease = sqlite3.connect(database)
        seen: set[float] = set()
        while len(seen) < 6:
            (until,) = lease.execute(
                "SELECT lease_until FROM batches WHERE id = ?", (batch["id"],)
            ).fetchone()
            seen.add(until)
        lease.close()
        assert services.runner.running == []
        with httpx.Client(base_url=second.url, timeout=60) as http:
            mid = get_batch(http, batch["id"])
        assert mid["progress"]["in_progress"] == CONCURRENCY
        assert mid["last_event_id"] == before.last_id
    finally:
        first.kill()

    # The first server is gone: its in-flight items go back to pending and run here.
    after = read_stream(
        second.url,
        batch["id"],
        after=before.last_id,
        until=lambda r: len(started(r)) == CONCURRENCY,
    )
    assert sorted(started(after)) == sorted(started(before))
    assert services.runner.running == [batch["id"]]
    with httpx.Client(base_url=second.url, timeout=60) as http:
        assert http.post(f"{BATCHES}/{batch['id']}/cancel").status_code == 200
