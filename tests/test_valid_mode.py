"""Mode "valid" (N valid items): replacements in the store, over the API and SSE, the CLI,
the form and the progress view."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from pydantic import ValidationError
from typer.testing import CliRunner

from bulkgen.cli import app
from bulkgen.errors import Conflict
from bulkgen.log import FinishItem, SQLStore, StartItem
from bulkgen.models import BatchConfig, BatchStatus, ItemError, ItemStatus
from bulkgen.progress import Counts, ValidTarget, snapshot
from bulkgen.services import batch_view

from helpers.api import BATCHES, all_items, batch_body, replay
from helpers.browser import PageProblems
from helpers.server import LiveServer
from helpers.sse import read_stream
from helpers.wait import wait_finished, wait_until_finished

NEW = "/faculty/generate/batch/new"


# -- config ----------------------------------------------------------------------------------


def test_valid_mode_defaults_its_cap_to_three_times_the_count() -> None:
    config = BatchConfig(topic="Optics", count=50, mode="valid")
    assert config.max_items == 150
    assert BatchConfig(topic="Optics", count=10_000, mode="valid").max_items == 30_000
    assert BatchConfig(topic="Optics", count=50).max_items is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"count": 30, "mode": "valid", "max_items": 29}, "between count (30) and 300"),
        ({"count": 30, "mode": "valid", "max_items": 301}, "between count (30) and 300"),
        ({"count": 5000, "mode": "valid", "max_items": 30_001}, "between count (5000) and 30000"),
        ({"count": 30, "max_items": 60}, "only allowed with mode 'valid'"),
    ],
)
def test_a_cap_out_of_bounds_is_an_error_on_max_items(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        BatchConfig(topic="Optics", **body)
    [error] = raised.value.errors()
    assert error["loc"] == ("max_items",)
    assert message in error["msg"]


# -- progress math ---------------------------------------------------------------------------


def test_valid_snapshot_measures_the_target() -> None:
    counts = Counts(total=14, pending=2, in_progress=2, completed=6, failed=4)
    valid = ValidTarget(target=10, max_items=30)
    shot = snapshot(
        counts,
        status=BatchStatus.RUNNING,
        finishes=[0.0, 1.0, 2.0, 3.0, 4.0],
        started_at=0.0,
        finished_at=None,
        now=4.0,
        valid=valid,
    )
    assert shot.percent == 60.0  # 6 of the 10 valid items
    assert (shot.target_valid, shot.replacements, shot.max_items) == (10, 4, 30)
    # 4 valid items to go at 1 finish/s × 60 % passing.
    assert shot.eta_seconds == pytest.approx(4 / 0.6, abs=0.1)
    plain = snapshot(
        counts,
        status=BatchStatus.RUNNING,
        finishes=[0.0, 1.0, 2.0, 3.0, 4.0],
        started_at=0.0,
        finished_at=None,
        now=4.0,
    )
    assert (plain.percent, plain.target_valid, plain.replacements, plain.eta_seconds) == (
        round(100 * 10 / 14, 2),
        None,
        0,
        4.0,
    )


# -- store -----------------------------------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLStore]:
    opened = SQLStore(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await opened.migrate()
    yield opened
    await opened.close()


async def valid_batch(store: SQLStore, count: int, max_items: int) -> str:
    config = BatchConfig(topic="Optics", count=count, mode="valid", max_items=max_items)
    record = await store.create_batch("ada", config, 1.0)
    await store.mark_running(record.id, 2.0)
    return record.id


def finish(batch_id: str, index: int, at: float, passed: bool) -> FinishItem:
    if passed:
        return FinishItem(batch_id, index, ItemStatus.COMPLETED, at)
    error = ItemError(kind="malformed_output", message="not JSON")
    return FinishItem(batch_id, index, ItemStatus.FAILED, at, error=error)


async def run_item(store: SQLStore, batch_id: str, index: int, at: float, passed: bool) -> None:
    await store.apply([StartItem(batch_id, index, at)], at)
    await store.apply([finish(batch_id, index, at + 0.5, passed)], at + 0.5)


async def assert_consistent(store: SQLStore, batch_id: str) -> list[Any]:
    """Counters equal a recount of the items; the log is contiguous from 1."""
    record = await store.get_batch(batch_id, None)
    items, total = await store.list_items(batch_id, "ada", status=None, limit=500, offset=0)
    recount = Counter(item.status.value for item in items)
    counts = record.counts
    assert total == counts.total == len(items)
    assert [item.index for item in items] == list(range(total))
    assert (counts.pending, counts.in_progress, counts.completed, counts.failed) == (
        recount["pending"],
        recount["in_progress"],
        recount["completed"],
        recount["failed"],
    )
    log = await store.read_events(batch_id, after=0, limit=10_000)
    assert [event.seq for event in log] == list(range(1, record.last_seq + 1))
    return log


async def test_a_failure_queues_one_replacement_in_the_same_transaction(store: SQLStore) -> None:
    batch_id = await valid_batch(store, count=3, max_items=9)
    await store.apply([StartItem(batch_id, i, 3.0) for i in range(3)], 3.0)
    await store.apply([finish(batch_id, 0, 4.0, passed=False)], 4.0)
    record = await store.get_batch(batch_id, None)
    assert (record.counts.total, record.counts.pending, record.counts.failed) == (4, 1, 1)
    log = await assert_consistent(store, batch_id)
    assert [event.type for event in log[-2:]] == ["item.failed", "item.queued"]
    queued = json.loads(log[-1].data)
    assert (queued["index"], queued["status"], queued["attempts"]) == (3, "pending", 0)
    assert await store.pending_indices(batch_id, after=-1, limit=10) == [3]
    assert batch_view(record, 5.0).progress.replacements == 1


async def test_replacements_reach_the_target_and_never_pass_it(store: SQLStore) -> None:
    batch_id = await valid_batch(store, count=3, max_items=9)
    fates = iter([False, True, False, True, True])  # in index order
    at = 3.0
    while pending := await store.pending_indices(batch_id, after=-1, limit=10):
        await run_item(store, batch_id, pending[0], at, next(fates))
        at += 1.0
    record = await store.get_batch(batch_id, None)
    assert record.status is BatchStatus.COMPLETED
    assert (record.counts.completed, record.counts.failed, record.counts.total) == (3, 2, 5)
    log = await assert_consistent(store, batch_id)
    assert sum(event.type == "item.queued" for event in log) == 2
    final = json.loads(log[-1].data)
    assert (final["percent"], final["target_valid"], final["replacements"]) == (100.0, 3, 2)
    # The target is met: a retry would pass it, so there is nothing to retry.
    with pytest.raises(Conflict):
        await store.requeue_failed(batch_id, at)


async def test_the_cap_stops_replacements_and_the_batch_ends_short(store: SQLStore) -> None:
    batch_id = await valid_batch(store, count=2, max_items=4)
    at = 3.0
    while pending := await store.pending_indices(batch_id, after=-1, limit=10):
        await run_item(store, batch_id, pending[0], at, passed=pending[0] == 1)
        at += 1.0
    record = await store.get_batch(batch_id, None)
    assert record.status is BatchStatus.COMPLETED
    assert (record.counts.total, record.counts.completed, record.counts.failed) == (4, 1, 3)
    log = await assert_consistent(store, batch_id)
    assert sum(event.type == "item.queued" for event in log) == 2
    progress = batch_view(record, at).progress
    assert progress.percent == 50.0 and progress.eta_seconds == 0.0
    # A retry puts back only the one failed item still needed for the target.
    assert await store.requeue_failed(batch_id, at) == 1
    again = await store.get_batch(batch_id, None)
    assert (again.counts.pending, again.counts.failed, again.counts.total) == (1, 2, 4)


async def test_attempts_mode_never_queues_replacements(store: SQLStore) -> None:
    record = await store.create_batch("ada", BatchConfig(topic="Optics", count=2), 1.0)
    await store.mark_running(record.id, 2.0)
    await run_item(store, record.id, 0, 3.0, passed=False)
    await run_item(store, record.id, 1, 4.0, passed=False)
    done = await store.get_batch(record.id, None)
    assert done.status is BatchStatus.COMPLETED
    assert (done.counts.total, done.counts.failed) == (2, 2)
    assert all(event.type != "item.queued" for event in await assert_consistent(store, record.id))


# -- API and SSE -----------------------------------------------------------------------------


def test_a_valid_batch_reaches_its_target_over_sse(client: httpx.Client, live: LiveServer) -> None:
    body = batch_body(count=30, mode="valid", generator_options={"invalid_rate": 0.3})
    created = client.post(BATCHES, json=body)
    assert created.status_code == 201, created.text
    batch = created.json()
    assert batch["config"]["max_items"] == 90
    stream = read_stream(live.url, batch["id"], after=0)
    assert stream.ended
    final = wait_finished(client, batch["id"])
    progress = final["progress"]
    assert final["status"] == "completed"
    assert progress["completed"] == 30 and progress["percent"] == 100.0
    assert progress["replacements"] == progress["total"] - 30 > 0
    assert progress["failed"] == progress["replacements"]
    queued = [frame for frame in stream.durable if frame.event == "item.queued"]
    assert len(queued) == progress["replacements"]
    assert [frame.data["index"] for frame in queued] == list(range(30, progress["total"]))
    ids = [frame.id for frame in stream.durable]
    assert ids == list(range(1, len(ids) + 1))
    items = all_items(client, batch["id"])
    assert replay(stream.durable) == {item["index"]: item["status"] for item in items}
    assert sum(item["status"] == "completed" for item in items) == 30
    complete = stream.durable[-1]
    assert complete.event == "batch.complete" and complete.data["target_valid"] == 30


def test_a_valid_batch_stops_at_its_cap(client: httpx.Client) -> None:
    body = batch_body(count=30, mode="valid", max_items=40, generator_options={"invalid_rate": 0.9})
    batch = client.post(BATCHES, json=body).json()
    final = wait_finished(client, batch["id"])
    progress = final["progress"]
    assert final["status"] == "completed"
    assert (progress["total"], progress["pending"], progress["in_progress"]) == (40, 0, 0)
    assert progress["completed"] < 30
    assert progress["replacements"] == 10 and progress["max_items"] == 40
    assert progress["percent"] == round(100 * progress["completed"] / 30, 2)


@pytest.mark.parametrize(
    "overrides",
    [
        {"mode": "valid", "max_items": 11},
        {"mode": "valid", "max_items": 121},
        {"max_items": 24},
        {"mode": "best_effort"},
    ],
)
def test_bad_mode_or_cap_is_422_naming_the_field(
    client: httpx.Client, overrides: dict[str, Any]
) -> None:
    response = client.post(BATCHES, json=batch_body(**overrides))
    assert response.status_code == 422
    fields = {tuple(problem["loc"])[-1] for problem in response.json()["detail"]}
    assert fields == {next(iter(overrides)) if len(overrides) == 1 else "max_items"}


# -- CLI -------------------------------------------------------------------------------------


def test_cli_creates_a_valid_batch(live: LiveServer, client: httpx.Client) -> None:
    result = CliRunner().invoke(
        app,
        [
            "batch",
            "create",
            "--topic",
            "Optics",
            "--count",
            "5",
            "--mode",
            "valid",
            "--max-items",
            "8",
            "--seed",
            "3",
            "--latency-ms",
            "5",
            "20",
            "--json",
        ],
        env={"BULKGEN_SERVER": live.url},
    )
    assert result.exit_code == 0, result.output
    batch = json.loads(result.stdout)
    assert (batch["config"]["mode"], batch["config"]["max_items"]) == ("valid", 8)
    assert batch["progress"]["target_valid"] == 5
    wait_finished(client, batch["id"])
    shown = CliRunner().invoke(
        app, ["batch", "show", batch["id"]], env={"BULKGEN_SERVER": live.url}
    )
    assert shown.exit_code == 0, shown.output
    assert re.search(r"attempt cap\s+8", shown.stdout)
    bad = CliRunner().invoke(
        app,
        ["batch", "create", "--topic", "Optics", "--count", "5", "--max-items", "8"],
        env={"BULKGEN_SERVER": live.url},
    )
    assert bad.exit_code == 1 and "max_items" in bad.output


# -- pages -----------------------------------------------------------------------------------


def form(client: httpx.Client, **overrides: str) -> httpx.Response:
    page = client.get(NEW)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    values = {
        "topic": "Renal physiology",
        "count": "5",
        "seed": "3",
        "latency_min": "5",
        "latency_max": "20",
        "csrf_token": token.group(1),
        **overrides,
    }
    return client.post(NEW, data=values, follow_redirects=False)


def test_the_form_creates_a_valid_batch_and_rejects_a_bad_cap(client: httpx.Client) -> None:
    bad = form(client, mode="valid", max_items="3")
    assert bad.status_code == 422
    assert 'data-error-for="max_items">Enter an attempt cap from ' in bad.text
    assert 'id="max_items"' in bad.text and 'aria-invalid="true"' in bad.text
    word = form(client, mode="valid", max_items="many")
    assert 'data-error-for="max_items">Enter a whole number' in word.text
    created = form(client, mode="valid", max_items="12")
    assert created.status_code == 303
    batch_id = created.headers["location"].rsplit("/", 1)[-1]
    batch = client.get(f"{BATCHES}/{batch_id}").json()
    assert (batch["config"]["mode"], batch["config"]["max_items"]) == ("valid", 12)


@pytest.mark.browser
def test_the_progress_view_shows_valid_over_target(
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    body = batch_body(
        count=20,
        mode="valid",
        generator_options={"invalid_rate": 0.3, "latency_ms": [20, 60]},
    )
    batch = client.post(BATCHES, json=body).json()
    page.goto(f"{live.url}/faculty/generate/batch/{batch['id']}")
    expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-role=valid-goal]")).to_contain_text(" / 20 · ")
    wait_until_finished(page)
    final = wait_finished(client, batch["id"])["progress"]
    replacements = final["replacements"]
    assert final["completed"] == 20 and replacements > 0
    expected = (
        f"Valid 20 / 20 · {final['failed']} failed attempt{'s' if final['failed'] != 1 else ''}"
        f" · {replacements} replacement{'s' if replacements != 1 else ''} queued · cap 60 items"
    )
    expect(page.locator("[data-role=valid-goal]")).to_have_text(expected)
    expect(page.locator("[data-role=percent]")).to_have_text("100%")
    expect(page.locator("[data-role=finished-count]")).to_have_text("20")
    expect(page.locator("[data-role=total]")).to_have_text("20")
    bar = page.locator("#progress-view [role=progressbar]")
    assert bar.get_attribute("aria-valuemax") == "20"
    assert bar.get_attribute("aria-valuenow") == "20"
    # The server-rendered page says the same as the live one did.
    page.reload()
    expect(page.locator("[data-role=valid-goal]")).to_have_text(expected)
    assert problems.errors == [] and problems.dialogs == []
