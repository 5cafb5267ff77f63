"""The ``bulkgen`` command: the terminal end of the flow, a thin layer over the Python API.

An item travels generator → validation → log → live feed → HTTP → page or CLI; the CLI is a
viewer like the page. ``serve`` and ``demo`` run the server (every ``serve`` flag mirrors a
setting, and ``BULKGEN_<SETTING>`` environment variables set the same values); ``batch …``
talks to a running server over HTTP through :class:`bulkgen.client.BulkgenClient`, and
``batch watch`` follows a batch's live stream; ``rules eval`` measures the item-writing
rules on a labelled corpus.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import DBAPIError

from bulkgen.cli.accounts import token_app, user_app
from bulkgen.cli.batch import batch_app
from bulkgen.cli.rules import rules_app
from bulkgen.http.server import Server, run_worker, serve
from bulkgen.models import BatchConfig, DemoOptions
from bulkgen.runtime import token_file
from bulkgen.settings import Settings

app = typer.Typer(
    name="bulkgen",
    help="Generate assessment items in bulk and watch the batch live.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(batch_app, name="batch")
app.add_typer(rules_app, name="rules")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
console = Console(stderr=True, soft_wrap=True)  # an error is one line, whatever the width

DatabaseOpt = Annotated[
    Path | None, typer.Option("--database", help="SQLite file [env: BULKGEN_DATABASE]")
]
DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db [env: BULKGEN_DATABASE_URL]",
    ),
]
HostOpt = Annotated[str | None, typer.Option("--host", help="Bind address [env: BULKGEN_HOST]")]
PortOpt = Annotated[int | None, typer.Option("--port", help="Port [env: BULKGEN_PORT]")]
LogOpt = Annotated[
    str | None, typer.Option("--log-level", help="Server log level [env: BULKGEN_LOG_LEVEL]")
]
LogFormatOpt = Annotated[
    str | None,
    typer.Option("--log-format", help="Log lines: text or json [env: BULKGEN_LOG_FORMAT]"),
]


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the flags that were given on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"])
            console.print(f"[red]error:[/red] setting {field}: {problem['msg']}")
        raise typer.Exit(2) from None


def _check_port(settings: Settings) -> None:
    if settings.port == 0:
        return
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as error:
            reason = "is already in use" if error.errno == errno.EADDRINUSE else f": {error}"
            console.print(
                f"[red]error:[/red] cannot listen on {settings.host}:{settings.port} "
                f"{reason}; choose another with --port or BULKGEN_PORT"
            )
            raise typer.Exit(1) from None


def base_url(settings: Settings) -> str:
    host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{settings.port}"


def _where(settings: Settings) -> str:
    if settings.database_url is None:
        return str(settings.database)
    return settings.database_url.split("://", 1)[0] + "://…"  # never the password


@app.command(name="serve")
def serve_command(
    database: DatabaseOpt = None,
    database_url: DatabaseUrlOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
    log_level: LogOpt = None,
    log_format: LogFormatOpt = None,
    workers: Annotated[
        bool,
        typer.Option(
            "--workers/--no-workers",
            help="Generate items in this process; --no-workers serves API and pages only "
            "(PostgreSQL, with `bulkgen worker` processes) [env: BULKGEN_WORKERS]",
        ),
    ] = True,
) -> None:
    """Run the bulkgen server (SQLite and the offline generator by default)."""
    settings = load_settings(
        database=database,
        database_url=database_url,
        host=host,
        port=port,
        log_level=log_level,
        log_format=log_format,
        workers=None if workers else False,
    )
    if not settings.workers and not _postgres(settings):
        console.print(
            "[red]error:[/red] --no-workers needs PostgreSQL (--database-url "
            "postgresql+psycopg://…): with SQLite, generation runs in the server"
        )
        raise typer.Exit(2)
    _check_port(settings)
    # A file that vanished (deleted, another folder) is not mistaken for an empty history.
    new = settings.database_url is None and not settings.database.exists()
    _with_database(settings, _migrate(settings))  # a database it cannot use: one line, exit 1
    if settings.log_format == "text":  # in JSON, every line on stderr is a log record
        fresh = ", a new file: no earlier batches" if new else ""
        console.print(
            f"bulkgen serving on {base_url(settings)} (database: {_where(settings)}{fresh})"
        )

    async def show_sign_in(server: Server) -> None:
        url = await sign_in_url(server, settings)
        if url is not None:
            Console(soft_wrap=True).print(f"Open {url} to sign in (the link works once)")

    asyncio.run(serve(settings, on_started=show_sign_in))


async def sign_in_url(server: Server, settings: Settings) -> str | None:
    """The embedded default signs its single user in: a one-time link to print, and an API
    token left where this machine's CLI finds it. None when people sign in otherwise."""
    if not settings.require_sign_in or settings.user_header is not None:
        return None
    port = settings.port
    for started in server.servers:  # port 0: the one the system chose
        for sock in started.sockets:
            port = sock.getsockname()[1]
    here = settings.model_copy(update={"port": port})
    secret = await server.services.accounts.sign_in_local_user(settings.host, port)
    return f"{base_url(here)}/sign-in/link?token={secret}"


async def _migrate(settings: Settings) -> None:
    """Open the database and bring its schema up to date."""
    from bulkgen.log import SQLStore

    store = SQLStore(settings.sqlalchemy_url)
    try:
        await store.migrate()
    finally:
        await store.close()


def _with_database(settings: Settings, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work``; a database that cannot be reached is a one-line error, exit 1."""
    problem = _sqlite_problem(settings)
    if problem is None:
        try:
            asyncio.run(work)
        except DBAPIError as error:
            problem = " ".join(str(error.orig or error).split())  # one line
        else:
            return
    else:
        work.close()
    console.print(f"[red]error:[/red] cannot use the database {_where(settings)}: {problem}")
    raise typer.Exit(1)


def _sqlite_problem(settings: Settings) -> str | None:
    """Why the SQLite file cannot be used, found before any connection is tried."""
    if settings.database_url is not None:
        return None
    path = settings.database
    if path.is_dir():
        return "it is a directory"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"cannot create its folder: {error.strerror}"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return "the file is not readable and writable"
    return None


def _postgres(settings: Settings) -> bool:
    return settings.sqlalchemy_url.startswith("postgresql")


@app.command()
def worker(
    database_url: DatabaseUrlOpt = None,
    log_level: LogOpt = None,
    log_format: LogFormatOpt = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port", help="Serve Prometheus metrics here [env: BULKGEN_METRICS_PORT]"
        ),
    ] = None,
) -> None:
    """Run a generation worker (PostgreSQL): it takes slots of running batches until stopped."""
    settings = load_settings(
        database_url=database_url,
        log_level=log_level,
        log_format=log_format,
        metrics_port=metrics_port,
        workers=True,
    )
    if not _postgres(settings):
        console.print(
            "[red]error:[/red] workers need PostgreSQL: set --database-url or "
            "BULKGEN_DATABASE_URL to postgresql+psycopg://user@host/database"
        )
        raise typer.Exit(2)
    _with_database(settings, _migrate(settings))  # a database it cannot use: one line, exit 1
    if settings.log_format == "text":
        console.print(f"bulkgen worker on {_where(settings)} (Ctrl-C stops it)")
    _with_database(settings, run_worker(settings))


@app.command()
def demo(
    count: Annotated[int, typer.Option(help="Items in the demo batch", min=1, max=10_000)] = 200,
    concurrency: Annotated[int, typer.Option(help="Items generated at once", min=1, max=64)] = 4,
    topic: Annotated[str, typer.Option(help="Topic of the items")] = "Cardiac physiology",
    seed: Annotated[int, typer.Option(help="Seed of the demo generator")] = 7,
    database: DatabaseOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
    log_level: LogOpt = None,
    log_format: LogFormatOpt = None,
) -> None:
    """Run the server and start a demo batch to watch (no API key needed)."""
    settings = load_settings(
        database=database,
        host=host,
        port=port,
        log_level=log_level or "warning",
        log_format=log_format,
    )
    _check_port(settings)
    _with_database(settings, _migrate(settings))
    try:
        config = BatchConfig(
            topic=topic,
            count=count,
            concurrency=concurrency,
            title="Demo batch",
            generator_options=DemoOptions(
                seed=seed, latency_ms=(300, 1500), fail_rate=0.08, invalid_rate=0.1
            ),
        )
    except ValidationError as error:
        console.print(f"[red]error:[/red] {error.errors()[0]['msg']}")
        raise typer.Exit(2) from None

    async def start_demo(server: Server) -> None:
        services = server.services
        batch = await services.create_batch(settings.local_user, config)
        url = base_url(settings)
        sign_in = await sign_in_url(server, settings)
        page = f"{url}/faculty/generate/batch/{batch.id}"
        if sign_in is not None:  # signs the browser in once, then shows the batch
            page = f"{sign_in}&next={quote(page.removeprefix(url))}"
        out = Console(soft_wrap=True)
        out.print(f"[bold]bulkgen[/bold] is running on {url} (Ctrl-C stops it)")
        out.print(f"Demo batch [bold]{batch.id}[/bold]: {count} items on {topic!r}")
        out.print(f"  page:   {page}")
        out.print(f"  watch:  bulkgen batch watch {batch.id} --server {url}")
        stream = f"{url}/api/generation/batch/{batch.id}/progress"
        if sign_in is not None:  # the API token the server left for this machine's CLI
            port = int(url.rsplit(":", 1)[1])
            saved = token_file(settings.runtime_dir, settings.host, port)
            stream = f'-H "Authorization: Bearer $(cat {saved})" {stream}'
        out.print(f"  stream: curl -N {stream}")
        out.print(f"  API:    {url}/docs")

    asyncio.run(serve(settings, on_started=start_demo))


@app.command()
def migrate(database: DatabaseOpt = None, database_url: DatabaseUrlOpt = None) -> None:
    """Create or upgrade the database schema, then exit."""
    settings = load_settings(database=database, database_url=database_url)
    _with_database(settings, _migrate(settings))
    console.print(f"database {_where(settings)} is up to date")


def main() -> None:
    app()
