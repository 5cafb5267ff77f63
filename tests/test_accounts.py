"""Users, sessions, API tokens and one-time links in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bulkgen.accounts import Accounts
from bulkgen.credentials import digest, hash_password, verify_password
from bulkgen.errors import Conflict
from bulkgen.log import SQLStore
from bulkgen.settings import Settings

pytestmark = pytest.mark.databases


@pytest.fixture
async def accounts(database_url: str) -> AsyncIterator[Accounts]:
    store = SQLStore(database_url)
    await store.migrate()
    yield Accounts(store, Settings(database_url=database_url, admins=["root@example.edu"]))
    await store.close()


async def test_a_password_signs_in_only_its_user(accounts: Accounts) -> None:
    await accounts.add_user("ada", "s3cret-pass")
    await accounts.add_user("bob", "other-pass", role="admin")
    ada = await accounts.check_password("ada", "s3cret-pass")
    assert ada is not None and ada.role == "faculty"
    assert await accounts.check_password("ada", "other-pass") is None
    assert await accounts.check_password("nobody", "s3cret-pass") is None
    assert await accounts.check_password("bad name!", "s3cret-pass") is None
    bob = await accounts.user("bob")
    assert bob is not None and bob.admin
    with pytest.raises(Conflict, match="already exists"):
        await accounts.add_user("ada", "again-pass")
    with pytest.raises(Conflict, match="user name"):
        await accounts.add_user("-x", "again-pass")


async def test_tokens_are_stored_as_hashes_and_revocable(accounts: Accounts) -> None:
    await accounts.add_user("ada", "s3cret-pass")
    secret, info = await accounts.create_token("ada", "laptop")
    assert len(secret) == 43
    listed = await accounts.store.list_tokens("ada")
    assert [(t.id, t.name) for t in listed] == [(info.id, "laptop")]
    found = await accounts.token_user(secret)
    assert found is not None and found.id == "ada"
    assert await accounts.session_user(secret) is None  # an API token is not a session
    assert await accounts.store.user_of_token(digest(secret), "api", 0.0) is not None
    assert not await accounts.store.revoke_token(info.id, "bob")  # not bob's to revoke
    assert await accounts.store.revoke_token(info.id, "ada")
    assert await accounts.token_user(secret) is None


async def test_a_sign_in_link_works_once_and_sessions_end(accounts: Accounts) -> None:
    await accounts.add_user("ada", None)
    link = await accounts.sign_in_link("ada")
    used = await accounts.use_link(link)
    assert used is not None and used.id == "ada"
    assert await accounts.use_link(link) is None
    session = await accounts.start_session("ada")
    assert (await accounts.session_user(session)) is not None
    await accounts.end_session(session)
    assert await accounts.session_user(session) is None


async def test_removing_a_user_removes_their_tokens(accounts: Accounts) -> None:
    await accounts.add_user("ada", "s3cret-pass")
    secret, _ = await accounts.create_token("ada")
    assert await accounts.store.remove_user("ada")
    assert await accounts.token_user(secret) is None
    assert not await accounts.store.remove_user("ada")


async def test_admins_setting_lists_admins_by_email(accounts: Accounts) -> None:
    await accounts.add_user("root", None, email="root@example.edu")
    root = await accounts.user("root")
    assert root is not None and root.admin


def test_passwords_hash_with_argon2() -> None:
    stored = hash_password("s3cret-pass")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "s3cret-pass")
    assert not verify_password(stored, "wrong")
    assert not verify_password("not a hash", "s3cret-pass")
    assert not verify_password(None, "s3cret-pass")


async def test_a_crowd_with_one_session_costs_one_read(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    await accounts.add_user("ada", "s3cret-pass")
    secret = await accounts.start_session("ada")
    reads = []
    inner = accounts.store.user_of_token

    async def counted(*args: Any) -> Any:
        reads.append(args)
        return await inner(*args)

    monkeypatch.setattr(accounts.store, "user_of_token", counted)
    found = await asyncio.gather(*(accounts.session_user(secret) for _ in range(100)))
    assert {user.id if user else None for user in found} == {"ada"}
    assert len(reads) == 1
    await accounts.end_session(secret)  # nothing kept: the next request sees the sign-out
    assert await accounts.session_user(secret) is None
    assert len(reads) == 2
