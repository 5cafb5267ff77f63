"""The browser's events.js is the generator's output and names exactly bulkgen.events."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bulkgen import events
from bulkgen.http import events_js

PY_NAMES = events.EVENT_NAMES
PY_ITEMS = events.ITEM_EVENTS

# Imports the committed module in Node and prints what it exports.
NODE_DUMP = """
const module = await import(process.argv[1]);
const out = {};
for (const [key, value] of Object.entries(module)) {
  out[key] = value instanceof Set ? { set: [...value] } : value;
}
out.frozen = Object.isFrozen(module.EVENT_NAMES);
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def exported() -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None, "node is needed (./scripts/check installs it with npm)"
    done = subprocess.run(
        [node, "--input-type=module", "-e", NODE_DUMP, events_js.PATH.as_uri()],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return dict(json.loads(done.stdout))


def test_committed_file_is_the_generator_output() -> None:
    assert events_js.PATH.read_text(encoding="utf-8") == events_js.render(), (
        f"{events_js.PATH.name} is stale; regenerate it with: {events_js.REGENERATE}"
    )


def test_names_are_the_python_registry(exported: dict[str, Any]) -> None:
    assert tuple(exported["EVENT_NAMES"]) == PY_NAMES
    assert exported["frozen"] is True
    assert set(exported["DURABLE_EVENTS"]["set"]) == set(events.DURABLE)
    assert set(exported["ITEM_EVENTS"]["set"]) == set(PY_ITEMS)


def test_one_constant_per_event(exported: dict[str, Any]) -> None:
    constants = {
        value for key, value in exported.items() if key.isupper() and isinstance(value, str)
    }
    assert constants == set(PY_NAMES)
    assert exported["ITEM_STARTED"] == "item.started"
    assert exported["BATCHES_PROGRESS"] == "batches.progress"


def test_check_flag_reports_a_stale_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "events.js"
    monkeypatch.setattr(events_js, "PATH", target)
    assert events_js.main(["--check"]) == 1  # missing
    assert events_js.REGENERATE in capsys.readouterr().err
    target.write_text("// an edited copy\n")
    assert events_js.main(["--check"]) == 1
    assert events_js.main([]) == 0
    assert target.read_text() == events_js.render()
    assert events_js.main(["--check"]) == 0
