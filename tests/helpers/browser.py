"""Debian's Chromium for the browser tests, and what a page must never do."""

from __future__ import annotations

from dataclasses import dataclass, field

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class PageProblems:
    """What a page did that it must not: script errors and dialogs (alert = injected code)."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def assert_clean(problems: PageProblems) -> None:
    assert problems.errors == []
    assert problems.dialogs == []
