"""The whole path of issue 4's user, in a real browser: an OpenAI-compatible endpoint, a
batch of N valid items created from the form, failures grouped by reason, and an LMS file."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from helpers.api import BATCHES, all_items
from helpers.browser import PageProblems
from helpers.fake_openai import FakeOpenAI, Recorded, Reply, flawed, ok, review
from helpers.progress_view import SETTLED_TOP, open_view
from helpers.server import LiveServer
from helpers.wait import wait_finished

TARGET = 6
ROOT = Path(__file__).resolve().parent.parent


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


# -- a reviewed batch, for the docs -----------------------------------------------------

#: Items a model might write on the topic: the second one's key is wrong (B is correct).
CARDIAC = [
    {
        "stem": "A 58-year-old man has crushing chest pain for 40 minutes. His ECG shows ST "
        "elevation in leads II, III and aVF. Which coronary artery is most likely occluded?",
        "options": [
            {"key": "A", "text": "Right coronary artery"},
            {"key": "B", "text": "Left anterior descending artery"},
            {"key": "C", "text": "Left circumflex artery"},
            {"key": "D", "text": "Left main coronary artery"},
        ],
        "answer": "A",
        "rationale": "ST elevation in the inferior leads points to an inferior infarct, and "
        "the inferior wall is supplied by the right coronary artery in most people.",
    },
    {
        "stem": "During which phase of the cardiac cycle are all four heart valves closed "
        "while ventricular pressure rises?",
        "options": [
            {"key": "A", "text": "Rapid ejection"},
            {"key": "B", "text": "Isovolumetric contraction"},
            {"key": "C", "text": "Isovolumetric relaxation"},
            {"key": "D", "text": "Atrial systole"},
        ],
        "answer": "C",
        "rationale": "With every valve closed the ventricular volume cannot change, so the "
        "pressure changes at a constant volume.",
    },
    {
        "stem": "Which ion's entry into cardiac muscle cells produces the plateau phase of "
        "the ventricular action potential?",
        "options": [
            {"key": "A", "text": "Sodium"},
            {"key": "B", "text": "Potassium"},
            {"key": "C", "text": "Calcium"},
            {"key": "D", "text": "Chloride"},
        ],
        "answer": "C",
        "rationale": "L-type channels let calcium in while potassium leaves, and the two "
        "currents balance into the plateau that follows the upstroke.",
    },
]
REVIEWS = [
    review(
        "A", flaws=["The vignette gives the duration of pain, which the question does not need."]
    ),
    review("B"),
    review("C"),
]


@pytest.mark.browser
def test_a_passed_item_shows_its_blind_review(
    make_server: Callable[..., LiveServer], page: Any, problems: PageProblems, tmp_path: Path
) -> None:
    """Also the docs' screenshot: BULKGEN_UPDATE_SCREENSHOTS=1 writes it to docs/."""
    with FakeOpenAI() as fake:
        # One item at a time: the answers and the reviews go out in this order.
        fake.push(*(Reply(content=json.dumps(written)) for written in CARDIAC))
        fake.push_review(*REVIEWS)
        live = make_server(
            openai_base_url=fake.url + "/v1",
            openai_api_key="sk-test-review",
            openai_requests_per_minute=60_000,
        )
        body = {
            "topic": "Cardiac physiology",
            "title": "Cardiac physiology — week 3 quiz",
            "count": len(CARDIAC),
            "concurrency": 1,
            "generator": "openai",
            "generator_options": {"review": {}},
        }
        with httpx.Client(base_url=live.url, timeout=60) as http:
            created = http.post(BATCHES, json=body)
            assert created.status_code == 201, created.text
            batch = wait_finished(http, created.json()["id"])
        assert (batch["progress"]["completed"], batch["progress"]["failed"]) == (2, 1)

        page.set_viewport_size({"width": 1280, "height": 1100})
        open_view(page, live.url, batch["id"])
        rows = page.locator("[data-role=feed-list] > li")
        expect(rows).to_have_count(len(CARDIAC))
        mismatch = rows.nth(1)
        expect(mismatch).to_have_attribute("data-status", "failed")
        expect(mismatch.locator('[data-rule="review.key_mismatch"]').first).to_be_attached()

        row = rows.nth(0)
        row.locator("summary").click()
        content = row.locator("[data-role=item-content]")
        expect(content).to_have_attribute("data-state", "loaded")
        reviewed = content.locator("[data-role=review]")
        expect(reviewed).to_have_attribute("data-agrees", "true")
        expect(reviewed.locator("[data-role=review-verdict]")).to_contain_text(
            "Agrees with the key"
        )
        expect(reviewed.locator("[data-role=review-answer]")).to_contain_text("A")
        expect(reviewed).to_contain_text("does not need")
        expect(row.locator('[data-rule="review.flaw"]').first).to_be_visible()
        row.scroll_into_view_if_needed()
        page.evaluate(SETTLED_TOP)

        folder = ROOT / "docs" if os.environ.get("BULKGEN_UPDATE_SCREENSHOTS") == "1" else tmp_path
        shot = folder / "progress-review.png"
        page.screenshot(path=str(shot))
        assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert problems.errors == []
