"""The demo generator: deterministic, valid items, and faults in the shares asked for."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

from bulkgen.errors import GenerationError, PermanentGenerationError, TransientGenerationError
from bulkgen.generation.base import GenerationRequest, Generator
from bulkgen.generation.demo import DemoGenerator
from bulkgen.generation.demo_questions import BANK, BANK_SIZES
from bulkgen.generation.validators import StemIndex, has_errors, validate_item
from bulkgen.models import DemoOptions, Difficulty, GeneratedItem, ItemType, Severity

TOPIC = "Cardiac physiology"
N = 2000


def demo(**options: object) -> DemoGenerator:
    return DemoGenerator(DemoOptions.model_validate({"latency_ms": (0, 0), **options}))


def request(
    index: int,
    attempt: int = 1,
    *,
    topic: str = TOPIC,
    difficulty: Difficulty = Difficulty.MEDIUM,
) -> GenerationRequest:
    return GenerationRequest(
        batch_id="b1",
        index=index,
        attempt=attempt,
        topic=topic,
        item_type=ItemType.MCQ,
        difficulty=difficulty,
    )


async def outcome(
    generator: DemoGenerator, req: GenerationRequest
) -> GeneratedItem | GenerationError:
    try:
        return await generator.generate(req)
    except GenerationError as error:
        return error


def summary(result: GeneratedItem | GenerationError) -> object:
    if isinstance(result, GenerationError):
        return (type(result), result.kind, result.message)
    return result


def test_satisfies_generator_protocol() -> None:
    generator: Generator = demo()
    assert generator.name == "demo"


async def test_same_inputs_give_the_same_outcome() -> None:
    options = {"seed": 7, "fail_rate": 0.3, "invalid_rate": 0.3, "markup_rate": 0.3}
    first, second = demo(**options), demo(**options)
    for index in range(300):
        for attempt in (1, 2, 5):
            a = await outcome(first, request(index, attempt))
            b = await outcome(second, request(index, attempt))
            assert summary(a) == summary(b)


async def test_different_seeds_give_different_items() -> None:
    one, other = demo(seed=1), demo(seed=2)
    items = [(await one.generate(request(i)), await other.generate(request(i))) for i in range(50)]
    assert sum(a != b for a, b in items) > 40


async def test_content_does_not_depend_on_the_attempt() -> None:
    generator = demo(seed=3)
    assert await generator.generate(request(5, 1)) == await generator.generate(request(5, 4))


def test_zero_latency_never_suspends() -> None:
    # A coroutine that finishes on its first step awaited nothing: no sleep, no yield.
    coroutine = demo().generate(request(0))
    with pytest.raises(StopIteration) as stop:
        coroutine.send(None)
    assert isinstance(stop.value.value, GeneratedItem)


async def test_latency_sleeps_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    generator = demo(latency_ms=(10, 30))
    for index in range(200):
        await generator.generate(request(index))
    assert all(0.010 <= s <= 0.030 for s in slept)
    assert len(slept) == 200
    assert len(set(slept)) > 150


async def test_latency_waits_on_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real sleep runs (other tasks go on meanwhile); only what it was asked is recorded.
    real_sleep = asyncio.sleep
    asked: list[float] = []

    async def recording_sleep(seconds: float) -> None:
        asked.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr(asyncio, "sleep", recording_sleep)
    item = await demo(latency_ms=(20, 20)).generate(request(0))
    assert isinstance(item, GeneratedItem)
    assert asked == [0.02]


@pytest.mark.parametrize("difficulty", list(Difficulty))
async def test_valid_items_break_no_error_rule(difficulty: Difficulty) -> None:
    generator = demo(seed=11)
    stems = StemIndex()
    warnings: Counter[str] = Counter()
    for index in range(N):
        item = await generator.generate(request(index, difficulty=difficulty))
        results = validate_item(item, stems=stems)
        assert not has_errors(results), (item, results)
        warnings.update(r.rule for r in results if r.severity is Severity.WARNING)
        stems.add(item.stem, f"item {index + 1}")
        answer = next(o.text for o in item.options if o.key == item.answer)
        assert answer.casefold() in item.rationale.casefold(), item
        assert item.rationale.count(". ") >= 1
    assert not warnings


async def test_answer_position_and_option_count_vary() -> None:
    generator = demo(seed=5)
    items = [await generator.generate(request(i)) for i in range(N)]
    answers = Counter(item.answer for item in items)
    assert all(answers[key] > N * 0.15 for key in "ABCD")
    assert answers["E"] > 0
    sizes = Counter(len(item.options) for item in items)
    assert sizes.keys() == {4, 5}
    assert sizes[5] > N * 0.15


# What duplicate detection reads in a stem: content words, with every number as "#".
_STOP_TEXT = """a about above after again all also an and any are as at be been before being below
    between both but by can could did do does doing during each either for from further had
    has have having he her here him his how i if in into is it its itself just may me might
    more most must my of on once one only or other our out over own same she should so some
    such than that the their them then there these they this those through to too under
    until up upon very was we were what when where whether which while who whom whose why
    will with would you your following likely correct true best"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())


def normalised(stem: str) -> str:
    return re.sub(r"\d+", "#", " ".join(stem.casefold().split()))


def content(stem: str) -> frozenset[str]:
    words = re.findall(r"#|[^\W\d_]+(?:'[^\W\d_]+)?", normalised(stem).replace("’", "'"))
    return frozenset(w.removesuffix("'s") for w in words if w not in _STOP_WORDS)


def jaccard(one: frozenset[str], other: frozenset[str]) -> float:
    return len(one & other) / len(one | other)


async def stems(generator: DemoGenerator, count: int, **request_fields: object) -> list[str]:
    return [
        (await generator.generate(request(i, **request_fields))).stem  # type: ignore[arg-type]
        for i in range(count)
    ]


def test_the_bank_is_large_and_spans_subjects() -> None:
    assert len(BANK) >= 2000
    assert sum(BANK_SIZES.values()) == len(BANK)
    assert len(BANK_SIZES) >= 10
    assert all(size >= 8 for size in BANK_SIZES.values())
    assert max(BANK_SIZES.values()) < 0.5 * len(BANK)


@pytest.mark.parametrize("difficulty", list(Difficulty))
async def test_a_batch_walks_the_whole_bank_without_a_repeat(difficulty: Difficulty) -> None:
    batch = await stems(demo(seed=2), len(BANK), difficulty=difficulty)
    # Not even with numbers hidden: no stem is another with only a number changed.
    assert len({normalised(stem) for stem in batch}) == len(BANK)


async def test_no_two_stems_ask_nearly_the_same_thing() -> None:
    words = [content(stem) for stem in await stems(demo(seed=4), 1000)]
    alike = [
        (i, j, round(jaccard(words[i], words[j]), 2))
        for i, j in combinations(range(len(words)), 2)
        if jaccard(words[i], words[j]) >= 0.7
    ]
    assert not alike


def test_no_two_stems_of_the_bank_ask_nearly_the_same_thing() -> None:
    # Every pair that shares a word, over the whole bank (the brute-force check above
    # covers the first items of one batch).
    words = [content(question.stem) for question in BANK]
    sharing: dict[str, list[int]] = {}
    for position, stem_words in enumerate(words):
        for word in stem_words:
            sharing.setdefault(word, []).append(position)
    alike = set()
    for position, stem_words in enumerate(words):
        others = {other for word in stem_words for other in sharing[word] if other > position}
        alike |= {
            (BANK[position].stem, BANK[other].stem)
            for other in others
            if jaccard(stem_words, words[other]) >= 0.7
        }
    assert not alike


async def test_past_the_bank_questions_repeat_and_fail_as_duplicates() -> None:
    generator = demo(seed=5)
    first = await generator.generate(request(0))
    index = StemIndex()
    for position, stem in enumerate(await stems(generator, len(BANK))):
        index.add(stem, f"item {position + 1}")
    again = await generator.generate(request(len(BANK)))
    assert again.stem == first.stem
    results = validate_item(again, stems=index)
    assert [r.rule for r in results if r.severity is Severity.ERROR] == ["stem.duplicate"]


async def test_the_order_depends_on_seed_topic_and_difficulty() -> None:
    base = await stems(demo(seed=1), 50)
    assert base == await stems(demo(seed=1), 50)
    for other in (
        await stems(demo(seed=2), 50),
        await stems(demo(seed=1), 50, topic="Optics"),
        await stems(demo(seed=1), 50, difficulty=Difficulty.HARD),
    ):
        assert sum(a != b for a, b in zip(base, other, strict=True)) > 45


async def test_fail_rate_share_and_kinds() -> None:
    generator = demo(seed=3, fail_rate=0.2)
    failures = [
        r
        for i in range(N)
        if isinstance(r := await outcome(generator, request(i)), GenerationError)
    ]
    assert 0.17 * N < len(failures) < 0.23 * N
    kinds = Counter(f.kind for f in failures)
    assert kinds.keys() == {"timeout", "rate_limited", "malformed_output"}
    for failure in failures:
        permanent = failure.kind == "malformed_output"
        assert isinstance(
            failure, PermanentGenerationError if permanent else TransientGenerationError
        )
        assert failure.transient is not permanent
    messages = {f.kind: f.message for f in failures}
    assert messages["timeout"] == "provider did not answer within 30 s"
    assert messages["rate_limited"].startswith("429 ")
    assert messages["malformed_output"].startswith("response is not valid JSON: ")


async def test_transient_failures_clear_after_some_attempts() -> None:
    generator = demo(seed=4, fail_rate=0.5)
    first_success: Counter[int | None] = Counter()
    for index in range(400):
        first = await outcome(generator, request(index))
        if not isinstance(first, TransientGenerationError):
            continue
        successes = [
            attempt
            for attempt in range(2, 8)
            if isinstance(await outcome(generator, request(index, attempt)), GeneratedItem)
        ]
        # Once recovered, an item stays recovered.
        assert successes == list(range(successes[0], 8))
        first_success[successes[0]] += 1
    assert set(first_success) == {2, 3, 4, 5}
    # With 3 attempts, some items recover and some exhaust the budget.
    recovered = first_success[2] + first_success[3]
    assert 0.3 < recovered / sum(first_success.values()) < 0.7


async def test_permanent_failures_fail_every_attempt() -> None:
    generator = demo(seed=4, fail_rate=0.5)
    permanent = [
        i
        for i in range(200)
        if isinstance(await outcome(generator, request(i)), PermanentGenerationError)
    ]
    assert permanent
    for index in permanent:
        for attempt in range(2, 8):
            assert isinstance(
                await outcome(generator, request(index, attempt)), PermanentGenerationError
            )


async def test_invalid_items_all_fail_validation_with_every_flaw_kind() -> None:
    generator = demo(seed=6, invalid_rate=1.0)
    rules: Counter[str] = Counter()
    for index in range(N):
        results = validate_item(await generator.generate(request(index)))
        assert has_errors(results)
        rules.update(r.rule for r in results if r.severity is Severity.ERROR)
    assert rules.keys() >= {
        "options.all_none_of_the_above",
        "options.unique",
        "schema.answer",
        "stem.negative_emphasis",
        "rationale.length",
        "stem.length",
        "schema.options",
    }


async def test_invalid_rate_share_is_independent_of_fail_rate() -> None:
    async def invalid_indices(fail_rate: float) -> set[int]:
        generator = demo(seed=8, invalid_rate=0.25, fail_rate=fail_rate)
        invalid = set()
        for index in range(N):
            result = await outcome(generator, request(index))
            if isinstance(result, GeneratedItem) and has_errors(validate_item(result)):
                invalid.add(index)
        return invalid

    alone, with_failures = await invalid_indices(0.0), await invalid_indices(0.5)
    assert 0.22 * N < len(alone) < 0.28 * N
    # Failing items are dropped, but the others keep exactly the same flaws.
    assert with_failures < alone
    assert 0.3 < len(with_failures) / len(alone) < 0.7


async def test_markup_items_carry_markup_and_are_otherwise_valid() -> None:
    generator = demo(seed=9, markup_rate=0.1)
    marked = 0
    for index in range(N):
        item = await generator.generate(request(index))
        if "<img src=x onerror=" not in item.stem:
            assert not any("<script>" in option.text for option in item.options)
            continue
        marked += 1
        assert sum('<script>alert("x")</script>' in option.text for option in item.options) == 1
        assert not has_errors(validate_item(item))
    assert 0.08 * N < marked < 0.12 * N


def test_the_docs_state_the_bank_as_it_is() -> None:
    root = Path(__file__).parent.parent
    docs = (root / "docs" / "generators.md").read_text()
    rows = re.findall(r"^  \| ([a-z ]+?)(?: \(.*\))? \| (\d+) \|$", docs, re.MULTILINE)
    assert {subject: int(size) for subject, size in rows} == dict(BANK_SIZES)
    size = f"{len(BANK):,}"
    assert f"bank of {size} distinct questions" in docs
    assert f"bank of {size}" in (root / "README.md").read_text()
    form = root / "src" / "bulkgen" / "http" / "templates" / "new.html"
    assert f"bank of {size}" in form.read_text()
    bench = (root / "bench" / "README.md").read_text()
    assert f"holds {size} distinct" in bench
    assert f"the last {10_000 - len(BANK):,} items repeat" in bench
