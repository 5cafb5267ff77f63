"""Running the application under uvicorn, with live streams ended cleanly on shutdown."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import logging.config
import signal
from collections.abc import Awaitable, Callable, Coroutine
from types import FrameType
from typing import Any, TypeVar

import prometheus_client
import uvicorn
from fastapi import FastAPI

from bulkgen.http import create_app
from bulkgen.http.protocol import EdgeLimits, guarded_protocol
from bulkgen.live.limits import default_connection_cap, raise_open_file_limit
from bulkgen.logs import log_config
from bulkgen.services import Services
from bulkgen.settings import Settings

T = TypeVar("T")

#: Longest wait for open connections at shutdown once live streams were told to end.
GRACEFUL_SHUTDOWN_SECONDS = 5


class Server(uvicorn.Server):
    """uvicorn's server, which also ends SSE streams when asked to exit.

    uvicorn waits for open connections before running the app's shutdown, and an SSE
    stream never ends by itself; ending the live feeds first lets shutdown finish at once.
    """

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)  # type: ignore[arg-type]

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        services: Services | None = getattr(self.app.state, "services", None)
        if services is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(services.hub.close)
        super().handle_exit(sig, frame)

    def stop(self) -> None:
        """Ask the server to exit from any thread (tests, embedding applications)."""
        services: Services | None = getattr(self.app.state, "services", None)
        if services is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(services.hub.close)
        self.should_exit = True

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run a coroutine on the server's event loop from another thread (tests,
        embedding applications)."""
        assert self._loop is not None, "the server is not running"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services


def tune_gc() -> None:
    """Collect garbage less often, and never scan what start-up allocated.

    A server holding a thousand streams has a large heap of long-lived objects; with the
    default thresholds, full collections of it ran often enough to delay SSE delivery by
    up to ~200 ms (measured by ``bench/fanout.py``: p99 214 ms before, 93 ms after).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def build_server(settings: Settings, app: FastAPI | None = None) -> Server:
    app = app if app is not None else create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level, settings.log_format),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        proxy_headers=False,
        http=guarded_protocol(
            EdgeLimits(
                max_connections=settings.max_connections or default_connection_cap(),
                max_header_bytes=settings.max_header_bytes,
                header_timeout=settings.header_timeout_seconds,
                send_timeout=settings.send_timeout_seconds,
            )
        ),
    )
    return Server(config, app)


async def serve(
    settings: Settings, on_started: Callable[[Server], Awaitable[None]] | None = None
) -> bool:
    """Serve until told to exit; ``on_started`` runs once the server listens.

    Returns False when the server could not start (for example, the port is taken).
    """
    raise_open_file_limit()  # each stream is a socket: the stream cap follows this limit
    server = build_server(settings)
    tune_gc()
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            return False
        await asyncio.sleep(0.05)
    if on_started is not None:
        await on_started(server)
    await task
    return True


async def run_worker(settings: Settings) -> None:
    """A worker process: generation only, no HTTP; stops on SIGINT or SIGTERM, letting
    running items finish for a bounded time."""
    logging.config.dictConfig(log_config(settings.log_level, settings.log_format))
    if settings.metrics_port is not None:
        # Items finished and generation latency are counted where generation runs.
        prometheus_client.start_http_server(settings.metrics_port, addr=settings.host)
    services = await Services.start(settings)
    logging.getLogger("bulkgen").info("worker ready")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await services.stop()
