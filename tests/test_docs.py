"""The docs describe every setting, event and rule the code has."""

from __future__ import annotations

import re
from pathlib import Path

from bulkgen.events import EVENT_NAMES
from bulkgen.generation.validators import RULES
from bulkgen.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text()


def doc(name: str) -> str:
    return (DOCS / name).read_text()


def test_every_setting_is_documented() -> None:
    settings_page = doc("settings.md")
    for name in Settings.model_fields:
        assert f"| `{name}` |" in settings_page, f"setting {name} missing from docs/settings.md"


def test_every_event_is_documented() -> None:
    events_page = doc("events.md")
    for name in EVENT_NAMES:
        assert f"| `{name}` |" in events_page, f"event {name} missing from docs/events.md"
        assert f"`{name}`" in README, f"event {name} missing from README.md"


def test_every_rule_is_documented() -> None:
    rules_page = doc("rules.md")
    for rule_id, rule in RULES.items():
        assert f"| `{rule_id}` | {rule.severity.value} |" in rules_page, rule_id


def test_readme_first_screen_has_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:20])
    commands = re.findall(r"^(?!#)(\S.*)$", first_screen.split("```sh")[1].split("```")[0], re.M)
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e . "
        "&& .venv/bin/bulkgen demo",
        "./scripts/check",
    ]
    assert "./scripts/check" in (ROOT / ".ci" / "run").read_text()
