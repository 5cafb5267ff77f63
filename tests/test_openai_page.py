"""The whole path of issue 4's user, in a real browser: an OpenAI-compatible endpoint, a
batch of N valid items created from the form, failures grouped by reason, and an LMS file."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from helpers.api import all_items
from helpers.browser import PageProblems
from helpers.fake_openai import FakeOpenAI, Recorded, Reply, flawed, ok
from helpers.server import LiveServer
from helpers.wait import wait_finished

TARGET = 6


def every_third_flawed(_request: Recorded, number: int) -> Reply:
    """Two good answers, then one that fails validation, and again."""
    return flawed(number) if number % 3 == 2 else ok(number)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(script=every_third_flawed) as server:
        yield server


@pytest.mark.browser
def test_n_valid_items_from_the_form_then_download_a_moodle_file(
    make_server: Callable[..., LiveServer],
    fake: FakeOpenAI,
    page: Any,
    problems: PageProblems,
    tmp_path: Path,
) -> None:
    live = make_server(
        openai_base_url=fake.url + "/v1",
        openai_api_key="sk-test-form",
        openai_requests_per_minute=60_000,
        retry_backoff_seconds=0.01,
    )
    page.goto(f"{live.url}/faculty/generate/batch/new")
    page.select_option("#generator", "openai")
    expect(page.locator("#learning_objective")).to_be_visible()
    # Blind review is on by default for a model's items, and the box says what it is.
    review_box = page.get_by_label("Blind review")
    expect(review_box).to_be_checked()
    expect(review_box).to_have_accessible_description(re.compile("without its key"))
    page.fill("#topic", "Cardiac physiology")
    page.fill("#count", str(TARGET))
    page.select_option("#mode", "valid")
    page.fill("#concurrency", "2")
    page.fill("#learning_objective", "Trace blood through the heart")
    page.click("button[type=submit]")
    page.wait_for_url("**/faculty/generate/batch/*")
    batch_id = page.url.rsplit("/", 1)[-1]

    view = page.locator("#progress-view")
    with httpx.Client(base_url=live.url, timeout=60) as http:
        batch = wait_finished(http, batch_id)
        items = all_items(http, batch_id)
    expect(view).to_have_attribute("data-status", "completed")
    progress = batch["progress"]
    assert batch["config"]["generator"] == "openai"
    assert batch["config"]["mode"] == "valid"
    assert progress["completed"] == TARGET
    assert progress["failed"] > 0 and progress["replacements"] == progress["failed"]
    assert set(progress["failure_reasons"]) >= {"rule:options.all_none_of_the_above"}
    assert "Trace blood through the heart" in fake.requests[0].prompt
    assert batch["config"]["generator_options"]["review"] == {"enabled": True, "model": None}
    passed = [i for i in items if i["status"] == "completed"]
    assert all(i["result"]["review"]["agrees"] for i in passed)
    assert len(fake.review_requests) == len(passed)  # flawed items are not reviewed
    # the failures panel shows the same groups as the API
    for reason in progress["failure_reasons"]:
        expect(page.get_by_text(reason.split(":", 1)[1]).first).to_be_visible()

    with page.expect_download() as download_info:
        page.locator('a[href$="format=moodle"]').click()
    saved = tmp_path / "export.xml"
    download_info.value.save_as(saved)
    quiz = ElementTree.fromstring(saved.read_bytes())
    questions = quiz.findall("question[@type='multichoice']")
    assert len(questions) == TARGET
    passed = {i["result"]["stem"] for i in items if i["status"] == "completed"}
    assert {q.findtext("questiontext/text") for q in questions} == passed
    assert problems.errors == []
