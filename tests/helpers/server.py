"""Real bulkgen servers for tests: uvicorn in a thread, or ``bulkgen serve`` in a child.

Both listen on a real socket. The in-thread server's socket is bound and listening before
uvicorn starts, so clients can connect at once; :func:`start_server` returns after the
first ``/health`` answer, which comes once start-up (migrations, resumed batches) is done.
The child process is ready when uvicorn logs that it is running.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bulkgen.generation.runner import GeneratorFactory
from bulkgen.http import create_app
from bulkgen.http.server import Server, build_server
from bulkgen.settings import Settings

#: Longest wait for a server to start or stop; only ever reached when something is broken.
STARTUP_SECONDS = 60.0

T = TypeVar("T")


@dataclass
class LiveServer:
    """A bulkgen server running in a thread of the test process."""

    url: str
    settings: Settings
    server: Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the server's event loop (to act on its services in place)."""
        return self.server.submit(coroutine).result(STARTUP_SECONDS)

    def stop(self) -> None:
        """Shut down: live streams end without ``batch.complete``, the runner stops."""
        if not self.thread.is_alive():
            return  # already stopped by the test itself
        self.server.stop()
        self.thread.join(timeout=STARTUP_SECONDS)
        assert not self.thread.is_alive(), "server did not stop"


def listening_socket(host: str, port: int = 0) -> socket.socket:
    """A socket bound to ``port`` (0: a free one) that already accepts connections."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def start_server(
    settings: Settings, *, generator_factory: GeneratorFactory | None = None
) -> LiveServer:
    """Serve bulkgen with ``settings`` (port 0: a free port) until :meth:`LiveServer.stop`."""
    sock = listening_socket(settings.host, settings.port)
    port = sock.getsockname()[1]
    settings = settings.model_copy(update={"port": port})
    server = build_server(settings, create_app(settings, generator_factory=generator_factory))

    def run() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            # Connections still waiting in the backlog are refused instead of hanging.
            sock.close()

    thread = threading.Thread(target=run, daemon=True, name=f"bulkgen-server-{port}")
    thread.start()
    url = f"http://{settings.host}:{port}"
    try:
        with httpx.Client(timeout=STARTUP_SECONDS) as http:
            http.get(f"{url}/health").raise_for_status()
    except httpx.HTTPError as error:
        server.stop()
        thread.join(timeout=STARTUP_SECONDS)
        raise RuntimeError(f"the bulkgen server did not start: {error!r}") from error
    return LiveServer(url, settings, server, thread)


class ServerProcess:
    """``python -m bulkgen serve`` in a child process (by default on a SQLite file), or
    any other ``bulkgen`` command given as ``args`` (``worker``, ``serve --no-workers``).

    A server listens on a free port (``url`` is known once it started), which may change
    when it is started again. A child is ready when its log matches ``ready``.
    """

    def __init__(
        self,
        database: Path | None = None,
        env: dict[str, str] | None = None,
        *,
        args: list[str] | None = None,
        ready: str = r"Uvicorn running on (http://\S+)",
        open_files: int | None = None,
    ) -> None:
        self.database = database
        self.args = args
        #: The child's open-file limit, soft and hard (as ``ulimit -n`` sets it).
        self.open_files = open_files
        self.ready = ready
        # Like make_server: the local user without sign-in, unless a test asks for it.
        self.env = {**os.environ, "BULKGEN_REQUIRE_SIGN_IN": "false", **(env or {})}
        self.url = ""
        self.log: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self._drain: threading.Thread | None = None

    def start(self) -> None:
        args = self.args or ["serve", "--database", str(self.database)]
        command = [sys.executable, "-m", "bulkgen", *args]
        if args[0] == "serve":
            command += ["--port", "0", "--log-level", "info"]  # uvicorn says where it listens
        else:
            command += ["--log-level", "info"]
        limit = self.open_files

        def lower_limit() -> None:
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        process = subprocess.Popen(
            command,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lower_limit if limit is not None else None,
        )
        self.process = process
        ready = threading.Event()
        found: list[str] = []

        def drain() -> None:
            # Read every line (access logs too) so the child never blocks on a full pipe.
            assert process.stderr is not None
            with process.stderr:
                for line in process.stderr:
                    self.log.append(line)
                    running = re.search(self.ready, line)
                    if running and not ready.is_set():
                        found.append(running[1] if running.groups() else "")
                        ready.set()
            ready.set()  # the child exited

        self._drain = threading.Thread(target=drain, daemon=True)
        self._drain.start()
        if not ready.wait(STARTUP_SECONDS) or not found:
            self.kill()
            raise AssertionError("server did not start:\n" + "".join(self.log))
        self.url = found[0]

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as in a crash."""
        self._end(signal.SIGKILL)

    def terminate(self) -> None:
        """SIGTERM: a graceful shutdown."""
        self._end(signal.SIGTERM)

    def _end(self, sig: int) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=STARTUP_SECONDS)
        if self._drain is not None:
            self._drain.join(timeout=STARTUP_SECONDS)  # it has read the last line
        self.process = None
