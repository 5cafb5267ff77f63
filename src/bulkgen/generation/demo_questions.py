"""The demo generator's question bank: templates per difficulty, and the text of faults.

Templates are domain-general questions (research methods, statistics, learning and
assessment) with a ``{topic}`` and a ``{n}`` field, so an item is correct whatever the
batch's topic is and no two items of a batch share a stem. The fault texts are what an
item-writing flaw or injected markup writes into an item.
"""

from __future__ import annotations

from dataclasses import dataclass

from bulkgen.models import Difficulty

__all__ = [
    "CATCH_ALLS",
    "LOWERCASE_NEGATIVE_STEMS",
    "NEGATIVE_TEMPLATES",
    "OPTION_MARKUP",
    "SHORT_RATIONALES",
    "SHORT_STEMS",
    "STEM_MARKUP",
    "TEMPLATES",
    "Template",
]

STEM_MARKUP = " <img src=x onerror=alert(1)>"
OPTION_MARKUP = ' <script>alert("x")</script>'
SHORT_STEMS = ("Which is correct?", "Pick the best one.", "Which one is true?")
SHORT_RATIONALES = ("It is correct.", "See the lecture notes.", "Obvious from the stem.")
CATCH_ALLS = ("All of the above", "None of the above.", "all of the above")


@dataclass(frozen=True, slots=True)
class Template:
    """One question: its answer, four distractors an item draws from, and why."""

    stem: str  # str.format fields: {n} (the item's number) and {topic}
    answer: str
    distractors: tuple[str, str, str, str]
    why: str
    why_not: str
    negative: bool = False  # the stem's NOT/EXCEPT is what a lowercase flaw writes small


_EASY = (
    Template(
        "In revision quiz {n} on {topic}, which term names a testable prediction "
        "derived from a theory?",
        "A hypothesis",
        ("An axiom", "A citation", "An anecdote", "A summary"),
        "A hypothesis is a specific prediction that follows from a theory and that evidence "
        "can support or refute.",
        "The other terms name things that are assumed, referenced or retold rather than "
        "predictions that an investigation can test.",
    ),
    Template(
        "Flashcard {n} for {topic} asks: which kind of source is the first to publish a "
        "new study's findings?",
        "A peer-reviewed primary research article",
        (
            "A general-audience encyclopedia entry",
            "A textbook chapter reviewing the field",
            "A newspaper summary of recent findings",
            "A slide deck from an introductory course",
        ),
        "A primary research article is where investigators first report their own methods, "
        "data and results, and peer review checks the work before publication.",
        "The other sources are secondary or tertiary: they restate work that was first "
        "published somewhere else.",
    ),
    Template(
        "Study guide {n} for {topic} asks which learning strategy has the strongest "
        "evidence for long-term retention. Which is it?",
        "Retrieval practice spread over several sessions",
        (
            "Rereading the notes until they feel familiar",
            "Highlighting key sentences in the textbook",
            "Copying the lecture slides out by hand",
            "Cramming the material the night before",
        ),
        "Recalling material from memory strengthens it (the testing effect), and spreading "
        "that practice out over time makes the memory last (the spacing effect).",
        "The other strategies feel productive because the material becomes familiar, but "
        "familiarity is not recall and massed study fades quickly.",
    ),
    Template(
        "Glossary check {n} for {topic}: what does the mean of a data set describe?",
        "The sum of the values divided by their number",
        (
            "The value that occurs most often in the data",
            "The middle value once the data are sorted",
            "The gap between the largest and smallest value",
            "How far the values spread around their centre",
        ),
        "The arithmetic mean adds up the values and divides by how many there are, which "
        "makes it a measure of the centre that outliers can pull.",
        "The other descriptions define the mode, the median, the range and the spread "
        "(variance or standard deviation) respectively.",
    ),
    Template(
        "Warm-up question {n} on {topic}: in a controlled experiment, what is the "
        "independent variable?",
        "The factor the investigator deliberately changes",
        (
            "The outcome that is measured after the change",
            "A factor kept the same across the groups",
            "The group that receives no intervention",
            "An error introduced by faulty equipment",
        ),
        "The independent variable is the factor the investigator manipulates to see whether "
        "it causes a change in the outcome.",
        "The measured outcome is the dependent variable, factors kept the same are controls, "
        "the untreated group is the control group and equipment faults are measurement error.",
    ),
    Template(
        "Vocabulary review {n} on {topic}: which of the following is NOT a measure of "
        "central tendency?",
        "The standard deviation",
        ("The mean", "The median", "The mode", "The trimmed mean"),
        "The standard deviation describes how spread out values are around the mean, not "
        "where the centre of the data lies.",
        "The other statistics each summarise the typical or central value of a data set.",
        negative=True,
    ),
    Template(
        "Quick check {n} on {topic}: which practice avoids plagiarism when you paraphrase "
        "a source?",
        "Restating the idea in your words and citing it",
        (
            "Changing a few words and giving no citation",
            "Listing the source in the references but not the text",
            "Using a synonym tool to disguise the wording",
            "Quoting the passage but leaving out the author",
        ),
        "A paraphrase restates the idea in your own words and structure and still "
        "attributes it, because the idea belongs to its original author.",
        "The other practices present someone else's words or ideas as your own, whether by "
        "hiding the wording or by dropping the attribution.",
    ),
)

_MEDIUM = (
    Template(
        "In lab section {n} of a course on {topic}, a student finds that two variables rise "
        "together across 40 observations. Which conclusion is justified?",
        "They are associated, but causation is not shown",
        (
            "One variable must be causing the other to rise",
            "The relationship will hold in any future sample",
            "They are unrelated because 40 cases is too few",
            "A hidden third variable can be ruled out",
        ),
        "A correlation shows that the variables move together in this sample, but "
        "observational data alone cannot show which one, if either, causes the other.",
        "The other conclusions go beyond the data: they assert causation, generalise "
        "without limit, dismiss a usable sample or exclude confounders without evidence.",
    ),
    Template(
        "Study group {n} is preparing for an exam on {topic} in three weeks. Which plan best "
        "supports long-term retention?",
        "Short self-testing sessions spaced out until then",
        (
            "One long review session the day before the exam",
            "Rereading the textbook chapters in order twice",
            "Turning the slides into colour-coded summaries",
            "Rewatching the recorded lectures at double speed",
        ),
        "Self-testing makes students retrieve the material, and spacing the sessions out "
        "lets each retrieval strengthen memory more than massed study does.",
        "The other plans rely on cramming or on passive re-exposure, which builds "
        "familiarity rather than the ability to recall.",
    ),
    Template(
        "For project {n} on {topic}, a researcher wants to know whether a new teaching method "
        "improves test scores. Which design gives the strongest evidence of cause and effect?",
        "Randomly assigning students to either method",
        (
            "Surveying students on which method they prefer",
            "Comparing classes whose teachers chose a method",
            "Testing one class before and after the change",
            "Interviewing teachers about the method's reputation",
        ),
        "Random assignment makes the groups alike on average in everything except the "
        "method, so a difference in scores can be attributed to the method itself.",
        "The other designs measure opinions, let groups select themselves or lack a "
        "comparison group, so other explanations remain open.",
    ),
    Template(
        "Seminar {n} on {topic} reviews a claim backed by one small study with no control "
        "group. How should the claim be treated?",
        "As preliminary until controlled studies replicate it",
        (
            "As settled, because it passed peer review",
            "As false, because the sample was small",
            "As proven, if the effect looked large",
            "As irrelevant, because it is a single study",
        ),
        "A small uncontrolled study can suggest an effect but cannot rule out chance or "
        "confounding, so the claim stays tentative until better studies test it.",
        "The other answers either overstate what one weak study shows or discard evidence "
        "that, while limited, is still informative.",
    ),
    Template(
        "In quiz {n} on {topic}, five students scored 62, 64, 65, 66 and 98. Which statistic "
        "best represents the typical score?",
        "The median, because 98 is an outlier",
        (
            "The mean, because it uses each score",
            "The range, because it shows the spread",
            "The maximum, because it shows potential",
            "The mode, because it is quickest to find",
        ),
        "The median (65) is not pulled by the single extreme score, whereas the mean (71) "
        "lands above four of the five scores.",
        "The other statistics describe the spread or one extreme value, or do not exist "
        "here, since no score repeats.",
    ),
    Template(
        "Tutorial {n} on {topic} discusses how to write multiple-choice questions. Which of "
        "the following is NOT recommended practice?",
        "Making the correct option the longest one",
        (
            "Writing one clearly best answer per item",
            "Keeping the options similar in length",
            "Phrasing the stem as a complete question",
            "Basing distractors on common student errors",
        ),
        "A conspicuously long correct option gives test-wise students a cue unrelated to "
        "knowledge, so item-writing guides advise against it.",
        "The other practices are standard recommendations that keep an item fair and make "
        "it measure understanding.",
        negative=True,
    ),
    Template(
        "In workshop {n} on {topic}, a student's survey of 20 friends finds that most prefer "
        "online classes. What is the main weakness of this evidence?",
        "A convenience sample unlike the wider population",
        (
            "Twenty responses are too many to analyse",
            "Surveys cannot measure what people prefer",
            "Online classes are too recent to study",
            "The friends answered the survey anonymously",
        ),
        "Friends are a convenience sample who probably share the student's background and "
        "views, so their preferences can differ systematically from other students'.",
        "The other points are not weaknesses: small surveys are easy to analyse, surveys "
        "are a standard way to measure preference, and anonymity tends to help honesty.",
    ),
)

_HARD = (
    Template(
        "Case {n}: a team studying {topic} reports p = 0.04 for one of 20 outcome measures "
        "tested on 12 participants, with no correction. What is the most serious concern?",
        "Multiple comparisons make a chance finding likely",
        (
            "A p-value of 0.04 proves the effect is large",
            "Twelve participants is more than a pilot needs",
            "A p-value below 0.05 guarantees replication",
            "Extra outcome measures raise statistical power",
        ),
        "With 20 uncorrected tests, at least one is likely to fall below 0.05 by chance, so "
        "the reported effect may well be a false positive.",
        "A p-value measures neither effect size nor the chance of replication, twelve "
        "participants is a small sample, and extra tests dilute rather than add power.",
    ),
    Template(
        "Scenario {n}: two schools adopt a new curriculum on {topic}, and their exam scores "
        "rise the next year, when the national exam was also made easier. Which inference is "
        "best supported?",
        "The curriculum's effect is unclear without a comparison",
        (
            "The new curriculum caused the rise in exam scores",
            "The easier exam explains the whole rise in scores",
            "A longer curriculum would raise scores even more",
            "The curriculum will work just as well in other schools",
        ),
        "The exam changed at the same time, so the rise is confounded: without similar "
        "schools that kept the old curriculum, its effect cannot be separated from the exam's.",
        "The other inferences each claim more than a confounded before-and-after comparison "
        "of two schools can show.",
    ),
    Template(
        "Case {n}: a review of studies on {topic} finds that published trials mostly report "
        "positive effects, while registered trials with null results went unpublished. What "
        "does this pattern most likely indicate?",
        "Publication bias inflating the apparent benefit",
        (
            "That the intervention works in most settings",
            "That null results come from badly run trials",
            "That registering a trial makes it likely to fail",
            "That positive trials had larger samples",
        ),
        "When studies with null results stay unpublished, the literature over-represents "
        "positive findings, so a review of it overestimates the true effect.",
        "The other readings take the published record at face value or invent a cause that "
        "the pattern gives no evidence for.",
    ),
    Template(
        "Scenario {n}: an instructor of {topic} sees that students who attend optional review "
        "sessions score higher on the final. What should be checked before expanding them?",
        "Whether stronger students self-selected into them",
        (
            "Whether the room can hold more students",
            "Whether students enjoyed the sessions",
            "Whether the sessions ran at a good time",
            "Whether the sessions used slides or a board",
        ),
        "Attendance was self-selected, so the higher scores may reflect who chose to attend "
        "rather than what the sessions taught; ruling that out comes first.",
        "The other checks matter for running the sessions but say nothing about whether the "
        "sessions caused the higher scores.",
    ),
    Template(
        "Case {n}: an exam item on {topic} is answered correctly by 95% of the weakest "
        "students and 96% of the strongest. What does this suggest about the item?",
        "It barely discriminates between ability levels",
        (
            "It is an excellent item because most students pass it",
            "It is too difficult to keep in the exam",
            "It measures higher-order thinking well",
            "It deserves more weight in the total score",
        ),
        "Item discrimination compares how high and low scorers do; near-identical success "
        "rates mean the item says almost nothing about who has mastered the material.",
        "A high success rate makes an item easy rather than excellent or too hard, and an "
        "item that does not discriminate gives no reason for extra weight.",
    ),
    Template(
        "Scenario {n}: a meta-analysis on {topic} pools 30 trials. Each of the following "
        "threatens the validity of its conclusions EXCEPT:",
        "A pre-registered protocol for study selection",
        (
            "Including trials of widely varying quality",
            "Pooling trials with very different populations",
            "Leaving out unpublished trials with null results",
            "Extracting data without a second reviewer",
        ),
        "Pre-registering how studies will be selected protects a meta-analysis against "
        "biased selection, so it strengthens rather than threatens its conclusions.",
        "The other choices each bring bias or heterogeneity into the pooled estimate.",
        negative=True,
    ),
    Template(
        "Case {n}: a course on {topic} moves from curve-based to criterion-referenced "
        "grading. How should a grade now be interpreted?",
        "As mastery of set standards rather than rank",
        (
            "As the student's rank within the class",
            "As unaffected by how hard the exam was",
            "As directly comparable with curved grades",
            "As a measure of effort rather than attainment",
        ),
        "Criterion-referenced grades compare each student with fixed performance standards, "
        "so a grade states what the student achieved regardless of classmates.",
        "Rank is what curving reports, exam difficulty still affects attainment, the two "
        "systems' grades are not comparable, and neither system grades effort.",
    ),
)

_BANK = {Difficulty.EASY: _EASY, Difficulty.MEDIUM: _MEDIUM, Difficulty.HARD: _HARD}
#: The questions of each difficulty; a valid item draws one by its seed. Negative questions
#: are left out: even with NOT in capitals, the rules warn against them (stem.negative_lead_in).
TEMPLATES = {
    difficulty: tuple(t for t in templates if not t.negative)
    for difficulty, templates in _BANK.items()
}
#: The question with an emphasised NOT or EXCEPT, per difficulty.
NEGATIVE_TEMPLATES = {
    difficulty: next(t for t in templates if t.negative) for difficulty, templates in _BANK.items()
}
# The flaw writes the emphasised negative in lower case ("is not", "except:").
LOWERCASE_NEGATIVE_STEMS = {
    difficulty: t.stem.replace("NOT", "not").replace("EXCEPT", "except")
    for difficulty, t in NEGATIVE_TEMPLATES.items()
}
