"""The stem index behind the duplicate rules: normalisation, lookups, and its precision and
recall on the labelled stem pairs (``tests/data/stem_pairs.jsonl``)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bulkgen.generation.rules.evaluation import read_pairs, score_pairs
from bulkgen.generation.rules.similar import (
    THRESHOLD,
    Normalised,
    StemIndex,
    normalise,
    similarity,
    stem_key,
)

PAIRS = Path(__file__).resolve().parent / "data" / "stem_pairs.jsonl"
#: Set just under what the default threshold measures today (0.94 and 0.92).
PRECISION_FLOOR, RECALL_FLOOR = 0.9, 0.9


def index_of(*stems: str) -> StemIndex:
    index = StemIndex()
    for number, stem in enumerate(stems, start=1):
        index.add(stem, f"item {number}")
    return index


def test_numbers_case_punctuation_and_filler_do_not_change_the_key() -> None:
    first = "A 45-year-old man takes 120 mg of aspirin. Which of the following is most likely?"
    second = "a 62-YEAR-OLD man takes 80 mg of aspirin... which is likely"
    assert stem_key(first) == stem_key(second) == "# year old man tak # mg aspirin | "
    assert stem_key("Which organs produce insulin?") == stem_key("Which organ produces insulin")


def test_negations_are_kept_as_one_word() -> None:
    assert normalise("Which is NOT a cause of anaemia?").negative
    assert normalise("All are causes of anaemia EXCEPT which one?").negative
    assert not normalise("Which is a cause of anaemia?").negative
    # A negation in the vignette does not make the question negative.
    assert not normalise("A man has never smoked. Which cause of cough is likely?").negative


def test_the_question_counts_more_than_the_vignette() -> None:
    vignette = "A test has a sensitivity of 90% and a specificity of 80% in 1,000 people. "
    positive = normalise(vignette + "What is its positive predictive value?")
    negative = normalise(vignette + "What is its negative predictive value?")
    assert similarity(positive, negative) < THRESHOLD
    assert positive.weights["predictiv"] > positive.weights["sensitivity"]


def test_find_names_the_exact_repeat_first() -> None:
    index = index_of(
        "Which organ in the body produces insulin?",
        "Which organ produces insulin?",
    )
    match = index.find("which ORGAN produces insulin")
    assert match is not None
    assert (match.label, match.exact, match.similarity) == ("item 2", True, 1.0)


def test_find_returns_the_most_similar_stem_over_the_threshold() -> None:
    index = index_of(
        "Which hormone lowers blood glucose after a meal?",
        "Which organ makes the hormone that lowers blood glucose after a meal?",
        "Which drug treats hypertension in pregnancy?",
    )
    match = index.find("After a meal, which hormone lowers the blood glucose?")
    assert match is not None
    assert (match.label, match.exact) == ("item 1", False)
    assert match.stem == "Which hormone lowers blood glucose after a meal?"
    assert index.find("Which hormone raises blood calcium?") is None


def test_markup_counts_by_its_tag_names_only() -> None:
    markup = " <img src=x onerror=alert(1)>"
    index = index_of("Lisbon is the capital of which country?" + markup)
    assert index.find("Nouakchott is the capital of which country?" + markup) is None
    assert stem_key("What does the <img> tag do?") != stem_key("What does the <a> tag do?")
    assert stem_key("What does <b class='x'>this</b> do?") == stem_key("What does b this b do?")


def test_a_withdrawn_stem_is_found_no_more() -> None:
    index = index_of(
        "Which hormone lowers blood glucose after a meal?",
        "Which drug treats hypertension in pregnancy?",
    )
    index.withdraw("item 1")
    assert len(index) == 1
    assert index.find("Which hormone lowers blood glucose after a meal?") is None
    assert index.find("After a meal, which hormone lowers the blood glucose?") is None
    match = index.find("Which drug treats hypertension in pregnancy?")
    assert match is not None and match.label == "item 2"


def test_a_negated_question_never_repeats_the_plain_one() -> None:
    index = index_of("Which of the following is a feature of the nephrotic syndrome?")
    assert index.find("Which of the following is NOT a feature of the nephrotic syndrome?") is None
    assert index.find("Which is a feature of nephrotic syndrome?") is not None


def test_an_empty_index_and_a_stem_of_filler_words_find_nothing() -> None:
    assert StemIndex().find("Which organ produces insulin?") is None
    index = index_of("Which of the following is true?")
    assert len(index) == 1
    assert index.find("Which of these is most likely?") is not None  # same (empty) key
    assert index_of("Which organ produces insulin?").find("Which of these is true?") is None


def test_the_index_finds_what_a_scan_of_every_stem_finds() -> None:
    # The probe of rare words is exact: over random stems from a small vocabulary, where
    # many pairs come close to the threshold, it agrees with comparing every pair.
    rng = random.Random(7)
    vocabulary = [f"w{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(6)]
    stems = [
        " ".join(rng.sample(vocabulary[: rng.randint(10, 20)], rng.randint(4, 9))) + "?"
        for _ in range(400)
    ]
    index = StemIndex()
    earlier: list[Normalised] = []
    near = 0
    for number, stem in enumerate(stems):
        words = normalise(stem)
        expected = max((similarity(words, seen) for seen in earlier), default=0.0)
        match = index.find(stem)
        if words.key in {seen.key for seen in earlier}:
            assert match is not None and match.exact
        elif expected >= THRESHOLD:
            assert match is not None and match.similarity == pytest.approx(expected)
            near += 1
        else:
            assert match is None
        if match is None:
            index.add(stem, f"item {number}")
            earlier.append(words)
    assert near > 20  # the test reaches the threshold often enough to mean something


def test_add_returns_the_key_and_find_caches_the_last_stem() -> None:
    index = StemIndex()
    stem = "Which river flows through Cairo?"
    assert index.find(stem) is None
    assert index.add(stem, "item 1") == stem_key(stem) == "river flow cairo"
    assert index.find(stem) is not None  # the cache was dropped by add


def test_pairs_corpus_meets_its_floors() -> None:
    pairs = read_pairs(PAIRS)
    assert len(pairs) >= 60
    assert len({pair.subject for pair in pairs}) >= 8
    score = score_pairs(pairs)
    assert score.precision >= PRECISION_FLOOR, score
    assert score.recall >= RECALL_FLOOR, score
    # Every number-only change is caught, and no NOT question is taken for the plain one.
    kinds = {pair.id: pair.kind for pair in pairs}
    assert not [pair for pair in score.missed if kinds[pair] == "number"]
    assert not [pair for pair in score.wrong if kinds[pair] == "negation"]


def test_a_stricter_threshold_trades_recall_for_precision() -> None:
    pairs = read_pairs(PAIRS)
    loose, strict = score_pairs(pairs, 0.7), score_pairs(pairs, 0.9)
    assert loose.recall >= score_pairs(pairs).recall >= strict.recall
    assert strict.precision >= loose.precision
