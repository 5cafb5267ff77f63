"""The NBME technical-flaw rules: each fires on a flawed item and stays quiet on a good one."""

from __future__ import annotations

import pytest

from bulkgen.generation.validators import RULES, has_errors, validate_item
from bulkgen.models import GeneratedItem, Option, RuleResult

RATIONALE = (
    "The beta cells of the pancreatic islets secrete insulin. The liver, spleen and kidney "
    "respond to insulin or clear it but do not produce it."
)
STEM = "Which organ produces insulin in the human body?"


def item(
    *texts: str, stem: str = STEM, answer: str = "B", rationale: str = RATIONALE
) -> GeneratedItem:
    options = [Option(key=chr(ord("A") + i), text=text) for i, text in enumerate(texts)]
    return GeneratedItem(stem=stem, options=options, answer=answer, rationale=rationale)


def fired(it: GeneratedItem, rule: str) -> list[RuleResult]:
    results = [r for r in validate_item(it) if r.rule == rule]
    assert all(r.severity is RULES[rule].severity for r in results)
    return results


@pytest.mark.parametrize(
    "text",
    [
        "Both A and C",
        "A and C are correct",
        "A, B and C",
        "All of the options A–C",
        "I and III only",
    ],
)
def test_options_combination(text: str) -> None:
    (result,) = fired(
        item("The liver", "The pancreas", "The spleen", text, answer="D"), "options.combination"
    )
    assert result.message.startswith("option D (")
    assert "combines other options by letter" in result.message


@pytest.mark.parametrize(
    "text", ["Vitamin A and C deficiency", "Type A personality", "Hepatitis A"]
)
def test_options_combination_passes_ordinary_letters(text: str) -> None:
    assert not fired(item("The liver", "The pancreas", "The spleen", text), "options.combination")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("The left ventricle", "Left ventricle"),
        ("Hypokalemia", "Hypokalaemia"),
        ("Beta-blockers", "Beta blocker"),
        ("Oedema of the legs", "Edema of the legs"),
    ],
)
def test_options_near_duplicate(first: str, second: str) -> None:
    (result,) = fired(item(first, "The pancreas", second, "The kidney"), "options.near_duplicate")
    assert result.message.startswith(f"options A ('{first}') and C ('{second}') say the same thing")


def test_options_near_duplicate_passes_different_words() -> None:
    opts = ("Hypokalemia", "Hyperkalemia", "Hyponatremia", "Hypernatremia")
    assert not fired(item(*opts), "options.near_duplicate")
    # Exact duplicates are options.unique's to report.
    assert not fired(item("Liver", "Pancreas", "liver", "Kidney"), "options.near_duplicate")


@pytest.mark.parametrize(
    ("opts", "pair", "shared"),
    [
        (
            ("5–10 mg", "10–20 mg", "15–25 mg", "30 mg or more"),
            "B ('10–20 mg') and C ('15–25 mg')",
            "15–20",
        ),
        (
            ("< 5", "< 10", "10 to 20", "more than 20"),
            "A ('< 5') and B ('< 10')",
            "any value below 5",
        ),
        (
            ("Less than 5 mmHg", "5-15 mmHg", "20–30 mmHg", "12 mmHg"),
            "B ('5-15 mmHg') and D ('12 mmHg')",
            "12",
        ),
    ],
)
def test_options_overlapping_ranges(opts: tuple[str, ...], pair: str, shared: str) -> None:
    results = fired(item(*opts), "options.overlapping_ranges")
    assert [r for r in results if pair in r.message and f"{shared} fits both" in r.message], results


@pytest.mark.parametrize(
    "opts",
    [
        ("-90 mV", "-70 mV", "-55 mV", "+30 mV"),
        ("< 5 mg", "5–10 mg", "11–20 mg", "more than 20 mg"),
        ("650 nm", "450 nm", "532 nm", "405 nm"),
        (
            "A p-value below 0.05 guarantees replication",
            "A p-value of 0.04 shows a large effect",
            "c",
            "d",
        ),
    ],
)
def test_options_overlapping_ranges_passes_exclusive_values(opts: tuple[str, ...]) -> None:
    assert not fired(item(*opts), "options.overlapping_ranges")


def test_options_vague_frequency() -> None:
    opts = ("It usually rises", "The pancreas", "It may fall", "The kidney")
    results = fired(item(*opts), "options.vague_frequency")
    assert [r.message.split(";")[0] for r in results] == [
        "option A uses the vague frequency term 'usually'",
        "option C uses the vague frequency term 'may'",
    ]
    assert not has_errors(results)


def test_options_vague_frequency_passes_superlatives() -> None:
    opts = ("The value that occurs most often", "The pancreas", "The spleen", "The kidney")
    assert not fired(item(*opts), "options.vague_frequency")


def test_options_grammatical_cue_article() -> None:
    stem = "The hormone that lowers blood glucose is an"
    (result,) = fired(
        item("glucagon", "insulin", "cortisol", "somatostatin", stem=stem),
        "options.grammatical_cue",
    )
    assert result.message.startswith(
        "the stem ends in 'an' and only the answer (B, 'insulin') fits it"
    )
    # Every option fits, or the options carry their own articles: no cue.
    assert not fired(
        item("glucagon", "insulin", "estrogen", "oxytocin", stem=stem), "options.grammatical_cue"
    )
    opts = ("a glucagon", "an insulin", "a cortisol", "a somatostatin")
    assert not fired(item(*opts, stem=stem), "options.grammatical_cue")


def test_options_grammatical_cue_plural() -> None:
    stem = "Which of the following are first-line drugs for heart failure?"
    opts = ("Digoxin", "ACE inhibitors", "Verapamil", "Nifedipine")
    (result,) = fired(item(*opts, stem=stem), "options.grammatical_cue")
    assert "only the answer (B, 'ACE inhibitors') is plural" in result.message
    good = ("Calcium blockers", "ACE inhibitors", "Nitrates", "Antiarrhythmics")
    assert not fired(item(*good, stem=stem), "options.grammatical_cue")


@pytest.mark.parametrize(
    "opts",
    [
        ("The liver, always", "The pancreas", "Only the spleen", "Every kidney"),
        ("Never the liver", "The pancreas", "All organs", "None"),
    ],
)
def test_distractors_absolute_terms_still_fire(opts: tuple[str, ...]) -> None:
    assert len(fired(item(*opts), "distractors.absolute_terms")) == 3


@pytest.mark.parametrize(
    "opts",
    [
        ("500 mg every 8 hours", "250 mg", "1 g every day", "2 g once daily"),
        ("Albumin only", "Saline", "One only", "Oral only, then IV"),
        ("Every other day", "Daily", "Every 4–6 hours", "Every morning"),
        ("Not only the liver", "The pancreas", "The spleen", "None of the above"),
    ],
)
def test_distractors_absolute_terms_pass_dosing_and_closing_only(opts: tuple[str, ...]) -> None:
    assert not fired(item(*opts), "distractors.absolute_terms")


def test_answer_word_repeat() -> None:
    stem = "Which structure filters plasma at the glomerular capillaries?"
    opts = ("Proximal tubule", "Glomerular basement membrane", "Loop of Henle", "Collecting duct")
    (result,) = fired(item(*opts, stem=stem), "answer.word_repeat")
    assert "repeats 'Glomerular' from the stem and no distractor does" in result.message
    fair = (
        "Glomerular mesangium",
        "Glomerular basement membrane",
        "Loop of Henle",
        "Collecting duct",
    )
    assert not fired(item(*fair, stem=stem), "answer.word_repeat")


def test_answer_word_repeat_ignores_the_topic() -> None:
    stem = "Which structure filters plasma at the glomerular capillaries?"
    opts = ("Proximal tubule", "Glomerular basement membrane", "Loop of Henle", "Collecting duct")
    flagged = validate_item(item(*opts, stem=stem), topic="Glomerular disease")
    assert "answer.word_repeat" not in {r.rule for r in flagged}


def test_answer_convergence() -> None:
    stem = "Which findings are expected in early septic shock?"
    opts = (
        "Hypotension, bradycardia and warm skin",
        "Hypotension, tachycardia and warm skin",
        "Hypotension, tachycardia and cold skin",
        "Hypertension, tachycardia and warm skin",
    )
    (result,) = fired(item(*opts, stem=stem), "answer.convergence")
    assert result.message.startswith("the answer (B) shares more words")
    balanced = (
        "Hypotension, bradycardia and cold skin",
        "Hypotension, tachycardia and warm skin",
        "Hypertension, tachycardia and cold skin",
        "Hypertension, bradycardia and warm skin",
    )
    assert not fired(item(*balanced, stem=stem), "answer.convergence")
    chambers = ("The left ventricle", "The right ventricle", "The left atrium", "The right atrium")
    assert not fired(item(*chambers, answer="A"), "answer.convergence")


@pytest.mark.parametrize(
    "stem",
    [
        "A 45-year-old man has crushing chest pain. His ECG shows ST elevation in II, III and aVF.",
        "Insulin is produced by the beta cells of the pancreas.",
    ],
)
def test_stem_no_lead_in(stem: str) -> None:
    (result,) = fired(
        item("The liver", "The pancreas", "The spleen", "The kidney", stem=stem), "stem.no_lead_in"
    )
    assert result.message.startswith("the stem states facts but asks no question")


@pytest.mark.parametrize(
    "stem",
    [
        "Which organ produces insulin?",
        "All of the following are pancreatic hormones EXCEPT:",
        "The organ that produces insulin is the",
        "The organ that produces insulin is ___.",
        "A man has diabetes. Identify the organ that fails to produce insulin.",
    ],
)
def test_stem_no_lead_in_passes_questions_and_completions(stem: str) -> None:
    assert not fired(
        item("The liver", "The pancreas", "The spleen", "The kidney", stem=stem), "stem.no_lead_in"
    )


@pytest.mark.parametrize(
    ("stem", "words"),
    [
        ("Which of the following is NOT produced by the pancreas?", "'NOT'"),
        ("Each is a pancreatic hormone EXCEPT:", "'EXCEPT'"),
        ("Which organ is LEAST likely to store glycogen?", "'LEAST'"),
        ("Which hormone CANNOT be taken by mouth?", "'CANNOT'"),
        ("Which statement about insulin is false?", "'false'"),
    ],
)
def test_stem_negative_lead_in_warns_even_in_capitals(stem: str, words: str) -> None:
    (result,) = fired(
        item("The liver", "The pancreas", "The spleen", "The kidney", stem=stem),
        "stem.negative_lead_in",
    )
    assert result.message.startswith(f"the question is negatively phrased ({words})")


def test_stem_negative_lead_in_reads_only_the_question() -> None:
    stem = "A man has never smoked and does not drink. Which diagnosis is most likely?"
    assert not fired(
        item("The liver", "The pancreas", "The spleen", "The kidney", stem=stem),
        "stem.negative_lead_in",
    )


@pytest.mark.parametrize(
    ("rationale", "named"),
    [
        ("Option B is correct because beta cells secrete insulin into the blood.", "'Option B'"),
        ("Beta cells secrete insulin into the blood, so (C) is wrong here.", "'(C) is wrong'"),
        ("B is the answer, since beta cells of the islets secrete insulin.", "'B is the answer'"),
        ("Beta cells of the islets secrete insulin; the answer is B.", "'answer is B'"),
    ],
)
def test_rationale_option_letters(rationale: str, named: str) -> None:
    it = item("The liver", "The pancreas", "The spleen", "The kidney", rationale=rationale)
    (result,) = fired(it, "rationale.option_letters")
    assert named in result.message
    assert result.message.endswith(
        "exports shuffle the options, so refer to each option by its text"
    )


@pytest.mark.parametrize(
    "rationale",
    [
        RATIONALE,
        "Vitamin A is stored in the liver, and type B cells are not involved in insulin release.",
        "Hepatitis B is a liver infection; beta cells of the pancreas secrete the insulin.",
    ],
)
def test_rationale_option_letters_passes_letters_in_words(rationale: str) -> None:
    it = item("The liver", "The pancreas", "The spleen", "The kidney", rationale=rationale)
    assert not fired(it, "rationale.option_letters")


@pytest.mark.parametrize("answer", ["A ", "a", " a "])
def test_answer_keys_are_normalised_so_the_item_passes_and_exports(answer: str) -> None:
    it = item("The pancreas", "The liver", "The spleen", "The kidney", answer=answer)
    assert it.answer == "A"
    assert not has_errors(validate_item(it))


def test_option_keys_are_normalised_too() -> None:
    options = [
        Option(key=f" {key} ", text=t) for key, t in zip("abcd", ["w", "x", "y", "z"], strict=True)
    ]
    assert [o.key for o in options] == ["A", "B", "C", "D"]
