"""What every ``bulkgen batch`` command shares: the server, and how a call to it ends.

A command makes its calls through :class:`bulkgen.client.BulkgenClient`. Every failure ends
with one line on stderr and exit code 1; Ctrl-C ends with a line saying what stopped and
exit code 130.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import typer
from pydantic import ValidationError
from rich.text import Text

from bulkgen.cli.format import error_console
from bulkgen.client import BulkgenClient, ClientError
from bulkgen.runtime import default_runtime_dir, token_file
from bulkgen.settings import Settings

DEFAULT_SERVER = "http://127.0.0.1:8000"
INTERRUPTED = "interrupted"
STOPPED_WATCHING = "stopped watching; the batch goes on running on the server"

ServerOpt = Annotated[
    str,
    typer.Option("--server", envvar="BULKGEN_SERVER", help="URL of the bulkgen server"),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="BULKGEN_TOKEN",
        help="API token (bulkgen token create); default: the token a local server wrote "
        "for this user",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts)")]
BatchIdArg = Annotated[str, typer.Argument(metavar="ID", help="The batch id")]

T = TypeVar("T")


def run_command(work: Coroutine[Any, Any, T], *, interrupted: str = INTERRUPTED) -> T:
    """Run a command's calls to the server; a client error or Ctrl-C ends the command."""
    try:
        return asyncio.run(work)
    except ClientError as error:
        fail(str(error))
    except KeyboardInterrupt:
        error_console().print(interrupted, soft_wrap=True)
        raise typer.Exit(130) from None


def connect(server: str, token: str | None) -> BulkgenClient:
    """A client of ``server`` that signs in with ``token``, or else with the token a
    server on this machine left for its local user (``runtime_dir``)."""
    return BulkgenClient(server, token=token or local_token(server))


def local_token(server: str) -> str | None:
    """The API token the server at ``server`` wrote for this machine's CLI, if any."""
    parts = urlsplit(server)
    if parts.hostname is None:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        runtime = Settings().runtime_dir  # BULKGEN_RUNTIME_DIR, like the server's
    except ValidationError:
        runtime = default_runtime_dir()
    path = token_file(runtime, parts.hostname, port)
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


async def call_server(
    server: str, token: str | None, request: Callable[[BulkgenClient], Awaitable[T]]
) -> T:
    """One request to the server at ``server``, on a client of its own."""
    async with connect(server, token) as client:
        return await request(client)


def fail(message: str) -> NoReturn:
    """End the command with ``message`` on one line of stderr and exit code 1."""
    line = " ".join(message.split())
    error_console().print(Text.assemble(("error: ", "bold red"), line), soft_wrap=True)
    raise typer.Exit(1)
