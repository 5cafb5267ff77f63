"""Files of a batch's passed items: JSON Lines, CSV, Moodle XML and a QTI 2.1 package.

Pure functions: a batch and its items in, the file's bytes out. Only items that passed
validation (``completed``, with a result) are written, in index order as given.

Generated text is untrusted. It reaches XML only through :mod:`xml.etree.ElementTree`,
which escapes it; where a format reads text as HTML (Moodle's ``format="html"``) it is
HTML-escaped first, so markup shows as text and never becomes elements. Characters XML
1.0 cannot hold are replaced by U+FFFD. CSV cells that a spreadsheet would run as a
formula get a leading ``'``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import string
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree as ET

from bulkgen.models import Batch, Item, ItemStatus

__all__ = [
    "ExportFormat",
    "export_filename",
    "passed_questions",
    "render_export",
    "safe_filename",
    "to_csv",
    "to_jsonl",
    "to_moodle_xml",
    "to_qti_package",
]


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    MOODLE = "moodle"
    QTI = "qti"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self]


_MEDIA_TYPES = {
    ExportFormat.JSONL: "application/x-ndjson",
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.MOODLE: "application/xml",
    ExportFormat.QTI: "application/zip",
}
_EXTENSIONS = {
    ExportFormat.JSONL: "jsonl",
    ExportFormat.CSV: "csv",
    ExportFormat.MOODLE: "xml",
    ExportFormat.QTI: "zip",
}

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
QTI_MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"
IMSCP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
IMSCP_XSD = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: Cells a spreadsheet would read as a formula (or that hide one behind a control character).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Option columns of the CSV; more appear only for an item with more options.
CSV_OPTION_COLUMNS = 5
MAX_SLUG = 60

# Everything XML 1.0 cannot carry: C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NOT_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


# --- the questions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Question:
    """A passed item as every format writes it: choices carry positional letters."""

    index: int
    stem: str
    choices: tuple[tuple[str, str], ...]  # (letter, text) in the item's order
    correct: str  # the letter of the answer
    keys: tuple[str, ...]  # the generator's option keys, in the same order
    answer_key: str  # the generator's answer key
    rationale: str
    warnings: tuple[dict[str, str], ...]

    @property
    def number(self) -> int:
        """The 1-based number the pages show (``#n``)."""
        return self.index + 1


def passed_questions(items: Iterable[Item]) -> list[Question]:
    """The passed items of ``items`` as questions; anything else is left out."""
    return [_question(item) for item in items if _passed(item)]


def _passed(item: Item) -> bool:
    return item.status is ItemStatus.COMPLETED and item.result is not None


def _question(item: Item) -> Question:
    result = item.result
    assert result is not None
    choices = tuple((_letter(i), option.text) for i, option in enumerate(result.options))
    keys = [option.key for option in result.options]
    if result.answer not in keys:
        # Validation (schema.answer) rules this out for a passed item.
        raise ValueError(f"item {item.index}: answer {result.answer!r} names no option")
    return Question(
        index=item.index,
        stem=result.stem,
        choices=choices,
        correct=_letter(keys.index(result.answer)),
        keys=tuple(keys),
        answer_key=result.answer,
        rationale=result.rationale,
        warnings=tuple(
            {"rule": w.rule, "severity": w.severity.value, "message": w.message}
            for w in item.warnings
        ),
    )


def _letter(position: int) -> str:
    letters = string.ascii_uppercase
    return letters[position] if position < len(letters) else f"CHOICE_{position + 1}"


def _label(batch: Batch) -> str:
    return " ".join((batch.title or batch.config.topic).split())


def _name(batch: Batch, question: Question) -> str:
    return f"{_label(batch)} #{question.number}"


# --- dispatch and file names --------------------------------------------------------------


def render_export(export_format: ExportFormat, batch: Batch, items: Iterable[Item]) -> bytes:
    """The file of ``batch``'s passed items in ``export_format``."""
    questions = passed_questions(items)
    writers = {
        ExportFormat.JSONL: to_jsonl,
        ExportFormat.CSV: to_csv,
        ExportFormat.MOODLE: to_moodle_xml,
        ExportFormat.QTI: to_qti_package,
    }
    return writers[export_format](batch, questions)


def export_filename(batch: Batch, export_format: ExportFormat) -> str:
    """``<title or topic slug>-<short id>.<ext>``, plain ASCII."""
    ascii_label = (
        unicodedata.normalize("NFKD", _label(batch)).encode("ascii", "ignore").decode("ascii")
    )
    slug = _NOT_SLUG.sub("-", ascii_label.lower())[:MAX_SLUG].strip("-") or "batch"
    short_id = _NOT_SLUG.sub("", batch.id.lower())[:8] or "export"
    return f"{slug}-{short_id}.{export_format.extension}"


def safe_filename(name: str, fallback: str) -> str:
    """A name safe to create in the current directory: no path, no hidden file, ASCII."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _NOT_FILENAME.sub("-", base).lstrip(".-")[:120]
    return base or fallback


# --- JSON Lines ---------------------------------------------------------------------------


def to_jsonl(batch: Batch, questions: Sequence[Question]) -> bytes:
    """One JSON object per line: index, stem, options, answer, rationale, warnings, …

    Options and answer keep the generator's keys, as the items API shows them.
    """
    config = batch.config
    lines = []
    for question in questions:
        record: dict[str, Any] = {
            "index": question.index,
            "stem": question.stem,
            "options": [
                {"key": key, "text": text}
                for key, (_, text) in zip(question.keys, question.choices, strict=True)
            ],
            "answer": question.answer_key,
            "rationale": question.rationale,
            "warnings": list(question.warnings),
            "topic": config.topic,
            "difficulty": config.difficulty.value,
        }
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return _utf8("".join(lines))


# --- CSV ----------------------------------------------------------------------------------


def to_csv(batch: Batch, questions: Sequence[Question]) -> bytes:
    """RFC 4180 CSV with a header row; the answer is the letter of its option column."""
    width = max([CSV_OPTION_COLUMNS, *(len(q.choices) for q in questions)])
    option_columns = [f"option_{_letter(i).lower()}" for i in range(width)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["index", "stem", *option_columns, "answer", "rationale", "topic", "difficulty", "warnings"]
    )
    topic = neutralise_formula(batch.config.topic)
    for q in questions:
        options = [text for _, text in q.choices]
        options += [""] * (width - len(options))
        writer.writerow(
            [
                q.index,
                neutralise_formula(q.stem),
                *(neutralise_formula(text) for text in options),
                q.correct,
                neutralise_formula(q.rationale),
                topic,
                batch.config.difficulty.value,
                "; ".join(w["rule"] for w in q.warnings),
            ]
        )
    return _utf8(out.getvalue())


def neutralise_formula(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would evaluate (CSV/formula injection)."""
    return f"'{cell}" if cell.startswith(FORMULA_PREFIXES) else cell


def _utf8(text: str) -> bytes:
    # Lone surrogates cannot be encoded; they become "?" rather than failing the export.
    return text.encode("utf-8", "replace")


# --- Moodle XML ---------------------------------------------------------------------------


def to_moodle_xml(batch: Batch, questions: Sequence[Question]) -> bytes:
    """A Moodle ``<quiz>`` with one single-answer ``multichoice`` question per item."""
    quiz = ET.Element("quiz")
    for q in questions:
        question = ET.SubElement(quiz, "question", type="multichoice")
        _text_child(ET.SubElement(question, "name"), _name(batch, q))
        _text_child(ET.SubElement(question, "questiontext", format="html"), plain_to_html(q.stem))
        _text_child(
            ET.SubElement(question, "generalfeedback", format="html"), plain_to_html(q.rationale)
        )
        _leaf(question, "defaultgrade", "1")
        _leaf(question, "penalty", "0.3333333")
        _leaf(question, "hidden", "0")
        _leaf(question, "single", "true")
        _leaf(question, "shuffleanswers", "true")
        _leaf(question, "answernumbering", "ABCD")
        for letter, text in q.choices:
            fraction = "100" if letter == q.correct else "0"
            answer = ET.SubElement(question, "answer", fraction=fraction, format="html")
            _text_child(answer, plain_to_html(text))
            _text_child(ET.SubElement(answer, "feedback", format="html"), "")
    return _xml_bytes(quiz)


def plain_to_html(text: str) -> str:
    """Plain text as HTML that shows exactly that text; line breaks become ``<br>``."""
    lines = _xml_safe(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>\n".join(html.escape(line, quote=True) for line in lines)


def _text_child(parent: ET.Element, value: str) -> None:
    _leaf(parent, "text", value)


def _leaf(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _xml_safe(value)
    return element


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    # Serialised to str and encoded once: writing through an encoding stream is a third
    # slower. Every text went through _xml_safe, so nothing unencodable is left.
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


# --- QTI 2.1 content package --------------------------------------------------------------


def to_qti_package(batch: Batch, questions: Sequence[Question]) -> bytes:
    """A ZIP: ``imsmanifest.xml`` and one QTI 2.1 ``assessmentItem`` per item."""
    files = {f"items/{_qti_identifier(q)}.xml": _qti_item(batch, q) for q in questions}
    moment = batch.created_at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for path, content in {"imsmanifest.xml": _qti_manifest(batch, files), **files}.items():
            info = zipfile.ZipInfo(path, date_time=moment)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            package.writestr(info, content)
    return buffer.getvalue()


def _qti_identifier(question: Question) -> str:
    return f"item-{question.number:05d}"


def _qti_item(batch: Batch, q: Question) -> bytes:
    # Namespace declarations are plain attributes: ElementTree's default_namespace option
    # refuses unqualified attributes, and QTI's attributes are unqualified.
    item = ET.Element(
        "assessmentItem",
        {
            "xmlns": QTI_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{QTI_NS} {QTI_XSD}",
            "identifier": _qti_identifier(q),
            "title": _xml_safe(_name(batch, q)),
            "adaptive": "false",
            "timeDependent": "false",
        },
    )
    response = ET.SubElement(
        item,
        "responseDeclaration",
        identifier="RESPONSE",
        cardinality="single",
        baseType="identifier",
    )
    _leaf(ET.SubElement(response, "correctResponse"), "value", q.correct)
    score = ET.SubElement(
        item, "outcomeDeclaration", identifier="SCORE", cardinality="single", baseType="float"
    )
    _leaf(ET.SubElement(score, "defaultValue"), "value", "0")

    body = ET.SubElement(item, "itemBody")
    interaction = ET.SubElement(
        body, "choiceInteraction", responseIdentifier="RESPONSE", shuffle="true", maxChoices="1"
    )
    _flow_text(ET.SubElement(interaction, "prompt"), q.stem)
    for letter, text in q.choices:
        _flow_text(ET.SubElement(interaction, "simpleChoice", identifier=letter), text)
    # The rationale is for whoever scores or reviews the item, not for the candidate.
    rubric = ET.SubElement(body, "rubricBlock", view="scorer")
    _flow_text(ET.SubElement(rubric, "p"), q.rationale)

    ET.SubElement(item, "responseProcessing", template=QTI_MATCH_CORRECT)
    return _xml_bytes(item)


def _flow_text(element: ET.Element, text: str) -> None:
    """Text as the element's content, with ``<br/>`` elements for line breaks."""
    lines = _xml_safe(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    element.text = lines[0]
    for line in lines[1:]:
        ET.SubElement(element, "br").tail = line


def _qti_manifest(batch: Batch, files: dict[str, bytes]) -> bytes:
    manifest = ET.Element(
        "manifest",
        {
            "xmlns": IMSCP_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{IMSCP_NS} {IMSCP_XSD} {QTI_NS} {QTI_XSD}",
            "identifier": f"MANIFEST-{_NOT_SLUG.sub('', batch.id.lower()) or 'bulkgen'}",
        },
    )
    metadata = ET.SubElement(manifest, "metadata")
    _leaf(metadata, "schema", "QTIv2.1 Package")
    _leaf(metadata, "schemaversion", "1.0.0")
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    for path in files:
        identifier = path.removeprefix("items/").removesuffix(".xml")
        resource = ET.SubElement(
            resources,
            "resource",
            identifier=f"RES-{identifier}",
            type="imsqti_item_xmlv2p1",
            href=path,
        )
        ET.SubElement(resource, "file", href=path)
    return _xml_bytes(manifest)
