"""QTI 2.1: a content package (ZIP) of one ``assessmentItem`` per item and its manifest.

Each item is a single-choice ``choiceInteraction`` scored by the ``match_correct``
template; the rationale goes to a scorer-only ``rubricBlock``, not to the candidate.
Generated text is plain text in QTI's flow content: it is escaped as every XML format's is
(:mod:`bulkgen.export._xml`) and line breaks become ``<br/>`` elements. The files in the
ZIP are dated by the batch's creation, not by the moment of the export.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from bulkgen.export._xml import leaf, xml_bytes, xml_safe
from bulkgen.export.questions import Question, cost_summary, question_name
from bulkgen.models import Batch

__all__ = [
    "IMSCP_NS",
    "IMSCP_XSD",
    "QTI_MATCH_CORRECT",
    "QTI_NS",
    "QTI_XSD",
    "XSI_NS",
    "to_qti_package",
]

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
QTI_MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"
IMSCP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
IMSCP_XSD = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# What a manifest identifier made from the batch id leaves out.
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9]+")


def to_qti_package(batch: Batch, questions: Sequence[Question]) -> bytes:
    """A ZIP: ``imsmanifest.xml`` and one QTI 2.1 ``assessmentItem`` per item."""
    files = {f"items/{_identifier(q)}.xml": _item(batch, q) for q in questions}
    moment = batch.created_at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for path, content in {"imsmanifest.xml": _manifest(batch, files), **files}.items():
            info = zipfile.ZipInfo(path, date_time=moment)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            package.writestr(info, content)
    return buffer.getvalue()


def _identifier(question: Question) -> str:
    return f"item-{question.number:05d}"


def _item(batch: Batch, q: Question) -> bytes:
    # Namespace declarations are plain attributes: ElementTree's default_namespace option
    # refuses unqualified attributes, and QTI's attributes are unqualified.
    item = ET.Element(
        "assessmentItem",
        {
            "xmlns": QTI_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{QTI_NS} {QTI_XSD}",
            "identifier": _identifier(q),
            "title": xml_safe(question_name(batch, q)),
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
    leaf(ET.SubElement(response, "correctResponse"), "value", q.correct)
    score = ET.SubElement(
        item, "outcomeDeclaration", identifier="SCORE", cardinality="single", baseType="float"
    )
    leaf(ET.SubElement(score, "defaultValue"), "value", "0")

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
    return xml_bytes(item)


def _flow_text(element: ET.Element, text: str) -> None:
    """Text as the element's content, with ``<br/>`` elements for line breaks."""
    lines = xml_safe(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    element.text = lines[0]
    for line in lines[1:]:
        ET.SubElement(element, "br").tail = line


def _manifest(batch: Batch, files: dict[str, bytes]) -> bytes:
    manifest = ET.Element(
        "manifest",
        {
            "xmlns": IMSCP_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{IMSCP_NS} {IMSCP_XSD} {QTI_NS} {QTI_XSD}",
            "identifier": f"MANIFEST-{_NOT_IDENTIFIER.sub('', batch.id.lower()) or 'bulkgen'}",
        },
    )
    metadata = ET.SubElement(manifest, "metadata")
    leaf(metadata, "schema", "QTIv2.1 Package")
    leaf(metadata, "schemaversion", "1.0.0")
    summary = cost_summary(batch)
    if summary is not None:
        metadata.append(ET.Comment(f" {summary} "))
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
    return xml_bytes(manifest)
