"""Fixtures: real bulkgen servers on fresh databases, Debian's Chromium, a fresh page.

A test module marked ``pytest.mark.databases`` runs each of its tests twice: on a fresh
SQLite file and on a fresh database of the session's PostgreSQL server (started through
``scripts/postgres``). Helpers the tests share live in ``tests/helpers``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkgen.settings import Settings

from helpers.browser import CHROMIUM, CHROMIUM_ARGS, PageProblems
from helpers.gate import Gate, gated
from helpers.postgres import Postgres
from helpers.server import LiveServer, start_server
from helpers.wait import PAGE_WAIT

#: Fixtures that launch Chromium: a test using one must be marked ``browser``.
BROWSER_FIXTURES = {"browser", "page"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Check the ``browser`` marker, and run browser tests last.

    Playwright's sync API keeps an event loop running in the main thread for as long as
    the session's browser is open, which asyncio tests and ``asyncio.run`` cannot share.
    """
    for item in items:
        launches = bool(BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())))
        marked = item.get_closest_marker("browser") is not None
        if launches != marked:
            raise pytest.UsageError(
                f"{item.nodeid}: mark exactly the tests that use the browser or page "
                "fixture with @pytest.mark.browser"
            )
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "databases"
    ):
        metafunc.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """The session's PostgreSQL server (Debian's package, a temporary directory)."""
    server = Postgres.start()
    yield server
    server.remove()


@pytest.fixture
async def pg_url(postgres: Postgres) -> str:
    """A fresh PostgreSQL database, migrated (bulkgen's tables and the job queue's)."""
    from bulkgen.log import SQLStore

    found = postgres.new_database()
    store = SQLStore(found)
    await store.migrate()
    await store.close()
    return found


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: SQLite unless the test is parametrised to PostgreSQL."""
    if getattr(request, "param", "sqlite") == "postgres":
        server: Postgres = request.getfixturevalue("postgres")
        return server.new_database()
    return f"sqlite+aiosqlite:///{tmp_path / 'bulkgen.db'}"


@pytest.fixture
def make_server(database_url: str) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with settings overrides, and a ``gate`` in front of their generators;
    all are stopped at the end of the test."""
    started: list[LiveServer] = []
    gates: list[Gate] = []

    def make(*, gate: Gate | None = None, **overrides: Any) -> LiveServer:
        values: dict[str, Any] = {
            "database_url": database_url,
            "port": 0,
            "log_level": "warning",
            "retry_backoff_seconds": 0.01,
            # Most tests act as the single local user; tests of sign-in set it to True.
            "require_sign_in": False,
        }
        if "user_header" in overrides:
            # The tests' clients are the trusted proxy: they connect from the loopback.
            values["trusted_proxies"] = ["127.0.0.1"]
        values.update(overrides)
        settings = Settings(**values)
        factory = None
        if gate is not None:
            gates.append(gate)
            factory = gated(gate, settings)
        live = start_server(settings, generator_factory=factory)
        started.append(live)
        return live

    yield make
    for gate in gates:
        gate.open()  # held items end at once instead of waiting to be cancelled
    for live in started:
        live.stop()


@pytest.fixture
def gate() -> Gate:
    """Closed: no item is generated until the test advances or opens it."""
    return Gate(at=0)


@pytest.fixture
def live(make_server: Callable[..., LiveServer], request: pytest.FixtureRequest) -> LiveServer:
    """A server; its generators wait behind the test's ``gate`` when the test takes one."""
    if "gate" in request.fixturenames:
        return make_server(gate=request.getfixturevalue("gate"))
    return make_server()


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=60) as http:
        yield http


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


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, problems: PageProblems) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(PAGE_WAIT)
    opened.on("pageerror", lambda error: problems.errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        problems.dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", on_dialog)
    yield opened
    context.close()
