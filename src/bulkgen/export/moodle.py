"""Moodle XML: a ``<quiz>`` with one single-answer ``multichoice`` question per item.

Moodle reads question text, feedback and answers as HTML (``format="html"``), so generated
text is HTML-escaped before it goes into the XML (:func:`plain_to_html`): markup in it
shows as text and never becomes elements, and line breaks become ``<br>``. The XML itself
is escaped as every XML format's is (:mod:`bulkgen.export._xml`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from bulkgen.export._xml import leaf, xml_bytes, xml_safe
from bulkgen.export.questions import Question, cost_summary, question_name
from bulkgen.models import Batch

__all__ = ["plain_to_html", "to_moodle_xml"]


def to_moodle_xml(batch: Batch, questions: Sequence[Question]) -> bytes:
    """A Moodle ``<quiz>`` with one single-answer ``multichoice`` question per item."""
    quiz = ET.Element("quiz")
    summary = cost_summary(batch)
    if summary is not None:
        quiz.append(ET.Comment(f" {summary} "))
    for q in questions:
        question = ET.SubElement(quiz, "question", type="multichoice")
        _text_child(ET.SubElement(question, "name"), question_name(batch, q))
        _text_child(ET.SubElement(question, "questiontext", format="html"), plain_to_html(q.stem))
        _text_child(
            ET.SubElement(question, "generalfeedback", format="html"), plain_to_html(q.rationale)
        )
        leaf(question, "defaultgrade", "1")
        leaf(question, "penalty", "0.3333333")
        leaf(question, "hidden", "0")
        leaf(question, "single", "true")
        leaf(question, "shuffleanswers", "true")
        leaf(question, "answernumbering", "ABCD")
        for letter, text in q.choices:
            fraction = "100" if letter == q.correct else "0"
            answer = ET.SubElement(question, "answer", fraction=fraction, format="html")
            _text_child(answer, plain_to_html(text))
            _text_child(ET.SubElement(answer, "feedback", format="html"), "")
    return xml_bytes(quiz)


def plain_to_html(text: str) -> str:
    """Plain text as HTML that shows exactly that text; line breaks become ``<br>``."""
    lines = xml_safe(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>\n".join(html.escape(line, quote=True) for line in lines)


def _text_child(parent: ET.Element, value: str) -> None:
    leaf(parent, "text", value)
