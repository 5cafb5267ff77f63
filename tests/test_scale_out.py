"""Scale-out on a real PostgreSQL: 2 API replicas (`serve --no-workers`) and 3 workers
(`bulkgen worker`), each a real child process. Workers and a replica are SIGKILLed while
batches run and started again; a client follows one batch across replicas with its
cursor. At the end every item is counted once, every log is contiguous, the client's view
equals the server's, and no batch ever had more items in flight than its concurrency.

The kills happen when the followed batch's log reaches given lengths (conditions on the
batch's own progress), never after a length of time.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers.api import all_items, batch_body, replay
from helpers.postgres import Postgres
from helpers.server import ServerProcess
from helpers.sse import Frame, Received, open_stream, read_stream

pytestmark = pytest.mark.slow

BATCHES = "/api/generation/batch"
WORKER_ENV = {
    "BULKGEN_WORKER_STALLED_SECONDS": "3",
    "BULKGEN_GLOBAL_CONCURRENCY": "6",
    "BULKGEN_RETRY_BACKOFF_SECONDS": "0.01",
}


class Cluster:
    def __init__(self, url: str, replicas: int = 2, workers: int = 3) -> None:
        env = {"BULKGEN_DATABASE_URL": url, **WORKER_ENV}
        serve = ["serve", "--no-workers"]
        self.replicas = [ServerProcess(env=env, args=serve) for _ in range(replicas)]
        self.workers = [
            ServerProcess(env=env, args=["worker"], ready="worker ready") for _ in range(workers)
        ]

    def start(self) -> None:
        for child in [*self.replicas, *self.workers]:
            child.start()

    def stop(self) -> None:
        for child in [*self.replicas, *self.workers]:
            child.kill()


@pytest.fixture
def cluster(postgres: Postgres, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    size = getattr(request, "param", (2, 3))
    started = Cluster(postgres.new_database(), *size)
    try:
        started.start()
        yield started
    finally:
        started.stop()


def follow(cluster: Cluster, batch_id: str, actions: dict[int, Any]) -> list[Frame]:
    """Every durable event of the batch, read across replicas from the client's cursor;
    ``actions[n]`` runs once the client has received n events."""
    events: list[Frame] = []
    replica = 0
    pending = sorted(actions)

    def complete(received: Received) -> bool:
        return bool(received.events("batch.complete"))

    while True:
        base = len(events)
        # From the start of the log; after a break, from the last event received.
        where = {"last_event_id": events[-1].id} if events else {"after": 0}
        try:
            with open_stream(cluster.replicas[replica].url, batch_id, **where) as stream:
                try:
                    while pending:
                        upcoming = pending[0]
                        stream.read_until(
                            lambda r, n=upcoming - base: complete(r) or len(r.durable) >= n,
                            what=f"event {upcoming}",
                        )
                        if complete(stream.received):
                            break
                        pending.pop(0)
                        actions[upcoming](replica)
                    # Read on to the end: if this replica was killed, the stream breaks
                    # and the client goes to the other one with its cursor.
                    stream.read_until(complete, what="batch.complete")
                finally:
                    del events[base:]
                    events.extend(stream.received.durable)
                return events
        except (httpx.TransportError, AssertionError) as error:
            print(f"stream broke after {len(events)} events: {error!r}"[:300])
            replica = 1 - replica


def in_flight_peak(events: list[Frame]) -> int:
    """The most items in progress at once, replayed from the log."""
    running: set[int] = set()
    peak = 0
    for frame in events:
        index = frame.data.get("index") if isinstance(frame.data, dict) else None
        if frame.event == "item.started":
            running.add(index)
            peak = max(peak, len(running))
        elif frame.event in ("item.completed", "item.failed", "item.requeued"):
            running.discard(index)
    return peak


def check_batch(http: httpx.Client, batch_id: str, events: list[Frame]) -> int:
    batch = http.get(f"{BATCHES}/{batch_id}").json()
    assert batch["status"] == "completed", batch
    ids = [frame.id for frame in events]
    jumps = [(n, a, b) for n, (a, b) in enumerate(itertools.pairwise(ids)) if b != a + 1]
    assert ids == list(range(1, batch["last_event_id"] + 1)), f"log ids jump at {jumps[:10]}"
    items = all_items(http, batch_id)
    total = batch["progress"]["total"]
    assert sorted(item["index"] for item in items) == list(range(total))
    assert all(item["status"] in ("completed", "failed") for item in items)
    counts = batch["progress"]
    assert counts["completed"] + counts["failed"] == total
    assert counts["completed"] == sum(item["status"] == "completed" for item in items)
    assert replay(events) == {item["index"]: item["status"] for item in items}
    peak = in_flight_peak(events)
    assert peak <= batch["config"]["concurrency"], f"peak in flight {peak}"
    return peak


def test_workers_and_a_replica_killed_mid_batch_lose_and_double_nothing(
    cluster: Cluster,
) -> None:
    rng = random.Random(8)
    options = {"seed": 11, "latency_ms": [5, 30], "fail_rate": 0.02, "invalid_rate": 0.05}
    first, second = cluster.replicas
    with httpx.Client(base_url=first.url, timeout=60) as http:
        big = http.post(
            BATCHES,
            json=batch_body(count=2000, concurrency=8, generator_options=options),
        ).json()
    with httpx.Client(base_url=second.url, timeout=60) as http:
        small = [
            http.post(
                BATCHES, json=batch_body(count=150, concurrency=3, generator_options=options)
            ).json()
            for _ in range(2)
        ]

    def kill_worker(_replica: int) -> None:
        print("kill a worker")
        victim = cluster.workers[rng.randrange(len(cluster.workers))]
        victim.kill()
        victim.start()

    def kill_replica(replica: int) -> None:
        # The replica this client reads from dies; the client moves on with its cursor.
        print(f"kill replica {replica}")
        cluster.replicas[replica].kill()
        cluster.replicas[replica].start()

    # Points in the followed batch's log (of ~4,000 events), with some randomness.
    points = sorted(rng.sample(range(300, 3200), 4))
    actions = {
        points[0]: kill_worker,
        points[1]: kill_replica,
        points[2]: kill_worker,
        points[3]: kill_worker,
    }
    events = follow(cluster, big["id"], actions)

    with httpx.Client(base_url=second.url, timeout=60) as http:
        peaks = [check_batch(http, big["id"], events)]
        for batch in small:
            history = read_stream(second.url, batch["id"], after=0)
            if not history.events("batch.complete"):
                history = read_stream(second.url, batch["id"], after=0)
            peaks.append(check_batch(http, batch["id"], history.durable))
    print(f"peak items in flight per batch: {peaks} (concurrency 8, 3, 3)")


@pytest.mark.parametrize("cluster", [(2, 2)], indirect=True)
def test_a_database_restart_mid_batch_is_ridden_out(cluster: Cluster, postgres: Postgres) -> None:
    """Replicas, workers and the client's stream reconnect by themselves; the batch ends
    with every item counted once."""
    options = {"seed": 5, "latency_ms": [5, 20], "fail_rate": 0.0, "invalid_rate": 0.0}
    with httpx.Client(base_url=cluster.replicas[0].url, timeout=60) as http:
        batch = http.post(
            BATCHES, json=batch_body(count=400, concurrency=4, generator_options=options)
        ).json()

    def restart_database(_replica: int) -> None:
        postgres.restart()

    events = follow(cluster, batch["id"], {150: restart_database})
    with httpx.Client(base_url=cluster.replicas[1].url, timeout=60) as http:
        check_batch(http, batch["id"], events)
