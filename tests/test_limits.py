"""Limits that answer instead of hanging: a cap on live streams, in all and per user.

A viewer past a cap gets a ``503`` in JSON with ``Retry-After`` at once, and everything
else keeps answering. The cap in all follows the process's open-file limit (a child
server started with a low ``ulimit -n``), so a flood of viewers can no longer exhaust the
file descriptors and hang health checks, creates and new streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, aclosing
from pathlib import Path

import httpx
import pytest

from bulkgen.client import BulkgenClient, ProgressEvent
from bulkgen.live.limits import RETRY_AFTER_SECONDS

from helpers.api import BATCHES, batch_body
from helpers.gate import Gate
from helpers.metrics import wait_metric
from helpers.server import LiveServer, ServerProcess

USER = "X-Test-User"


def open_streams(
    stack: ExitStack, http: httpx.Client, batch_id: str, count: int, user: str = "ada"
) -> list[Iterator[bytes]]:
    """``count`` streams of the batch, each answered (its first frame read) and held open.

    The readers are returned because dropping one closes its connection.
    """
    readers = []
    for _ in range(count):
        response = stack.enter_context(
            http.stream("GET", f"{BATCHES}/{batch_id}/progress", headers={USER: user})
        )
        assert response.status_code == 200
        reader = response.iter_bytes()
        next(reader)  # the server has admitted it
        readers.append(reader)
    return readers


def test_one_user_past_the_cap_gets_a_503_and_others_still_stream(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(gate=Gate(at=0), user_header=USER, max_streams_per_user=3)
    with httpx.Client(base_url=live.url, timeout=60) as http, ExitStack() as stack:
        batch = http.post(BATCHES, json=batch_body(), headers={USER: "ada"}).json()
        held = open_streams(stack, http, batch["id"], 3)

        refused = http.get(f"{BATCHES}/{batch['id']}/progress", headers={USER: "ada"})
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        assert "3 live streams" in refused.json()["detail"]
        # The history stream counts too.
        history = http.get(
            "/api/generation/progress", params={"batch": batch["id"]}, headers={USER: "ada"}
        )
        assert history.status_code == 503

        # Another user is not held back by ada's streams.
        other = http.post(BATCHES, json=batch_body(), headers={USER: "grace"}).json()
        grace = open_streams(stack, http, other["id"], 1, user="grace")

        # A stream that ends frees its place.
        wait_metric(http, lambda m: m.value("bulkgen_sse_viewers") == 4, what="4 viewers")
        held.pop().close()
        wait_metric(http, lambda m: m.value("bulkgen_sse_viewers") == 3, what="3 viewers")
        assert len(held + grace + open_streams(stack, http, batch["id"], 1)) == 4


def test_the_cap_in_all_follows_the_open_file_limit(tmp_path: Path) -> None:
    """With ``ulimit -n 300`` the server holds 300 − 256 = 44 streams and refuses more,
    while health, creates and reads keep answering."""
    server = ServerProcess(tmp_path / "limits.db", open_files=300)
    server.start()
    try:
        asyncio.run(flood(server.url))
    finally:
        server.kill()


async def flood(url: str) -> None:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        body = batch_body(count=2, generator_options={"latency_ms": [60_000, 60_000]})
        batch = (await http.post(BATCHES, json=body)).json()
        path = f"{BATCHES}/{batch['id']}/progress"
        async with AsyncExitStack() as stack:
            readers = []  # dropping a reader closes its connection
            for _ in range(44):
                response = await stack.enter_async_context(http.stream("GET", path))
                assert response.status_code == 200, await response.aread()
                reader = response.aiter_bytes()
                await anext(reader)
                readers.append(reader)
            refused = [await http.get(path) for _ in range(6)]
            assert [r.status_code for r in refused] == [503] * 6
            assert "as many live streams as it may (44)" in refused[0].json()["detail"]
            assert (await http.get("/health")).status_code == 200
            assert (await http.post(BATCHES, json=batch_body(count=1))).status_code == 201
            assert (await http.get(f"{BATCHES}/{batch['id']}")).status_code == 200
            assert len(readers) == 44


@pytest.mark.parametrize("setting", [{"max_streams": 0}, {"max_streams_per_user": 0}])
def test_stream_caps_are_at_least_one(setting: dict[str, int]) -> None:
    from pydantic import ValidationError

    from bulkgen.settings import Settings

    with pytest.raises(ValidationError):
        Settings(**setting)


async def test_the_client_waits_as_long_as_a_busy_server_asks(
    make_server: Callable[..., LiveServer],
) -> None:
    """The Python client (and so ``bulkgen batch watch``) takes a 503 with Retry-After
    as "ask again then", not as an error, even before its first connection."""
    live = make_server(gate=Gate(at=0), max_streams_per_user=1)
    async with BulkgenClient(live.url) as client, httpx.AsyncClient(base_url=live.url) as http:
        batch = await client.create_batch(batch_body())
        async with http.stream("GET", f"{BATCHES}/{batch.id}/progress") as held:
            reader = held.aiter_bytes()
            await anext(reader)  # the one stream this user may have
            waits: list[tuple[float, str]] = []
            tasks = []

            def reconnecting(failures: int, delay: float, reason: str) -> None:
                waits.append((delay, reason))
                tasks.append(asyncio.get_running_loop().create_task(held.aclose()))

            async with aclosing(client.events(batch.id, on_reconnect=reconnecting)) as events:
                first = await anext(events)
        assert isinstance(first, ProgressEvent)
        assert len(waits) == 1
        delay, reason = waits[0]
        assert delay == RETRY_AFTER_SECONDS
        assert "live streams open, the most one user may" in reason
