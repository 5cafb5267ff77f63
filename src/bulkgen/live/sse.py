"""Server-Sent Events framing: pure functions from events to the bytes on the wire.

Each durable event is framed once by the process that reads it from the log and the same
bytes go to every viewer; the stream loop in ``bulkgen.http.stream`` only decides which
frames a viewer gets and when.
"""

from __future__ import annotations

from bulkgen.events import BatchComplete, BatchProgress


def encode_event(event: str, data: str, event_id: int | None = None) -> bytes:
    """One SSE frame. ``data`` must be a single line (JSON without indentation is)."""
    if "\n" in data or "\r" in data:
        raise ValueError("SSE data must be a single line")
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n".encode()


def encode_retry(milliseconds: int) -> bytes:
    """The frame that sets the browser's reconnection delay."""
    return f"retry: {milliseconds}\n\n".encode()


def encode_comment(text: str) -> bytes:
    """A comment frame: ignored by clients, keeps proxies from closing an idle stream."""
    return "".join(f": {line}\n" for line in text.splitlines() or [""]).encode() + b"\n"


def encode_logged(seq: int, event: str, data: str) -> bytes:
    """The frames for one durable event of the log.

    ``batch.complete`` is preceded by a ``batch.progress`` with the same final snapshot
    and the id of the event before it, so every viewer sees the final state as progress
    first, whichever way it reached the end of the log.
    """
    frame = encode_event(event, data, seq)
    if event == BatchComplete.name:
        return encode_event(BatchProgress.name, data, seq - 1) + frame
    return frame
