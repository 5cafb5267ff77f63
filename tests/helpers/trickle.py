"""A raw HTTP server that sends a chat completion's response headers one byte at a time.

Each byte comes well within any per-read timeout, so only a deadline on the whole request
ends the wait. The server reads a request (recorded in ``requests``), then trickles
``HTTP/1.1 200 OK`` and its headers, padded to ``header_bytes``, one byte per ``interval``;
if the client is still there, a valid completion follows. When a client leaves before the
headers are complete, ``abandoned`` is set and ``sent`` holds how many bytes it got. It
runs its own event loop in a thread, on a socket that listens before the server starts.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from helpers.fake_openai import item
from helpers.server import STARTUP_SECONDS, listening_socket


class TricklingServer:
    """``with TricklingServer(interval=0.02) as slow: … slow.url + "/v1" …``."""

    def __init__(self, *, interval: float, header_bytes: int = 4_000) -> None:
        self.interval = interval
        self.requests: list[dict[str, Any]] = []
        self.sent: list[int] = []  # bytes of the headers each abandoned connection got
        self.abandoned = threading.Event()
        completion = {
            "id": "chatcmpl-trickle",
            "object": "chat.completion",
            "created": 0,
            "model": "fake-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(item(1))},
                    "finish_reason": "stop",
                }
            ],
        }
        self._body = json.dumps(completion).encode()
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            f"content-length: {len(self._body)}\r\nconnection: close\r\nx-padding: "
        )
        padding = max(1, header_bytes - len(head) - 4)
        self.headers = f"{head}{'p' * padding}\r\n\r\n".encode()
        self._socket = listening_socket("127.0.0.1")
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> TricklingServer:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._answer, sock=self._socket), self._loop
        )
        self._server = started.result(STARTUP_SECONDS)
        return self

    def __exit__(self, *_exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(STARTUP_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=STARTUP_SECONDS)
        self._loop.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        position = 0
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            length = next(
                int(line.split(":", 1)[1])
                for line in head.split("\r\n")
                if line.lower().startswith("content-length:")
            )
            self.requests.append(json.loads(await reader.readexactly(length)))
            left = asyncio.ensure_future(reader.read())  # b"" once the client closes
            while position < len(self.headers):
                if left.done():
                    raise ConnectionResetError("the client left")
                writer.write(self.headers[position : position + 1])
                await writer.drain()
                position += 1
                await asyncio.sleep(self.interval)
            writer.write(self._body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            self.sent.append(position)
            self.abandoned.set()
        finally:
            writer.close()
