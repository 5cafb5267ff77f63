"""Users, roles and the secrets that prove who a caller is.

A user is a faculty member (their own batches) or an admin (every batch, and users).
Passwords are hashed with argon2; a token — an API token, a browser session, a one-time
sign-in link — is 256 random bits shown once, of which only the SHA-256 is stored, so a
copy of the database signs no one in. Pure: the store keeps them (``log/accounts.py``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

Role = Literal["faculty", "admin"]
#: What a token is for: a personal API token, a browser session, a one-time sign-in link.
TokenKind = Literal["api", "session", "login"]
USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
#: Longest password accepted (argon2 takes any length; this bounds the work of one check).
MAX_PASSWORD = 1024

_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class User:
    id: str
    role: Role
    email: str | None = None

    @property
    def admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as it is listed: never its secret."""

    id: str
    user: str
    kind: TokenKind
    name: str
    created_at: float
    expires_at: float | None


def valid_user_id(name: str) -> bool:
    return USER_ID.fullmatch(name) is not None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches; a user without a password never signs in with one."""
    if stored is None or not password or len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """A token's secret: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored of a secret: its SHA-256, hex. A high-entropy secret needs no salt."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


#: Who a request or a CLI action acts for: a user id, or a signed-in :class:`User`.
Caller = str | User


def scope(caller: Caller) -> str | None:
    """The owner whose batches ``caller`` sees; ``None`` (every owner's) for an admin."""
    if isinstance(caller, User):
        return None if caller.admin else caller.id
    return caller


def user_id(caller: Caller) -> str:
    return caller.id if isinstance(caller, User) else caller
