"""The embedded default signs its one user in: a one-time link and a token for the CLI."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import httpx
from typer.testing import CliRunner

from bulkgen.cli import app, sign_in_url
from bulkgen.runtime import token_file
from bulkgen.settings import Settings

from helpers.api import BATCHES
from helpers.server import LiveServer


def test_the_printed_link_signs_in_once_and_the_cli_finds_its_token(
    make_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    runtime = tmp_path / "run"
    live = make_server(require_sign_in=True, runtime_dir=runtime)
    assert Settings().require_sign_in  # the default: the server is not open to every caller
    link = live.call(sign_in_url(live.server, live.settings))
    assert link is not None and link.startswith(f"{live.url}/sign-in/link?token=")
    with httpx.Client(base_url=live.url, timeout=60) as browser:
        assert browser.get(BATCHES).status_code == 401
        opened = browser.get(f"{link}&next=/faculty/generate/batch/new")
        assert opened.status_code == 303
        assert opened.headers["location"] == "/faculty/generate/batch/new"
        assert browser.get("/api/me").json()["id"] == "local"
        assert browser.get(link).status_code == 303  # a reload in the signed-in browser
    with httpx.Client(timeout=60) as stranger:
        used = stranger.get(link)
        assert used.status_code == 401
        assert used.json() == {"detail": "this sign-in link is unknown, expired or already used"}

    saved = token_file(runtime, "127.0.0.1", live.port)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
    env = {"BULKGEN_RUNTIME_DIR": str(runtime)}
    listed = CliRunner().invoke(app, ["batch", "list", "--server", live.url], env=env)
    assert listed.exit_code == 0, listed.output
    elsewhere = {"BULKGEN_RUNTIME_DIR": str(tmp_path / "other")}
    refused = CliRunner().invoke(app, ["batch", "list", "--server", live.url], env=elsewhere)
    assert refused.exit_code == 1 and "sign-in required" in refused.output

    # A restart writes a new token and revokes the one it replaces.
    old = saved.read_text().strip()
    live.call(sign_in_url(live.server, live.settings))
    assert saved.read_text().strip() != old
    with httpx.Client(base_url=live.url, timeout=60) as cli:
        stale = cli.get(BATCHES, headers={"Authorization": f"Bearer {old}"})
        assert stale.status_code == 401


def test_no_link_when_sign_in_is_off_or_a_proxy_signs_in(
    make_server: Callable[..., LiveServer],
) -> None:
    live = make_server()
    assert live.call(sign_in_url(live.server, live.settings)) is None
