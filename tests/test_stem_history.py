"""The stems a run must not repeat, read back from the store (SQLite and PostgreSQL) and
loaded into the index: the batch's own passed stems and the owner's earlier batches' on
the same topic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bulkgen.generation.stem_history import (
    EARLIER_STEMS,
    SharedStems,
    earlier_label,
    load_stems,
)
from bulkgen.log import FinishItem, PassedStem, SQLStore, StartItem
from bulkgen.models import BatchConfig, GeneratedItem, ItemError, ItemStatus, Option

pytestmark = pytest.mark.databases


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SQLStore]:
    opened = SQLStore(database_url)
    await opened.migrate()
    yield opened
    await opened.close()


def item(stem: str) -> GeneratedItem:
    return GeneratedItem(
        stem=stem,
        options=[
            Option(key=k, text=t)
            for k, t in zip("ABCD", ("One", "Two", "Three", "Four"), strict=True)
        ],
        answer="A",
        rationale="A rationale that is long enough to pass the rationale length rule easily.",
    )


async def batch_with(
    store: SQLStore,
    stems: list[str | None],
    *,
    owner: str = "ada",
    topic: str = "Optics",
    title: str | None = None,
    at: float = 1.0,
) -> str:
    """A batch whose item i passed with ``stems[i]`` (or failed, for None)."""
    config = BatchConfig(topic=topic, count=len(stems), title=title)
    record = await store.create_batch(owner, config, at)
    await store.mark_running(record.id, at)
    changes: list[StartItem | FinishItem] = [StartItem(record.id, i, at) for i in range(len(stems))]
    for i, stem in enumerate(stems):
        if stem is None:
            error = ItemError(kind="validation", message="failed")
            changes.append(FinishItem(record.id, i, ItemStatus.FAILED, at, error=error))
        else:
            changes.append(
                FinishItem(record.id, i, ItemStatus.COMPLETED, at, result=item(stem), stem_key="k")
            )
    await store.apply(changes, at)
    return record.id


async def test_passed_stems_are_the_completed_items_in_index_order(store: SQLStore) -> None:
    batch_id = await batch_with(
        store, ["Which lens converges light?", None, "Which mirror diverges “light”?"]
    )
    assert await store.passed_stems(batch_id) == [
        PassedStem(batch_id, 0, "Which lens converges light?"),
        PassedStem(batch_id, 2, "Which mirror diverges “light”?"),
    ]
    assert await store.passed_stems("no-such-batch") == []


async def test_earlier_stems_are_the_owner_s_on_the_same_topic_newest_first(
    store: SQLStore,
) -> None:
    oldest = await batch_with(store, ["Which lens converges light?"], title="Week 1", at=1.0)
    await batch_with(store, ["Which prism splits light?"], topic="Acoustics", at=2.0)
    await batch_with(store, ["Which mirror reflects light?"], owner="bob", at=3.0)
    newer = await batch_with(store, ["What is a focal point?", None], topic=" optics ", at=4.0)
    current = await batch_with(store, [None], topic="OPTICS", at=5.0)
    await batch_with(store, ["Which fibre guides light?"], at=6.0)  # created later

    found = await store.earlier_stems(current, limit=EARLIER_STEMS)
    assert [(s.batch_id, s.index, s.stem) for s in found] == [
        (newer, 0, "What is a focal point?"),
        (oldest, 0, "Which lens converges light?"),
    ]
    assert (found[1].title, found[1].created_at) == ("Week 1", 1.0)
    assert len(await store.earlier_stems(current, limit=1)) == 1
    assert await store.earlier_stems("no-such-batch", limit=10) == []


async def test_the_index_holds_both_and_names_the_earlier_batch(store: SQLStore) -> None:
    await batch_with(store, ["Which lens converges light?"], title="Week 1", at=1.0)
    current = await batch_with(store, ["What is a focal point?", None], at=2.0)
    index = await load_stems(store, current)
    assert len(index) == 2
    own = index.find("What is the focal point?")
    assert own is not None and own.label == "item 1"
    earlier = index.find("Which lens converges light?")
    assert earlier is not None and earlier.label == "item 1 of your earlier batch 'Week 1'"


async def test_a_worker_s_slots_share_one_index_per_batch(store: SQLStore) -> None:
    batch_id = await batch_with(store, ["Which lens converges light?"])
    shared = SharedStems(store)
    first, second = await asyncio.gather(shared.acquire(batch_id), shared.acquire(batch_id))
    assert first is second and len(first) == 1
    first.add("Which prism splits white light?", "item 2")  # seen by the other slot too
    assert second.find("Which prism splits white light?") is not None
    shared.release(batch_id)
    assert await shared.acquire(batch_id) is first  # still held by one slot
    shared.release(batch_id)
    shared.release(batch_id)
    again = await shared.acquire(batch_id)  # loaded afresh from the store
    assert again is not first and len(again) == 1
    shared.release(batch_id)


def test_an_untitled_earlier_batch_is_named_by_its_date() -> None:
    passed = PassedStem("b", 4, "Which lens?", None, 1_700_000_000.0)
    assert earlier_label(passed) == "item 5 of your earlier batch of 2023-11-14 22:13 UTC"
