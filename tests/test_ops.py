"""Operating a server: metrics, liveness and readiness, JSON log lines — on real servers."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx

from helpers.api import create_batch, get_batch
from helpers.gate import Gate
from helpers.metrics import scrape, wait_metric
from helpers.server import LiveServer, ServerProcess
from helpers.sse import open_stream
from helpers.wait import wait_finished

VIEWERS = "bulkgen_sse_viewers"


# -- /metrics --------------------------------------------------------------------------------


def test_metrics_follow_a_batch_from_its_queue_to_its_end(
    make_server: Callable[..., LiveServer],
) -> None:
    gate = Gate(at=0)  # items start, then wait: the stream is open before any finishes
    live = make_server(gate=gate)
    with httpx.Client(base_url=live.url, timeout=60) as http:
        before = scrape(http)
        batch = create_batch(http, count=12, concurrency=4, generator_options={"invalid_rate": 0.3})
        with open_stream(http, batch["id"], after=0) as stream:
            stream.read_until(
                lambda r: len(r.events("item.started")) == 4, what="four items in flight"
            )
            held = scrape(http)
            gate.open()
            received = stream.read_to_end()
        after = scrape(http)
        final = get_batch(http, batch["id"])["progress"]

    # While held: four items in flight, the other eight wait in a running batch.
    assert held.value("bulkgen_queue_depth") == 8
    assert held.value("bulkgen_batches", status="running") == 1
    # At the end: the database's counts, and this process's finishes and timings.
    assert after.value("bulkgen_queue_depth") == 0
    assert after.value("bulkgen_batches", status="completed") == 1
    assert after.value("bulkgen_batches", status="running") == 0
    assert final["completed"] > 0 and final["failed"] > 0
    finished = "bulkgen_items_finished_total"
    assert after.since(before, finished, outcome="completed") == final["completed"]
    assert after.since(before, finished, outcome="failed") == final["failed"]
    assert after.since(before, "bulkgen_generation_seconds_count", generator="demo") == 12
    assert after.since(before, "bulkgen_generation_seconds_sum", generator="demo") > 0
    # Every event the feed read live was timed once; the history it did not read was not.
    lag = after.since(before, "bulkgen_event_lag_seconds_count")
    assert 0 < lag <= len(received.durable)


def test_open_streams_are_counted_until_they_close(
    make_server: Callable[..., LiveServer],
) -> None:
    gate = Gate(at=0)  # the batch stays running, so its streams stay open
    live = make_server(gate=gate)
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch = create_batch(http, count=3)
        base = scrape(http).value(VIEWERS)
        with open_stream(http, batch["id"]) as stream:
            stream.read_until(lambda r: bool(r.frames), what="the first snapshot")
            wait_metric(http, lambda s: s.value(VIEWERS) == base + 1, what="one viewer")
            history = {"batch": batch["id"]}
            with http.stream("GET", "/api/generation/progress", params=history) as response:
                lines = response.iter_lines()  # kept: dropping it would close the response
                assert next(lines).startswith("retry:")
                wait_metric(http, lambda s: s.value(VIEWERS) == base + 2, what="two viewers")
            wait_metric(http, lambda s: s.value(VIEWERS) == base + 1, what="one viewer left")
        wait_metric(http, lambda s: s.value(VIEWERS) == base, what="no viewer left")


# -- /health and /ready ----------------------------------------------------------------------


def test_health_and_ready(client: httpx.Client) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json().keys() == {"status", "version", "running_batches"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


def test_not_ready_while_the_database_is_unreachable(
    make_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    live = make_server(database_url=f"sqlite+aiosqlite:///{folder / 'bulkgen.db'}")
    with httpx.Client(base_url=live.url, timeout=60) as http:
        assert http.get("/ready").status_code == 200
        # The database's folder goes away, and the store's open connections with it: the
        # next query has to open the file again, and cannot.
        live.call(live.server.services.store.close())
        shutil.rmtree(folder)
        for path in ("/ready", "/metrics"):
            response = http.get(path)
            assert response.status_code == 503, path
            assert response.headers["content-type"] == "application/json"
            detail = response.json()["detail"]
            assert detail == "database unreachable: unable to open database file", path
        # Alive all the same: a restart would not bring the database back.
        assert http.get("/health").status_code == 200


# -- log lines -------------------------------------------------------------------------------


def test_json_log_lines_name_the_batch_they_were_logged_for(tmp_path: Path) -> None:
    database = str(tmp_path / "bulkgen.db")
    server = ServerProcess(args=["serve", "--database", database, "--log-format", "json"])
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            batch = create_batch(http, count=4)
            wait_finished(http, batch["id"])
    finally:
        server.terminate()

    records = [json.loads(line) for line in server.log]  # every line is one JSON object
    assert all({"timestamp", "level", "logger", "message"} <= r.keys() for r in records)
    assert any(r["message"].startswith("Uvicorn running on") for r in records)
    about_batch = [
        r for r in records if r["logger"].startswith("bulkgen.") and batch["id"] in r["message"]
    ]
    assert len(about_batch) >= 2, records  # its run started and ended
    assert all(r.get("batch_id") == batch["id"] for r in about_batch), about_batch
