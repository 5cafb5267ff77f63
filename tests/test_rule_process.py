"""The rules in a process of their own judge exactly as they do in the server's process:
same verdicts, same near-duplicate index, in the same order, through a crash too."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bulkgen.generation import DemoGenerator, GenerationRequest
from bulkgen.generation.judges import InlineJudge, Judge, Verdict
from bulkgen.generation.rule_process import RuleProcess
from bulkgen.generation.validators import StemIndex
from bulkgen.models import BatchConfig, DemoOptions, Difficulty, GeneratedItem, ItemType
from bulkgen.services import Services
from bulkgen.settings import Settings

from helpers.wait import until_finished

TOPIC = "Cardiac physiology"
EARLIER = [("What does the sinoatrial node set?", "item 1 of your earlier batch 'first'")]


async def demo_items(count: int, invalid_rate: float = 0.3) -> list[GeneratedItem]:
    generator = DemoGenerator(DemoOptions(seed=3, latency_ms=(0, 0), invalid_rate=invalid_rate))
    return [
        await generator.generate(
            GenerationRequest(
                batch_id="b",
                index=index,
                attempt=1,
                topic=TOPIC,
                item_type=ItemType.MCQ,
                difficulty=Difficulty.MEDIUM,
                model=None,
            )
        )
        for index in range(count)
    ]


def inline_judge() -> InlineJudge:
    stems = StemIndex()
    for stem, label in EARLIER:
        stems.add(stem, label)
    return InlineJudge(stems, TOPIC)


async def judge_all(judge: Judge, items: list[GeneratedItem], first: int = 0) -> list[Verdict]:
    """Judge the items all at once (grouped as the runner's workers would hand them over)."""
    return list(
        await asyncio.gather(
            *(judge.judge(f"item {first + n + 1}", item) for n, item in enumerate(items))
        )
    )


async def script(
    judge: Judge, items: list[GeneratedItem], kill: RuleProcess | None = None
) -> list[Verdict]:
    """Items, their repeats, a withdrawal and a repeat of the withdrawn stem."""
    verdicts = await judge_all(judge, items[:20])
    if kill is not None:
        kill.kill()
    verdicts += await judge_all(judge, items[20:] + items[:10], first=20)
    passed = next(n for n, (_, key) in enumerate(verdicts[:10]) if key is not None)
    judge.withdraw(f"item {passed + 1}")
    verdicts += await judge_all(judge, [items[passed]], first=100)
    return verdicts


async def test_the_process_judges_as_the_server_does() -> None:
    items = await demo_items(40)
    expected = await script(inline_judge(), items)
    assert any(key is None for _, key in expected)  # repeats and flawed items failed
    assert expected[-1][1] is not None  # the withdrawn stem may be used again
    process = RuleProcess()
    try:
        judge = process.judge_for(TOPIC, EARLIER)
        await process.started()
        assert await script(judge, items) == expected
        await judge.close()
    finally:
        await process.close()


async def test_items_judged_before_the_process_started_count_in_its_index() -> None:
    items = await demo_items(30)
    inline = inline_judge()
    expected = [await inline.judge(f"item {n + 1}", item) for n, item in enumerate(items)]
    expected += await judge_all(inline, items[:5], first=30)
    process = RuleProcess()
    try:
        judge = process.judge_for(TOPIC, EARLIER)
        verdicts = [await judge.judge(f"item {n + 1}", item) for n, item in enumerate(items[:15])]
        await process.started()
        verdicts += await judge_all(judge, items[15:], first=15)
        verdicts += await judge_all(judge, items[:5], first=30)
        assert verdicts == expected
    finally:
        await process.close()


async def test_a_crashed_process_is_replaced_by_the_same_index_here() -> None:
    items = await demo_items(40)
    expected = await script(inline_judge(), items)
    process = RuleProcess()
    try:
        judge = process.judge_for(TOPIC, EARLIER)
        await process.started()
        assert await script(judge, items, kill=process) == expected
    finally:
        await process.close()


async def outcomes(tmp_path: Path, name: str, rules_process_min_items: int) -> list[list[object]]:
    """Two batches on one topic (the second repeats the first's stems): each item's
    status, failed rules and stem key, and each item's events in order."""
    settings = Settings(
        database=tmp_path / f"{name}.db",
        log_level="warning",
        rules_process_min_items=rules_process_min_items,
    )
    services = await Services.start(settings)
    seen: list[list[object]] = []
    try:
        for count in (12, 20):
            config = BatchConfig(
                topic=TOPIC,
                count=count,
                concurrency=1,
                generator_options=DemoOptions(seed=5, latency_ms=(0, 0), invalid_rate=0.3),
            )
            batch = await services.create_batch("local", config)
            await until_finished(services, batch.id)
            _, items = await services.store.batch_with_items(batch.id, None, limit=100)
            seen.append(
                [
                    (
                        item.index,
                        item.status.value,
                        None if item.error is None else [r.rule for r in item.error.rules],
                    )
                    for item in sorted(items, key=lambda item: item.index)
                ]
            )
            events = await services.store.read_events(batch.id, after=0, limit=1000)
            seen.append([event.type for event in events])
    finally:
        await services.stop()
    return seen


async def test_a_batch_ends_the_same_with_its_rules_in_a_process(tmp_path: Path) -> None:
    here = await outcomes(tmp_path, "here", 0)
    there = await outcomes(tmp_path, "there", 1)
    assert there == here
    assert any(status == "failed" for _, status, _ in here[2])  # repeats of the first batch
