"""The JSON API as tests use it: batch bodies, creating a batch, reading all its items."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import httpx

BATCHES = "/api/generation/batch"
#: Demo options of quick batches: a few ms per item, some generation errors, some flaws.
FAST: dict[str, Any] = {"seed": 7, "latency_ms": [5, 20], "fail_rate": 0.2, "invalid_rate": 0.2}


def batch_body(**overrides: Any) -> dict[str, Any]:
    """A small, quick demo batch."""
    options = {"seed": 3, "latency_ms": [5, 25], "fail_rate": 0.0, "invalid_rate": 0.0}
    options.update(overrides.pop("generator_options", {}))
    body: dict[str, Any] = {
        "topic": "Cardiac physiology",
        "count": 12,
        "concurrency": 4,
        "generator_options": options,
    }
    body.update(overrides)
    return body


def create_batch(http: httpx.Client, **overrides: Any) -> dict[str, Any]:
    """Create a :func:`batch_body` batch with ``overrides``; its JSON."""
    response = http.post(BATCHES, json=batch_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def get_batch(http: httpx.Client, batch_id: str) -> dict[str, Any]:
    response = http.get(f"{BATCHES}/{batch_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def all_items(http: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = http.get(
            f"{BATCHES}/{batch_id}/items", params={"limit": 500, "offset": offset}
        ).json()
        items.extend(page["items"])
        offset += len(page["items"])
        if offset >= page["total"] or not page["items"]:
            return items


class _Event(Protocol):
    event: str
    data: Any


def replay(frames: Iterable[_Event]) -> dict[int, str]:
    """Item states as a client rebuilds them from durable item events."""
    state: dict[int, str] = {}
    for frame in frames:
        if frame.event.startswith("item."):
            state[frame.data["index"]] = frame.data["status"]
    return state


FINISHES = ("item.completed", "item.failed")


def finished_count(frames: Iterable[_Event]) -> int:
    """How many item finishes the events carry."""
    return sum(frame.event in FINISHES for frame in frames)
