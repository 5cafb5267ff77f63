"""Sign-in against a real server: the form, sessions, API tokens, roles and owner isolation."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from helpers.accounts import PASSWORD, add_user, api_token, bearer, form_token, sign_in, signed_in
from helpers.api import BATCHES, batch_body, create_batch
from helpers.server import LiveServer
from helpers.sse import read_stream
from helpers.wait import wait_finished

PAGES = "/faculty/generate/batch"


@pytest.fixture
def secured(make_server: Callable[..., LiveServer]) -> LiveServer:
    live = make_server(require_sign_in=True)
    add_user(live, "ada")
    add_user(live, "bob")
    add_user(live, "root", admin=True)
    return live


def test_without_a_credential_the_api_is_401_and_pages_send_to_sign_in(
    secured: LiveServer,
) -> None:
    with httpx.Client(base_url=secured.url, timeout=60) as http:
        refused = http.get(BATCHES)
        assert refused.status_code == 401
        assert refused.json() == {"detail": "sign-in required"}
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert http.post(BATCHES, json=batch_body()).status_code == 401
        page = http.get(f"{PAGES}?page=2")
        assert page.status_code == 303
        assert page.headers["location"] == "/sign-in?next=/faculty/generate/batch%3Fpage%3D2"
        assert http.get(f"{PAGES}/new").status_code == 303
        wrong = http.get(BATCHES, headers=bearer("not-a-token"))
        assert wrong.json() == {"detail": "the API token is unknown or revoked"}
        basic = http.get(BATCHES, headers={"Authorization": "Basic YWRhOng="})
        assert basic.status_code == 401
        assert http.get("/health").status_code == 200


def test_the_sign_in_form_sets_a_session_cookie_and_sign_out_ends_it(secured: LiveServer) -> None:
    with httpx.Client(base_url=secured.url, timeout=60) as http:
        form = http.get("/sign-in?next=/faculty/generate/batch/new")
        assert '<label for="username">' in form.text and '<label for="password">' in form.text
        wrong = sign_in(http, "ada", "not the password")
        assert wrong.status_code == 401
        assert 'role="alert"' in wrong.text and "wrong password" in wrong.text
        forged = http.post("/sign-in", data={"username": "ada", "password": PASSWORD})
        assert forged.status_code == 403  # no CSRF token: a post from another site
        token = form_token(http)
        done = http.post(
            "/sign-in",
            data={"username": "ada", "password": PASSWORD, "csrf_token": token, "next": "//x.io"},
        )
        assert done.status_code == 303
        assert done.headers["location"] == PAGES  # never to another site
        cookie = done.headers["set-cookie"]
        assert "bulkgen_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        history = http.get(PAGES)
        assert history.status_code == 200
        assert "Sign out" in history.text and ">ada<" in history.text
        assert http.get("/api/me").json() == {"id": "ada", "role": "faculty"}
        session = http.cookies["bulkgen_session"]
        out = http.post("/sign-out", data={"csrf_token": form_token(http, PAGES)})
        assert out.status_code == 303
    # The old cookie, replayed by another client, no longer signs anyone in.
    with httpx.Client(base_url=secured.url, timeout=60) as replay:
        replay.cookies.set("bulkgen_session", session)
        assert replay.get(BATCHES).status_code == 401


def test_api_tokens_are_created_used_and_revoked(secured: LiveServer) -> None:
    with signed_in(secured, "ada") as browser:
        created = browser.post("/api/tokens", json={"name": "laptop"})
        assert created.status_code == 201
        token = created.json()["token"]
        listed = browser.get("/api/tokens").json()
        assert [t["name"] for t in listed] == ["laptop"] and "token" not in listed[0]
        with httpx.Client(base_url=secured.url, timeout=60, headers=bearer(token)) as cli:
            assert cli.get("/api/me").json()["id"] == "ada"
            assert cli.post(BATCHES, json=batch_body(count=2)).status_code == 201
            revoked = browser.delete(f"/api/tokens/{created.json()['id']}")
            assert revoked.status_code == 204
            assert cli.get(BATCHES).status_code == 401
        assert browser.delete("/api/tokens/nope").status_code == 404


def test_two_signed_in_users_never_see_each_others_batches(secured: LiveServer) -> None:
    bob_token = api_token(secured, "bob")
    with (
        signed_in(secured, "ada") as ada,
        httpx.Client(base_url=secured.url, timeout=60, headers=bearer(bob_token)) as bob,
        httpx.Client(base_url=secured.url, timeout=60) as bob_browser,
    ):
        sign_in(bob_browser, "bob")
        mine = create_batch(ada, count=4)
        wait_finished(ada, mine["id"])
        path = f"{BATCHES}/{mine['id']}"
        for other in (bob, bob_browser):
            assert other.get(path).status_code == 404
            assert other.get(f"{path}/items").status_code == 404
            assert other.get(f"{path}/export", params={"format": "jsonl"}).status_code == 404
            assert other.post(f"{path}/retry").status_code == 404
            assert other.get(BATCHES).json()["total"] == 0
            assert other.get(f"{PAGES}/{mine['id']}").status_code == 404
            assert mine["id"] not in other.get(PAGES).text
        assert read_stream(bob, mine["id"]).status == 404
        history = bob.get("/api/generation/progress", params={"batch": mine["id"]})
        assert history.status_code == 404
        assert ada.get(f"{path}/export", params={"format": "jsonl"}).status_code == 200
        assert read_stream(ada, mine["id"]).status == 200
        assert ada.get(f"{PAGES}/{mine['id']}").status_code == 200


def test_an_admin_sees_every_batch(secured: LiveServer) -> None:
    with signed_in(secured, "ada") as ada, signed_in(secured, "root") as root:
        mine = create_batch(ada, count=2)
        wait_finished(ada, mine["id"])
        assert root.get("/api/me").json() == {"id": "root", "role": "admin"}
        assert root.get(f"{BATCHES}/{mine['id']}").status_code == 200
        assert root.get(BATCHES).json()["total"] == 1
        assert mine["id"] in root.get(PAGES).text
        assert read_stream(root, mine["id"]).status == 200
        own = create_batch(root, count=1)
        assert ada.get(f"{BATCHES}/{own['id']}").status_code == 404


def test_the_cli_adds_users_and_tokens_and_batch_commands_send_them(
    make_server: Callable[..., LiveServer], database_url: str
) -> None:
    from typer.testing import CliRunner

    from bulkgen.cli import app

    db = ["--database-url", database_url]
    runner = CliRunner()
    added = runner.invoke(app, ["user", "add", "carol", *db], input="long-enough-pw\n")
    assert added.exit_code == 0, added.output
    short = runner.invoke(app, ["user", "add", "dan", *db], input="short\n")
    assert short.exit_code == 2 and "8 characters" in short.output
    again = runner.invoke(app, ["user", "add", "carol", *db], input="long-enough-pw\n")
    assert again.exit_code == 1 and "already exists" in again.output
    assert "carol\tfaculty" in runner.invoke(app, ["user", "list", *db]).output
    created = runner.invoke(app, ["token", "create", "carol", "--label", "ci", *db])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    live = make_server(require_sign_in=True)
    server = ["--server", live.url]
    made = runner.invoke(
        app,
        ["batch", "create", "--topic", "Optics", "--count", "2", *server],
        env={"BULKGEN_TOKEN": token},
    )
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["batch", "list", "--json", "--token", token, *server])
    assert listed.exit_code == 0 and '"total": 1' in listed.output
    refused = runner.invoke(app, ["batch", "list", *server])
    assert refused.exit_code == 1 and "sign-in required" in refused.output
    token_id = runner.invoke(app, ["token", "list", "carol", *db]).output.split("\t")[0]
    assert runner.invoke(app, ["token", "revoke", token_id, *db]).exit_code == 0
    revoked = runner.invoke(app, ["batch", "list", "--token", token, *server])
    assert revoked.exit_code == 1 and "revoked" in revoked.output
    assert runner.invoke(app, ["user", "remove", "carol", *db]).exit_code == 0
