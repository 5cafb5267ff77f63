"""The docs describe every setting, event and rule the code has, and their links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bulkgen.events import EVENT_NAMES
from bulkgen.generation.validators import RULES
from bulkgen.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text()
README = (ROOT / "README.md").read_text()
MAX_ARCHITECTURE_LINES = 220

PAGES = sorted([ROOT / "README.md", ROOT / "ARCHITECTURE.md", *DOCS.glob("*.md")])
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.M)


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


def test_architecture_stays_an_overview() -> None:
    lines = len(ARCHITECTURE.splitlines())
    assert lines <= MAX_ARCHITECTURE_LINES, (
        f"ARCHITECTURE.md has {lines} lines; move feature reference into docs/"
    )


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = heading.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        base = slug(heading)
        name, n = base, 0
        while name in found:
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def relative_links(page: Path) -> list[str]:
    prose = CODE_SPAN.sub("", FENCE.sub("", page.read_text()))
    return [t for t in LINK.findall(prose) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("doc", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    for target in relative_links(doc):
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        assert file.exists(), f"{doc.name}: {target} points to a missing file"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file), f"{doc.name}: {target} names no heading"


def test_readme_links_every_reference_page() -> None:
    for page in DOCS.glob("*.md"):
        assert f"](docs/{page.name})" in README, f"README does not link docs/{page.name}"


def test_readme_first_screen_has_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:20])
    commands = re.findall(r"^(?!#)(\S.*)$", first_screen.split("```sh")[1].split("```")[0], re.M)
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e . "
        "&& .venv/bin/bulkgen demo",
        "./scripts/check",
    ]
    assert "./scripts/check" in (ROOT / ".ci" / "run").read_text()
