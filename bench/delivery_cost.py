"""Tokens and estimated cost of one 100-item ``openai`` batch in each delivery mode.

Runs a real bulkgen server against the local protocol server of the tests
(``tests/helpers/fake_openai.py``: 120 prompt and 80 completion tokens per answer, the
Batch API included) and prints what each batch reports: its usage and ``cost``. The model
is the default ``gpt-4o-mini`` at its list price (0.15 / 0.60 USD per million tokens).

    .venv/bin/python bench/delivery_cost.py [--count 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bulkgen.settings import Settings  # noqa: E402

from helpers.fake_openai import FakeOpenAI  # noqa: E402
from helpers.server import start_server  # noqa: E402
from helpers.wait import wait_finished  # noqa: E402

BATCHES = "/api/generation/batch"


def measure(count: int) -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {}
    with FakeOpenAI() as fake, tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database=Path(folder) / "bench.db",
            port=0,
            log_level="warning",
            openai_base_url=fake.url + "/v1",
            openai_api_key="sk-bench-0123456789",
            openai_requests_per_minute=100_000,
            provider_batch_poll_seconds=0.05,
        )
        live = start_server(settings)
        try:
            with httpx.Client(base_url=live.url, timeout=120) as http:
                for delivery in ("direct", "provider_batch"):
                    body = {
                        "topic": "Cardiac physiology",
                        "count": count,
                        "generator": "openai",
                        "concurrency": 8,
                        "delivery": delivery,
                        "early_stop": {"enabled": False} if delivery == "direct" else None,
                    }
                    created = http.post(BATCHES, json=body)
                    created.raise_for_status()
                    figures[delivery] = wait_finished(http, created.json()["id"])["progress"]
        finally:
            live.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100)
    count = parser.parse_args().count
    figures = measure(count)
    header = ("delivery", "valid", "prompt", "completion", "USD", "USD/valid")
    print("{:16} {:>5} {:>8} {:>10} {:>10} {:>11}".format(*header))
    for delivery, progress in figures.items():
        usage, cost = progress["usage"], progress["cost"]
        print(
            f"{delivery:16} {progress['completed']:>5} {usage['prompt_tokens']:>8} "
            f"{usage['completion_tokens']:>10} {cost['usd']:>10.6f} "
            f"{cost['per_valid_item_usd']:>11.8f}"
        )


if __name__ == "__main__":
    main()
