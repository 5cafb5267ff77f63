"""Signing in: local accounts, browser sessions, API tokens and one-time sign-in links.

:class:`Accounts` turns secrets a caller presents into a :class:`~bulkgen.credentials.User`
and issues new ones; the store keeps only their hashes. Routes and the CLI reach it as
``Services.accounts`` (or build one on a store, for ``bulkgen user`` and ``token``).
"""

from __future__ import annotations

import hashlib
import os
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from bulkgen.credentials import (
    Role,
    TokenInfo,
    TokenKind,
    User,
    digest,
    hash_password,
    new_secret,
    valid_user_id,
    verify_password,
)
from bulkgen.errors import Conflict
from bulkgen.log.accounts import AccountMethods
from bulkgen.lookups import SharedLookups
from bulkgen.runtime import token_file
from bulkgen.settings import Settings

#: How long a one-time sign-in link stays usable.
LINK_SECONDS = 24 * 3600.0
#: The name of the API token a server leaves for the CLI of the same machine.
CLI_LABEL = "this machine's CLI (port {port})"
#: The longest name of an API token.
MAX_TOKEN_NAME = 100
#: Users found by (what presented them, its digest or name): a crowd of requests with one
#: session cookie costs one query, not one each.
SignedIn = SharedLookups[tuple[str, str], User | None]


@dataclass(frozen=True, slots=True)
class Accounts:
    store: AccountMethods
    settings: Settings
    #: Lookups in flight, shared by the requests of one server.
    signed_in: SignedIn = field(default_factory=SignedIn)

    def _role(self, user: User) -> User:
        """``admins`` (by id or email) are admins whatever their stored role."""
        listed = self.settings.admins
        if user.admin or not listed:
            return user
        if user.id in listed or (user.email is not None and user.email in listed):
            return User(user.id, "admin", user.email)
        return user

    async def add_user(
        self, name: str, password: str | None, *, role: Role = "faculty", email: str | None = None
    ) -> User:
        if not valid_user_id(name):
            raise Conflict(
                "a user name is 1-100 letters, digits and . _ @ + - (starting with a letter "
                "or digit)"
            )
        hashed = hash_password(password) if password else None
        return await self.store.add_user(name, role, time.time(), password_hash=hashed, email=email)

    async def ensure_user(self, user: User) -> None:
        """Keep a row for a user known only from a proxy or the local default, so tokens
        can be issued to them."""
        if await self.store.get_user(user.id) is None:
            with suppress(Conflict):  # made by a concurrent request meanwhile
                await self.store.add_user(user.id, "faculty", time.time(), email=user.email)

    async def oidc_user(self, subject: str, name: str, email: str | None) -> User:
        """The user an identity provider's ``subject`` is: found by the subject, or new
        (faculty), named ``name`` — or ``name`` with part of the subject's hash when taken."""
        found = await self.store.user_by_subject(subject)
        if found is not None:
            return self._role(found)
        tag = hashlib.sha256(subject.encode()).hexdigest()[:8]
        for candidate in (name, f"{name}-{tag}"):
            if not valid_user_id(candidate):
                continue
            with suppress(Conflict):  # the name is someone else's
                made = await self.store.add_user(
                    candidate, "faculty", time.time(), email=email, oidc_subject=subject
                )
                return self._role(made)
        again = await self.store.user_by_subject(subject)  # a concurrent first sign-in
        if again is None:
            raise Conflict(f"no user name is free for the identity provider's user {subject!r}")
        return self._role(again)

    async def user(self, name: str) -> User | None:
        found = await self.store.get_user(name)
        return self._role(found) if found is not None else None

    async def known_user(self, name: str) -> User | None:
        """:meth:`user` for a request signed in by name (a trusted proxy, the local
        default), read once for the requests that arrive together."""
        return await self.signed_in.get(("user", name), lambda: self.user(name))

    async def check_password(self, name: str, password: str) -> User | None:
        """The user when ``password`` is theirs; ``None`` otherwise (either way one hash)."""
        stored = await self.store.password_hash(name) if valid_user_id(name) else None
        if not verify_password(stored, password):
            return None
        return await self.user(name)

    async def start_session(self, user: str) -> str:
        """A new browser session of ``user``: the cookie's secret."""
        secret = new_secret()
        now = time.time()
        expires = now + self.settings.session_hours * 3600
        await self.store.add_token(user, "session", digest(secret), now, expires_at=expires)
        return secret

    async def session_user(self, secret: str) -> User | None:
        return await self._token_user(digest(secret), "session")

    async def end_session(self, secret: str) -> None:
        await self.store.end_session(digest(secret))

    async def create_token(self, user: str, name: str = "") -> tuple[str, TokenInfo]:
        """A new API token of ``user``: its secret (shown once) and how it is listed."""
        secret = new_secret()
        info = await self.store.add_token(
            user, "api", digest(secret), time.time(), name=name[:MAX_TOKEN_NAME]
        )
        return secret, info

    async def token_user(self, secret: str) -> User | None:
        return await self._token_user(digest(secret), "api")

    async def _token_user(self, hashed: str, kind: TokenKind) -> User | None:
        async def lookup() -> User | None:
            found = await self.store.user_of_token(hashed, kind, time.time())
            return self._role(found) if found is not None else None

        return await self.signed_in.get((kind, hashed), lookup)

    async def sign_in_link(self, user: str) -> str:
        """A one-time secret that starts a session of ``user`` (the printed sign-in URL)."""
        secret = new_secret()
        now = time.time()
        await self.store.add_token(
            user, "login", digest(secret), now, expires_at=now + LINK_SECONDS
        )
        return secret

    async def use_link(self, secret: str) -> User | None:
        """The user of a one-time link, which is used up; ``None`` when unknown or used."""
        found = await self.store.take_token(digest(secret), "login", time.time())
        return self._role(found) if found is not None else None

    async def sign_in_local_user(self, host: str, port: int) -> str:
        """The embedded default's start: ``local_user`` gets a one-time sign-in link (the
        secret is returned for the printed URL) and a fresh API token, written to a file
        only this OS user can read, where the CLI on this machine finds it."""
        user = self.settings.local_user
        await self.ensure_user(User(user, "faculty"))
        name = CLI_LABEL.format(port=port)
        for info in await self.store.list_tokens(user):
            if info.name == name:  # the token of an earlier start of this server
                await self.store.revoke_token(info.id)
        secret, _info = await self.create_token(user, name)
        write_private(token_file(self.settings.runtime_dir, host, port), secret)
        return await self.sign_in_link(user)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by this OS user only (folder 0700, file 0600)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text + "\n")
