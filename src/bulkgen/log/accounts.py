"""Users and tokens in the store (mixed into ``SQLStore``).

Secrets never reach this module: callers pass the SHA-256 of a token
(:func:`bulkgen.credentials.digest`), and a lookup matches on it. Expired tokens are never
accepted and are removed when their user signs in again.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bulkgen.credentials import Role, TokenInfo, TokenKind, User
from bulkgen.errors import Conflict
from bulkgen.log.schema import tokens, users


def _user(row: Any) -> User:
    return User(id=row.id, role=row.role, email=row.email)


def _token(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        user=row.user_id,
        kind=row.kind,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class AccountMethods:
    """Users, their roles and their tokens."""

    _write: AsyncEngine
    _read: AsyncEngine

    async def add_user(
        self,
        user_id: str,
        role: Role,
        now: float,
        *,
        password_hash: str | None = None,
        email: str | None = None,
        oidc_subject: str | None = None,
    ) -> User:
        """A new user; :class:`Conflict` when the name (or the subject) is taken."""
        row = {
            "id": user_id,
            "role": role,
            "password_hash": password_hash,
            "email": email,
            "oidc_subject": oidc_subject,
            "created_at": now,
        }
        try:
            async with self._write.begin() as conn:
                await conn.execute(insert(users).values(row))
        except IntegrityError:
            raise Conflict(f"user {user_id!r} already exists") from None
        return User(user_id, role, email)

    async def get_user(self, user_id: str) -> User | None:
        async with self._read.connect() as conn:
            row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
        return _user(row) if row is not None else None

    async def password_hash(self, user_id: str) -> str | None:
        async with self._read.connect() as conn:
            found: str | None = await conn.scalar(
                select(users.c.password_hash).where(users.c.id == user_id)
            )
        return found

    async def user_by_subject(self, oidc_subject: str) -> User | None:
        async with self._read.connect() as conn:
            query = select(users).where(users.c.oidc_subject == oidc_subject)
            row = (await conn.execute(query)).first()
        return _user(row) if row is not None else None

    async def set_role(self, user_id: str, role: Role) -> None:
        async with self._write.begin() as conn:
            await conn.execute(update(users).where(users.c.id == user_id).values(role=role))

    async def list_users(self) -> list[User]:
        async with self._read.connect() as conn:
            rows = (await conn.execute(select(users).order_by(users.c.id))).all()
        return [_user(row) for row in rows]

    async def remove_user(self, user_id: str) -> bool:
        """Remove the user and every token of theirs (their batches stay)."""
        async with self._write.begin() as conn:
            await conn.execute(delete(tokens).where(tokens.c.user_id == user_id))
            removed = await conn.execute(delete(users).where(users.c.id == user_id))
        return bool(removed.rowcount)

    async def add_token(
        self,
        user_id: str,
        kind: TokenKind,
        token_hash: str,
        now: float,
        *,
        name: str = "",
        expires_at: float | None = None,
    ) -> TokenInfo:
        token_id = secrets.token_hex(6)
        row = {
            "id": token_id,
            "token_hash": token_hash,
            "user_id": user_id,
            "kind": kind,
            "name": name,
            "created_at": now,
            "expires_at": expires_at,
        }
        async with self._write.begin() as conn:
            if kind != "api":  # sessions and links of this user that ran out
                await conn.execute(
                    delete(tokens).where(
                        tokens.c.user_id == user_id,
                        tokens.c.kind == kind,
                        tokens.c.expires_at < now,
                    )
                )
            await conn.execute(insert(tokens).values(row))
        return TokenInfo(token_id, user_id, kind, name, now, expires_at)

    async def user_of_token(self, token_hash: str, kind: TokenKind, now: float) -> User | None:
        """The user a live token of ``kind`` belongs to; ``None`` for any other."""
        query = (
            select(users)
            .join(tokens, tokens.c.user_id == users.c.id)
            .where(tokens.c.token_hash == token_hash, tokens.c.kind == kind)
            .where((tokens.c.expires_at.is_(None)) | (tokens.c.expires_at > now))
        )
        async with self._read.connect() as conn:
            row = (await conn.execute(query)).first()
        return _user(row) if row is not None else None

    async def take_token(self, token_hash: str, kind: TokenKind, now: float) -> User | None:
        """Like :meth:`user_of_token`, and the token is used up: a second take finds none."""
        async with self._write.begin() as conn:
            query = select(tokens.c.user_id).where(
                tokens.c.token_hash == token_hash,
                tokens.c.kind == kind,
                (tokens.c.expires_at.is_(None)) | (tokens.c.expires_at > now),
            )
            user_id = await conn.scalar(query)
            if user_id is None:
                return None
            taken = await conn.execute(delete(tokens).where(tokens.c.token_hash == token_hash))
            if not taken.rowcount:
                return None
            row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
        return _user(row) if row is not None else None

    async def list_tokens(self, user_id: str | None, kind: TokenKind = "api") -> list[TokenInfo]:
        query = select(tokens).where(tokens.c.kind == kind).order_by(tokens.c.created_at)
        if user_id is not None:
            query = query.where(tokens.c.user_id == user_id)
        async with self._read.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_token(row) for row in rows]

    async def revoke_token(self, token_id: str, user_id: str | None = None) -> bool:
        """Delete a token by its id (of ``user_id`` only, when given); whether it existed."""
        query = delete(tokens).where(tokens.c.id == token_id)
        if user_id is not None:
            query = query.where(tokens.c.user_id == user_id)
        async with self._write.begin() as conn:
            removed = await conn.execute(query)
        return bool(removed.rowcount)

    async def end_session(self, token_hash: str) -> None:
        async with self._write.begin() as conn:
            await conn.execute(
                delete(tokens).where(tokens.c.token_hash == token_hash, tokens.c.kind == "session")
            )
