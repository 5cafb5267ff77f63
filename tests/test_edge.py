"""The HTTP edge answers instead of hanging: oversized or slow request heads, too many
connections, readers that stopped reading, and a log that a repeating fault cannot flood.

Requests are written on raw sockets, as a misbehaving client would; every answer is read
from the socket, so a test waits for the server's reply, never for a length of time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import pytest
import uvicorn

from bulkgen.http.protocol import EdgeLimits, guarded_protocol
from bulkgen.logs import Throttle

from helpers.server import STARTUP_SECONDS, LiveServer, listening_socket

HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def connect(live: LiveServer | int) -> socket.socket:
    port = live if isinstance(live, int) else live.port
    sock = socket.create_connection(("127.0.0.1", port), timeout=STARTUP_SECONDS)
    return sock


def answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of the next response on ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the connection closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def test_a_head_past_the_limit_is_a_431_in_json(make_server: Callable[..., LiveServer]) -> None:
    live = make_server(max_header_bytes=4096)
    for head in (
        HEAD + b"X-Big: " + b"a" * 5000 + b"\r\n\r\n",  # complete, too long
        HEAD + b"X-Big: " + b"a" * 200_000,  # still no end in sight
    ):
        with closing(connect(live)) as sock:
            sock.sendall(head)
            status, headers, body = answer(sock)
        assert status == 431
        assert headers["content-type"] == "application/json"
        assert json.loads(body) == {
            "detail": "the request line and headers are longer than 4096 bytes"
        }
    with closing(connect(live)) as sock:  # a head within the limit is served
        sock.sendall(HEAD + b"X-Fine: " + b"a" * 3000 + b"\r\nConnection: close\r\n\r\n")
        assert answer(sock)[0] == 200


def test_a_head_that_never_ends_is_a_408_and_a_silent_connection_is_closed(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(header_timeout_seconds=0.2)
    with closing(connect(live)) as sock:
        sock.sendall(HEAD)  # and never the blank line
        status, _headers, body = answer(sock)
    assert status == 408
    assert json.loads(body) == {"detail": "the request's headers did not arrive within 0.2 s"}
    with closing(connect(live)) as sock:
        assert sock.recv(100) == b""  # closed without a word: nothing was asked
    # A kept-alive connection gets the whole timeout again for its next request.
    with closing(connect(live)) as sock:
        sock.sendall(HEAD + b"\r\n")
        assert answer(sock)[0] == 200
        sock.sendall(HEAD)
        assert answer(sock)[0] == 408


def test_connections_past_the_cap_get_a_503_with_retry_after(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(max_connections=3)
    held = [connect(live) for _ in range(3)]
    try:
        for sock in held:  # each is served: the cap counts connections, not requests
            sock.sendall(HEAD + b"\r\n")
            assert answer(sock)[0] == 200
        with closing(connect(live)) as sock:
            sock.sendall(HEAD + b"\r\n")
            status, headers, body = answer(sock)
        assert status == 503
        assert headers["retry-after"] == "5"
        assert "as many connections as it may" in json.loads(body)["detail"]
    finally:
        for sock in held:
            sock.close()
    # Once the held connections are gone the next one is served; the server notices a
    # close only when it reads it, so a refusal or two may come first.
    for _ in range(100):
        with closing(connect(live)) as sock:
            sock.sendall(HEAD + b"Connection: close\r\n\r\n")
            if answer(sock)[0] == 200:
                break
    else:
        raise AssertionError("a connection under the cap was never served")


@pytest.fixture
def endless_server() -> Iterator[tuple[int, threading.Event]]:
    """A server with bulkgen's protocol and an app that writes for as long as it can;
    the event is set when the app's writing ends because the client was dropped."""
    dropped = threading.Event()

    async def endless(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        assert (await receive())["type"] == "http.request"
        gone = asyncio.ensure_future(receive())  # http.disconnect, once the client is gone
        await send({"type": "http.response.start", "status": 200, "headers": []})
        chunk = b"data: " + b"x" * 65_000 + b"\n\n"
        while not gone.done():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await asyncio.sleep(0)
        assert gone.result()["type"] == "http.disconnect"
        dropped.set()

    limits = EdgeLimits(
        max_connections=100, max_header_bytes=65536, header_timeout=5, send_timeout=0.2
    )
    config = uvicorn.Config(
        endless, http=guarded_protocol(limits), log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    sock = listening_socket("127.0.0.1")
    thread = threading.Thread(target=lambda: asyncio.run(server.serve([sock])), daemon=True)
    thread.start()
    yield sock.getsockname()[1], dropped
    server.should_exit = True
    thread.join(STARTUP_SECONDS)


def test_a_reader_that_reads_nothing_is_dropped(
    endless_server: tuple[int, threading.Event],
) -> None:
    port, dropped = endless_server
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with closing(sock):
        sock.connect(("127.0.0.1", port))
        sock.sendall(HEAD + b"\r\n")
        # Read nothing: the server's buffers fill, writing pauses, and the timeout drops us.
        assert dropped.wait(STARTUP_SECONDS), "the stuck reader was never dropped"
        # What was sent before the drop is there to read, then the connection ends (a
        # timeout here would mean it was still open).
        sock.settimeout(STARTUP_SECONDS)
        with contextlib.suppress(ConnectionResetError):
            while sock.recv(1 << 20):
                pass


def test_a_repeating_log_line_is_let_through_a_few_times_a_window() -> None:
    throttle = Throttle(burst=3, window=60.0)
    record = lambda msg: logging.LogRecord("bulkgen", logging.ERROR, __file__, 1, msg, (), None)  # noqa: E731
    passed = [throttle.filter(record("accept failed: %s")) for _ in range(1000)]
    assert passed.count(True) == 3
    assert throttle.filter(record("another fault"))  # other kinds are counted apart
    throttle.window = 0.0  # the next record opens a new window
    late = record("accept failed: %s")
    assert throttle.filter(late)
    assert late.msg == "accept failed: %s (997 more like this were not logged)"
