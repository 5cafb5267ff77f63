"""``bulkgen demo``, the README's first command, as a user runs it: the links it prints
work — the page link signs the browser in and shows the batch, and the stream command
reads the batch's events with the token the server left for this machine."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from helpers.server import STARTUP_SECONDS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_demo_prints_a_page_link_and_a_stream_command_that_work(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path / "runtime")}
    command = [sys.executable, "-m", "bulkgen", "demo", "--port", str(port)]
    command += ["--database", str(tmp_path / "demo.db"), "--count", "20"]
    demo = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert demo.stdout is not None
        printed: dict[str, str] = {}
        for line in demo.stdout:  # ends when the demo exits: then the asserts below say so
            found = re.match(r"\s+(page|watch|stream|API):\s+(.*)", line)
            if found:
                printed[found[1]] = found[2]
            if "API" in printed:
                break
        assert set(printed) == {"page", "watch", "stream", "API"}, printed
        batch_id = re.search(r"batch watch (\w+)", printed["watch"])
        assert batch_id is not None

        with httpx.Client(timeout=STARTUP_SECONDS, follow_redirects=True) as browser:
            page = browser.get(printed["page"])
            assert page.status_code == 200
            assert str(page.url).endswith(f"/faculty/generate/batch/{batch_id[1]}")
            assert 'id="progress-view"' in page.text
            again = httpx.get(printed["page"], timeout=STARTUP_SECONDS)  # another browser
            assert again.status_code == 401  # the link signs in once

        words = shlex.split(printed["stream"])
        assert words[:3] == ["curl", "-N", "-H"]
        header = re.fullmatch(r"Authorization: Bearer \$\(cat (\S+)\)", words[3])
        assert header is not None
        token = Path(header[1]).read_text().strip()
        assert oct(Path(header[1]).stat().st_mode & 0o777) == "0o600"
        with httpx.stream(
            "GET", words[4], headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as stream:
            assert stream.status_code == 200
            assert next(stream.iter_lines()) == "retry: 2000"
        assert httpx.get(words[4], timeout=30).status_code == 401  # and not without it
    finally:
        demo.send_signal(signal.SIGINT)
        demo.communicate(timeout=STARTUP_SECONDS)  # reads what is left, closes the pipe
