"""Property: every item that passes the item-writing rules exports in all four formats.

Items come from hypothesis with the mess a model can answer with: keys in lower case or
with spaces around them, markup, XML-hostile characters, formula-looking text.
"""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkgen.export import ExportFormat, render_export
from bulkgen.generation.validators import has_errors, validate_item
from bulkgen.models import (
    GeneratedItem,
    Item,
    ItemStatus,
    Option,
)

from helpers.batches import make_batch

WORDS = st.sampled_from(
    [
        "cardiac", "output", "rises", "when", "preload", "the", "patient", "dose", "mg",
        "<b>", "]]>", "&amp;", "=SUM(A1)", "-70", "mV", "é", "名", "\u0000", "\ud7ff", "\t",
        "every", "8", "hours", "NOT", "which", "of", "following", "is", "most", "likely",
    ]
)  # fmt: skip
TEXT = st.lists(WORDS, min_size=1, max_size=40).map(" ".join)
KEY_NOISE = st.sampled_from(["{}", " {}", "{} ", "{}".lower(), " {} "])


@st.composite
def items(draw: st.DrawFn) -> GeneratedItem:
    count = draw(st.integers(min_value=4, max_value=5))
    keys = string.ascii_uppercase[:count]
    texts = draw(st.lists(TEXT, min_size=count, max_size=count, unique=True))

    def noisy(key: str) -> str:
        return draw(KEY_NOISE).format(draw(st.sampled_from([key, key.lower()])))

    options = [Option(key=noisy(key), text=text) for key, text in zip(keys, texts, strict=True)]
    stem = draw(TEXT) + " Which of the following is most likely?"
    return GeneratedItem(
        stem=stem,
        options=options,
        answer=noisy(draw(st.sampled_from(keys))),
        rationale=draw(TEXT) + " because the mechanism explains every finding seen here.",
    )


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(items())
def test_every_item_that_passes_exports_in_every_format(item: GeneratedItem) -> None:
    if has_errors(validate_item(item, topic=None)):
        return
    passed = Item(index=0, status=ItemStatus.COMPLETED, result=item)
    for export_format in ExportFormat:
        assert render_export(export_format, make_batch(), [passed])
