"""End-to-end pipeline throughput with a zero-latency demo generator, vs raw SQLite inserts.

One repetition: a fresh SQLite file, ``Services.start`` (store, group writer, runner,
feed hub, all in this process), then ``services.create_batch("local", config)`` for a
batch of ``--count`` items with ``concurrency=64`` and ``DemoOptions(latency_ms=(0, 0))``
(no sleep at all), timed until the batch row reaches ``completed``. Every item is
generated, validated, written (item row + ``item.started`` + ``item.completed`` events +
counters, group-committed) and its subscribers woken: that is the whole hot path.

Completion is watched on the bus (``services.bus.subscribe``) with a 20 ms poll of
``store.get_batch`` as a fallback; the end time is the batch row's ``finished_at``, the
writer's clock (``now`` of ``store.apply``) for the transaction that completed it, so the
watcher's latency does not count.

Baseline, measured in the same run on the same kind of file (WAL, synchronous=FULL,
same temp dir): ``--count`` rows inserted with ``sqlite3.executemany`` in one transaction
(commit included), each row as wide as what the pipeline persisted per item (item row
columns + both event payloads, measured from the pipeline's own database). Its rate is
what the disk and SQLite alone could do; the ratio is pipeline items/s over raw rows/s.

Also measured: the same pipeline with ``synchronous=NORMAL`` (what syncing every commit
costs, end to end and per one-change transaction), the share of the run the writer spends
inside ``store.apply``, CPU per item by stage (generate, validate, store.apply) measured
alone, and the cost of a one-change transaction (the writer when it is not saturated).
See bench/README.md.

    .venv/bin/python bench/pipeline_throughput.py [--count 10000] [--reps 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit_json, machine, median, table
from bulkgen.log.engine import Synchronous
from bulkgen.models import BatchConfig, BatchStatus, DemoOptions, Difficulty, ItemType
from bulkgen.services import Services
from bulkgen.settings import Settings

GOAL_ITEMS_PER_S = 20_000.0
#: The pipeline's share of what plain inserts into the same kind of file reach.
GOAL_RATIO = 0.20


async def pipeline_once(
    db: Path, count: int, timeout: float, synchronous: Synchronous = "full"
) -> dict[str, Any]:
    settings = Settings(
        database=db, global_concurrency=64, log_level="warning", sqlite_synchronous=synchronous
    )
    services = await Services.start(settings)
    # Time spent inside the group writer's transactions: an instance attribute wraps the
    # store's apply for this run only (the writer calls ``self._store.apply``).
    store = services.store
    inner_apply = store.apply
    in_apply = [0.0, 0.0, 0.0]  # wall seconds, largest transaction, end of the last one

    async def timed_apply(changes: Any, now: float) -> Any:
        start = time.perf_counter()
        try:
            return await inner_apply(changes, now)
        finally:
            took = time.perf_counter() - start
            in_apply[0] += took
            in_apply[1] = max(in_apply[1], took)
            in_apply[2] = time.perf_counter()

    store.apply = timed_apply  # type: ignore[method-assign]
    # CPU of waking subscribers after each commit (the writer's ``_publish``), this thread.
    writer_log = services.log
    inner_publish = writer_log._publish
    published = [0.0]

    async def timed_publish(batch_ids: Any, *, urgent: bool) -> None:
        start = time.thread_time()
        try:
            await inner_publish(batch_ids, urgent=urgent)
        finally:
            published[0] += time.thread_time() - start

    writer_log._publish = timed_publish  # type: ignore[method-assign]
    children0 = _children_cpu()
    cpu0 = time.process_time()
    p0 = time.perf_counter()
    try:
        config = BatchConfig(
            topic="Cardiac physiology",
            count=count,
            concurrency=64,
            title="bench",
            generator_options=DemoOptions(latency_ms=(0, 0), seed=1),
        )
        t0 = time.time()
        batch = await services.create_batch("local", config)
        t_created = time.time()
        deadline = time.monotonic() + timeout
        with services.bus.subscribe(batch.id) as subscription:
            while True:
                record = await services.store.get_batch(batch.id, None)
                if record.status.finished or time.monotonic() > deadline:
                    break
                await subscription.wait(0.02)
        t_seen = time.time()
        cpu = time.process_time() - cpu0
        writer = services.log
        transactions, changes = writer.transactions, writer.changes
    finally:
        await services.stop()
    # The rule process ends (and is waited for) with the services: its CPU is the children's.
    rules_cpu = _children_cpu() - children0
    completed = record.status is BatchStatus.COMPLETED
    end = record.progress.finished_at if record.progress.finished_at is not None else t_seen
    with sqlite3.connect(db) as conn:
        events = conn.execute(
            "SELECT count(*) FROM events WHERE batch_id=?", (batch.id,)
        ).fetchone()[0]
        width = (
            conn.execute(
                """SELECT avg(length(i.attempts) + ifnull(length(i.result), 0)
                        + ifnull(length(i.warnings), 0) + ifnull(length(i.error), 0)
                        + ifnull(length(i.stem_key), 0))
               FROM items i WHERE i.batch_id = ?""",
                (batch.id,),
            ).fetchone()[0]
            or 0
        )
        event_bytes = (
            conn.execute(
                "SELECT sum(length(data)) FROM events WHERE batch_id=? AND type LIKE 'item.%'",
                (batch.id,),
            ).fetchone()[0]
            or 0
        )
    total_s = end - t0
    run_s = end - (record.progress.started_at or t0)
    return {
        "completed": completed,
        "status": record.status.value,
        "finished": record.counts.completed + record.counts.failed,
        "items_completed": record.counts.completed,
        "items_failed": record.counts.failed,
        "create_s": t_created - t0,
        "total_s": total_s,
        "run_s": run_s,
        "items_per_s": count / total_s if total_s > 0 else float("nan"),
        "items_per_s_run": count / run_s if run_s > 0 else float("nan"),
        "watch_lag_s": t_seen - end,
        "events": events,
        "transactions": transactions,
        "changes": changes,
        "changes_per_txn": changes / transactions if transactions else float("nan"),
        "row_width_bytes": round(width + event_bytes / count),
        "apply_s": in_apply[0],
        # Share of the run (create_batch to the end of the last transaction) that the
        # writer spent inside a transaction.
        "apply_share": in_apply[0] / (in_apply[2] - p0) if in_apply[2] > p0 else float("nan"),
        "apply_max_ms": in_apply[1] * 1000,
        "cpu_s": cpu,
        "cpu_us_per_item": cpu / count * 1e6,
        "publish_us_per_item": published[0] / count * 1e6,
        "rule_process_us_per_item": rules_cpu / count * 1e6,
    }


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the rule process, once stopped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def small_transactions(
    db: Path, transactions: int, synchronous: Synchronous = "full"
) -> dict[str, Any]:
    """The writer when it is not saturated: one change per ``store.apply`` transaction.

    With real generators (seconds per item) every change arrives alone and is committed
    alone; this is the fixed cost of one group-commit transaction. Thread round trips are
    counted by wrapping ``aiosqlite.core.Connection._execute`` (every call the SQLAlchemy
    adapter makes into the database thread goes through it).
    """
    import aiosqlite.core

    from bulkgen.generation import DemoGenerator, GenerationRequest
    from bulkgen.log import SQLStore
    from bulkgen.log.store import FinishItem, StartItem
    from bulkgen.models import ItemStatus

    hops = [0]
    original = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops[0] += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    store = SQLStore(f"sqlite+aiosqlite:///{db}", synchronous=synchronous)
    await store.migrate()
    generator = DemoGenerator(DemoOptions(seed=1, latency_ms=(0, 0)))
    item = await generator.generate(
        GenerationRequest(
            batch_id="x",
            index=0,
            attempt=1,
            topic="Cardiac physiology",
            item_type=ItemType.MCQ,
            difficulty=Difficulty.MEDIUM,
            model=None,
        )
    )
    config = BatchConfig(
        topic="Cardiac physiology",
        count=transactions + 20,
        generator_options=DemoOptions(latency_ms=(0, 0)),
    )
    batch = await store.create_batch("local", config, time.time())
    await store.mark_running(batch.id, time.time())
    changes: list[Any] = []
    for i in range(transactions // 2 + 10):
        changes.append(StartItem(batch.id, i, time.time()))
        changes.append(FinishItem(batch.id, i, ItemStatus.COMPLETED, time.time(), result=item))
    for change in changes[:20]:  # warm-up: statement compilation, pools
        await store.apply([change], time.time())
    aiosqlite.core.Connection._execute = counted  # type: ignore[method-assign]
    try:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for change in changes[20 : 20 + transactions]:
            await store.apply([change], time.time())
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        aiosqlite.core.Connection._execute = original  # type: ignore[method-assign]
        await store.close()
    return {
        "transactions": transactions,
        "wall_ms_per_txn": wall / transactions * 1000,
        "cpu_ms_per_txn": cpu / transactions * 1000,
        "thread_round_trips_per_txn": hops[0] / transactions,
    }


async def components(db: Path, count: int) -> dict[str, float]:
    """CPU per item of each stage alone, outside the pipeline (µs per item).

    generate: ``DemoGenerator.generate`` with latency [0, 0]; validate: ``validate_item``
    with the batch's accepted stems and topic (as ``BatchRun`` calls it); store: the two
    ``store.apply`` changes of an item (started, completed with its result) in groups of
    1,000 changes, as the group writer sends them under load.
    """
    from datetime import UTC, datetime

    from bulkgen.generation import DemoGenerator, GenerationRequest
    from bulkgen.generation.validators import StemIndex, stem_key, validate_item
    from bulkgen.log import SQLStore
    from bulkgen.log.store import FinishItem, StartItem
    from bulkgen.models import Attempt, ItemStatus

    topic = "Cardiac physiology"
    generator = DemoGenerator(DemoOptions(seed=1, latency_ms=(0, 0)))
    requests = [
        GenerationRequest(
            batch_id="x",
            index=i,
            attempt=1,
            topic=topic,
            item_type=ItemType.MCQ,
            difficulty=Difficulty.MEDIUM,
            model=None,
        )
        for i in range(count)
    ]
    t = time.thread_time()
    generated = [await generator.generate(r) for r in requests]
    gen_s = time.thread_time() - t
    # Validation with the index's own calls timed apart: the near-duplicate index is
    # ``find`` (inside the duplicate rules) and ``add``; the rules are the rest.
    stems = StemIndex()
    in_index = [0.0]
    find, add = stems.find, stems.add

    def timed_find(stem: str) -> Any:
        start = time.thread_time()
        try:
            return find(stem)
        finally:
            in_index[0] += time.thread_time() - start

    stems.find = timed_find  # type: ignore[method-assign]
    t = time.thread_time()
    for i, item in enumerate(generated):
        validate_item(item, stems=stems, topic=topic)
        start = time.thread_time()
        add(item.stem, f"item {i + 1}")
        in_index[0] += time.thread_time() - start
    val_s = time.thread_time() - t
    handover_us = await _handover(generated, topic)

    store = SQLStore(f"sqlite+aiosqlite:///{db}")
    await store.migrate()
    config = BatchConfig(topic=topic, count=count, generator_options=DemoOptions(latency_ms=(0, 0)))
    batch = await store.create_batch("local", config, time.time())
    await store.mark_running(batch.id, time.time())
    at = datetime.fromtimestamp(time.time(), UTC)
    groups = []
    for first in range(0, count, 500):
        span = range(first, min(first + 500, count))
        group: list[Any] = [StartItem(batch.id, i, time.time()) for i in span]
        group += [
            FinishItem(
                batch.id,
                i,
                ItemStatus.COMPLETED,
                time.time(),
                attempts=(Attempt(number=1, started_at=at, finished_at=at),),
                result=generated[i],
                stem_key=stem_key(generated[i].stem),
            )
            for i in span
        ]
        groups.append(group)
    t = time.process_time()
    for group in groups:
        await store.apply(group, time.time())
    store_s = time.process_time() - t
    await store.close()
    return {
        "generate_us": gen_s / count * 1e6,
        "validate_us": val_s / count * 1e6,
        "rules_us": (val_s - in_index[0]) / count * 1e6,
        "stem_index_us": in_index[0] / count * 1e6,
        "store_apply_us": store_s / count * 1e6,
        "handover_us": handover_us,
    }


async def _handover(generated: list[Any], topic: str) -> float:
    """CPU on the event loop per item judged in the rule process (send the item, take the
    verdict back), the process started and ready; items handed over 64 at a time."""
    from bulkgen.generation.rule_process import RuleProcess

    process = RuleProcess()
    try:
        judge = process.judge_for(topic, [])
        await process.started()
        t = time.thread_time()
        for first in range(0, len(generated), 64):
            await asyncio.gather(
                *(
                    judge.judge(f"item {i + 1}", item)
                    for i, item in enumerate(generated[first : first + 64], first)
                )
            )
        took = time.thread_time() - t
        await judge.close()
    finally:
        await process.close()
    return took / len(generated) * 1e6


def raw_inserts(db: Path, rows: int, width: int) -> dict[str, Any]:
    """``rows`` rows of ``width`` bytes, executemany in one transaction, commit included."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE events (batch_id VARCHAR(32) NOT NULL, seq INTEGER NOT NULL,"
        " type VARCHAR(32) NOT NULL, data TEXT NOT NULL, created_at FLOAT NOT NULL,"
        " PRIMARY KEY (batch_id, seq))"
    )
    batch_id = "f" * 32
    payload = ('{"x":"' + "a" * max(0, width - 8) + '"}')[: max(width, 1)]
    params = [(batch_id, i + 1, "item.completed", payload, time.time()) for i in range(rows)]
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", params)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return {"rows": rows, "width": width, "seconds": elapsed, "rows_per_s": rows / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="items in the batch (1..10000)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument("--timeout", type=float, default=30.0, help="give up on one run after N s")
    parser.add_argument(
        "--gc",
        choices=("server", "default"),
        default="server",
        help="server: the collector policy `bulkgen serve` sets (tune_gc); default: Python's",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.gc == "server":
        from bulkgen.http.server import tune_gc

        tune_gc()

    runs: list[dict[str, Any]] = []
    normal: list[dict[str, Any]] = []
    raws: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bulkgen-bench-") as tmp:
        for rep in range(args.reps):
            db = Path(tmp) / f"pipeline-{rep}.db"
            run = asyncio.run(pipeline_once(db, args.count, args.timeout))
            raw = raw_inserts(Path(tmp) / f"raw-{rep}.db", args.count, run["row_width_bytes"])
            runs.append(run)
            raws.append(raw)
            # The same run with synchronous=NORMAL: what syncing every commit costs.
            db = Path(tmp) / f"pipeline-normal-{rep}.db"
            normal.append(asyncio.run(pipeline_once(db, args.count, args.timeout, "normal")))
            print(
                f"rep {rep + 1}/{args.reps}: {run['items_per_s']:,.0f} items/s end to end"
                f" ({run['status']}), raw {raw['rows_per_s']:,.0f} rows/s",
                file=sys.stderr,
                flush=True,
            )

        small = asyncio.run(small_transactions(Path(tmp) / "small.db", 300))
        small_normal = asyncio.run(small_transactions(Path(tmp) / "small-normal.db", 300, "normal"))
        parts = asyncio.run(components(Path(tmp) / "parts.db", min(args.count, 4000)))

    rows = []
    for n, (run, raw) in enumerate(zip(runs, raws, strict=True), 1):
        rows.append(
            [
                n,
                run["status"],
                run["total_s"],
                run["items_per_s"],
                run["items_per_s_run"],
                run["events"],
                run["transactions"],
                run["changes_per_txn"],
                raw["rows_per_s"],
                run["items_per_s"] / raw["rows_per_s"],
            ]
        )
    med = {
        key: median([r[key] for r in runs])
        for key in (
            "total_s",
            "items_per_s",
            "items_per_s_run",
            "create_s",
            "events",
            "transactions",
            "changes_per_txn",
            "watch_lag_s",
        )
    }
    raw_med = median([r["rows_per_s"] for r in raws])
    ratio = med["items_per_s"] / raw_med
    rows.append(
        [
            "median",
            "",
            med["total_s"],
            med["items_per_s"],
            med["items_per_s_run"],
            med["events"],
            med["transactions"],
            med["changes_per_txn"],
            raw_med,
            ratio,
        ]
    )
    print(f"pipeline throughput: {args.count:,} items, concurrency 64, demo latency [0,0] ms")
    print(
        table(
            [
                "rep",
                "status",
                "seconds",
                "items/s",
                "items/s(run)",
                "events",
                "txns",
                "changes/txn",
                "raw rows/s",
                "ratio",
            ],
            rows,
        )
    )
    print(
        f"row width (bytes persisted per item): {runs[0]['row_width_bytes']}; "
        f"create_batch took {med['create_s'] * 1000:.0f} ms (median, included in items/s; "
        f"items/s(run) counts from the batch's started_at)"
    )
    apply_share = median([r["apply_share"] for r in runs])
    cpu_item = median([r["cpu_us_per_item"] for r in runs])
    print(
        f"where the time goes (median): the writer is inside store.apply {apply_share:.0%} of "
        f"the run; process CPU {cpu_item:.0f} us per item (all threads)"
    )
    publish = median([r["publish_us_per_item"] for r in runs])
    rules_process = median([r["rule_process_us_per_item"] for r in runs])
    stages = {
        "generation": parts["generate_us"],
        "validation: rules": parts["rules_us"],
        "validation: near-duplicate index": parts["stem_index_us"],
        "validation: hand-over to the rule process (on the loop)": parts["handover_us"],
        "write (store.apply, 2 changes, with the database thread)": parts["store_apply_us"],
        "publish (bus wake-ups after each commit, in the run)": publish,
    }
    # In the run the rules run in the rule process (after it started), so the server's
    # CPU holds the hand-over instead of the rules; the rest is what no stage explains.
    on_loop = parts["generate_us"] + parts["handover_us"] + parts["store_apply_us"] + publish
    stages["the rest: scheduling (tasks, semaphores, queues), events, GC"] = cpu_item - on_loop
    print("CPU per item by stage (us; stages measured alone, publish and the totals in the run):")
    print(table(["stage", "us/item"], [[name, us] for name, us in stages.items()]))
    print(
        f"total CPU per item in the run: server process {cpu_item:.0f} us (all threads), "
        f"rule process {rules_process:.0f} us (it starts with the batch: items judged before "
        "it is ready are judged in the server)"
    )
    print(
        f"one-change transactions (the writer when not saturated): "
        f"{small['wall_ms_per_txn']:.2f} ms wall, {small['cpu_ms_per_txn']:.2f} ms CPU, "
        f"{small['thread_round_trips_per_txn']:.0f} database-thread round trips each"
    )
    normal_items = median([r["items_per_s"] for r in normal])
    print(
        f"synchronous=FULL (the default) vs NORMAL, same run: {med['items_per_s']:,.0f} vs "
        f"{normal_items:,.0f} items/s end to end (ratio {med['items_per_s'] / normal_items:.2f}); "
        f"one-change transaction {small['wall_ms_per_txn']:.2f} vs "
        f"{small_normal['wall_ms_per_txn']:.2f} ms wall "
        f"(ratio {small['wall_ms_per_txn'] / small_normal['wall_ms_per_txn']:.2f})"
    )
    meets = med["items_per_s"] >= GOAL_ITEMS_PER_S
    meets_ratio = ratio >= GOAL_RATIO
    print(
        f"goal >= {GOAL_ITEMS_PER_S:,.0f} items/s end to end: {'MET' if meets else 'NOT MET'}; "
        f"goal ratio >= {GOAL_RATIO:.2f} of raw inserts: {'MET' if meets_ratio else 'NOT MET'} "
        f"({ratio:.3f})"
    )
    emit_json(
        {
            "bench": "pipeline_throughput",
            "count": args.count,
            "reps": args.reps,
            "items_per_s": med["items_per_s"],
            "items_per_s_run": med["items_per_s_run"],
            "seconds": med["total_s"],
            "events": med["events"],
            "transactions": med["transactions"],
            "changes_per_txn": med["changes_per_txn"],
            "raw_rows_per_s": raw_med,
            "raw_row_width_bytes": runs[0]["row_width_bytes"],
            "ratio": ratio,
            "goal_items_per_s": GOAL_ITEMS_PER_S,
            "gc": args.gc,
            "goal_met": meets,
            "goal_ratio": GOAL_RATIO,
            "goal_ratio_met": meets_ratio,
            "stage_us_per_item": stages,
            "rule_process_us_per_item": rules_process,
            "all_completed": all(r["completed"] for r in runs),
            "apply_share": apply_share,
            "cpu_us_per_item": cpu_item,
            "one_change_txn": small,
            "one_change_txn_normal": small_normal,
            "items_per_s_normal": normal_items,
            "stage_cpu_us_per_item": parts,
            "runs": runs,
            "raw": raws,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
