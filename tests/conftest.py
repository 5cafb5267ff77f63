"""Shared fixtures: a real bulkgen server (uvicorn on a real socket) on a fresh SQLite file."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkgen.http.server import Server, build_server
from bulkgen.settings import Settings


@dataclass
class LiveServer:
    url: str
    settings: Settings
    server: Server
    thread: threading.Thread

    def stop(self) -> None:
        if not self.thread.is_alive():
            return  # already stopped by the test itself
        self.server.stop()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "server did not stop"


def start_server(settings: Settings) -> LiveServer:
    server = build_server(settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        if not thread.is_alive():
            raise RuntimeError("server failed to start")
        threading.Event().wait(0.025)
    else:
        raise RuntimeError("server did not start in time")
    port = server.servers[0].sockets[0].getsockname()[1]
    return LiveServer(f"http://127.0.0.1:{port}", settings, server, thread)


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with settings overrides; all are stopped at the end of the test."""
    started: list[LiveServer] = []

    def make(**overrides: Any) -> LiveServer:
        values: dict[str, Any] = {
            "database": tmp_path / "bulkgen.db",
            "port": 0,
            "log_level": "warning",
            "retry_backoff_seconds": 0.01,
        }
        values.update(overrides)
        live = start_server(Settings(**values))
        started.append(live)
        return live

    yield make
    for live in started:
        live.stop()


@pytest.fixture
def live(make_server: Callable[..., LiveServer]) -> LiveServer:
    return make_server()


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=20) as http:
        yield http


def batch_body(**overrides: Any) -> dict[str, Any]:
    """A small, quick demo batch."""
    options = {"seed": 3, "latency_ms": [5, 25], "fail_rate": 0.0, "invalid_rate": 0.0}
    options.update(overrides.pop("generator_options", {}))
    body: dict[str, Any] = {
        "topic": "Cardiac physiology",
        "count": 12,
        "concurrency": 4,
        "generator_options": options,
    }
    body.update(overrides)
    return body


@dataclass
class Frame:
    event: str
    data: Any
    id: int | None


@dataclass
class Received:
    """What one SSE connection delivered."""

    status: int
    headers: httpx.Headers
    lines: list[str] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    ended: bool = False

    @property
    def durable(self) -> list[Frame]:
        return [f for f in self.frames if f.event != "batch.progress"]

    @property
    def last_id(self) -> int | None:
        ids = [f.id for f in self.frames if f.id is not None]
        return ids[-1] if ids else None


def read_stream(
    url: str,
    batch_id: str,
    *,
    after: int | None = None,
    last_event_id: int | str | None = None,
    stop_after: int | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Received:
    """Read a batch's SSE stream; stop after ``stop_after`` durable events (a drop)."""
    params = {} if after is None else {"after": str(after)}
    send = dict(headers or {})
    if last_event_id is not None:
        send["Last-Event-ID"] = str(last_event_id)
    path = f"{url}/api/generation/batch/{batch_id}/progress"
    with (
        httpx.Client(timeout=timeout) as http,
        http.stream("GET", path, params=params, headers=send) as response,
    ):
        received = Received(response.status_code, response.headers)
        if response.status_code != 200:
            response.read()
            return received
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            received.lines.append(line)
            if line == "":
                if "event" in fields:
                    frame = Frame(
                        fields["event"],
                        json.loads(fields["data"]),
                        int(fields["id"]) if "id" in fields else None,
                    )
                    received.frames.append(frame)
                    if (
                        stop_after is not None
                        and frame.event != "batch.progress"
                        and len(received.durable) >= stop_after
                    ):
                        return received
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        received.ended = True
        return received


def wait_finished(http: httpx.Client, batch_id: str, timeout: float = 30) -> dict[str, Any]:
    """Poll the batch until it reaches a final state (test helper, not product code)."""
    deadline = threading.Event()
    for _ in range(int(timeout / 0.05)):
        batch = http.get(f"/api/generation/batch/{batch_id}").json()
        if batch["status"] in ("completed", "cancelled", "failed"):
            return dict(batch)
        deadline.wait(0.05)
    raise AssertionError(f"batch {batch_id} did not finish in {timeout}s")


def all_items(http: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = http.get(
            f"/api/generation/batch/{batch_id}/items", params={"limit": 500, "offset": offset}
        ).json()
        items.extend(page["items"])
        offset += len(page["items"])
        if offset >= page["total"] or not page["items"]:
            return items


def replay(frames: list[Frame]) -> dict[int, str]:
    """Item states as a client rebuilds them from durable item events."""
    state: dict[int, str] = {}
    for frame in frames:
        if frame.event.startswith("item."):
            state[frame.data["index"]] = frame.data["status"]
    return state


# -- browser -------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run browser tests last.

    Playwright's sync API keeps an event loop running in the main thread for as long as
    the session's browser is open, which asyncio tests and ``asyncio.run`` cannot share.
    """
    items.sort(key=lambda item: "page" in getattr(item, "fixturenames", ()))


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: ./scripts/check installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class PageProblems:
    """What a page did that it must not: script errors and dialogs (alert = injected code)."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, problems: PageProblems) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    opened.on("pageerror", lambda error: problems.errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        problems.dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", on_dialog)
    yield opened
    context.close()
