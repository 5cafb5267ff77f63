"""Cost of the duplicate-stem lookup per item at 1,000 and 10,000 earlier stems, against a
linear scan in the same run, and the rules' precision and recall on the stem-pair corpus.

What a run does per item is what ``ItemWork`` does: ``StemIndex.find`` for the new stem
(the two duplicate rules share the lookup), then ``StemIndex.add`` when it passed. The
stems are synthetic but shaped like exam stems: a vignette of 6–20 content words drawn
from a 5,000-word vocabulary with a Zipf-like frequency (a batch's topic words are in
most stems), ages and doses as numbers, and one of 40 lead-ins.

For each size N: an index of N stems is built (its build time per stem is reported too,
as a run pays it when it starts), then the next ``--probe`` stems are looked up and added
one by one. Baselines on the same stems, same size:

* **scan (same measure)**: the weighted Jaccard against every earlier stem, in Python;
* **rapidfuzz scan**: ``rapidfuzz.process.extractOne`` with ``fuzz.token_set_ratio`` over
  every earlier normalised key (C++), cutoff 80 — the fuzzy-matching library alone;
* **datasketch MinHash LSH** (only if installed; it is not a dependency): 128 permutations,
  LSH threshold 0.8, MinHash of each stem's content words.

    .venv/bin/python bench/near_duplicates.py [--sizes 1000 10000] [--probe 1000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit_json, machine, table
from bulkgen.generation.rules.evaluation import read_pairs, score_pairs
from bulkgen.generation.rules.similar import THRESHOLD, StemIndex, normalise, similarity

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "tests" / "data" / "stem_pairs.jsonl"
LEAD_INS = [
    f"Which {noun} {verb}?"
    for noun in ("drug", "enzyme", "diagnosis", "test", "mechanism", "organ", "hormone", "step")
    for verb in ("is most likely", "explains this", "is indicated", "is best", "is affected")
]


def synthetic_stems(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ren", "tus", "vor", "pel", "dan", "sir", "qua", "bex", "nol"]
    vocabulary = sorted(
        {"".join(rng.choices(syllables, k=rng.randint(2, 4))) + "x" for _ in range(6000)}
    )[:5000]
    weights = [1.0 / (rank + 1) for rank in range(len(vocabulary))]
    stems = []
    for _ in range(count):
        words = rng.choices(vocabulary, weights, k=rng.randint(6, 20))
        age, dose = rng.randint(18, 90), rng.choice((5, 10, 20, 50, 100, 250))
        stems.append(
            f"A {age}-year-old patient takes {dose} mg daily; {' '.join(words)}. "
            + rng.choice(LEAD_INS)
        )
    return stems


def per_item_us(
    build: Callable[[list[str]], Any],
    step: Callable[[Any, str], None],
    base: list[str],
    probe: list[str],
) -> tuple[float, float]:
    """(µs to build per earlier stem, µs per probed item of find + add)."""
    started = time.perf_counter()
    state = build(base)
    built = time.perf_counter() - started
    started = time.perf_counter()
    for stem in probe:
        step(state, stem)
    spent = time.perf_counter() - started
    return built / len(base) * 1e6, spent / len(probe) * 1e6


def index_build(stems: list[str]) -> StemIndex:
    index = StemIndex()
    for number, stem in enumerate(stems):
        index.add(stem, f"item {number + 1}")
    return index


def index_step(index: StemIndex, stem: str) -> None:
    if index.find(stem) is None:
        index.add(stem, "new")


def scan_build(stems: list[str]) -> list[Any]:
    return [normalise(stem) for stem in stems]


def scan_step(seen: list[Any], stem: str) -> None:
    words = normalise(stem)
    if not any(similarity(words, other) >= THRESHOLD for other in seen):
        seen.append(words)


def rapidfuzz_pair() -> tuple[Callable[[list[str]], Any], Callable[[Any, str], None]]:
    from rapidfuzz import fuzz, process

    def build(stems: list[str]) -> list[str]:
        return [normalise(stem).key for stem in stems]

    def step(keys: list[str], stem: str) -> None:
        key = normalise(stem).key
        if process.extractOne(key, keys, scorer=fuzz.token_set_ratio, score_cutoff=80) is None:
            keys.append(key)

    return build, step


def datasketch_pair() -> tuple[Callable[[list[str]], Any], Callable[[Any, str], None]] | None:
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        return None

    def minhash(stem: str) -> Any:
        hashed = MinHash(num_perm=128)
        hashed.update_batch([word.encode() for word in normalise(stem).weights])
        return hashed

    def build(stems: list[str]) -> Any:
        lsh = MinHashLSH(threshold=THRESHOLD, num_perm=128)
        for number, stem in enumerate(stems):
            lsh.insert(number, minhash(stem))
        return [lsh, len(stems)]

    def step(state: list[Any], stem: str) -> None:
        lsh, size = state
        hashed = minhash(stem)
        if not lsh.query(hashed):
            lsh.insert(size, hashed)
            state[1] = size + 1

    return build, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--probe", type=int, default=1000, help="items looked up per size")
    args = parser.parse_args()

    stems = synthetic_stems(max(args.sizes) + args.probe)
    methods: dict[str, tuple[Callable[[list[str]], Any], Callable[[Any, str], None]]] = {
        "stem index": (index_build, index_step),
        "scan (same measure)": (scan_build, scan_step),
        "rapidfuzz scan": rapidfuzz_pair(),
    }
    sketch = datasketch_pair()
    if sketch is not None:
        methods["datasketch MinHash LSH"] = sketch

    figures: dict[str, Any] = {}
    rows = []
    for size in args.sizes:
        base, probe = stems[:size], stems[size : size + args.probe]
        measured = {name: per_item_us(*pair, base, probe) for name, pair in methods.items()}
        index_us = measured["stem index"][1]
        for name, (build_us, item_us) in measured.items():
            rows.append([size, name, item_us, item_us / index_us, build_us])
            figures[f"{name} @ {size}"] = {"find_add_us": item_us, "build_us_per_stem": build_us}

    print(f"find + add per item, {args.probe} items probed after N earlier stems")
    print(table(["N", "method", "µs/item", "× index", "build µs/stem"], rows))

    pairs = read_pairs(PAIRS)
    scores = [score_pairs(pairs, threshold) for threshold in (0.7, THRESHOLD, 0.9)]
    print(f"\nstem-pair corpus: {len(pairs)} pairs, {sum(p.duplicate for p in pairs)} duplicates")
    print(
        table(
            ["threshold", "precision", "recall", "missed", "wrong"],
            [
                [s.threshold, s.precision, s.recall, " ".join(s.missed), " ".join(s.wrong)]
                for s in scores
            ],
        )
    )
    figures["corpus"] = {
        f"{s.threshold}": {"precision": s.precision, "recall": s.recall} for s in scores
    }
    emit_json({"bench": "near_duplicates", "figures": figures, "machine": machine()})


if __name__ == "__main__":
    main()
