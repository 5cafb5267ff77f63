"""bulkgen behind nginx: the shipped config (deploy/bulkgen.nginx.conf, started through
``scripts/nginx``) in front of 2 API replicas (`serve --no-workers`) and 1 worker on a
real PostgreSQL, each a child process.

Through nginx: a batch is created; its SSE stream delivers each event as it happens (the
stream reads the events of a batch that cannot finish, held by a provider that stops
answering: a buffering proxy would hold them back); and when the replica serving a stream
is SIGKILLed, the client reconnects through nginx with ``Last-Event-ID``, lands on the live
replica and gets every event exactly once. Waits follow the stream, never the clock.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from helpers.api import BATCHES, all_items, create_batch, finished_count, get_batch, replay
from helpers.fake_openai import FakeOpenAI
from helpers.gate import Gate
from helpers.postgres import Postgres
from helpers.server import ServerProcess
from helpers.sse import Frame, Received, open_stream

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "nginx"
KEY = "sk-test-nginx-0123456789"
#: Answers the fake provider gives before it goes quiet.
ANSWERED = 3
#: Demo items with a little latency each: a batch of 300 takes a while to run.
DEMO = {"seed": 3, "latency_ms": [20, 40], "fail_rate": 0, "invalid_rate": 0}
#: Events the client reads through nginx before the replica under it is killed.
KILL_AT = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def address(url: str) -> str:
    """``host:port`` of a server URL, as nginx names an upstream server."""
    return url.removeprefix("http://")


@dataclass
class Front:
    """nginx on ``url`` in front of the replicas; a worker generates."""

    replicas: list[ServerProcess]
    worker: ServerProcess
    directory: Path
    url: str = ""

    def replica_behind(self, response_headers: httpx.Headers) -> ServerProcess:
        """The replica that answered, from nginx's ``X-Upstream`` (after any it skipped)."""
        served = response_headers["x-upstream"].split(",")[-1].strip()
        return next(r for r in self.replicas if address(r.url) == served)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    """A provider that answers ``ANSWERED`` requests, then holds every other one."""
    with FakeOpenAI(gate=Gate(at=ANSWERED)) as server:
        yield server


@pytest.fixture
def front(postgres: Postgres, fake: FakeOpenAI) -> Iterator[Front]:
    env = {
        "BULKGEN_DATABASE_URL": postgres.new_database(),
        "BULKGEN_RETRY_BACKOFF_SECONDS": "0.01",
        "BULKGEN_OPENAI_BASE_URL": fake.url + "/v1",
        "BULKGEN_OPENAI_API_KEY": KEY,
        "BULKGEN_OPENAI_REQUESTS_PER_MINUTE": "60000",
    }
    # Outside pytest's private temporary tree, so nginx's workers (as `nobody` when the
    # tests run as root) can reach their temp files.
    directory = Path(tempfile.mkdtemp(prefix="bulkgen-nginx."))
    started = Front(
        replicas=[ServerProcess(env=env, args=["serve", "--no-workers"]) for _ in range(2)],
        worker=ServerProcess(env=env, args=["worker"], ready="worker ready"),
        directory=directory,
    )
    try:
        for child in [*started.replicas, started.worker]:
            child.start()
        port = free_port()
        upstreams = [address(replica.url) for replica in started.replicas]
        subprocess.run([str(SCRIPT), "start", str(directory), str(port), *upstreams], check=True)
        started.url = f"http://127.0.0.1:{port}"
        yield started
    finally:
        subprocess.run([str(SCRIPT), "stop", str(directory)], check=False)
        for log in ("error.log", "access.log"):  # shown when the test failed
            if (directory / log).exists():
                print(f"== nginx {log}\n{(directory / log).read_text()[-5000:]}")
        shutil.rmtree(directory, ignore_errors=True)
        for child in [*started.replicas, started.worker]:
            child.kill()


def complete(received: Received) -> bool:
    return bool(received.events("batch.complete"))


def test_the_stream_through_nginx_delivers_events_while_the_batch_runs(front: Front) -> None:
    body = {
        "topic": "Cardiac physiology",
        "count": 40,
        "concurrency": 4,
        "generator": "openai",
        "early_stop": {"enabled": False},
    }
    with httpx.Client(base_url=front.url, timeout=60) as http:
        created = http.post(BATCHES, json=body)
        assert created.status_code == 201, created.text
        batch = created.json()
        with open_stream(front.url, batch["id"], after=0) as stream:
            assert stream.received.status == 200
            assert stream.received.headers["content-type"].startswith("text/event-stream")
            # The provider answers ANSWERED requests and holds the rest: the batch cannot
            # finish, and its few events fill no buffer. They arrive only if nginx passes
            # each frame on as it comes.
            received = stream.read_until(
                lambda r: finished_count(r.frames) == ANSWERED, what=f"{ANSWERED} finished items"
            )
            assert received.events("item.started")
            mid = get_batch(http, batch["id"])
            assert mid["status"] == "running"
            assert mid["progress"]["completed"] == ANSWERED
        cancelled = http.post(f"{BATCHES}/{batch['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text


def test_a_replica_killed_under_a_stream_costs_the_client_no_event(front: Front) -> None:
    with httpx.Client(base_url=front.url, timeout=60) as http:
        batch = create_batch(http, count=300, concurrency=4, generator_options=DEMO)
    events: list[Frame] = []
    served_by: list[ServerProcess] = []
    killed: ServerProcess | None = None
    while not events or events[-1].event != "batch.complete":
        assert len(served_by) < 3, "the client needed more than one reconnection"
        # From the start of the log; after the break, from the last event received.
        where = {"last_event_id": events[-1].id} if events else {"after": 0}
        try:
            with open_stream(front.url, batch["id"], **where) as stream:
                assert stream.received.status == 200
                served_by.append(front.replica_behind(stream.received.headers))
                try:
                    if killed is None:
                        stream.read_until(
                            lambda r: complete(r) or len(r.durable) >= KILL_AT,
                            what=f"event {KILL_AT}",
                        )
                        if not complete(stream.received):
                            killed = served_by[-1]
                            killed.kill()
                    stream.read_until(complete, what="batch.complete")
                finally:
                    events.extend(stream.received.durable)
        except (httpx.TransportError, AssertionError) as error:
            if killed is None or len(served_by) > 1:
                raise
            print(f"stream broke after {len(events)} events: {error!r}"[:300])

    assert killed is not None, "the batch finished before the kill"
    assert served_by[0] is killed
    assert len(served_by) == 2 and served_by[1] is not killed

    with httpx.Client(base_url=front.url, timeout=60) as http:
        finished = get_batch(http, batch["id"])
        assert finished["status"] == "completed"
        ids = [frame.id for frame in events]
        assert ids == list(range(1, finished["last_event_id"] + 1))
        items = all_items(http, batch["id"])
        assert [item["index"] for item in items] == list(range(300))
        assert replay(events) == {item["index"]: "completed" for item in items}
        # New requests skip the dead replica, a POST too.
        again = http.post(BATCHES, json={"topic": "Renal physiology", "count": 1})
        assert again.status_code == 201, again.text
        assert front.replica_behind(again.headers) is not killed
