"""The client's typed events for control actions: a pause and a resume arrive as such."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from bulkgen.client import (
    BulkgenClient,
    CompleteEvent,
    ControlEvent,
    ProgressEvent,
    StreamEvent,
)
from bulkgen.events import BatchPaused, BatchResumed


async def next_control(stream: AsyncIterator[StreamEvent], limit: int = 20) -> ControlEvent:
    """The next control event, past the progress and item events around it."""
    for _ in range(limit):
        event = await anext(stream)
        if isinstance(event, ControlEvent):
            return event
    raise AssertionError(f"no control event in {limit} events")


async def test_pause_resume_and_cancel_arrive_as_typed_events(make_server) -> None:  # type: ignore[no-untyped-def]
    live = make_server()
    async with BulkgenClient(live.url) as client:
        # One item generates for a minute: the batch is still running at every step.
        batch = await client.create_batch(
            {
                "topic": "Renal physiology",
                "count": 5,
                "concurrency": 1,
                "generator_options": {"latency_ms": [60000, 60000]},
            }
        )
        async with aclosing(client.events(batch.id)) as stream:
            first = await anext(stream)
            assert isinstance(first, ProgressEvent)
            await client.pause(batch.id)
            paused = await next_control(stream)
            assert isinstance(paused, ControlEvent) and isinstance(paused.event, BatchPaused)
            assert paused.event.reason == "manual" and paused.event.snapshot.status == "paused"
            assert paused.id > (first.id or 0)
            await client.resume(batch.id)
            resumed = await next_control(stream)
            assert isinstance(resumed, ControlEvent) and isinstance(resumed.event, BatchResumed)
            assert resumed.id > paused.id
            await client.cancel(batch.id)
            seen = [event async for event in stream]
        assert isinstance(seen[-1], CompleteEvent) and seen[-1].snapshot.status == "cancelled"
