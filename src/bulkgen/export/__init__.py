"""Files of a batch's passed items: JSON Lines, CSV, Moodle XML and a QTI 2.1 package.

Pure functions: a batch and its items in, the file's bytes out. Only items that passed
validation (``completed``, with a result) are written, in index order as given
(:mod:`.questions`). This module names the formats, their media types and file names, and
hands each format to its writer (:mod:`.tabular` for JSON Lines and CSV, :mod:`.moodle`,
:mod:`.qti`). Generated text is untrusted and each writer keeps it inert: it reaches XML
only through :mod:`xml.etree.ElementTree`, which escapes it, with characters XML 1.0 cannot
hold replaced by U+FFFD (:mod:`._xml`); where a format reads text as HTML (Moodle's
``format="html"``) it is HTML-escaped first, so markup shows as text and never becomes
elements; CSV cells that a spreadsheet would run as a formula get a leading ``'``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum

from bulkgen.export.moodle import plain_to_html, to_moodle_xml
from bulkgen.export.qti import to_qti_package
from bulkgen.export.questions import Question, batch_label, passed_questions
from bulkgen.export.tabular import FORMULA_PREFIXES, neutralise_formula, to_csv, to_jsonl
from bulkgen.models import Batch, Item

__all__ = [
    "FORMULA_PREFIXES",
    "ExportFormat",
    "Question",
    "export_filename",
    "neutralise_formula",
    "passed_questions",
    "plain_to_html",
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
_WRITERS: dict[ExportFormat, Callable[[Batch, Sequence[Question]], bytes]] = {
    ExportFormat.JSONL: to_jsonl,
    ExportFormat.CSV: to_csv,
    ExportFormat.MOODLE: to_moodle_xml,
    ExportFormat.QTI: to_qti_package,
}

MAX_SLUG = 60

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NOT_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def render_export(export_format: ExportFormat, batch: Batch, items: Iterable[Item]) -> bytes:
    """The file of ``batch``'s passed items in ``export_format``."""
    return _WRITERS[export_format](batch, passed_questions(items))


def export_filename(batch: Batch, export_format: ExportFormat) -> str:
    """``<title or topic slug>-<short id>.<ext>``, plain ASCII."""
    ascii_label = (
        unicodedata.normalize("NFKD", batch_label(batch)).encode("ascii", "ignore").decode("ascii")
    )
    slug = _NOT_SLUG.sub("-", ascii_label.lower())[:MAX_SLUG].strip("-") or "batch"
    short_id = _NOT_SLUG.sub("", batch.id.lower())[:8] or "export"
    return f"{slug}-{short_id}.{export_format.extension}"


def safe_filename(name: str, fallback: str) -> str:
    """A name safe to create in the current directory: no path, no hidden file, ASCII."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _NOT_FILENAME.sub("-", base).lstrip(".-")[:120]
    return base or fallback
