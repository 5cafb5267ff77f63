"""Signing in with an identity provider over OpenID Connect, end to end in the browser,
against a real OpenID provider the test runs (``oidc-provider-mock``: discovery, the
authorization code flow, signed ID tokens, JWKS)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import expect
from pydantic import ValidationError

from bulkgen.http.oidc import user_name
from bulkgen.settings import Settings

from helpers.axe import axe_context, blocking, describe
from helpers.browser import PageProblems
from helpers.server import LiveServer

HOME = "/faculty/generate/batch"
ADA = User(sub="ada-7f3c", claims={"email": "ada@uni.example", "preferred_username": "ada"})


@pytest.fixture
def provider() -> Iterator[str]:
    """The issuer URL of a running OpenID provider that knows Ada."""
    with run_server_in_thread(user_claims=[ADA], require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


def signed_in_server(make_server: Callable[..., LiveServer], issuer: str) -> LiveServer:
    return make_server(
        require_sign_in=True,
        oidc_issuer=issuer,
        oidc_client_id="bulkgen",
        oidc_client_secret="client-secret",
        oidc_name="Example University",
        admins=["grace@uni.example"],
    )


@pytest.mark.browser
def test_faculty_sign_in_with_the_identity_provider_and_land_where_they_were_going(
    make_server: Callable[..., LiveServer],
    provider: str,
    browser: Any,
    problems: PageProblems,
) -> None:
    live = signed_in_server(make_server, provider)
    context = axe_context(browser)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.errors.append(str(error)))
    try:
        page.goto(f"{live.url}/faculty/generate/batch/new")
        expect(page).to_have_url(re.compile(r"/sign-in\?next="))
        found = blocking(page)
        assert not found, describe(found)
        page.get_by_role("link", name="Sign in with Example University").click()

        # At the provider: Ada is one of its users.
        page.get_by_role("button", name=ADA.sub).click()
        expect(page).to_have_url(f"{live.url}/faculty/generate/batch/new")
        assert page.request.get(f"{live.url}/api/me").json() == {"id": "ada", "role": "faculty"}

        # Signed out, then in again: the same subject is the same user.
        page.goto(f"{live.url}{HOME}")
        page.get_by_role("button", name="Sign out").click()
        assert page.request.get(f"{live.url}/api/me").status == 401
        page.get_by_role("link", name="Sign in with Example University").click()
        page.get_by_role("button", name=ADA.sub).click()
        expect(page).to_have_url(f"{live.url}{HOME}")
        assert page.request.get(f"{live.url}/api/me").json()["id"] == "ada"

        # A first sign-in of someone the admins setting names by e-mail: an admin.
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("link", name="Sign in with Example University").click()
        page.get_by_placeholder("sub").fill("grace@uni.example")
        page.get_by_role("button", name="Authorize").click()
        expect(page).to_have_url(f"{live.url}{HOME}")
        me = page.request.get(f"{live.url}/api/me").json()
        assert me == {"id": "grace", "role": "admin"}
    finally:
        context.close()
    assert problems.errors == []


def test_a_callback_without_the_flow_it_belongs_to_signs_nobody_in(
    make_server: Callable[..., LiveServer], provider: str
) -> None:
    live = signed_in_server(make_server, provider)
    with httpx.Client(base_url=live.url, timeout=60) as http:
        forged = http.get("/sign-in/oidc/callback", params={"code": "x", "state": "forged"})
        assert forged.status_code == 401
        assert "did not sign you in" in forged.json()["detail"]
        assert "bulkgen_session" not in http.cookies
        start = http.get("/sign-in/oidc", params={"next": "//evil.example/"})
        assert start.status_code == 302
        assert start.headers["location"].startswith(f"{provider}/oauth2/authorize?")
        assert "nonce=" in start.headers["location"]


def test_without_a_provider_there_is_no_provider_sign_in(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server(require_sign_in=True)
    with httpx.Client(base_url=live.url, timeout=60) as http:
        assert http.get("/sign-in/oidc").status_code == 404
        assert "Sign in with" not in http.get("/sign-in").text


def test_a_provider_needs_its_client_id_and_secret() -> None:
    with pytest.raises(ValidationError, match="oidc_client_id and oidc_client_secret"):
        Settings(oidc_issuer="https://idp.example")
    with pytest.raises(ValidationError, match="http"):
        Settings(oidc_issuer="idp.example", oidc_client_id="c", oidc_client_secret="s")


@pytest.mark.parametrize(
    ("claims", "name"),
    [
        ({"sub": "1", "preferred_username": "j.doe"}, "j.doe"),
        ({"sub": "1", "email": "Jane Doe+x@uni.example"}, "Jane-Doe+x"),
        ({"sub": "1", "preferred_username": "  "}, "user-6b86b273ff34"),
    ],
)
def test_a_new_users_name_comes_from_the_tokens_claims(claims: dict[str, Any], name: str) -> None:
    assert user_name(claims) == name
