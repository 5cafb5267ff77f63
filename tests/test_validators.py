"""Item-writing rules: each fires on a bad item, with a message naming the problem."""

from __future__ import annotations

import pytest

from bulkgen.generation.validators import (
    RULES,
    Rule,
    StemIndex,
    has_errors,
    stem_key,
    validate_item,
)
from bulkgen.models import GeneratedItem, Option, RuleResult, Severity

GOOD = GeneratedItem(
    stem="Which organ produces insulin in the human body?",
    options=[
        Option(key="A", text="The liver"),
        Option(key="B", text="The pancreas"),
        Option(key="C", text="The spleen"),
        Option(key="D", text="The kidney"),
    ],
    answer="B",
    rationale="The beta cells of the pancreatic islets secrete insulin. The liver, spleen "
    "and kidney respond to insulin or clear it but do not produce it.",
)


def bad(**changes: object) -> GeneratedItem:
    return GOOD.model_copy(update=changes)


def options(*texts: str) -> list[Option]:
    return [Option(key=chr(ord("A") + i), text=text) for i, text in enumerate(texts)]


def fired(item: GeneratedItem, rule: str, stems: StemIndex | None = None) -> list[RuleResult]:
    return [r for r in validate_item(item, stems=stems) if r.rule == rule]


def only(item: GeneratedItem, rule: str, stems: StemIndex | None = None) -> RuleResult:
    results = fired(item, rule, stems)
    assert len(results) == 1, validate_item(item)
    assert results[0].severity is RULES[rule].severity
    return results[0]


def test_good_item_breaks_no_rule() -> None:
    assert validate_item(GOOD) == []
    assert not has_errors([])


def test_registry_lists_every_rule_with_severity_and_description() -> None:
    errors = {
        "schema.stem",
        "schema.options",
        "schema.answer",
        "schema.rationale",
        "options.unique",
        "options.all_none_of_the_above",
        "options.combination",
        "options.near_duplicate",
        "options.overlapping_ranges",
        "stem.length",
        "stem.no_lead_in",
        "stem.negative_emphasis",
        "stem.duplicate",
        "stem.near_duplicate",
        "rationale.length",
        "rationale.option_letters",
    }
    warnings = {
        "answer.longest",
        "answer.word_repeat",
        "answer.convergence",
        "distractors.absolute_terms",
        "options.grammatical_cue",
        "options.vague_frequency",
        "stem.negative_lead_in",
    }
    assert set(RULES) == errors | warnings
    for rule_id, rule in RULES.items():
        assert isinstance(rule, Rule)
        assert rule.id == rule_id
        assert rule.description
        assert rule.severity is (Severity.ERROR if rule_id in errors else Severity.WARNING)


def test_schema_stem() -> None:
    result = only(bad(stem="   "), "schema.stem")
    assert result.message == "stem is empty"
    # A missing stem is one complaint, not also "too short".
    assert not fired(bad(stem=""), "stem.length")


@pytest.mark.parametrize(
    ("opts", "expected"),
    [
        (options("one", "two", "three"), "item has 3 options; 4 to 5 are needed"),
        (options(*"abcdef"), "item has 6 options; 4 to 5 are needed"),
        (options("one", "", "three", "four"), "option B has no text"),
        (
            [Option(key=k, text=t) for k, t in zip(["A", "", "C", "D"], "xyzw", strict=True)],
            "option 2 has no key",
        ),
        (
            [*options("one", "two", "three"), Option(key="A", text="four")],
            "option keys used more than once: A",
        ),
    ],
)
def test_schema_options(opts: list[Option], expected: str) -> None:
    item = bad(options=opts, answer="A")
    assert expected in [r.message for r in fired(item, "schema.options")]
    assert has_errors(validate_item(item))


def test_schema_options_with_no_options_does_not_crash() -> None:
    results = validate_item(bad(options=[], answer="A"))
    assert {r.rule for r in results} == {"schema.options", "schema.answer"}
    assert "item has 0 options" in results[0].message


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("", "answer key is missing"),
        ("  ", "answer key is missing"),
        ("F", "answer 'F' names no option; the options are A, B, C, D"),
        ("A, C", "answer 'A, C' names 2 options; exactly one is needed"),
    ],
)
def test_schema_answer(answer: str, expected: str) -> None:
    assert only(bad(answer=answer), "schema.answer").message == expected


def test_missing_answer_skips_rules_that_need_it() -> None:
    long_answer = options("The pancreas, through the beta cells of its islets", "a", "b", "c")
    results = validate_item(bad(options=long_answer, answer=""))
    assert [r.rule for r in results] == ["schema.answer"]


def test_schema_rationale() -> None:
    assert only(bad(rationale=""), "schema.rationale").message == "rationale is empty"
    assert not fired(bad(rationale=""), "rationale.length")


def test_options_unique_ignores_case_and_spacing() -> None:
    item = bad(options=options("The liver", "The pancreas", "the  LIVER ", "The kidney"))
    assert only(item, "options.unique").message == "option C duplicates option A"
    assert not fired(GOOD, "options.unique")


@pytest.mark.parametrize(
    "text", ["All of the above", "none of the above.", "NONE OF THE ABOVE!", "All-of-the-above"]
)
def test_options_all_none_of_the_above(text: str) -> None:
    item = bad(options=options("The liver", "The pancreas", "The spleen", text))
    result = only(item, "options.all_none_of_the_above")
    assert result.message.startswith("option D is ")
    assert text in result.message


def test_options_all_none_of_the_above_does_not_flag_ordinary_text() -> None:
    item = bad(options=options("The liver", "The pancreas", "All of these organs", "Above all"))
    assert not fired(item, "options.all_none_of_the_above")


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("Insulin source?", "stem has 15 characters; at least 20 are needed"),
        ("x" * 1001, "stem has 1001 characters; at most 1000 are allowed"),
    ],
)
def test_stem_length(stem: str, expected: str) -> None:
    assert only(bad(stem=stem), "stem.length").message == expected


def test_stem_length_bounds_are_inclusive() -> None:
    assert not fired(bad(stem="x" * 20), "stem.length")
    assert not fired(bad(stem="x" * 1000), "stem.length")


@pytest.mark.parametrize(
    ("stem", "word"),
    [
        ("Which of the following is not produced by the pancreas?", "not"),
        ("All of the following are pancreatic hormones except:", "except"),
        ("Which organ is the least involved in glucose control?", "least"),
        ("Which statement about insulin is false?", "false"),
        ("Which statement about insulin is Incorrect?", "Incorrect"),
        ("Which hormone cannot be taken by mouth?", "cannot"),
        ("Which organ is least likely to store glycogen?", "least"),
        ("Not every hormone is a protein. Which of these is Not a peptide?", "Not"),
    ],
)
def test_stem_negative_emphasis(stem: str, word: str) -> None:
    result = only(bad(stem=stem), "stem.negative_emphasis")
    assert result.message == (
        f"negative word {word!r} in the question is in lower case; write {word.upper()!r}"
    )


@pytest.mark.parametrize(
    "stem",
    [
        "Which of the following is NOT produced by the pancreas?",
        "All of the following are pancreatic hormones EXCEPT:",
        "Which organ is LEAST involved in glucose control?",
        "Which statement about insulin is FALSE?",
        "Which hormone CANNOT be taken by mouth?",
        "Which organ is LEAST likely to store glycogen?",
        "Which test has the highest false positive rate for diabetes?",
        "Which organ needs at least two hormones to control glucose?",
        "Which is the main cost driver for not-for-profit hospitals?",
        "Nothing is known about the donor. Which test comes first?",
        # The vignette's negation does not change what the reader must pick.
        "A man has never smoked and does not drink. Which diagnosis is most likely?",
    ],
)
def test_stem_negative_emphasis_passes(stem: str) -> None:
    assert not fired(bad(stem=stem), "stem.negative_emphasis")


def stems(*earlier: str) -> StemIndex:
    index = StemIndex()
    for number, stem in enumerate(earlier, start=1):
        index.add(stem, f"item {number}")
    return index


def test_stem_duplicate_names_the_item_it_repeats() -> None:
    seen = stems(
        "Which gas do plants take in?", "  which organ produces INSULIN in the human body "
    )
    result = only(GOOD, "stem.duplicate", seen)
    assert result.message.startswith("the stem repeats item 2 with only numbers")
    assert "'which organ produces INSULIN in the human body'" in result.message
    assert not fired(GOOD, "stem.near_duplicate", seen)
    assert not fired(GOOD, "stem.duplicate", stems("Which organ stores bile in the body?"))


def test_stem_duplicate_catches_a_number_changed() -> None:
    seen = stems("A 45-year-old man takes 120 mg of aspirin daily. Which drug interacts?")
    item = bad(stem="A 62-year-old man takes 80 mg of aspirin daily. Which drug interacts?")
    assert only(item, "stem.duplicate", seen).message.startswith("the stem repeats item 1")


def test_stem_near_duplicate_names_the_item_and_how_alike() -> None:
    seen = stems("In the human body, insulin is produced by which organ?")
    result = only(GOOD, "stem.near_duplicate", seen)
    assert result.message.startswith(
        "the stem asks the same question as item 1 in other words (100% alike)"
    )
    assert not fired(GOOD, "stem.duplicate", seen)


def test_stem_key_keeps_content_words_and_hides_numbers() -> None:
    assert stem_key("  Which organ\n makes   INSULIN? ") == "organ mak insulin"
    assert stem_key("¿Qué órgano?") == "qué órgano"
    assert stem_key("A 3-year-old girl has a fever. Which drug?") == "# year old girl fever | drug"
    assert stem_key("Which is NOT a cause?") == "not caus"


@pytest.mark.parametrize(
    "rationale",
    [
        "It is made in the pancreas.",  # 6 words, 27 characters
        "Pancreas: endocrine, exocrine, insulin-producing-organ",  # 4 words, 55 characters
    ],
)
def test_rationale_length(rationale: str) -> None:
    result = only(bad(rationale=rationale), "rationale.length")
    chars, words = len(rationale), len(rationale.split())
    assert result.message == (
        f"rationale has {chars} characters and {words} words; "
        "at least 40 characters and 6 words are needed"
    )


def test_answer_longest_warns_when_clearly_longer() -> None:
    item = bad(
        options=options(
            "The liver",
            "The pancreas, through the beta cells of its islets",
            "The spleen",
            "The kidney",
        )
    )
    result = only(item, "answer.longest")
    assert result.severity is Severity.WARNING
    assert result.message.startswith("the answer (B, 50 characters) is much longer than every")
    assert "longest 10 characters" in result.message
    assert not has_errors(validate_item(item))


def test_answer_longest_needs_both_ratio_and_margin() -> None:
    # Over 1.5x as long but only 5 characters more: short options are not a cue.
    short = bad(options=options("Li", "Na+ ion", "Kr", "Ca"))
    assert not fired(short, "answer.longest")
    # 20 characters more but only 1.4x: long options differing by a clause are fine.
    long = bad(options=options("x" * 50, "y" * 70, "z" * 40, "w" * 30))
    assert not fired(long, "answer.longest")


def test_distractors_absolute_terms() -> None:
    item = bad(
        options=options(
            "The liver, always",
            "The pancreas, in every case",
            "Only the spleen",
            "Every kidney",
        )
    )
    results = fired(item, "distractors.absolute_terms")
    assert [r.message for r in results] == [
        "distractor A uses the absolute term 'always', a cue that it is wrong",
        "distractor C uses the absolute term 'only', a cue that it is wrong",
        "distractor D uses the absolute term 'every', a cue that it is wrong",
    ]
    assert all(r.severity is Severity.WARNING for r in results)


def test_absolute_terms_are_whole_words() -> None:
    item = bad(options=options("Overall the liver", "The pancreas", "Everywhere", "Nonexistent"))
    assert not fired(item, "distractors.absolute_terms")


def test_has_errors_ignores_warnings() -> None:
    warning = RuleResult(rule="answer.longest", severity=Severity.WARNING, message="m")
    error = RuleResult(rule="stem.length", severity=Severity.ERROR, message="m")
    assert not has_errors([warning])
    assert has_errors([warning, error])


def test_negative_words_of_the_topic_itself_are_not_a_negation() -> None:
    item = GeneratedItem(
        stem="Which mechanism best explains false memory formation in eyewitness testimony?",
        options=[
            Option(key="A", text="Misinformation effect"),
            Option(key="B", text="Retrograde amnesia"),
            Option(key="C", text="Proactive facilitation"),
            Option(key="D", text="Sensory adaptation"),
        ],
        answer="A",
        rationale="Post-event information is integrated into the memory trace, which is the "
        "misinformation effect; the other options describe unrelated processes.",
    )
    flagged = [r.rule for r in validate_item(item)]
    assert "stem.negative_emphasis" in flagged
    assert "stem.negative_emphasis" not in [
        r.rule for r in validate_item(item, topic="False memory")
    ]
