"""The SSE stream on a real server: framing, order, resume, end of stream, errors."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from helpers.api import BATCHES, all_items, get_batch, replay
from helpers.api import create_batch as create
from helpers.gate import Gate
from helpers.server import LiveServer
from helpers.sse import Received, open_stream, read_stream
from helpers.wait import wait_finished

pytestmark = pytest.mark.databases


def test_stream_headers_retry_line_and_heartbeat(make_server: Callable[..., LiveServer]) -> None:
    gate = Gate(at=1)  # the batch goes silent at its second item until the gate opens
    live = make_server(heartbeat_seconds=0.2, sse_retry_ms=1500, gate=gate)
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch = create(http, count=3, concurrency=1, generator_options={"latency_ms": [0, 5]})
        with open_stream(live.url, batch["id"]) as stream:
            received = stream.read_until(
                lambda r: len(r.heartbeats) >= 3, what="three heartbeats in a silence"
            )
            gate.open()
            stream.read_to_end()
    assert received.status == 200
    assert received.headers["content-type"].startswith("text/event-stream")
    assert received.headers["cache-control"] == "no-cache"
    assert received.headers["x-accel-buffering"] == "no"
    assert "content-encoding" not in received.headers
    assert received.lines[0] == "retry: 1500"
    assert received.heartbeats[0] == ": heartbeat"
    assert received.ended
    assert received.frames[-1].event == "batch.complete"


def test_whole_batch_event_order_and_types(client: httpx.Client, live: LiveServer) -> None:
    batch = create(client, count=25, generator_options={"invalid_rate": 0.2, "fail_rate": 0.1})
    received = read_stream(live.url, batch["id"], after=0)
    assert received.ended
    durable = received.durable
    assert [f.id for f in durable] == list(range(1, len(durable) + 1))
    assert {f.event for f in received.frames} <= {
        "item.started",
        "item.completed",
        "item.failed",
        "batch.progress",
        "batch.complete",
    }
    seen: dict[int, list[str]] = {}
    for frame in durable[:-1]:
        seen.setdefault(frame.data["index"], []).append(frame.event)
    assert sorted(seen) == list(range(25))
    for events in seen.values():
        assert events[0] == "item.started"
        assert events[1] in ("item.completed", "item.failed")
        assert len(events) == 2
    # the final progress comes right before batch.complete, then the stream ends
    assert received.frames[-1].event == "batch.complete"
    assert received.frames[-2].event == "batch.progress"
    assert received.frames[-2].id == received.frames[-1].id - 1
    assert received.frames[-2].data == received.frames[-1].data
    final = wait_finished(client, batch["id"])
    assert received.frames[-1].data["completed"] == final["progress"]["completed"]
    assert received.frames[-1].id == final["last_event_id"]
    failed = [f for f in durable if f.event == "item.failed"]
    assert all(f.data["error"]["kind"] for f in failed)
    assert any(f.data["error"]["kind"] == "validation" and f.data["error"]["rules"] for f in failed)


def test_progress_events_are_coalesced_and_carry_the_latest_durable_id(
    make_server: Callable[..., LiveServer],
) -> None:
    gate = Gate(at=0)  # the batch cannot finish before the stream is open
    live = make_server(gate=gate)
    with httpx.Client(base_url=live.url, timeout=60) as client:
        batch = create(client, count=300, concurrency=16, generator_options={"latency_ms": [0, 5]})
    with open_stream(live.url, batch["id"]) as stream:
        stream.read_until(lambda received: bool(received.frames), what="the first frame")
        gate.open()
        received = stream.read_to_end()
    progress = [f for f in received.frames if f.event == "batch.progress"]
    assert progress[0] is received.frames[0]  # no cursor: a snapshot comes first
    # Coalesced: far fewer than one per event (the rate itself is unit-tested on the feed).
    assert len(progress) * 10 < len(received.durable)
    position = {id(f): n for n, f in enumerate(received.frames)}
    for frame in progress[1:]:
        before = [f for f in received.frames[: position[id(frame)]] if f.event != "batch.progress"]
        assert frame.id == before[-1].id


def check_resume(client: httpx.Client, live: LiveServer, *, drop_at: int, use_header: bool) -> None:
    batch = create(
        client,
        count=30,
        concurrency=3,
        generator_options={"latency_ms": [10, 40], "invalid_rate": 0.2, "fail_rate": 0.1},
    )
    first = read_stream(live.url, batch["id"], after=0, stop_after=drop_at)
    assert len(first.durable) == drop_at
    cursor = first.last_id
    if use_header:
        second = read_stream(live.url, batch["id"], last_event_id=cursor)
    else:
        second = read_stream(live.url, batch["id"], after=cursor)
    assert second.ended
    ids = [f.id for f in first.durable + second.durable]
    final = wait_finished(client, batch["id"])
    assert ids == list(range(1, final["last_event_id"] + 1)), "no gap, no duplicate"
    assert Counter(ids).most_common(1)[0][1] == 1
    states = replay(first.frames + second.frames)
    server = {i["index"]: i["status"] for i in all_items(client, batch["id"])}
    assert states == server
    counts = Counter(states.values())
    progress = second.frames[-1].data
    assert (counts["completed"], counts["failed"]) == (progress["completed"], progress["failed"])


@pytest.mark.parametrize("drop_at", [1, 7, 23, 41])
def test_resume_with_last_event_id_after_a_drop(client, live, drop_at) -> None:  # type: ignore[no-untyped-def]
    check_resume(client, live, drop_at=drop_at, use_header=True)


@pytest.mark.parametrize("drop_at", [2, 30])
def test_resume_with_after_query_after_a_drop(client, live, drop_at) -> None:  # type: ignore[no-untyped-def]
    check_resume(client, live, drop_at=drop_at, use_header=False)


def test_header_cursor_wins_over_query_cursor(client: httpx.Client, live: LiveServer) -> None:
    batch = create(client, count=5)
    wait_finished(client, batch["id"])
    both = read_stream(live.url, batch["id"], after=0, last_event_id=4)
    assert both.durable[0].id == 5


def test_cursor_at_or_past_the_end_of_a_finished_batch_is_204(
    client: httpx.Client, live: LiveServer
) -> None:
    batch = create(client, count=4)
    final = wait_finished(client, batch["id"])
    end = final["last_event_id"]
    assert read_stream(live.url, batch["id"], last_event_id=end).status == 204
    assert read_stream(live.url, batch["id"], after=end).status == 204
    assert read_stream(live.url, batch["id"], after=end + 10).status == 204
    tail = read_stream(live.url, batch["id"], after=end - 1)
    assert [f.event for f in tail.frames] == ["batch.progress", "batch.complete"]


def test_finished_batch_without_cursor_sends_final_snapshot_and_complete(
    client: httpx.Client, live: LiveServer
) -> None:
    batch = create(client, count=4)
    final = wait_finished(client, batch["id"])
    received = read_stream(live.url, batch["id"])
    assert received.ended
    assert [f.event for f in received.frames] == ["batch.progress", "batch.complete"]
    assert received.frames[-1].data["completed"] == final["progress"]["completed"]
    assert received.frames[-1].id == final["last_event_id"]


@pytest.mark.parametrize("cursor", ["abc", "-1", "+1", "1.5", "1e3", "0x1", "9" * 30, "9" * 5000])
def test_malformed_cursor_is_400(client: httpx.Client, live: LiveServer, cursor: str) -> None:
    batch = create(client, count=2)
    for received in (
        read_stream(live.url, batch["id"], last_event_id=cursor),
        read_stream(live.url, batch["id"], after=cursor),  # type: ignore[arg-type]
    ):
        assert received.status == 400


@pytest.mark.parametrize("cursor", ["²", "٣", "１", "3\u0663"])
def test_a_cursor_of_other_digits_than_ascii_is_400_in_json(
    client: httpx.Client, cursor: str
) -> None:
    """``str.isdigit`` takes "²" and Arabic-Indic digits; a cursor is ASCII digits only."""
    batch = create(client, count=2)
    response = client.get(f"{BATCHES}/{batch['id']}/progress", params={"after": cursor})
    assert response.status_code == 400
    assert "invalid event id" in response.json()["detail"]


def test_cursor_past_the_end_of_a_running_batch_is_400(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(gate=Gate(at=0))  # the batch cannot finish: it stays running
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch = create(http, count=5)
        response = http.get(f"{BATCHES}/{batch['id']}/progress", params={"after": 10_000})
        assert response.status_code == 400
        assert "past the end" in response.json()["detail"]


def test_unknown_batch_stream_is_404(live: LiveServer) -> None:
    assert read_stream(live.url, "0" * 32).status == 404


def test_many_viewers_get_identical_streams(client: httpx.Client, live: LiveServer) -> None:
    import concurrent.futures

    batch = create(client, count=40, generator_options={"latency_ms": [5, 20]})
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results: list[Received] = list(
            pool.map(lambda _n: read_stream(live.url, batch["id"], after=0), range(8))
        )
    reference = [(f.id, f.event) for f in results[0].durable]
    assert all([(f.id, f.event) for f in r.durable] == reference for r in results)
    assert all(r.ended for r in results)


def test_history_stream_sends_progress_of_each_watched_batch_until_all_finish(
    make_server: Callable[..., LiveServer],
) -> None:
    gate = Gate(at=2)  # neither batch can finish before the stream is open
    live = make_server(gate=gate)
    with httpx.Client(base_url=live.url, timeout=60) as client:
        first = create(client, count=10, concurrency=1, generator_options={"latency_ms": [0, 9]})
        second = create(client, count=6, concurrency=1, generator_options={"latency_ms": [0, 9]})
        url = "/api/generation/progress"
        watched = [("batch", first["id"]), ("batch", second["id"])]
        seen: dict[str, list[dict]] = {first["id"]: [], second["id"]: []}  # type: ignore[type-arg]
        with client.stream("GET", url, params=watched) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("data: "):
                    message = json.loads(line[6:])
                    seen[message["batch_id"]].append(message["progress"])
                    if all(seen.values()):
                        gate.open()  # each batch's current state came first: let them run
        for progress in seen.values():
            assert progress[0]["status"] in ("queued", "running")
            assert progress[-1]["status"] == "completed"
        assert seen[first["id"]][-1]["completed"] + seen[first["id"]][-1]["failed"] == 10
        assert seen[second["id"]][-1]["completed"] + seen[second["id"]][-1]["failed"] == 6
        assert client.get(url, params=watched).status_code == 204
        assert client.get(url, params={"batch": "0" * 32}).status_code == 404
        assert client.get(url).status_code == 422


def test_a_reader_that_pauses_catches_up_on_every_event_once(
    make_server: Callable[..., LiveServer],
) -> None:
    """A viewer whose connection fills up (it reads nothing for a while) is no longer
    written to by the feed; once it reads again it gets every event, once, in order —
    from the store too, since its cursor fell out of a small ring meanwhile."""
    import socket

    live = make_server(recent_event_cache=16, send_timeout_seconds=60)
    host, port = live.url.removeprefix("http://").split(":")
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch = create(http, count=300, concurrency=4, generator_options={"latency_ms": [0, 1]})
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        with sock:
            sock.connect((host, int(port)))
            path = f"/api/generation/batch/{batch['id']}/progress?after=0"
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            # Another viewer follows the batch to its end while this one reads nothing.
            assert wait_finished(http, batch["id"])["status"] == "completed"
            raw = b""
            sock.settimeout(60)
            while not raw.endswith(b"\r\n0\r\n\r\n"):
                data = sock.recv(1 << 16)
                assert data, "the stream ended without its last chunk"
                raw += data
        last = int(get_batch(http, batch["id"])["last_event_id"])
    head, _sep, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    text = b""
    while body:
        size_line, _sep, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        text, body = text + body[:size], body[size + 2 :]
    ids = [
        int(line[4:])
        for frame in text.decode().split("\n\n")
        if "event: batch.progress" not in frame
        for line in frame.splitlines()
        if line.startswith("id: ")
    ]
    assert ids == list(range(1, last + 1))
