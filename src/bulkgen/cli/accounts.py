"""``bulkgen user …`` and ``bulkgen token …``: local accounts and API tokens.

They act on the database directly (the same one ``serve`` uses, from ``--database``,
``--database-url`` or the environment), so an admin can make the first account before any
server runs.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from bulkgen.accounts import Accounts
from bulkgen.credentials import Role
from bulkgen.errors import Conflict
from bulkgen.settings import Settings

T = TypeVar("T")
user_app = typer.Typer(help="Local accounts: add, list and remove users.", no_args_is_help=True)
token_app = typer.Typer(help="Personal API tokens: create, list and revoke.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DatabaseOpt = Annotated[
    str | None, typer.Option("--database", help="SQLite file [env: BULKGEN_DATABASE]")
]
DatabaseUrlOpt = Annotated[
    str | None, typer.Option("--database-url", help="SQLAlchemy URL [env: BULKGEN_DATABASE_URL]")
]
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The user's name (their id)")]


def _settings(database: str | None, database_url: str | None) -> Settings:
    given: dict[str, Any] = {"database": database, "database_url": database_url}
    return Settings(**{key: value for key, value in given.items() if value is not None})


def with_accounts(
    database: str | None, database_url: str | None, work: Callable[[Accounts], Awaitable[T]]
) -> T:
    """Run ``work`` on the accounts of the database (migrated first)."""
    from bulkgen.log import SQLStore

    settings = _settings(database, database_url)

    async def run() -> T:
        store = SQLStore(settings.sqlalchemy_url, synchronous=settings.sqlite_synchronous)
        try:
            await store.migrate()
            return await work(Accounts(store, settings))
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except Conflict as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None


def _read_password() -> str:
    """Prompted twice on a terminal; otherwise the first line of stdin (for scripts)."""
    if sys.stdin.isatty():
        entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return entered
    return sys.stdin.readline().rstrip("\r\n")


@user_app.command("add")
def add_user(
    name: NameArg,
    admin: Annotated[bool, typer.Option("--admin", help="Sees every batch; manages users")] = False,
    database: DatabaseOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Add a user with a password (prompted, or the first line of stdin)."""
    password = _read_password()
    if len(password) < 8:
        err.print("[red]error:[/red] the password needs at least 8 characters")
        raise typer.Exit(2)
    role: Role = "admin" if admin else "faculty"
    with_accounts(
        database, database_url, lambda accounts: accounts.add_user(name, password, role=role)
    )
    out.print(f"user {name} added ({role})")


@user_app.command("list")
def list_users(database: DatabaseOpt = None, database_url: DatabaseUrlOpt = None) -> None:
    """Every user and their role, tab-separated."""
    users = with_accounts(database, database_url, lambda accounts: accounts.store.list_users())
    for user in users:
        print(f"{user.id}\t{user.role}" + (f"\t{user.email}" if user.email else ""))


@user_app.command("remove")
def remove_user(
    name: NameArg, database: DatabaseOpt = None, database_url: DatabaseUrlOpt = None
) -> None:
    """Remove a user and their tokens and sessions (their batches stay)."""
    if not with_accounts(database, database_url, lambda a: a.store.remove_user(name)):
        err.print(f"[red]error:[/red] no user {name}")
        raise typer.Exit(1)
    out.print(f"user {name} removed")


@token_app.command("create")
def create_token(
    name: NameArg,
    label: Annotated[str, typer.Option("--label", help="What the token is for")] = "",
    database: DatabaseOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Create an API token for the user NAME; it is printed once (stdout), never stored."""

    async def create(accounts: Accounts) -> str:
        if await accounts.store.get_user(name) is None:
            raise Conflict(f"no user {name}: add one with `bulkgen user add {name}`")
        secret, info = await accounts.create_token(name, label)
        err.print(f"token {info.id} for {name} (revoke: bulkgen token revoke {info.id})")
        return secret

    print(with_accounts(database, database_url, create))


@token_app.command("list")
def list_tokens(
    name: Annotated[str | None, typer.Argument(metavar="[NAME]", help="Only this user's")] = None,
    database: DatabaseOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """API tokens (id, user, label, created), never their secrets."""
    found = with_accounts(database, database_url, lambda a: a.store.list_tokens(name))
    for info in found:
        created = datetime.fromtimestamp(info.created_at, UTC).strftime("%Y-%m-%d %H:%M")
        print(f"{info.id}\t{info.user}\t{info.name or '-'}\t{created}")


@token_app.command("revoke")
def revoke_token(
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id (token list)")],
    database: DatabaseOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Revoke an API token: requests with it are 401 from now on."""
    if not with_accounts(database, database_url, lambda a: a.store.revoke_token(token_id)):
        err.print(f"[red]error:[/red] no token {token_id}")
        raise typer.Exit(1)
    out.print(f"token {token_id} revoked")
