"""The browser fixture works against a live server (history page renders)."""

from __future__ import annotations

from typing import Any

import pytest

from helpers.browser import PageProblems
from helpers.server import LiveServer


@pytest.mark.browser
def test_history_page_opens_in_chromium(
    live: LiveServer, page: Any, problems: PageProblems
) -> None:
    page.goto(f"{live.url}/")
    assert page.url.endswith("/faculty/generate/batch")
    assert page.locator("h1").inner_text() == "Batches"
    assert problems.errors == []
