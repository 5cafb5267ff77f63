"""The docs describe every setting, event type and rule the code has."""

from __future__ import annotations

import re
from pathlib import Path

from bulkgen.events import EVENT_NAMES
from bulkgen.generation.validators import RULES
from bulkgen.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text()
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"| `{name}` |" in ARCHITECTURE, f"setting {name} missing from ARCHITECTURE.md"


def test_every_event_type_is_documented() -> None:
    for name in EVENT_NAMES:
        assert f"`{name}`" in ARCHITECTURE, name
        assert f"`{name}`" in README, name


def test_every_rule_is_documented() -> None:
    for rule_id, rule in RULES.items():
        assert f"| `{rule_id}` | {rule.severity.value} |" in ARCHITECTURE, rule_id


def test_readme_first_screen_has_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:20])
    commands = re.findall(r"^(?!#)(\S.*)$", first_screen.split("```sh")[1].split("```")[0], re.M)
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e . "
        "&& .venv/bin/bulkgen demo",
        "./scripts/check",
    ]
    assert "./scripts/check" in (ROOT / ".ci" / "run").read_text()
