"""Per-user quotas: items and provider tokens per day.

A deployment may bound what one user generates in any 24 hours (``quota_items_per_day``,
``quota_tokens_per_day``; unset: no bound). The window counts the user's batches created in
the last 24 hours: their items (with the replacements a batch of mode ``valid`` made) and
the tokens they spent.

- **At create time**, a batch whose items would pass the items quota is refused (``429``
  naming ``count``, with ``Retry-After`` until enough of the window has passed), and so is
  a batch of a provider generator while the tokens quota is spent.
- **While running**, a batch of a provider generator whose owner's tokens reach the quota
  pauses with reason ``quota`` and says so; resuming it is refused until the window frees
  up. The runner looks every few seconds, so a batch may overshoot by what it spends in
  that time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from pydantic import BaseModel, Field

from bulkgen.errors import Conflict, NotFound, QuotaExceeded
from bulkgen.log import EventLog, Store
from bulkgen.models import BatchConfig
from bulkgen.settings import Settings

#: The quotas' window, in seconds.
WINDOW_SECONDS = 24 * 3600.0
#: Generators whose tokens cost money, so the tokens quota applies to them.
PROVIDER_GENERATORS = frozenset({"openai"})


class QuotaUse(BaseModel):
    """One quota: its bound, what the window used and what is left (null: no bound)."""

    limit: int | None = Field(description="The bound per 24 hours; null: none.")
    used: int = Field(description="Used by the batches created in the last 24 hours.")
    remaining: int | None = Field(description="What is left; null: no bound.")


class QuotaView(BaseModel):
    """The caller's quotas, as ``GET /api/quota`` shows them."""

    window_hours: int = 24
    items_per_day: QuotaUse
    tokens_per_day: QuotaUse


@dataclass(frozen=True, slots=True)
class Usage:
    items: int
    tokens: int
    #: When the oldest batch in the window was created; None when there is none.
    oldest: float | None


def _use(limit: int | None, used: int) -> QuotaUse:
    return QuotaUse(
        limit=limit, used=used, remaining=None if limit is None else max(limit - used, 0)
    )


class Quotas:
    """The quotas of one server, read from its store."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.items_per_day = settings.quota_items_per_day
        self.tokens_per_day = settings.quota_tokens_per_day
        self._store = store

    @property
    def enabled(self) -> bool:
        return self.items_per_day is not None or self.tokens_per_day is not None

    async def usage(self, owner: str, now: float | None = None) -> Usage:
        now = time.time() if now is None else now
        items, tokens, oldest = await self._store.usage_since(owner, now - WINDOW_SECONDS)
        return Usage(items, tokens, oldest)

    async def view(self, owner: str) -> QuotaView:
        usage = await self.usage(owner)
        return QuotaView(
            items_per_day=_use(self.items_per_day, usage.items),
            tokens_per_day=_use(self.tokens_per_day, usage.tokens),
        )

    async def check_create(self, owner: str, config: BatchConfig) -> None:
        """Refuse a batch the owner's quotas have no room for (:class:`QuotaExceeded`)."""
        if not self.enabled:
            return
        now = time.time()
        usage = await self.usage(owner, now)
        asked = config.count
        wait = _until_window_moves(usage, now)
        if self.items_per_day is not None and usage.items + asked > self.items_per_day:
            left = max(self.items_per_day - usage.items, 0)
            raise QuotaExceeded(
                "count",
                f"this batch asks for {asked:,} items and your daily quota has {left:,} of "
                f"{self.items_per_day:,} left (items of the batches you created in the last "
                "24 hours count); ask for fewer, or try again later",
                wait,
            )
        message = self.tokens_spent(config, usage)
        if message is not None:
            raise QuotaExceeded("generator", message, wait)

    def tokens_spent(self, config: BatchConfig, usage: Usage) -> str | None:
        """Why a batch of ``config`` may not spend tokens now; None while it may."""
        limit = self.tokens_per_day
        if limit is None or config.generator not in PROVIDER_GENERATORS:
            return None
        if usage.tokens < limit:
            return None
        return (
            f"your daily quota of {limit:,} provider tokens is spent ({usage.tokens:,} in the "
            "last 24 hours); resume once the batches of the last 24 hours leave the window"
        )

    async def tokens_over(self, owner: str, config: BatchConfig) -> str | None:
        """While a batch runs: why it must pause for the tokens quota; None otherwise."""
        if self.tokens_per_day is None or config.generator not in PROVIDER_GENERATORS:
            return None
        return self.tokens_spent(config, await self.usage(owner))


async def pause_spent(
    quotas: Quotas | None, store: Store, event_log: EventLog, batch_ids: list[str]
) -> list[str]:
    """Pause the batches whose owners spent their tokens quota; the ids paused."""
    if quotas is None or quotas.tokens_per_day is None:
        return []
    paused = []
    for batch_id in batch_ids:
        try:
            record = await store.get_batch(batch_id, None)
            message = await quotas.tokens_over(record.owner, record.config)
            if message is not None:
                await event_log.pause(batch_id, "quota", message)
                paused.append(batch_id)
        except (Conflict, NotFound):
            continue  # finished, paused or gone meanwhile
    return paused


def _until_window_moves(usage: Usage, now: float) -> int:
    """Seconds until the oldest batch in the window leaves it (at least 1)."""
    if usage.oldest is None:
        return 1
    return max(1, math.ceil(usage.oldest + WINDOW_SECONDS - now))
