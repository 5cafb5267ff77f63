"""Schemathesis against a live server: no input the OpenAPI document allows or forbids
gets a 5xx, and every answer matches the document (status codes, content types, bodies,
headers, stream events).

Every check runs but one: ``positive_data_acceptance`` (a schema-valid request must be
accepted) cannot hold for the rules JSON Schema cannot say — ``latency_ms`` min ≤ max,
``max_items`` between ``count`` and 10 × ``count``, a cursor past the end of a running
batch's log — which the API answers with a 4xx naming them, as documented.

The budget is bounded (examples per operation, a fixed seed), so the run is the same on
every machine; the server's generators wait behind a closed gate, so created batches stay
put.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.gate import Gate
from helpers.server import LiveServer

pytestmark = pytest.mark.databases

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
EXAMPLES_PER_OPERATION = 40
STREAMS = "progress$"


def schemathesis(url: str, folder: Path, *selection: str) -> tuple[int, int, int]:
    """Run schemathesis on the operations ``selection`` picks; (operations, cases, passed)."""
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            "1",
            "--request-timeout",
            "60",
            "--no-color",
            *selection,
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    tested = re.search(r"Tested: (\d+)", report)
    cases = re.search(r"(\d+) generated, (\d+) passed", report)
    assert tested and cases, report
    return int(tested.group(1)), int(cases.group(1)), int(cases.group(2))


def test_no_input_gets_a_5xx_and_every_answer_matches_the_document(
    make_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    live = make_server(gate=Gate(at=0))
    # Every operation but the streams, in every phase (stateful: create, then act on it).
    operations, cases, passed = schemathesis(live.url, tmp_path, "--exclude-path-regex", STREAMS)
    # 13 batch, quota and operations routes, and the account's 4 (/api/me, /api/tokens)
    assert operations == 17 and cases == passed and cases > 500
    # The streams on ids of no batch: cursors and ids are checked before any batch is
    # read. (A stream of a running batch never ends; tests/test_stream.py follows those.)
    operations, cases, passed = schemathesis(
        live.url, tmp_path, "--include-path-regex", STREAMS, "--phases", "examples,coverage,fuzzing"
    )
    assert operations == 2 and cases == passed and cases > 50
