"""What a bulkgen process counts, exposed at ``/metrics`` in Prometheus' text format.

The metric objects live in prometheus-client's default registry, created once when this
module is first imported, so any number of apps in one process share them (and the
registry's process and garbage-collector metrics come along). Counters, histograms and the
viewer gauge count what happens in this process; the batch gauges describe the whole
database and are set from it by :func:`render`, right before each scrape is written.

Call sites stay one line: :func:`item_finished`, :func:`events_followed` and the
:func:`counted_stream` decorator.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping

from prometheus_client import Counter, Gauge, Histogram, generate_latest

BATCHES = Gauge(
    "bulkgen_batches",
    "Batches in the database by status (read when scraped).",
    ["status"],
)
QUEUE_DEPTH = Gauge(
    "bulkgen_queue_depth",
    "Items pending in queued or running batches of the database (read when scraped).",
)
ITEMS_FINISHED = Counter(
    "bulkgen_items_finished",
    "Items this process finished generating, by outcome (completed or failed).",
    ["outcome"],
)
GENERATION_SECONDS = Histogram(
    "bulkgen_generation_seconds",
    "Time from an item's start to its finish (every attempt, back-off and validation), "
    "by generator.",
    ["generator"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
SSE_VIEWERS = Gauge("bulkgen_sse_viewers", "Live SSE streams open in this process.")
EVENT_LAG_SECONDS = Histogram(
    "bulkgen_event_lag_seconds",
    "Time from an event's commit to its live feed framing it for viewers.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

for _outcome in ("completed", "failed"):
    ITEMS_FINISHED.labels(_outcome)  # both series exist from the start, at 0

#: Servers in one process (tests, embedding) scrape one registry: setting the database
#: gauges and writing them out is one step.
_scrape = threading.Lock()


def item_finished(generator: str, outcome: str, seconds: float) -> None:
    """An item's generation ended ``completed`` or ``failed`` after ``seconds``."""
    ITEMS_FINISHED.labels(outcome).inc()
    GENERATION_SECONDS.labels(generator).observe(seconds)


def events_followed(committed_at: Iterable[float]) -> None:
    """A live feed read events committed at these times (epoch seconds) to frame them."""
    now = time.time()
    for at in committed_at:
        EVENT_LAG_SECONDS.observe(max(now - at, 0.0))


def render(batches: Mapping[str, int], queue_depth: int) -> bytes:
    """Every metric in the text format, with the database gauges set to these values."""
    with _scrape:
        for status, count in batches.items():
            BATCHES.labels(status).set(count)
        QUEUE_DEPTH.set(queue_depth)
        return generate_latest()
