"""Every way a test waits, in one place: for a condition, never for a length of time.

Over HTTP a test follows the batch's SSE stream until the awaited event or state arrives,
so a wait is bounded by the batch's own events; in-process it follows the batch's live
feed; in a browser it uses Playwright's condition waits. The only time limits are guards
that fire when something is broken (a stream that goes quiet, a page that never changes),
and they are generous: a busy machine is slow, not broken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from bulkgen.models import BatchStatus

from helpers.api import FINISHES, get_batch, replay
from helpers.sse import Condition, Received, open_stream

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from bulkgen.live.feed import BatchFeed
    from bulkgen.services import Services

FINAL = ("completed", "cancelled", "failed")
#: The longest a browser expectation waits (ms); only reached when the page is broken.
PAGE_WAIT = 60_000
#: Feed changes in a row without a new event before an in-process wait gives up.
MAX_IDLE_TICKS = 60


# -- over HTTP: the batch's stream ---------------------------------------------------------


def wait_finished(http: httpx.Client, batch_id: str) -> dict[str, Any]:
    """Follow the batch's stream to its end (``batch.complete``); the finished batch."""
    with open_stream(http, batch_id) as stream:
        received = stream.read_to_end()
    assert received.status == 200, received.status
    batch = get_batch(http, batch_id)
    assert batch["status"] in FINAL, batch["status"]
    return batch


def wait_for(
    http: httpx.Client,
    batch_id: str,
    condition: Condition,
    *,
    after: int = 0,
    what: str = "the condition",
) -> Received:
    """Read the batch's log from ``after`` until ``condition`` holds on what arrived."""
    with open_stream(http, batch_id, after=after) as stream:
        return stream.read_until(condition, what=what)


def wait_for_event(http: httpx.Client, batch_id: str, name: str, *, after: int = 0) -> Received:
    """Read the batch's log until an event called ``name`` arrives."""
    return wait_for(http, batch_id, has_event(name), after=after, what=name)


def wait_for_finishes(http: httpx.Client, batch_id: str, count: int) -> Received:
    """Read the batch's log until ``count`` items have finished."""
    return wait_for(http, batch_id, finishes_reach(count), what=f"{count} item finishes")


def wait_paused_and_idle(http: httpx.Client, batch_id: str) -> Received:
    """Read the batch's log until it paused and the items in flight then have finished."""
    return wait_for(http, batch_id, paused_and_idle, what="a pause with nothing in flight")


# Conditions on what a stream delivered -----------------------------------------------------


def has_event(name: str) -> Condition:
    def condition(received: Received) -> bool:
        return bool(received.frames) and received.frames[-1].event == name

    return condition


def finishes_reach(count: int) -> Condition:
    def condition(received: Received) -> bool:
        return sum(f.event in FINISHES for f in received.frames) >= count

    return condition


def paused_and_idle(received: Received) -> bool:
    """A ``batch.paused`` arrived and no item is in flight (judged after each event)."""
    frames = received.durable
    if not frames or not any(f.event == "batch.paused" for f in frames):
        return False
    return "in_progress" not in replay(frames).values()


# -- in-process: the batch's live feed -------------------------------------------------------


async def follow_feed(feed: BatchFeed, condition: Callable[[], bool], *, what: str) -> None:
    """Wait for the feed's changes until ``condition()`` holds."""
    idle, seen = 0, feed.high
    while True:
        tick = feed.tick  # taken before looking, so no change is missed
        if condition():
            return
        assert not feed.closed, f"the feed closed before {what}"
        assert idle < MAX_IDLE_TICKS, f"the feed stopped moving at event {seen} before {what}"
        await tick.wait()
        idle = 0 if feed.high > seen else idle + 1
        seen = feed.high


async def until_finished(services: Services, batch_id: str) -> BatchStatus:
    """Follow the batch's feed until it is finished; its final status."""
    async with services.hub.watch(batch_id) as feed:
        await follow_feed(feed, lambda: feed.finished, what=f"batch {batch_id} finished")
    record = await services.store.get_batch(batch_id, None)
    return record.status


# -- in a browser ---------------------------------------------------------------------------


def wait_until_finished(page: Page, timeout: float = PAGE_WAIT) -> None:
    """The progress view shows the end of the batch (its stream is closed)."""
    from playwright.sync_api import expect

    connection = page.locator("[data-connection]")
    expect(connection).to_have_attribute("data-connection", "finished", timeout=timeout)


def wait_connection(page: Page, state: str) -> None:
    """The progress view's connection is in ``state`` (live, reconnecting, finished…)."""
    from playwright.sync_api import expect

    connection = page.locator("[data-connection]")
    expect(connection).to_have_attribute("data-connection", state, timeout=PAGE_WAIT)


def wait_finished_count(page: Page, at_least: int) -> None:
    """The progress view counts at least ``at_least`` finished items."""
    page.wait_for_function(
        """(least) => Number(document.querySelector("[data-role=finished-count]")
            .textContent.replaceAll(",", "")) >= least""",
        arg=at_least,
        timeout=PAGE_WAIT,
    )
