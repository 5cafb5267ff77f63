"""A server killed with SIGKILL mid-batch resumes the batch on restart, counting nothing twice.

The server is ``bulkgen serve`` in a child process; its generator talks to a local
OpenAI-compatible server that stops answering after a set number of requests, so the
batch is certainly mid-run, with items in flight, when it is killed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx

from helpers.api import BATCHES, all_items, finished_count, get_batch, replay
from helpers.fake_openai import FakeOpenAI, Recorded, Reply, flawed, malformed, ok
from helpers.gate import Gate
from helpers.server import ServerProcess
from helpers.sse import Received, read_stream
from helpers.wait import wait_finished

KEY = "sk-test-restart-0123456789"
ANSWERED = 35  # answers before the provider goes quiet
CONCURRENCY = 6


def answer(_request: Recorded, number: int) -> Reply:
    """Mostly valid items; every 7th answer fails validation, every 11th is not JSON."""
    return flawed(number) if number % 7 == 0 else malformed() if number % 11 == 0 else ok(number)


def in_flight(received: Received) -> set[int]:
    return {index for index, status in replay(received.frames).items() if status == "in_progress"}


def test_sigkill_mid_batch_then_restart_finishes_with_every_item_once(tmp_path: Path) -> None:
    gate = Gate(at=ANSWERED)
    with FakeOpenAI(answer, gate=gate) as fake:
        server = ServerProcess(
            tmp_path / "restart.db",
            env={
                "BULKGEN_OPENAI_BASE_URL": fake.url + "/v1",
                "BULKGEN_OPENAI_API_KEY": KEY,
                "BULKGEN_OPENAI_REQUESTS_PER_MINUTE": "60000",
                "BULKGEN_RETRY_BACKOFF_SECONDS": "0.01",
            },
        )
        body = {
            "topic": "Cardiac physiology",
            "count": 120,
            "concurrency": CONCURRENCY,
            "generator": "openai",
            "early_stop": {"enabled": False},
        }
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                created = http.post(BATCHES, json=body)
                assert created.status_code == 201, created.text
                batch = created.json()
                # Read until the answered items finished and the next ones wait in flight.
                before = read_stream(
                    server.url,
                    batch["id"],
                    after=0,
                    until=lambda r: (
                        finished_count(r.frames) == ANSWERED and len(in_flight(r)) == CONCURRENCY
                    ),
                )
                mid = get_batch(http, batch["id"])
                assert mid["status"] == "running"
                assert mid["progress"]["in_progress"] == CONCURRENCY
        finally:
            server.kill()
        interrupted = in_flight(before)

        gate.open()
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                after = read_stream(server.url, batch["id"], last_event_id=before.last_id)
                assert after.ended
                final = wait_finished(http, batch["id"])
                progress = final["progress"]
                assert final["status"] == "completed"
                assert progress["completed"] + progress["failed"] == 120
                assert progress["pending"] == progress["in_progress"] == 0
                items = all_items(http, batch["id"])
                statuses = Counter(i["status"] for i in items)
                assert statuses["completed"] == progress["completed"]
                assert statuses["failed"] == progress["failed"] > 0
                # the log has contiguous ids, and a client that resumed across the crash agrees
                log = read_stream(server.url, batch["id"], after=0)
                assert [f.id for f in log.durable] == list(range(1, final["last_event_id"] + 1))
                states = {i["index"]: i["status"] for i in items}
                assert replay(before.frames + after.frames) == states
        finally:
            server.terminate()
    # items interrupted by the crash went back to pending, then ran to the end once
    requeued = [f.data["index"] for f in log.frames if f.event == "item.requeued"]
    assert sorted(requeued) == sorted(interrupted)
    finishes = Counter(
        f.data["index"] for f in log.frames if f.event in ("item.completed", "item.failed")
    )
    assert set(finishes) == set(range(120)) and set(finishes.values()) == {1}
    # one request per finished item, and one per interrupted attempt
    assert len(fake.requests) == 120 + len(interrupted)
