"""Exports of a batch's passed items: the pure writers, the API, the CLI and the page."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from typer.testing import CliRunner

from bulkgen.cli import app
from bulkgen.export import (
    FORMULA_PREFIXES,
    ExportFormat,
    export_filename,
    neutralise_formula,
    plain_to_html,
    render_export,
    safe_filename,
)
from bulkgen.generation.validators import has_errors, validate_item
from bulkgen.models import (
    GeneratedItem,
    Item,
    ItemError,
    ItemStatus,
    Option,
    RuleResult,
    Severity,
)

from helpers.api import BATCHES, all_items, batch_body
from helpers.batches import make_batch
from helpers.gate import Gate
from helpers.server import LiveServer
from helpers.wait import wait_finished, wait_for_finishes

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
IMSCP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"

MOODLE_TAGS = {
    "quiz",
    "question",
    "name",
    "text",
    "questiontext",
    "generalfeedback",
    "defaultgrade",
    "penalty",
    "hidden",
    "single",
    "shuffleanswers",
    "answernumbering",
    "answer",
    "feedback",
}
QTI_TAGS = {
    QTI + tag
    for tag in (
        "assessmentItem",
        "responseDeclaration",
        "correctResponse",
        "value",
        "outcomeDeclaration",
        "defaultValue",
        "itemBody",
        "choiceInteraction",
        "prompt",
        "simpleChoice",
        "rubricBlock",
        "p",
        "responseProcessing",
    )
}
MARKUP = '<img src=x onerror=alert(1)> ]]> <script>alert("x")</script> &amp; <![CDATA[x]]>'


# --- helpers ------------------------------------------------------------------------------


def make_item(
    index: int,
    stem: str = "Which chamber of the heart pumps blood into the aorta?",
    options: tuple[str, ...] = ("Left ventricle", "Right atrium", "Left atrium", "Right ventricle"),
    answer: str = "A",
    rationale: str = "The left ventricle ejects blood into the aorta during systole, always.",
    status: ItemStatus = ItemStatus.COMPLETED,
) -> Item:
    return Item(
        index=index,
        status=status,
        result=GeneratedItem(
            stem=stem,
            options=[Option(key="ABCDE"[i], text=t) for i, t in enumerate(options)],
            answer=answer,
            rationale=rationale,
        ),
        warnings=[RuleResult(rule="answer.longest", severity=Severity.WARNING, message="long")],
    )


def moodle_questions(content: bytes) -> list[ET.Element]:
    quiz = ET.fromstring(content)
    assert quiz.tag == "quiz"
    assert {element.tag for element in quiz.iter()} <= MOODLE_TAGS, "no extra elements"
    questions = quiz.findall("question")
    assert all(q.get("type") == "multichoice" for q in questions)
    return questions


def html_text(element: ET.Element | None) -> str:
    """What a ``format="html"`` text shows, checking that it holds no markup at all."""
    assert element is not None and element.text is not None
    tags = TagCounter()
    tags.feed(element.text)
    tags.close()
    assert tags.seen == [], f"markup in {element.text!r}"
    return html.unescape(element.text)


class TagCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.seen.append(tag)

    def handle_startendtag(self, tag: str, attrs: Any) -> None:
        self.seen.append(tag)


def qti_package(
    content: bytes, extra_tags: frozenset[str] = frozenset()
) -> tuple[list[str], dict[str, ET.Element]]:
    """The manifest's item files in order, and each item file parsed."""
    package = zipfile.ZipFile(io.BytesIO(content))
    assert package.testzip() is None
    names = package.namelist()
    assert names[0] == "imsmanifest.xml"
    manifest = ET.fromstring(package.read("imsmanifest.xml"))
    assert manifest.tag == IMSCP + "manifest"
    resources = manifest.findall(f"{IMSCP}resources/{IMSCP}resource")
    hrefs = [str(r.get("href")) for r in resources]
    assert all(r.get("type") == "imsqti_item_xmlv2p1" for r in resources)
    assert [r.find(IMSCP + "file").get("href") for r in resources] == hrefs  # type: ignore[union-attr]
    assert sorted(hrefs) == sorted(names[1:]), "the manifest lists every item file"
    items = {}
    for href in hrefs:
        item = ET.fromstring(package.read(href))
        assert item.tag == QTI + "assessmentItem"
        tags = {element.tag for element in item.iter()}
        assert tags <= QTI_TAGS | extra_tags, "no extra elements"
        items[href] = item
    return hrefs, items


def qti_choice(item: ET.Element) -> tuple[str, dict[str, str]]:
    """The correct choice's identifier and every choice's text, checking the structure."""
    response = item.find(QTI + "responseDeclaration")
    assert response is not None
    assert (response.get("identifier"), response.get("cardinality"), response.get("baseType")) == (
        "RESPONSE",
        "single",
        "identifier",
    )
    correct = response.findall(f"{QTI}correctResponse/{QTI}value")
    assert len(correct) == 1
    outcome = item.find(QTI + "outcomeDeclaration")
    assert outcome is not None and outcome.get("identifier") == "SCORE"
    interaction = item.find(f"{QTI}itemBody/{QTI}choiceInteraction")
    assert interaction is not None
    assert interaction.get("responseIdentifier") == "RESPONSE"
    assert interaction.get("maxChoices") == "1" and interaction.get("shuffle") == "true"
    processing = item.find(QTI + "responseProcessing")
    assert processing is not None and processing.get("template", "").endswith("/match_correct")
    choices = {
        str(choice.get("identifier")): "".join(choice.itertext())
        for choice in interaction.findall(QTI + "simpleChoice")
    }
    assert str(correct[0].text) in choices, "the correct response names an existing choice"
    return str(correct[0].text), choices


def qti_prompt(item: ET.Element) -> str:
    prompt = item.find(f"{QTI}itemBody/{QTI}choiceInteraction/{QTI}prompt")
    assert prompt is not None
    return "".join(prompt.itertext())


# --- the pure writers ---------------------------------------------------------------------


def test_only_passed_items_are_written() -> None:
    items = [
        make_item(0),
        make_item(1, status=ItemStatus.FAILED),
        Item(index=2, status=ItemStatus.FAILED, error=ItemError(kind="timeout", message="t")),
        Item(index=3, status=ItemStatus.PENDING),
        make_item(4, stem="Which valve closes at the start of ventricular systole?"),
    ]
    batch = make_batch()
    lines = render_export(ExportFormat.JSONL, batch, items).decode().splitlines()
    assert [json.loads(line)["index"] for line in lines] == [0, 4]
    rows = list(csv.DictReader(io.StringIO(render_export(ExportFormat.CSV, batch, items).decode())))
    assert [row["index"] for row in rows] == ["0", "4"]
    assert len(moodle_questions(render_export(ExportFormat.MOODLE, batch, items))) == 2
    hrefs, _ = qti_package(render_export(ExportFormat.QTI, batch, items))
    assert hrefs == ["items/item-00001.xml", "items/item-00005.xml"]


def test_jsonl_has_every_field() -> None:
    item = make_item(6, stem="Line one\nline two", answer="C")
    line = render_export(ExportFormat.JSONL, make_batch(), [item]).decode()
    assert line.endswith("\n") and line.count("\n") == 1
    record = json.loads(line)
    assert record == {
        "index": 6,
        "stem": "Line one\nline two",
        "options": [o.model_dump() for o in item.result.options],  # type: ignore[union-attr]
        "answer": "C",
        "rationale": item.result.rationale,  # type: ignore[union-attr]
        "warnings": [{"rule": "answer.longest", "severity": "warning", "message": "long"}],
        "topic": "Cardiac physiology",
        "difficulty": "medium",
        "tokens": 0,  # a demo item uses none
        "batch_cost_per_valid_item_usd": None,
    }


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("-70 mV", "-70 mV"),
        ("-2", "-2"),
        ("+3.5 dB", "+3.5 dB"),
        ("-2+3", "'-2+3"),
        ("-1)+cmd|' /C calc'!A0", "'-1)+cmd|' /C calc'!A0"),
        ("+1 (555) 0100", "'+1 (555) 0100"),
        ("-70 mV+SUM(A1)", "'-70 mV+SUM(A1)"),
    ],
)
def test_csv_leaves_signed_numbers_but_not_formulas(cell: str, written: str) -> None:
    assert neutralise_formula(cell) == written


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_csv_neutralises_formula_cells(prefix: str) -> None:
    formula = f'{prefix}HYPERLINK("http://evil.example","click")'
    item = make_item(
        0,
        stem=formula,
        options=(formula, "Right atrium", "-5 mmHg", "@SUM(A1)"),
        rationale=formula,
    )
    # A topic is trimmed when the batch is created, so it cannot start with tab or CR.
    topic = f"{prefix.strip() or '='}1+2"
    content = render_export(ExportFormat.CSV, make_batch(topic=topic), [item])
    assert content.endswith(b"\r\n")
    row = next(csv.DictReader(io.StringIO(content.decode(), newline="")))
    for column in ("stem", "option_a", "rationale"):
        assert row[column] == "'" + formula
    assert row["option_b"] == "Right atrium"
    assert row["option_c"] == "-5 mmHg"  # a signed number with its unit is plain text
    assert row["option_d"] == "'@SUM(A1)"
    assert row["option_e"] == ""
    assert row["topic"] == f"'{topic}"
    assert row["answer"] == "A"
    assert row["warnings"] == "answer.longest"
    assert neutralise_formula("Plain = text") == "Plain = text"


def test_csv_answer_is_the_letter_of_its_option_column() -> None:
    item = make_item(0, options=("w", "x", "y", "z", "v"), answer="E")
    item.result.options[4].key = "5"  # type: ignore[union-attr]
    item.result.answer = "5"  # type: ignore[union-attr]
    row = next(
        csv.DictReader(io.StringIO(render_export(ExportFormat.CSV, make_batch(), [item]).decode()))
    )
    assert row["answer"] == "E" and row[f"option_{row['answer'].lower()}"] == "v"


def test_xml_formats_keep_markup_and_breakouts_as_text() -> None:
    item = make_item(0, stem=MARKUP, options=(MARKUP, "b", "c", "d"), rationale=MARKUP)
    batch = make_batch(title="<b>Week 3</b> ]]>")
    (question,) = moodle_questions(render_export(ExportFormat.MOODLE, batch, [item]))
    assert html_text(question.find("questiontext/text")) == MARKUP
    assert html_text(question.find("generalfeedback/text")) == MARKUP
    assert html_text(question.find("answer/text")) == MARKUP
    assert question.findtext("name/text") == "<b>Week 3</b> ]]> #1"

    _, items = qti_package(render_export(ExportFormat.QTI, batch, [item]))
    (qti,) = items.values()
    assert qti_prompt(qti) == MARKUP
    assert qti_choice(qti)[1]["A"] == MARKUP
    assert qti.get("title") == "<b>Week 3</b> ]]> #1"


def test_characters_xml_cannot_hold_are_replaced() -> None:
    stem = "Bell\x07 form\x0c feed \ud800 and \ufffe end of the stem here"
    item = make_item(0, stem=stem)
    (question,) = moodle_questions(render_export(ExportFormat.MOODLE, make_batch(), [item]))
    assert html_text(question.find("questiontext/text")) == (
        "Bell\ufffd form\ufffd feed \ufffd and \ufffd end of the stem here"
    )
    _, items = qti_package(render_export(ExportFormat.QTI, make_batch(), [item]))
    assert "\ufffd" in qti_prompt(next(iter(items.values())))
    assert render_export(ExportFormat.JSONL, make_batch(), [item])
    assert render_export(ExportFormat.CSV, make_batch(), [item])


def test_line_breaks_become_breaks() -> None:
    assert plain_to_html("a < b\r\nc & d\re") == "a &lt; b<br>\nc &amp; d<br>\ne"
    item = make_item(0, stem="First line\nSecond <line>")
    content = render_export(ExportFormat.QTI, make_batch(), [item])
    _, items = qti_package(content, extra_tags=frozenset({QTI + "br"}))
    prompt = next(iter(items.values())).find(f"{QTI}itemBody/{QTI}choiceInteraction/{QTI}prompt")
    assert prompt is not None
    assert [child.tag for child in prompt] == [QTI + "br"]
    assert "".join(prompt.itertext()) == "First lineSecond <line>"


def test_file_names_are_plain_ascii() -> None:
    batch = make_batch(title='Physiologie cardiaque — "Semaine 3" / ../../etc')
    assert export_filename(batch, ExportFormat.MOODLE) == (
        "physiologie-cardiaque-semaine-3-etc-0f1e2d3c.xml"
    )
    assert export_filename(make_batch(topic="心臓"), ExportFormat.QTI) == "batch-0f1e2d3c.zip"
    assert safe_filename("../../.bashrc", "x.csv") == "bashrc"
    assert safe_filename("a\\b/c d.csv", "x.csv") == "c-d.csv"
    assert safe_filename("..", "x.csv") == "x.csv"


@pytest.fixture(scope="module")
def ten_thousand() -> list[Item]:
    return [
        make_item(i, stem=f"Question {i}: which chamber pumps into the aorta?")
        for i in range(10_000)
    ]


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_ten_thousand_items(export_format: ExportFormat, ten_thousand: list[Item]) -> None:
    content = render_export(export_format, make_batch(), ten_thousand)
    if export_format is ExportFormat.QTI:
        assert len(zipfile.ZipFile(io.BytesIO(content)).namelist()) == 10_001
    elif export_format is ExportFormat.MOODLE:
        assert content.count(b'<question type="multichoice">') == 10_000
    else:
        assert content.count(b"\n") >= 10_000


# --- the API ------------------------------------------------------------------------------


def finished(client: httpx.Client, **options: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A finished demo batch and its passed items, as the API lists them."""
    body = batch_body(
        count=20,
        generator_options={"seed": 11, "fail_rate": 0.2, "invalid_rate": 0.2, **options},
    )
    created = client.post(BATCHES, json=body)
    assert created.status_code == 201, created.text
    batch = wait_finished(client, created.json()["id"])
    passed = [item for item in all_items(client, batch["id"]) if item["status"] == "completed"]
    assert len(passed) == batch["progress"]["completed"]
    return batch, passed


def export(client: httpx.Client, batch_id: str, export_format: str) -> httpx.Response:
    return client.get(f"{BATCHES}/{batch_id}/export", params={"format": export_format})


def correct_text(item: dict[str, Any]) -> str:
    result = item["result"]
    return str(next(o["text"] for o in result["options"] if o["key"] == result["answer"]))


@pytest.fixture
def demo(client: httpx.Client) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    batch, passed = finished(client, markup_rate=0.3)
    assert 0 < len(passed) < 20, "some items failed"
    return batch, passed


def test_jsonl_export_of_a_finished_batch(client: httpx.Client, demo: Any) -> None:
    batch, passed = demo
    response = export(client, batch["id"], "jsonl")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="cardiac-physiology-{batch["id"][:8]}.jsonl"'
    )
    assert response.headers["x-item-count"] == str(len(passed))
    records = [json.loads(line) for line in response.text.splitlines()]
    assert [r["index"] for r in records] == [item["index"] for item in passed]
    for record, item in zip(records, passed, strict=True):
        result = item["result"]
        assert record["stem"] == result["stem"]
        assert record["options"] == result["options"]
        assert record["answer"] == result["answer"]
        assert record["rationale"] == result["rationale"]
        assert record["warnings"] == item["warnings"]
        assert (record["topic"], record["difficulty"]) == ("Cardiac physiology", "medium")


def test_csv_export_parses_back(client: httpx.Client) -> None:
    topic = '=HYPERLINK("http://evil.example")'
    created = client.post(BATCHES, json=batch_body(topic=topic, count=10)).json()
    wait_finished(client, created["id"])
    passed = [i for i in all_items(client, created["id"]) if i["status"] == "completed"]
    response = export(client, created["id"], "csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].endswith(f'-{created["id"][:8]}.csv"')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert len(rows) == len(passed) == 10
    for row, item in zip(rows, passed, strict=True):
        result = item["result"]
        assert row["index"] == str(item["index"])
        assert row["stem"] == neutralise_formula(result["stem"])
        assert row[f"option_{row['answer'].lower()}"] == neutralise_formula(correct_text(item))
        assert row["answer"] == result["answer"]
        assert row["topic"] == "'" + topic
        assert not any(str(value).startswith(FORMULA_PREFIXES) for value in row.values())


def test_moodle_export_has_one_multichoice_question_per_item(
    client: httpx.Client, demo: Any
) -> None:
    batch, passed = demo
    response = export(client, batch["id"], "moodle")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml"
    assert response.headers["content-disposition"].endswith(f'-{batch["id"][:8]}.xml"')
    questions = moodle_questions(response.content)
    assert len(questions) == len(passed)
    for question, item in zip(questions, passed, strict=True):
        result = item["result"]
        assert question.findtext("name/text") == f"Cardiac physiology #{item['index'] + 1}"
        assert question.find("questiontext").get("format") == "html"  # type: ignore[union-attr]
        assert html_text(question.find("questiontext/text")) == result["stem"]
        assert html_text(question.find("generalfeedback/text")) == result["rationale"]
        assert question.findtext("single") == "true"
        assert question.findtext("shuffleanswers") == "true"
        assert question.findtext("answernumbering") == "ABCD"
        answers = question.findall("answer")
        assert [html_text(a.find("text")) for a in answers] == [
            o["text"] for o in result["options"]
        ]
        assert all(a.get("format") == "html" and a.find("feedback") is not None for a in answers)
        right = [a for a in answers if a.get("fraction") == "100"]
        assert len(right) == 1
        assert {a.get("fraction") for a in answers} == {"100", "0"}
        assert html_text(right[0].find("text")) == correct_text(item)


def test_qti_export_is_a_content_package(client: httpx.Client, demo: Any) -> None:
    batch, passed = demo
    response = export(client, batch["id"], "qti")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].endswith(f'-{batch["id"][:8]}.zip"')
    hrefs, items = qti_package(response.content)
    assert hrefs == [f"items/item-{item['index'] + 1:05d}.xml" for item in passed]
    for href, item in zip(hrefs, passed, strict=True):
        qti = items[href]
        correct, choices = qti_choice(qti)
        assert qti_prompt(qti) == item["result"]["stem"]
        assert list(choices.values()) == [o["text"] for o in item["result"]["options"]]
        assert choices[correct] == correct_text(item)


def test_markup_survives_as_text_in_every_format(client: httpx.Client) -> None:
    batch, passed = finished(client, markup_rate=1.0, fail_rate=0.0, invalid_rate=0.0)
    assert len(passed) == 20 and all("<img" in item["result"]["stem"] for item in passed)
    marked = [
        next(o["text"] for o in item["result"]["options"] if "<script>" in o["text"])
        for item in passed
    ]

    questions = moodle_questions(export(client, batch["id"], "moodle").content)
    for question, item, option in zip(questions, passed, marked, strict=True):
        assert html_text(question.find("questiontext/text")) == item["result"]["stem"]
        assert option in [html_text(a.find("text")) for a in question.findall("answer")]

    hrefs, items = qti_package(export(client, batch["id"], "qti").content)
    for href, item, option in zip(hrefs, passed, marked, strict=True):
        assert qti_prompt(items[href]) == item["result"]["stem"]
        assert option in qti_choice(items[href])[1].values()

    lines = export(client, batch["id"], "jsonl").text.splitlines()
    assert [json.loads(line)["stem"] for line in lines] == [i["result"]["stem"] for i in passed]
    rows = list(csv.DictReader(io.StringIO(export(client, batch["id"], "csv").text, newline="")))
    assert [row["stem"] for row in rows] == [i["result"]["stem"] for i in passed]


def test_export_errors(client: httpx.Client) -> None:
    missing = export(client, "no-such-batch", "jsonl")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no batch no-such-batch"}

    nothing_passed, passed = finished(client, fail_rate=0.0, invalid_rate=1.0)
    assert passed == []
    conflict = export(client, nothing_passed["id"], "moodle")
    assert conflict.status_code == 409
    assert conflict.json()["detail"] == (
        f"batch {nothing_passed['id']} has no passed items to export"
    )

    unknown = export(client, nothing_passed["id"], "pdf")
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["query", "format"]
    no_format = client.get(f"{BATCHES}/{nothing_passed['id']}/export")
    assert no_format.status_code == 422


def test_another_users_batch_is_404(make_server: Callable[..., LiveServer]) -> None:
    live = make_server(user_header="X-User")
    with httpx.Client(base_url=live.url, timeout=60, headers={"X-User": "ada"}) as ada:
        batch = ada.post(BATCHES, json=batch_body(count=4)).json()
        wait_finished(ada, batch["id"])
        assert export(ada, batch["id"], "csv").status_code == 200
        bob = ada.get(
            f"{BATCHES}/{batch['id']}/export", params={"format": "csv"}, headers={"X-User": "bob"}
        )
        assert bob.status_code == 404
        assert bob.json() == {"detail": f"no batch {batch['id']}"}


def test_a_running_batch_exports_what_has_passed(make_server: Callable[..., LiveServer]) -> None:
    live = make_server(gate=Gate(at=3))  # items 0-2 pass, item 3 waits in flight
    with httpx.Client(base_url=live.url, timeout=60) as client:
        body = batch_body(count=40, concurrency=1)
        batch = client.post(BATCHES, json=body).json()
        wait_for_finishes(client, batch["id"], 3)
        assert client.get(f"{BATCHES}/{batch['id']}").json()["status"] == "running"
        response = export(client, batch["id"], "jsonl")
        assert response.status_code == 200
        indices = [json.loads(line)["index"] for line in response.text.splitlines()]
        assert indices == [0, 1, 2]
        assert response.headers["x-item-count"] == "3"


# --- the CLI ------------------------------------------------------------------------------


def bulkgen(live: LiveServer, *args: str) -> Any:
    return CliRunner().invoke(app, ["batch", *args], env={"BULKGEN_SERVER": live.url})


def test_cli_export_writes_the_file(
    live: LiveServer, client: httpx.Client, demo: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    batch, passed = demo
    monkeypatch.chdir(tmp_path)
    result = bulkgen(live, "export", batch["id"], "--format", "moodle")
    assert result.exit_code == 0, result.output
    written = tmp_path / f"cardiac-physiology-{batch['id'][:8]}.xml"
    assert result.stdout == f"Exported {len(passed)} passed items to {written.name}\n"
    assert len(moodle_questions(written.read_bytes())) == len(passed)

    again = bulkgen(live, "export", batch["id"], "--format", "moodle")
    assert again.exit_code == 1
    assert again.stderr == f"error: {written.name} exists; use --force to overwrite it\n"

    written.write_text("old")
    forced = bulkgen(live, "export", batch["id"], "--format", "moodle", "--force")
    assert forced.exit_code == 0, forced.output
    assert written.read_bytes() == export(client, batch["id"], "moodle").content

    target = tmp_path / "out" / "items.zip"
    target.parent.mkdir()
    chosen = bulkgen(live, "export", batch["id"], "--format", "qti", "--output", str(target))
    assert chosen.exit_code == 0, chosen.output
    assert len(qti_package(target.read_bytes())[0]) == len(passed)
    exists = bulkgen(live, "export", batch["id"], "--format", "csv", "-o", str(target))
    assert exists.exit_code == 1 and "exists; use --force" in exists.stderr

    piped = bulkgen(live, "export", batch["id"], "--format", "jsonl", "--output", "-")
    assert piped.exit_code == 0
    assert len(piped.stdout.splitlines()) == len(passed)


def test_cli_export_errors_are_one_line(live: LiveServer, client: httpx.Client) -> None:
    unknown = bulkgen(live, "export", "no-such-batch", "--format", "csv")
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: no batch no-such-batch\n"
    assert unknown.stdout == ""

    batch, _ = finished(client, fail_rate=0.0, invalid_rate=1.0)
    empty = bulkgen(live, "export", batch["id"], "--format", "csv")
    assert empty.exit_code == 1
    assert empty.stderr == f"error: batch {batch['id']} has no passed items to export\n"

    bad = bulkgen(live, "export", batch["id"], "--format", "pdf")
    assert bad.exit_code == 2 and "pdf" in bad.output


# --- the page -----------------------------------------------------------------------------

LINK = re.compile(r'<a class="button button-small" href="([^"]+)" download data-export="(\w+)"')


def test_progress_page_links_every_format(client: httpx.Client, demo: Any) -> None:
    batch, passed = demo
    page = client.get(f"/faculty/generate/batch/{batch['id']}")
    links = dict((fmt, href) for href, fmt in LINK.findall(page.text))
    assert sorted(links) == sorted(f.value for f in ExportFormat)
    for fmt, href in links.items():
        response = client.get(html.unescape(href))
        assert response.status_code == 200
        assert response.headers["x-item-count"] == str(len(passed))
        assert response.headers["content-type"] == ExportFormat(fmt).media_type

    nothing, _ = finished(client, fail_rate=0.0, invalid_rate=1.0)
    empty = client.get(f"/faculty/generate/batch/{nothing['id']}")
    assert empty.status_code == 200
    # the links are there for the page to reveal once an item passes, but hidden until then
    assert re.search(r'data-role="export" hidden', empty.text)


@pytest.mark.parametrize("answer", ["A ", "a", " a "])
def test_an_answer_key_in_any_case_or_spacing_passes_and_exports(answer: str) -> None:
    item = make_item(0, answer=answer)
    assert item.result is not None and item.result.answer == "A"
    assert not has_errors(validate_item(item.result))
    batch = make_batch()
    row = next(csv.DictReader(io.StringIO(render_export(ExportFormat.CSV, batch, [item]).decode())))
    assert row["answer"] == "A"
    for export_format in ExportFormat:
        assert render_export(export_format, batch, [item])
