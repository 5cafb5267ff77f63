"""Operating a server: liveness and readiness — on real servers."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import httpx

from helpers.server import LiveServer

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
    live = make_server(database=folder / "bulkgen.db")
    with httpx.Client(base_url=live.url, timeout=60) as http:
        assert http.get("/ready").status_code == 200
        # The database's folder goes away, and the store's open connections with it: the
        # next query has to open the file again, and cannot.
        live.call(live.server.services.store.close())
        shutil.rmtree(folder)
        response = http.get("/ready")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/json"
        assert response.json()["detail"] == "database unreachable: unable to open database file"
        # Alive all the same: a restart would not bring the database back.
        assert http.get("/health").status_code == 200
