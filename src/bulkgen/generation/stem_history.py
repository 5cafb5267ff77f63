"""The stems a run's items must not repeat, loaded into a :class:`StemIndex` at its start.

They are the batch's own passed stems (so a run resumed after a restart, or a slot job on
another worker, judges as if it had run all along) and the latest passed stems of the
owner's earlier batches on the same topic, so a second batch on "Cardiac physiology"
does not ask again what the first one asked.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bulkgen.generation.validators import StemIndex
from bulkgen.log import PassedStem, Store

#: At most this many stems of earlier batches are loaded (the newest batches' first).
EARLIER_STEMS = 10_000


async def passed_before(store: Store, batch_id: str) -> list[tuple[str, str]]:
    """The stems passed before the batch's next item, with their labels, in the order
    the index takes them (the batch's own first)."""
    own = await store.passed_stems(batch_id)
    earlier = await store.earlier_stems(batch_id, limit=EARLIER_STEMS)
    return [(passed.stem, f"item {passed.index + 1}") for passed in own] + [
        (passed.stem, earlier_label(passed)) for passed in earlier
    ]


async def load_stems(store: Store, batch_id: str) -> StemIndex:
    """The index of the stems passed before the batch's next item."""
    stems = await passed_before(store, batch_id)
    # Normalising 10,000s of stems takes a while: off the event loop, so streams go on.
    return await asyncio.to_thread(index_of, stems)


def index_of(stems: list[tuple[str, str]]) -> StemIndex:
    """The index of these (stem, label) pairs, taken in order."""
    index = StemIndex()
    for stem, label in stems:
        index.add(stem, label)
    return index


class SharedStems:
    """The stem indexes of the batches a worker process's slots work on: one per batch,
    loaded by its first slot, shared by the others (so they also see each other's passed
    stems) and dropped with its last."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._loads: dict[str, asyncio.Task[StemIndex]] = {}
        self._users: dict[str, int] = {}

    async def acquire(self, batch_id: str) -> StemIndex:
        """The batch's index; :meth:`release` it when the slot ends (not if this raised)."""
        load = self._loads.get(batch_id)
        if load is None:
            load = self._loads[batch_id] = asyncio.create_task(load_stems(self._store, batch_id))
        self._users[batch_id] = self._users.get(batch_id, 0) + 1
        try:
            return await asyncio.shield(load)
        except BaseException:
            self.release(batch_id)
            raise

    def release(self, batch_id: str) -> None:
        self._users[batch_id] -= 1
        if not self._users[batch_id]:
            del self._users[batch_id]
            self._loads.pop(batch_id).cancel()  # a no-op once loaded


def earlier_label(passed: PassedStem) -> str:
    """How a message names an item of an earlier batch: by the batch's title or date."""
    if passed.title:
        return f"item {passed.index + 1} of your earlier batch {passed.title!r}"
    created = datetime.fromtimestamp(passed.created_at, UTC)
    return f"item {passed.index + 1} of your earlier batch of {created:%Y-%m-%d %H:%M} UTC"
