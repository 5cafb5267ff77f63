"""The runner and the group-commit writer, with scripted generators on a real store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulkgen.errors import TransientGenerationError
from bulkgen.generation import GenerationRequest
from bulkgen.generation.item_work import (
    INTERNAL_ERROR,
    JITTER,
    MAX_RETRY_AFTER_SECONDS,
    backoff_seconds,
)
from bulkgen.models import BatchConfig, BatchStatus, GeneratedItem, ItemStatus, Option
from bulkgen.services import Services
from bulkgen.settings import Settings

from helpers.wait import until_finished


def good_item(index: int) -> GeneratedItem:
    # Each index names its own laser and lab in letters, so no two stems ask the same thing
    # (numbers alone would make them duplicates).
    tag = "".join("abcdefghij"[int(digit)] for digit in str(index))
    return GeneratedItem(
        stem=f"Laser k{tag}q in lab z{tag}w: which wavelength does it emit most strongly?",
        options=[
            Option(key=k, text=t)
            for k, t in zip("ABCD", ("650 nm", "450 nm", "532 nm", "405 nm"), strict=False)
        ],
        answer="A",
        rationale="Red diode lasers typically emit near 650 nm. The other values are blue, green "
        "and violet wavelengths, which belong to other laser types.",
    )


class Scripted:
    """A generator whose behaviour per item is set by the test."""

    name = "scripted"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.active = 0
        self.peak = 0
        self.calls: list[tuple[int, int]] = []

    async def generate(self, request: GenerationRequest) -> GeneratedItem:
        self.calls.append((request.index, request.attempt))
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.delay)
            if request.index == 1 and request.attempt < 3:
                raise TransientGenerationError("timeout", "no answer in 30 s")
            if request.index == 2:
                raise ValueError("generator bug")
            return good_item(request.index)
        finally:
            self.active -= 1


@pytest.fixture
def scripted() -> Scripted:
    return Scripted(delay=0.01)


@pytest.fixture
async def services(tmp_path: Path, scripted: Scripted) -> AsyncIterator[Services]:
    settings = Settings(
        database=tmp_path / "p.db", retry_backoff_seconds=0.001, global_concurrency=3
    )
    started = await Services.start(settings, generator_factory=lambda _config: scripted)
    yield started
    await started.stop()


async def finished(services: Services, batch_id: str) -> BatchStatus:
    return await until_finished(services, batch_id)


async def test_retries_transient_errors_and_fails_generator_bugs(
    services: Services, scripted: Scripted
) -> None:
    batch = await services.create_batch("ada", BatchConfig(topic="Optics", count=4, concurrency=4))
    assert await finished(services, batch.id) is BatchStatus.COMPLETED
    items, _ = await services.store.list_items(batch.id, "ada", status=None, limit=10, offset=0)
    assert [i.status for i in items] == [
        ItemStatus.COMPLETED,
        ItemStatus.COMPLETED,
        ItemStatus.FAILED,
        ItemStatus.COMPLETED,
    ]
    retried = items[1]
    assert [a.error_kind for a in retried.attempts] == ["timeout", "timeout", None]
    assert items[2].error is not None and items[2].error.kind == "generator_error"
    # The bug's text is in the server's log, never in the item a faculty member reads.
    assert items[2].error.message == INTERNAL_ERROR
    assert "generator bug" not in items[2].error.message


async def test_global_cap_bounds_work_across_batches(
    services: Services, scripted: Scripted
) -> None:
    configs = [BatchConfig(topic="Optics", count=10, concurrency=8) for _ in range(2)]
    batches = [await services.create_batch("ada", c) for c in configs]
    for batch in batches:
        await finished(services, batch.id)
    assert scripted.peak <= 3  # global_concurrency=3 although each batch allows 8


async def test_per_batch_concurrency(tmp_path: Path) -> None:
    scripted = Scripted(delay=0.01)
    settings = Settings(database=tmp_path / "c.db", retry_backoff_seconds=0.001)
    services = await Services.start(settings, generator_factory=lambda _c: scripted)
    try:
        batch = await services.create_batch(
            "ada", BatchConfig(topic="Optics", count=12, concurrency=2)
        )
        await finished(services, batch.id)
        assert scripted.peak == 2
    finally:
        await services.stop()


async def test_duplicate_stems_in_a_batch_fail_validation(tmp_path: Path) -> None:
    class Same:
        name = "same"

        async def generate(self, request: GenerationRequest) -> GeneratedItem:
            return good_item(0)

    settings = Settings(database=tmp_path / "d.db")
    services = await Services.start(settings, generator_factory=lambda _c: Same())
    try:
        batch = await services.create_batch(
            "ada", BatchConfig(topic="Optics", count=3, concurrency=1)
        )
        await finished(services, batch.id)
        items, _ = await services.store.list_items(batch.id, "ada", status=None, limit=10, offset=0)
        assert [i.status for i in items] == [
            ItemStatus.COMPLETED,
            ItemStatus.FAILED,
            ItemStatus.FAILED,
        ]
        assert items[1].error is not None
        assert [r.rule for r in items[1].error.rules] == ["stem.duplicate"]
    finally:
        await services.stop()


class Repeating:
    """Asks one question about aspirin with another age and dose each time, and once
    asks a really different one."""

    name = "repeating"

    async def generate(self, request: GenerationRequest) -> GeneratedItem:
        if request.index == 2:
            return good_item(0)  # a different question altogether
        age, dose = 40 + request.index, 75 + 5 * request.index
        return good_item(0).model_copy(
            update={
                "stem": f"A {age}-year-old man takes {dose} mg of aspirin daily. Which enzyme "
                "does aspirin inhibit irreversibly?"
            }
        )


async def test_a_question_repeated_with_other_numbers_fails_as_a_duplicate(
    tmp_path: Path,
) -> None:
    settings = Settings(database=tmp_path / "n.db")
    services = await Services.start(settings, generator_factory=lambda _c: Repeating())
    try:
        batch = await services.create_batch(
            "ada", BatchConfig(topic="Pharmacology", count=4, concurrency=1)
        )
        await finished(services, batch.id)
        items, _ = await services.store.list_items(batch.id, "ada", status=None, limit=10, offset=0)
        assert [i.status for i in items] == [
            ItemStatus.COMPLETED,
            ItemStatus.FAILED,
            ItemStatus.COMPLETED,
            ItemStatus.FAILED,
        ]
        for repeat in (items[1], items[3]):
            assert repeat.error is not None
            [result] = repeat.error.rules
            assert result.rule == "stem.duplicate"
            assert result.message.startswith(
                "the stem repeats item 1 with only numbers or wording such as case and "
                "punctuation changed: 'A 40-year-old man takes 75 mg of aspirin daily."
            )
    finally:
        await services.stop()


async def test_a_later_batch_on_the_same_topic_does_not_repeat_an_earlier_one(
    tmp_path: Path,
) -> None:
    settings = Settings(database=tmp_path / "t.db")
    services = await Services.start(settings, generator_factory=lambda _c: Repeating())
    try:
        first = await services.create_batch(
            "ada", BatchConfig(topic="Pharmacology", title="Week 1", count=1, concurrency=1)
        )
        await finished(services, first.id)
        again = BatchConfig(topic="  PHARMACOLOGY ", count=1, concurrency=1)
        second = await services.create_batch("ada", again)
        other_owner = await services.create_batch("bob", again)
        other_topic = await services.create_batch(
            "ada", BatchConfig(topic="Toxicology", count=1, concurrency=1)
        )
        for batch in (second, other_owner, other_topic):
            await finished(services, batch.id)

        [repeat], _ = await services.store.list_items(
            second.id, "ada", status=None, limit=10, offset=0
        )
        assert repeat.status is ItemStatus.FAILED and repeat.error is not None
        assert [r.rule for r in repeat.error.rules] == ["stem.duplicate"]
        assert "repeats item 1 of your earlier batch 'Week 1'" in repeat.error.rules[0].message
        for batch, owner in ((other_owner, "bob"), (other_topic, "ada")):
            [fresh], _ = await services.store.list_items(
                batch.id, owner, status=None, limit=10, offset=0
            )
            assert fresh.status is ItemStatus.COMPLETED
    finally:
        await services.stop()


async def test_writer_commits_many_changes_per_transaction(tmp_path: Path) -> None:
    class Instant:
        name = "instant"

        async def generate(self, request: GenerationRequest) -> GeneratedItem:
            return good_item(request.index)

    settings = Settings(database=tmp_path / "w.db")
    services = await Services.start(settings, generator_factory=lambda _c: Instant())
    try:
        batch = await services.create_batch(
            "ada", BatchConfig(topic="Optics", count=2000, concurrency=64)
        )
        await finished(services, batch.id)
        assert services.log.changes == 4000
        # group commit: far fewer transactions than changes
        assert services.log.transactions * 10 < services.log.changes
    finally:
        await services.stop()


async def test_writer_retries_a_group_the_database_refused(tmp_path: Path) -> None:
    from sqlalchemy.exc import OperationalError

    from bulkgen.log import SQLStore, StartItem
    from bulkgen.log.bus import LocalBus
    from bulkgen.log.eventlog import EventLog

    class Flaky(SQLStore):
        refusals = 2

        async def apply(self, changes, now):  # type: ignore[no-untyped-def]
            if self.refusals:
                self.refusals -= 1
                raise OperationalError("INSERT", {}, Exception("database is locked"))
            return await super().apply(changes, now)

    store = Flaky(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    await store.migrate()
    writer = EventLog(store, LocalBus(), max_group=100)
    writer.start()
    try:
        record = await store.create_batch("ada", BatchConfig(topic="Optics", count=5), 1.0)
        await store.mark_running(record.id, 1.0)
        for index in range(5):
            await writer.submit(StartItem(record.id, index, 2.0))
        await writer.flush()
        after = await store.get_batch(record.id, None)
        assert store.refusals == 0
        assert after.counts.in_progress == 5 and after.last_seq == 5
    finally:
        await writer.close()
        await store.close()


def test_backoff_doubles_honours_retry_after_and_adds_bounded_jitter() -> None:
    for failures, expected in [(1, 0.5), (2, 1.0), (3, 2.0)]:
        waits = [backoff_seconds(0.5, failures) for _ in range(200)]
        assert all(expected <= wait <= expected * (1 + JITTER) for wait in waits)
        assert len(set(waits)) > 1  # jittered
    assert 3.0 <= backoff_seconds(0.5, 1, retry_after=3.0) <= 3.0 * (1 + JITTER)
    assert 1.0 <= backoff_seconds(0.5, 2, retry_after=0.1) <= 1.0 * (1 + JITTER)
    capped = backoff_seconds(0.5, 1, retry_after=86_400)
    assert MAX_RETRY_AFTER_SECONDS <= capped <= MAX_RETRY_AFTER_SECONDS * (1 + JITTER)


async def test_a_transient_error_s_retry_after_delays_the_next_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulkgen.generation import item_work

    waits: list[float] = []

    def recording_backoff(base: float, failures: int, retry_after: float | None = None) -> float:
        waits.append(backoff_seconds(base, failures, retry_after))
        return waits[-1]

    monkeypatch.setattr(item_work, "backoff_seconds", recording_backoff)

    class Limited:
        name = "limited"

        def __init__(self) -> None:
            self.attempts: list[int] = []
            self.closed = 0
            self.released = asyncio.Event()

        async def generate(self, request: GenerationRequest) -> GeneratedItem:
            self.attempts.append(request.attempt)
            if request.attempt == 1:
                raise TransientGenerationError("rate_limited", "429", retry_after=0.3)
            return good_item(request.index)

        async def aclose(self) -> None:
            self.closed += 1
            self.released.set()

    limited = Limited()
    settings = Settings(database=tmp_path / "r.db", retry_backoff_seconds=0.001)
    services = await Services.start(settings, generator_factory=lambda _c: limited)
    try:
        batch = await services.create_batch("ada", BatchConfig(topic="Optics", count=1))
        assert await finished(services, batch.id) is BatchStatus.COMPLETED
        assert len(limited.attempts) == 2
        # The wait before the second attempt honoured Retry-After over the 1 ms backoff.
        assert len(waits) == 1 and waits[0] >= 0.3
        # The batch ends in the store just before its run does, which then lets go of it.
        await asyncio.wait_for(limited.released.wait(), timeout=60)
        assert limited.closed == 1  # the run released its generator when it ended
    finally:
        await services.stop()
