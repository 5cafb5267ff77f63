"""The typed events a batch's stream yields to the client, read from its SSE frames.

Each wraps the server's event model (:mod:`bulkgen.events`) with the durable id the stream
resumes from: :class:`ItemEvent` (an item changed state), :class:`ControlEvent` (the batch
was paused or resumed), :class:`ProgressEvent` (where the batch stands) and
:class:`CompleteEvent` (the batch is final; the stream ends). Frames that
carry no event the client knows — a bare ``retry:``, a name a newer server added — are
skipped, so old clients keep working; an event that does not parse is a
:class:`~bulkgen.client.errors.ClientError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from httpx_sse import ServerSentEvent
from pydantic import ValidationError

from bulkgen import events
from bulkgen.client.errors import ClientError
from bulkgen.models import ItemSummary, ProgressSnapshot

__all__ = [
    "CompleteEvent",
    "ControlEvent",
    "ItemEvent",
    "ProgressEvent",
    "StreamEvent",
    "parse_event",
]


@dataclass(frozen=True, slots=True)
class ItemEvent:
    """``item.started`` / ``completed`` / ``failed`` / ``requeued`` / ``queued``: an item changed
    state (``queued``: a replacement item was added, pending)."""

    id: int
    name: str
    item: ItemSummary


@dataclass(frozen=True, slots=True)
class ControlEvent:
    """``batch.paused`` / ``batch.resumed``: the batch stopped scheduling items (``event``
    says why) or runs again; ``event.snapshot`` is where it stood."""

    id: int
    name: str
    event: events.BatchPaused | events.BatchResumed


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """``batch.progress``: where the batch stands, as of durable event ``id``."""

    id: int | None
    snapshot: ProgressSnapshot


@dataclass(frozen=True, slots=True)
class CompleteEvent:
    """``batch.complete``: the batch reached a final state; the stream ends after it."""

    id: int
    snapshot: ProgressSnapshot


StreamEvent = ItemEvent | ControlEvent | ProgressEvent | CompleteEvent


def parse_event(sse: ServerSentEvent) -> StreamEvent | None:
    """A typed event, or None for frames that carry none (``retry:``, unknown names)."""
    event_id = int(sse.id) if sse.id.isdigit() else None
    if sse.event not in events.EVENTS:
        # Newer servers may add event types; old clients skip what they do not know.
        return None
    try:
        event = events.parse(sse.event, sse.data)
    except ValidationError as error:
        raise ClientError(None, f"malformed {sse.event} event {sse.id}: {error}") from None
    if isinstance(event, events.ItemEvent) and event_id is not None:
        return ItemEvent(event_id, sse.event, event)
    if isinstance(event, events.BatchPaused | events.BatchResumed) and event_id is not None:
        return ControlEvent(event_id, sse.event, event)
    if isinstance(event, events.BatchProgress):
        return ProgressEvent(event_id, event)
    if isinstance(event, events.BatchComplete) and event_id is not None:
        return CompleteEvent(event_id, event)
    return None
