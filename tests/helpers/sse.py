"""Reading a batch's SSE stream as a client does: frames, comments, and where it ended.

:func:`open_stream` keeps one connection open so a test can act in the middle of it
(read until an event, pause the batch, read on); :func:`read_stream` reads one connection
until a condition holds or the stream ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from helpers.api import BATCHES

#: Longest silence on a connection (the server's heartbeat is 15 s by default).
READ_TIMEOUT = 60.0
#: Frames and heartbeats in a row without a logged event before a reader gives up: a
#: guard against waiting forever on a batch that can no longer move.
MAX_QUIET = 60


@dataclass
class Frame:
    event: str
    data: Any
    id: int | None

    @property
    def durable(self) -> bool:
        """A logged event (``batch.progress`` only repeats the id it reflects)."""
        return self.event != "batch.progress"


@dataclass
class Received:
    """What one SSE connection delivered."""

    status: int
    headers: httpx.Headers
    lines: list[str] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    ended: bool = False

    @property
    def durable(self) -> list[Frame]:
        return [f for f in self.frames if f.durable]

    @property
    def heartbeats(self) -> list[str]:
        return [line for line in self.lines if line.startswith(":")]

    @property
    def last_id(self) -> int | None:
        ids = [f.id for f in self.frames if f.id is not None]
        return ids[-1] if ids else None

    def events(self, name: str) -> list[Frame]:
        return [f for f in self.frames if f.event == name]


Condition = Callable[[Received], bool]


def frames_of(data: bytes) -> list[Frame]:
    """The frames encoded in ``data`` (whole frames, as a server writes them)."""
    frames = []
    for block in data.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            event_id = int(fields["id"]) if "id" in fields else None
            frames.append(Frame(fields["event"], json.loads(fields["data"]), event_id))
    return frames


class EventStream:
    """One open connection: read it line by line, checking a condition as frames arrive."""

    def __init__(self, response: httpx.Response) -> None:
        self.received = Received(response.status_code, response.headers)
        if response.status_code == 200:
            self._lines = response.iter_lines()
        else:
            response.read()
            self._lines = iter(())
            self.received.ended = True

    def read_until(self, condition: Condition, *, what: str = "the condition") -> Received:
        """Read until ``condition(received)`` holds.

        AssertionError when the stream ends first, or goes quiet (:data:`MAX_QUIET` frames
        and heartbeats in a row without a logged event). A response other than 200 is
        returned as it is.
        """
        if self.received.status != 200 or self._read(condition):
            return self.received
        state = "ended" if self.received.ended else "went quiet"
        raise AssertionError(f"the stream {state} before {what}; last frames: {self._tail()}")

    def read_to_end(self) -> Received:
        """Read until the server ends the stream (after ``batch.complete``)."""
        return self.read_until(lambda received: received.ended, what="its end")

    def _read(self, condition: Condition) -> bool:
        received = self.received
        if condition(received):
            return True
        quiet = 0
        fields: dict[str, str] = {}
        for line in self._lines:
            received.lines.append(line)
            if line.startswith(":"):
                quiet += 1
            elif line == "" and "event" in fields:
                frame = Frame(
                    fields["event"],
                    json.loads(fields["data"]),
                    int(fields["id"]) if "id" in fields else None,
                )
                received.frames.append(frame)
                quiet = 0 if frame.durable else quiet + 1
                fields = {}
            elif line == "":
                fields = {}
                continue
            else:
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
                continue
            if condition(received):
                return True
            if quiet >= MAX_QUIET:
                return False
        received.ended = True
        return condition(received)

    def _tail(self) -> str:
        return repr([(f.id, f.event) for f in self.received.frames[-5:]])


@contextmanager
def open_stream(
    where: str | httpx.Client,
    batch_id: str,
    *,
    after: int | str | None = None,
    last_event_id: int | str | None = None,
    headers: dict[str, str] | None = None,
) -> Iterator[EventStream]:
    """Open a batch's progress stream on a server URL, or with a client (its headers too)."""
    params = {} if after is None else {"after": str(after)}
    send = dict(headers or {})
    if last_event_id is not None:
        send["Last-Event-ID"] = str(last_event_id)
    path = f"{BATCHES}/{batch_id}/progress"
    timeout = httpx.Timeout(READ_TIMEOUT)
    if isinstance(where, httpx.Client):
        with where.stream("GET", path, params=params, headers=send, timeout=timeout) as response:
            yield EventStream(response)
        return
    with (
        httpx.Client(base_url=where, timeout=timeout) as http,
        http.stream("GET", path, params=params, headers=send) as response,
    ):
        yield EventStream(response)


def read_stream(
    where: str | httpx.Client,
    batch_id: str,
    *,
    after: int | str | None = None,
    last_event_id: int | str | None = None,
    stop_after: int | None = None,
    until: Condition | None = None,
    headers: dict[str, str] | None = None,
) -> Received:
    """Read one connection to its end, or until ``until`` holds, or until ``stop_after``
    logged events arrived (then the connection is dropped, as a client that goes away)."""
    if stop_after is not None:

        def until(received: Received) -> bool:
            return len(received.durable) >= stop_after

    with open_stream(
        where, batch_id, after=after, last_event_id=last_event_id, headers=headers
    ) as stream:
        if until is None:
            return stream.read_to_end()
        return stream.read_until(until)
