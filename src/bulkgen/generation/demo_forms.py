"""The question forms of the demo generator's bank: how each fact table is asked about.

A :class:`Form` is one way of asking about a table's rows: "What is the capital city of
{country}?" asks forward, "{capital} is the capital of which country?" in reverse, so the
same facts give several distinct questions. Every form keeps the varied part (the
country, the element, the work) in the question itself, and few other content words, so
two stems of one form never look alike to duplicate detection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["FORMS", "Form", "Row"]

Row = Mapping[str, str]
# A symbol or name that is also an English function word ("He", "As", "In", "A") reads as
# that word to duplicate detection, so stems built on it would look alike.
_FUNCTION_WORDS = frozenset(
    {"a", "am", "an", "as", "at", "be", "by", "do", "he", "i", "if", "in", "is", "it"}
    | {"me", "my", "no", "of", "on", "or", "so", "to", "us", "we"}
)


def _not_a_word(column: str) -> Callable[[Row], bool]:
    return lambda row: row[column].casefold() not in _FUNCTION_WORDS


@dataclass(frozen=True, slots=True)
class Form:
    """One way of asking about a table's rows; text fields are ``str.format`` templates
    over a row's columns (``{name}``, or ``{name_lc}`` with a lower-case first letter)."""

    table: str
    stem: str
    answer: str  # the column whose value is the answer
    why: str  # the sentence that explains the answer
    other: str = ""  # a clause on one distractor's row: "Madrid is the capital of Spain"
    note: str = ""  # the sentence on the distractors when they have no row of their own
    key: str = ""  # the column the stem asks about; rows sharing it give no distractors
    group: str = ""  # distractors come from rows with the same value here when enough do
    when: Callable[[Row], bool] | None = None


FORMS = (
    # geography
    Form(
        "countries",
        "What is the capital city of {country}?",
        "capital",
        "The capital of {country} is {capital}.",
        other="{capital} is the capital of {country}",
        key="country",
        group="continent",
    ),
    Form(
        "countries",
        "{capital} is the capital of which country?",
        "country",
        "{capital} is the capital city of {country}.",
        other="{country} has {capital} as its capital",
        key="capital",
        group="continent",
    ),
    Form(
        "countries",
        "On which continent is the capital of {country}?",
        "continent",
        "{capital}, the capital of {country}, lies in {continent}.",
        note="The other options are continents where {capital} does not lie.",
        key="country",
        when=lambda row: bool(row["capital"]),
    ),
    Form(
        "countries",
        "What is the official language of {country}?",
        "language",
        "{language} is the official language of {country}.",
        other="{language} is the official language of {country}",
        key="country",
    ),
    Form(
        "countries",
        "What is the currency of {country}?",
        "currency",
        "The currency of {country} is the {currency}.",
        other="the {currency} is the currency of {country}",
        key="country",
    ),
    Form(
        "us_states",
        "What is the capital of the US state of {state}?",
        "capital",
        "The capital of {state} is {capital}.",
        other="{capital} is the capital of {state}",
        key="state",
    ),
    Form(
        "us_states",
        "{capital} is the capital of which US state?",
        "state",
        "{capital} is the state capital of {state}.",
        other="{state} has {capital} as its capital",
        key="capital",
    ),
    Form(
        "canada",
        "What is the capital of the Canadian {kind} of {region}?",
        "capital",
        "The capital of {region} is {capital}.",
        other="{capital} is the capital of {region}",
        key="region",
    ),
    Form(
        "canada",
        "{capital} is the capital of which Canadian province or territory?",
        "region",
        "{capital} is the capital of the {kind} of {region}.",
        other="{region} has {capital} as its capital",
        key="capital",
    ),
    # chemistry
    Form(
        "elements",
        "Which element has the chemical symbol {symbol}?",
        "name",
        "{symbol} is the chemical symbol of {name_lc}.",
        other="{name_lc} has the symbol {symbol}",
        key="symbol",
        when=_not_a_word("symbol"),
    ),
    Form(
        "elements",
        "What is the chemical symbol for {name_lc}?",
        "symbol",
        "The chemical symbol for {name_lc} is {symbol}.",
        other="{symbol} stands for {name_lc}",
        key="name",
    ),
    Form(
        "elements",
        "To which family of elements does {name_lc} belong?",
        "family",
        "{name} belongs to the {family_lc}.",
        note="{name} belongs to none of the other families listed.",
        key="name",
    ),
    Form(
        "compounds",
        "What is the chemical formula of {name}?",
        "formula",
        "{name} has the formula {formula}.",
        other="{formula} is {name}",
        key="name",
    ),
    # physics
    Form(
        "si_units",
        "What is the SI unit of {quantity}?",
        "unit",
        "The SI unit of {quantity} is the {unit}.",
        other="the {unit} measures {quantity}",
        key="quantity",
    ),
    Form(
        "si_units",
        "Which physical quantity is measured in {plural}?",
        "quantity",
        "The {unit} is the SI unit of {quantity}.",
        other="{quantity} is measured in {plural}",
        key="unit",
    ),
    Form(
        "si_units",
        "Which SI unit has the symbol {symbol}?",
        "unit",
        "{symbol} is the symbol of the {unit}, the SI unit of {quantity}.",
        other="the {unit} has the symbol {symbol}",
        key="symbol",
        when=_not_a_word("symbol"),
    ),
    # biology
    Form(
        "organs",
        "Which organ {does}?",
        "organ",
        "The {organ_lc} {does}.",
        other="the {organ_lc} {does}",
        key="organ",
    ),
    Form(
        "organs",
        "What is the main function of the {organ_lc}?",
        "function",
        "The main function of the {organ_lc} is {function_lc}: it {does}.",
        other="the {organ_lc} is the organ for {function_lc}",
        key="organ",
    ),
    Form(
        "organelles",
        "Which cell structure {does}?",
        "organelle",
        "The {organelle} {does}.",
        other="the {organelle} {does}",
        key="organelle",
    ),
    Form(
        "organelles",
        "What is the main role of the {organelle} in a cell?",
        "function",
        "The main role of the {organelle} is {function_lc}: it {does}.",
        other="{function_lc} is the role of the {organelle}",
        key="organelle",
    ),
    Form(
        "vitamins",
        "A deficiency of which nutrient causes {disease_lc}?",
        "nutrient",
        "{disease} results from a lack of {named}.",
        other="a lack of {named} causes {disease_lc}",
        key="nutrient",
    ),
    Form(
        "vitamins",
        "Which disease results from a deficiency of {named}?",
        "disease",
        "A lack of {named} causes {disease_lc}.",
        other="{disease_lc} results from a lack of {named}",
        key="nutrient",
    ),
    Form(
        "hormones",
        "Which organ releases {hormone}?",
        "gland",
        "{hormone} is released by the {gland_lc}.",
        other="the {gland_lc} releases {hormone}",
        key="hormone",
    ),
    Form(
        "bones",
        "What is the anatomical name of the {common}?",
        "bone",
        "The {common} is the {bone_lc}.",
        other="the {bone_lc} is the {common}",
        key="bone",
    ),
    Form(
        "bones",
        "What is the everyday name for the {bone_lc}?",
        "everyday",
        "The {bone_lc} is known as the {common}.",
        other="the {common} is the {bone_lc}",
        key="bone",
    ),
    Form(
        "animals",
        "To which group of animals does the {animal} belong?",
        "group",
        "The {animal} is one of the {group_lc}.",
        note="The {animal} belongs to none of the other groups listed.",
        key="animal",
    ),
    Form(
        "young",
        "What is a young {animal} called?",
        "young",
        "A young {animal} is called a {young_lc}.",
        other="a {young_lc} is a young {animal}",
        key="animal",
    ),
    # literature, art and music
    Form(
        "works",
        "Who wrote the {form} {work}?",
        "author",
        "{work} was written by {author}.",
        other="{author} wrote {work}",
        key="author",
    ),
    Form(
        "works",
        "Which of these works was written by {author}?",
        "work",
        "{author} wrote the {form} {work}.",
        other="{work} is by {author}",
        key="author",
    ),
    Form(
        "artworks",
        "Which artist created {work}?",
        "artist",
        "{work} is by {artist}.",
        other="{artist} created {work}",
        key="artist",
    ),
    Form(
        "artworks",
        "Which famous artwork is by {artist}?",
        "work",
        "{artist} created {work}.",
        other="{work} is by {artist}",
        key="artist",
    ),
    Form(
        "music",
        "Which composer wrote {work}?",
        "composer",
        "{work} was composed by {composer}.",
        other="{composer} composed {work}",
        key="composer",
    ),
    Form(
        "music",
        "Which of these pieces did {composer} compose?",
        "work",
        "{composer} composed {work}.",
        other="{work} is by {composer}",
        key="composer",
    ),
    # history
    Form(
        "people",
        "Who {did}?",
        "person",
        "{person} {did}.",
        other="{person} {did}",
        key="person",
    ),
    Form(
        "people",
        "What is {person} best known for?",
        "feat",
        "{person} is best known for {feat_lc}.",
        other="{feat_lc} is what {person} is known for",
        key="person",
    ),
    Form(
        "events",
        "In which year did {did}?",
        "year",
        "{noun} came in {year}.",
        other="{year} is the year of {noun}",
        key="year",
    ),
    # computing
    Form(
        "acronyms",
        "In computing, what does the abbreviation {acronym} stand for?",
        "expansion",
        "{acronym} stands for {expansion}.",
        other="{expansion} is abbreviated {acronym}",
        key="acronym",
    ),
    Form(
        "acronyms",
        "Which abbreviation stands for {expansion}?",
        "acronym",
        "{expansion} is abbreviated {acronym}.",
        other="{acronym} stands for {expansion}",
        key="acronym",
    ),
    Form(
        "languages",
        "Who created the programming language {language}?",
        "creator",
        "{language} was created by {creator}.",
        other="{creator} created {language}",
        key="creator",
    ),
    Form(
        "languages",
        "Which programming language was created by {creator}?",
        "language",
        "{creator} created {language}.",
        other="{language} was created by {creator}",
        key="creator",
    ),
    Form(
        "ports",
        "Which port number does {protocol} use by default?",
        "port",
        "The default port of {protocol} is {port}.",
        other="{port} is the default port of {protocol}",
        key="protocol",
    ),
    # astronomy, mathematics, mythology, sport
    Form(
        "moons",
        "Which planet does the moon {moon} orbit?",
        "planet",
        "{moon} is a moon of {planet}.",
        other="{planet} has the moon {moon}",
        key="moon",
    ),
    Form(
        "shapes",
        "How many {part} does {shape} have?",
        "count",
        "{shape} has {count} {part}.",
        other="{count} is the number of {part} of {shape}",
        key="count",
    ),
    Form(
        "gods",
        "Who was {greek}'s counterpart in Roman religion?",
        "roman",
        "The Romans identified {greek} with {roman}.",
        other="{roman} is the Roman counterpart of {greek}",
        key="roman",
    ),
    Form(
        "gods",
        "Who was {roman}'s counterpart in Greek religion?",
        "greek",
        "The Greeks knew {roman} as {greek}.",
        other="{greek} is the Greek counterpart of {roman}",
        key="greek",
    ),
    Form(
        "sports",
        "How many players start for each side in {sport}?",
        "players",
        "A {sport} side starts with {players} players.",
        other="{players} is the number a {sport} side starts with",
        key="sport",
    ),
    Form(
        "rivers",
        "Into which sea or ocean does the {river} flow?",
        "mouth",
        "The {river} flows into the {mouth}.",
        other="the {river} flows into the {mouth}",
        key="river",
    ),
    Form(
        "peaks",
        "In which mountain range is {peak}?",
        "range",
        "{peak} is in the {range}.",
        other="{peak} is in the {range}",
        key="peak",
    ),
    Form(
        "prefixes",
        "What factor does the SI prefix {prefix} stand for?",
        "factor",
        "The prefix {prefix} stands for a factor of {factor}.",
        other="{factor} is the factor of the prefix {prefix}",
        key="prefix",
    ),
    Form(
        "instruments",
        "To which family of orchestral instruments does the {instrument} belong?",
        "family",
        "The {instrument} is in the {family_lc} family.",
        note="The {instrument} belongs to none of the other families listed.",
        key="instrument",
    ),
    Form(
        "pathogens",
        "What kind of pathogen causes {disease_lc}?",
        "pathogen",
        "{disease} is caused by a {pathogen_lc}.",
        note="{disease} is not caused by any of the other kinds of pathogen listed.",
        key="disease",
    ),
    Form(
        "products",
        "Which company produced {product}?",
        "company",
        "{product} is a product of {company}.",
        other="{company} produced {product}",
        key="company",
    ),
)
