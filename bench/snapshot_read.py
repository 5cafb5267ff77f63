"""Batch detail read time: a 100,000-item batch vs a 10-item batch in the same database.

The design promises an O(1) snapshot: counters live on the batch row, so reading a batch
must not depend on how many items or events it has. This bench measures two paths for
each batch, reads of the two batches interleaved so drift hits both equally:

* store: ``SQLStore.get_batch(id, "local")`` + ``batch_view(record, time.time())``
* HTTP:  ``GET /api/generation/batch/{id}`` through an in-process ``httpx.ASGITransport``
  (the full FastAPI app: routing, owner dependency, the same store read, JSON response).

How the data is made (all in one temp SQLite file, schema by ``store.migrate()``):

* ``BatchConfig.count`` is capped at 10,000 and ``get_batch`` re-validates the stored
  config on every read, so a 100,000-item batch cannot be created through the API or with
  ``BatchConfig.model_construct`` (its ``count`` would fail validation on the read inside
  ``create_batch``, which rolls the batch back). Instead the big batch is created with
  ``store.create_batch`` and a valid 10,000-item config, then 90,000 more ``pending``
  item rows are inserted with ``sqlite3.executemany`` and the batch row's ``total`` and
  ``pending`` set to 100,000 (the stored config still says ``count: 10000``; nothing on
  the read path looks at it).
* Both batches are moved to ``running`` (``store.mark_running``) and then items are
  started and finished through ``store.apply`` (the real hot path, 2,000 changes per
  transaction): for the big batch ``--finished`` items (default 20,000: 40,000 events;
  one in eight fails), then 64 more started and left in progress; for the small batch 4
  finished and 2 in progress. Counters, ``last_seq`` and the throughput window are then
  non-trivial.
* The HTTP app gets a ``Services`` built by hand (store, bus, writer, runner, hub) and
  **not** ``Services.start``, which would resume the two running batches and start
  generating them in the middle of the measurement.

    .venv/bin/python bench/snapshot_read.py [--reads 500] [--big 100000] [--finished 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx

from _common import emit_json, machine, median, percentile, table
from bulkgen.generation import DemoGenerator, GenerationRequest
from bulkgen.generation.runner import Runner
from bulkgen.generation.validators import stem_key, validate_item
from bulkgen.http import create_app
from bulkgen.live.feed import FeedHub
from bulkgen.log import SQLStore
from bulkgen.log.bus import LocalBus
from bulkgen.log.eventlog import EventLog
from bulkgen.log.store import FinishItem, StartItem
from bulkgen.models import (
    BatchConfig,
    DemoOptions,
    Difficulty,
    GeneratedItem,
    ItemError,
    ItemStatus,
    ItemType,
    Severity,
)
from bulkgen.services import Services, batch_view
from bulkgen.settings import Settings

OWNER = "local"
GROUP = 2000


async def sample_item() -> GeneratedItem:
    generator = DemoGenerator(DemoOptions(seed=1, latency_ms=(0, 0)))
    request = GenerationRequest(
        batch_id="x",
        index=0,
        attempt=1,
        topic="Cardiac physiology",
        item_type=ItemType.MCQ,
        difficulty=Difficulty.MEDIUM,
        model=None,
    )
    item = await generator.generate(request)
    assert not [r for r in validate_item(item) if r.severity is Severity.ERROR]
    return item


async def progress_items(
    store: SQLStore, batch_id: str, *, finished: int, in_progress: int, item: GeneratedItem
) -> None:
    """Start and finish ``finished`` items, then start ``in_progress`` more, via apply."""
    key = stem_key(item.stem)
    failure = ItemError(
        kind="timeout", message="provider did not answer within 30 s", transient=True
    )
    for first in range(0, finished, GROUP // 2):
        indices = range(first, min(first + GROUP // 2, finished))
        now = time.time()
        changes: list[Any] = [StartItem(batch_id, i, now) for i in indices]
        for i in indices:
            if i % 8 == 7:
                changes.append(FinishItem(batch_id, i, ItemStatus.FAILED, now, error=failure))
            else:
                changes.append(
                    FinishItem(
                        batch_id, i, ItemStatus.COMPLETED, now + i * 1e-6, result=item, stem_key=key
                    )
                )
        await store.apply(changes, time.time())
    now = time.time()
    await store.apply(
        [StartItem(batch_id, i, now) for i in range(finished, finished + in_progress)], now
    )


async def build(db: Path, big: int, finished: int) -> tuple[SQLStore, str, str, dict[str, Any]]:
    store = SQLStore(f"sqlite+aiosqlite:///{db}")
    await store.migrate()
    t0 = time.perf_counter()
    options = DemoOptions(seed=1, latency_ms=(0, 0))
    big_cap = min(big, 10_000)
    big_rec = await store.create_batch(
        OWNER,
        BatchConfig(topic="Big batch", count=big_cap, concurrency=64, generator_options=options),
        time.time(),
    )
    if big > big_cap:
        with sqlite3.connect(db) as conn:
            conn.executemany(
                "INSERT INTO items (batch_id, idx, status, attempts)"
                " VALUES (?, ?, 'pending', '[]')",
                ((big_rec.id, i) for i in range(big_cap, big)),
            )
            conn.execute(
                "UPDATE batches SET total = ?, pending = ? WHERE id = ?", (big, big, big_rec.id)
            )
    small_rec = await store.create_batch(
        OWNER,
        BatchConfig(topic="Small batch", count=10, concurrency=2, generator_options=options),
        time.time(),
    )
    item = await sample_item()
    for rec in (big_rec, small_rec):
        await store.mark_running(rec.id, time.time())
    await progress_items(store, big_rec.id, finished=finished, in_progress=64, item=item)
    await progress_items(store, small_rec.id, finished=4, in_progress=2, item=item)
    with sqlite3.connect(db) as conn:
        sizes = {
            "items": dict(conn.execute("SELECT batch_id, count(*) FROM items GROUP BY batch_id")),
            "events": dict(conn.execute("SELECT batch_id, count(*) FROM events GROUP BY batch_id")),
        }
    info = {
        "setup_s": time.perf_counter() - t0,
        "big_items": sizes["items"][big_rec.id],
        "big_events": sizes["events"][big_rec.id],
        "small_items": sizes["items"][small_rec.id],
        "small_events": sizes["events"][small_rec.id],
        "db_bytes": db.stat().st_size
        + (
            db.with_name(db.name + "-wal").stat().st_size
            if db.with_name(db.name + "-wal").exists()
            else 0
        ),
    }
    return store, big_rec.id, small_rec.id, info


def hand_built_services(settings: Settings, store: SQLStore) -> Services:
    """Services without ``Services.start``: no migration, no resume of running batches."""
    bus = LocalBus()
    writer = EventLog(store, bus, max_group=settings.writer_max_group)
    runner = Runner(store, writer, settings)
    hub = FeedHub(
        store,
        bus,
        cache_size=settings.recent_event_cache,
        progress_interval=settings.progress_interval_seconds,
    )
    return Services(settings, store, bus, writer, runner, hub)


async def measure(reads: int, warmup: int, big: int, finished: int, db: Path) -> dict[str, Any]:
    store, big_id, small_id, info = await build(db, big, finished)
    try:
        ids = {"small": small_id, "big": big_id}
        store_times: dict[str, list[float]] = {"small": [], "big": []}
        checks: dict[str, Any] = {}
        for n in range(warmup + reads):
            for name, batch_id in ids.items():
                t = time.perf_counter()
                record = await store.get_batch(batch_id, OWNER)
                snap = batch_view(record, time.time())
                elapsed = time.perf_counter() - t
                if n >= warmup:
                    store_times[name].append(elapsed)
                checks[name] = snap.progress.model_dump(mode="json")

        settings = Settings(database=db, log_level="warning")
        app = create_app(settings)
        app.state.services = hand_built_services(settings, store)
        http_times: dict[str, list[float]] = {"small": [], "big": []}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for n in range(warmup + reads):
                for name, batch_id in ids.items():
                    t = time.perf_counter()
                    response = await client.get(f"/api/generation/batch/{batch_id}")
                    body = response.json()
                    elapsed = time.perf_counter() - t
                    response.raise_for_status()
                    if n >= warmup:
                        http_times[name].append(elapsed)
                    checks[f"http_{name}_total"] = body["progress"]["total"]
    finally:
        await store.close()
    return {"info": info, "store": store_times, "http": http_times, "checks": checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=500, help="measured reads per batch and path")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured reads first")
    parser.add_argument("--big", type=int, default=100_000, help="items in the big batch")
    parser.add_argument(
        "--finished",
        type=int,
        default=20_000,
        help="items of the big batch finished through store.apply",
    )
    args = parser.parse_args()
    finished = min(args.finished, max(args.big - 64, 0))

    with tempfile.TemporaryDirectory(prefix="bulkgen-bench-") as tmp:
        result = asyncio.run(
            measure(args.reads, args.warmup, args.big, finished, Path(tmp) / "snapshot.db")
        )
    info, checks = result["info"], result["checks"]
    stats: dict[str, dict[str, float]] = {}
    rows = []
    for path in ("store", "http"):
        for name in ("small", "big"):
            times_ms = [t * 1000 for t in result[path][name]]
            stats[f"{path}_{name}"] = {
                "median_ms": median(times_ms),
                "p95_ms": percentile(times_ms, 95),
                "max_ms": max(times_ms),
            }
        small, bigs = stats[f"{path}_small"], stats[f"{path}_big"]
        for name, s in (("small", small), ("big", bigs)):
            rows.append(
                [path, name, len(result[path][name]), s["median_ms"], s["p95_ms"], s["max_ms"]]
            )
        rows.append(
            [
                path,
                "big/small",
                "",
                bigs["median_ms"] / small["median_ms"],
                bigs["p95_ms"] / small["p95_ms"],
                "",
            ]
        )
    print(
        f"snapshot read: big batch {info['big_items']:,} items / {info['big_events']:,} events "
        f"(progress {checks['big']['completed']:,} completed, {checks['big']['failed']:,} failed, "
        f"{checks['big']['in_progress']} in progress) vs small batch {info['small_items']} items / "
        f"{info['small_events']} events; db {info['db_bytes'] / 1e6:.1f} MB, setup "
        f"{info['setup_s']:.1f} s"
    )
    print(table(["path", "batch", "reads", "median ms", "p95 ms", "max ms"], rows))
    ratio_store = stats["store_big"]["median_ms"] / stats["store_small"]["median_ms"]
    ratio_http = stats["http_big"]["median_ms"] / stats["http_small"]["median_ms"]
    flat = max(ratio_store, ratio_http) < 1.25
    print(f"flat (median ratio big/small < 1.25 on both paths): {flat}")
    emit_json(
        {
            "bench": "snapshot_read",
            "reads": args.reads,
            **info,
            "stats": stats,
            "ratio_store_median": ratio_store,
            "ratio_store_p95": stats["store_big"]["p95_ms"] / stats["store_small"]["p95_ms"],
            "ratio_http_median": ratio_http,
            "ratio_http_p95": stats["http_big"]["p95_ms"] / stats["http_small"]["p95_ms"],
            "flat": flat,
            "big_progress": checks["big"],
            "small_progress": checks["small"],
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
