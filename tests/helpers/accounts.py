"""Users, tokens and signed-in clients of a live server, as tests make them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bulkgen.credentials import User

from helpers.server import LiveServer

PASSWORD = "correct horse battery"


def add_user(live: LiveServer, name: str, *, admin: bool = False) -> User:
    """A local account with :data:`PASSWORD`, made on the server's own database."""
    role = "admin" if admin else "faculty"
    accounts = live.server.services.accounts
    return live.call(accounts.add_user(name, PASSWORD, role=role))


def api_token(live: LiveServer, name: str) -> str:
    """A new API token of ``name``: its secret."""
    secret, _info = live.call(live.server.services.accounts.create_token(name, "tests"))
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def form_token(http: httpx.Client, path: str = "/sign-in") -> str:
    """The CSRF token of a page's form (its cookie is now in ``http``)."""
    page = http.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, "no CSRF token on the page"
    return found[1]


def sign_in(http: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """Post the sign-in form as a browser would; the session cookie lands in ``http``."""
    token = form_token(http)
    return http.post("/sign-in", data={"username": name, "password": password, "csrf_token": token})


@contextmanager
def signed_in(live: LiveServer, name: str) -> Iterator[httpx.Client]:
    """A client holding a session of ``name``, closed at the end of the ``with``."""
    with httpx.Client(base_url=live.url, timeout=60) as http:
        response = sign_in(http, name)
        assert response.status_code == 303, response.text
        yield http
