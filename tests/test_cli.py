"""``bulkgen batch …`` commands against a real server (uvicorn in a thread, SQLite in tmp_path)."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bulkgen.cli import app
from bulkgen.client import BulkgenClient
from bulkgen.models import Batch, Item, ItemStatus

from helpers.api import FAST
from helpers.gate import Gate
from helpers.server import LiveServer

SUMMARY = re.compile(r"completed: (\d+) completed, (\d+) failed of (\d+)")


@pytest.fixture
def server(live: LiveServer) -> LiveServer:
    return live


def bulkgen(server: LiveServer, *args: str) -> Result:
    return CliRunner().invoke(app, ["batch", *args], env={"BULKGEN_SERVER": server.url})


def run(server: LiveServer, work: Any) -> Any:
    async def go() -> Any:
        async with BulkgenClient(server.url) as client:
            return await work(client)

    return asyncio.run(go())


def finished_batch(server: LiveServer, **overrides: Any) -> Batch:
    """A batch of 12 quick items, some failed, after it finished."""
    body = {"topic": "Cardiac physiology", "count": 12, "generator_options": FAST, **overrides}

    async def work(client: BulkgenClient) -> Batch:
        batch = await client.create_batch(body)
        async for _event in client.events(batch.id):
            pass
        return await client.get_batch(batch.id)

    batch: Batch = run(server, work)
    return batch


def all_items(server: LiveServer, batch_id: str) -> list[Item]:
    async def work(client: BulkgenClient) -> list[Item]:
        return (await client.list_items(batch_id, limit=500)).items

    items: list[Item] = run(server, work)
    return items


def create_args(*extra: str) -> list[str]:
    return [
        "create",
        "--topic",
        "Cardiac physiology",
        "--count",
        "12",
        "--seed",
        "7",
        "--latency-ms",
        "5",
        "20",
        "--fail-rate",
        "0.2",
        "--invalid-rate",
        "0.2",
        *extra,
    ]


def test_create_then_watch_prints_the_final_counts(server: LiveServer) -> None:
    created = bulkgen(server, *create_args("--title", "Week 3 quiz"))
    assert created.exit_code == 0, created.output
    batch_id = re.search(r"Created batch (\w+): 12 items", created.stdout)
    assert batch_id is not None, created.stdout
    assert f"{server.url}/faculty/generate/batch/{batch_id[1]}" in created.stdout
    assert f"{server.url}/api/generation/batch/{batch_id[1]}/progress" in created.stdout

    watched = bulkgen(server, "watch", batch_id[1])
    assert watched.exit_code == 0, watched.output
    summary = SUMMARY.search(watched.stdout)
    assert summary is not None, watched.stdout
    statuses = [item.status for item in all_items(server, batch_id[1])]
    assert int(summary[1]) == statuses.count(ItemStatus.COMPLETED)
    assert int(summary[2]) == statuses.count(ItemStatus.FAILED) > 0
    assert summary[3] == "12"


def test_create_with_watch_reports_every_failed_item(server: LiveServer) -> None:
    result = bulkgen(server, *create_args("--watch"))
    assert result.exit_code == 0, result.output
    summary = SUMMARY.search(result.stdout)
    assert summary is not None, result.stdout
    failure_lines = re.findall(r"^✗ item (\d+)  (\S+)  (.+)$", result.stdout, re.MULTILINE)
    assert len(failure_lines) == int(summary[2]) > 0

    batch_id = re.search(r"Created batch (\w+)", result.stdout)
    assert batch_id is not None
    failed = {item.index: item for item in all_items(server, batch_id[1]) if item.error}
    for index, kind, detail in failure_lines:
        error = failed[int(index)].error
        assert error is not None and kind == error.kind
        if error.rules:
            assert detail == ", ".join(rule.rule for rule in error.rules)


def test_watch_json_prints_one_event_per_line(server: LiveServer) -> None:
    batch = finished_batch(server)
    result = bulkgen(server, "watch", batch.id, "--json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [event["event"] for event in events] == ["batch.progress", "batch.complete"]
    assert events[-1]["id"] == batch.last_event_id
    assert events[-1]["data"]["completed"] == batch.progress.completed


def test_list_shows_each_batch_with_its_counts(server: LiveServer) -> None:
    first = finished_batch(server, title="[bold]not markup[/bold]")
    second = finished_batch(server, count=5)
    result = bulkgen(server, "list")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    for batch, label in ((first, "[bold]not markup[/bold]"), (second, "Cardiac physiology")):
        row = rows[batch.id]
        progress = batch.progress
        assert label in row
        assert "completed" in row and "100.0%" in row
        assert f"{progress.completed}/{progress.failed}/{progress.total}" in row
    assert list(rows).index(second.id) < list(rows).index(first.id), "newest first"
    assert "1–2 of 2 batches" in result.stdout

    as_json = bulkgen(server, "list", "--json", "--limit", "1")
    assert as_json.exit_code == 0
    page = json.loads(as_json.stdout)
    assert [b["id"] for b in page["items"]] == [second.id] and page["total"] == 2


def test_show_prints_config_status_and_counts(server: LiveServer) -> None:
    batch = finished_batch(server, title="Renal")
    result = bulkgen(server, "show", batch.id)
    assert result.exit_code == 0, result.output
    fields = dict(
        re.split(r"\s{2,}", line.strip(), maxsplit=1)
        for line in result.stdout.splitlines()
        if re.search(r"\S\s{2,}\S", line)
    )
    assert fields["id"] == batch.id
    assert fields["title"] == "Renal"
    assert fields["status"] == "completed"
    assert fields["topic"] == "Cardiac physiology"
    assert fields["completed"] == str(batch.progress.completed)
    assert fields["failed"] == str(batch.progress.failed)
    assert fields["pending"] == "0"
    assert fields["progress"] == "12/12 (100.0%)"
    assert fields["throughput"].endswith("/min")
    assert "ETA" in fields


def test_show_prints_the_tokens_and_cost_of_a_batch_of_a_model(server: LiveServer) -> None:
    from bulkgen.cli.views import batch_details
    from bulkgen.models import CostEstimate, TokenUsage

    demo = finished_batch(server, title="Renal")
    assert not any(label in rendered(batch_details(demo)) for label in ("tokens", "cost"))
    config = demo.config.model_copy(update={"generator": "openai", "delivery": "provider_batch"})
    priced = demo.model_copy(
        update={
            "config": config,
            "usage": TokenUsage(prompt_tokens=12_000, completion_tokens=8_000, total_tokens=20_000),
            "cost": CostEstimate(usd=0.0033, per_valid_item_usd=0.000033, discount=0.5),
        }
    )
    shown = rendered(batch_details(priced))
    assert "delivery        provider_batch" in shown
    assert "tokens          20,000 (12,000 prompt, 8,000 completion)" in shown
    assert "estimated cost  $0.0033, $0.000033 per valid item" in shown


def rendered(table: object) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def test_items_of_one_status_show_their_errors(server: LiveServer) -> None:
    batch = finished_batch(server)
    failed = [item for item in all_items(server, batch.id) if item.status is ItemStatus.FAILED]
    assert failed
    result = bulkgen(server, "items", batch.id, "--status", "failed")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()[1:-1]]
    assert [int(row[0]) for row in rows] == [item.index for item in failed]
    for row, item in zip(rows, failed, strict=True):
        assert item.error is not None
        assert row[1] == "failed"
        assert row[4] == item.error.kind
        for rule in item.error.rules:
            assert rule.rule in " ".join(row)
    assert f"of {len(failed)} items" in result.stdout

    limited = bulkgen(server, "items", batch.id, "--limit", "3")
    assert limited.exit_code == 0
    assert "1–3 of 12 items" in limited.stdout


def test_cancel_and_retry(make_server: Callable[..., LiveServer]) -> None:
    gate = Gate(at=0)  # the first batch is running when it is cancelled
    server = make_server(gate=gate)
    slow = run(
        server,
        lambda client: client.create_batch({"topic": "Slow", "count": 50, "concurrency": 1}),
    )
    cancelled = bulkgen(server, "cancel", slow.id)
    assert cancelled.exit_code == 0, cancelled.output
    assert f"Batch {slow.id} is cancelled" in cancelled.stdout
    again = bulkgen(server, "cancel", slow.id)
    assert again.exit_code == 1
    assert again.stderr.startswith("error: ")
    gate.open()

    batch = finished_batch(server)
    retried = bulkgen(server, "retry", batch.id)
    assert retried.exit_code == 0, retried.output
    assert f"Batch {batch.id} is " in retried.stdout
    watched = bulkgen(server, "watch", batch.id)
    assert watched.exit_code == 0
    assert SUMMARY.search(watched.stdout)


@pytest.mark.parametrize("command", ["watch", "show", "items", "cancel", "retry"])
def test_an_unknown_batch_is_one_line_and_exit_1(server: LiveServer, command: str) -> None:
    result = bulkgen(server, command, "no-such-batch")
    assert result.exit_code == 1
    assert result.stderr == "error: no batch no-such-batch\n"
    assert result.stdout == ""


def test_an_invalid_count_is_a_clear_error(server: LiveServer) -> None:
    result = bulkgen(server, "create", "--topic", "Renal", "--count", "0")
    assert result.exit_code == 1
    assert result.stderr == "error: count: Input should be greater than or equal to 1\n"
    assert "Traceback" not in result.output


def test_an_unreachable_server_is_a_clear_error(unused_tcp_port: int) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}"
    result = CliRunner().invoke(app, ["batch", "list", "--server", url])
    assert result.exit_code == 1
    assert result.stderr == f"error: the bulkgen server is not reachable at {url}\n"


def test_retry_one_reason_requeues_only_that_group(server: LiveServer) -> None:
    batch = finished_batch(
        server,
        count=40,
        generator_options={**FAST, "fail_rate": 0.3, "invalid_rate": 0.3, "seed": 11},
    )
    reasons = batch.progress.failure_reasons
    reason = next(k for k in reasons if k.startswith("rule:"))
    before = {i.index: i for i in all_items(server, batch.id)}
    group = {
        i for i, item in before.items() if item.error is not None and reason in item.error.reasons()
    }
    assert len(group) == reasons[reason]

    retried = bulkgen(server, "retry", batch.id, "--reason", reason, "--json")
    assert retried.exit_code == 0, retried.output
    assert reason not in json.loads(retried.stdout)["progress"]["failure_reasons"]
    assert bulkgen(server, "watch", batch.id).exit_code == 0
    after = {i.index: i for i in all_items(server, batch.id)}
    changed = {i for i in before if after[i] != before[i]}
    assert changed == group

    missing = bulkgen(server, "retry", batch.id, "--reason", "kind:nothing_like_it")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: ") and "kind:nothing_like_it" in missing.stderr
    malformed = bulkgen(server, "retry", batch.id, "--reason", "Timeout")
    assert malformed.exit_code == 1
    assert malformed.stderr.startswith("error: reason")
    assert "Traceback" not in malformed.output


def test_pause_and_resume(make_server: Callable[..., LiveServer]) -> None:
    gate = Gate(at=1)  # the batch's second item waits in flight: it cannot end first
    server = make_server(gate=gate)
    slow = run(
        server,
        lambda client: client.create_batch(
            {
                "topic": "Slow",
                "count": 30,
                "concurrency": 1,
                "generator_options": {"latency_ms": [0, 5]},
            }
        ),
    )
    paused = bulkgen(server, "pause", slow.id)
    assert paused.exit_code == 0, paused.output
    assert f"Batch {slow.id} is paused" in paused.stdout
    again = bulkgen(server, "pause", slow.id)
    assert again.exit_code == 1
    assert again.stderr.startswith("error: ")
    resumed = bulkgen(server, "resume", slow.id, "--json")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["status"] == "running"
    gate.open()
    watched = bulkgen(server, "watch", slow.id)
    assert watched.exit_code == 0, watched.output
    assert SUMMARY.search(watched.stdout)
    assert bulkgen(server, "resume", slow.id).exit_code == 1


def test_watch_says_why_a_batch_is_not_moving() -> None:
    from datetime import UTC, datetime, timedelta

    from bulkgen.cli.watch import state_line
    from bulkgen.models import BatchStatus, PauseInfo, ProgressSnapshot

    now = datetime(2026, 11, 29, 10, 0, 0, tzinfo=UTC)
    base = ProgressSnapshot(
        total=10,
        completed=4,
        failed=0,
        in_progress=2,
        pending=4,
        percent=40.0,
        success_rate=1.0,
        throughput_per_min=6.0,
        eta_seconds=None,
        elapsed_seconds=60.0,
        status=BatchStatus.RUNNING,
        started_at=now,
        finished_at=None,
    )
    assert state_line(base, now) is None
    stalled = base.model_copy(
        update={
            "stalled": True,
            "last_finished_at": now - timedelta(seconds=80),
            "backoff_until": now + timedelta(seconds=20),
        }
    )
    line = state_line(stalled, now)
    assert line is not None
    assert "stalled: no item finished for 1m 20s" in line.plain
    assert "provider asked to wait until 10:00:20" in line.plain
    paused = base.model_copy(
        update={
            "status": BatchStatus.PAUSED,
            "pause": PauseInfo(reason="early_stop", message="7 of the first 10", at=now),
        }
    )
    line = state_line(paused, now)
    assert line is not None and "early stop" in line.plain and "7 of the first 10" in line.plain


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["worker"], "workers need PostgreSQL"),
        (["serve", "--no-workers"], "--no-workers needs PostgreSQL"),
    ],
)
def test_postgres_only_roles_refuse_sqlite_with_a_message(
    args: list[str], message: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize("command", ["worker", "migrate", "serve"])
def test_an_unreachable_database_is_one_line_not_a_traceback(
    command: str, tmp_path: Any, unused_tcp_port: int
) -> None:
    url = f"postgresql+psycopg://nobody@/bulkgen?host={tmp_path}/absent"
    args = [command, "--database-url", url]
    if command == "serve":
        args += ["--port", str(unused_tcp_port)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output  # one line, however long
    assert "cannot use the database postgresql+psycopg://…" in result.output
    assert "Traceback" not in result.output
    assert "serving on" not in result.output  # no banner for a server that cannot start
    assert "nobody" not in result.output  # the URL's user (or password) is never printed


@pytest.mark.parametrize(
    ("where", "reason"),
    [("folder", "it is a directory"), ("under-a-file/bulkgen.db", "cannot create its folder")],
)
def test_a_sqlite_file_that_cannot_be_used_is_one_line_before_any_banner(
    where: str, reason: str, tmp_path: Any, unused_tcp_port: int
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "under-a-file").write_text("not a folder")
    database = tmp_path / where
    result = CliRunner().invoke(
        app, ["serve", "--database", str(database), "--port", str(unused_tcp_port)]
    )
    assert result.exit_code == 1
    assert (
        result.output
        == f"error: cannot use the database {database}: {reason}"
        + (result.output.split(reason, 1)[1])
    )
    assert result.output.count("\n") == 1 and "serving on" not in result.output


@pytest.mark.parametrize("value", ["nonsense", "mysql://db/x", "sqlite:///plain-driver.db"])
def test_a_database_url_of_another_kind_is_named(value: str) -> None:
    result = CliRunner().invoke(app, ["migrate", "--database-url", value])
    assert result.exit_code == 2
    assert "unknown database" in result.output and "sqlite+aiosqlite:///PATH" in result.output


def test_an_empty_database_url_is_unset(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``BULKGEN_DATABASE_URL=`` (an empty variable) leaves the SQLite default."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BULKGEN_DATABASE_URL", "")
    result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "bulkgen.db is up to date" in result.output
