"""A server's ``/metrics`` as Prometheus reads it, and waiting for a value there.

Counters and histograms belong to the process, and every server a test starts runs in the
test process: a test compares two scrapes (:meth:`Scrape.since`) instead of trusting
absolute values. The batch gauges are read from the server's own database at each scrape.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

#: Scrapes before :func:`wait_metric` gives up; only reached when something is broken.
MAX_SCRAPES = 1200
#: Between two scrapes, so waiting does not take the server's time from what is awaited.
SCRAPE_INTERVAL = 0.05


@dataclass(frozen=True)
class Scrape:
    """Every sample of one scrape, by name and labels."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float:
        """A sample's value; 0 for a series the process has not created yet."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def since(self, before: Scrape, name: str, **labels: str) -> float:
        """How much a counter (or a histogram's count) grew since ``before``."""
        return self.value(name, **labels) - before.value(name, **labels)


def scrape(http: httpx.Client) -> Scrape:
    response = http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    return Scrape(samples)


def wait_metric(http: httpx.Client, condition: Callable[[Scrape], bool], *, what: str) -> Scrape:
    """Scrape until ``condition`` holds on a scrape; that scrape."""
    for _ in range(MAX_SCRAPES):
        scraped = scrape(http)
        if condition(scraped):
            return scraped
        time.sleep(SCRAPE_INTERVAL)
    raise AssertionError(f"the metrics never showed {what}")
