"""Property: every item that passes the item-writing rules exports in all four formats.

Items come from hypothesis with the mess a model can answer with: keys in lower case or
with spaces around them, markup, XML-hostile characters, formula-looking text.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkgen.export import ExportFormat, render_export
from bulkgen.generation.validators import has_errors, validate_item
from bulkgen.models import (
    Batch,
    BatchConfig,
    GeneratedItem,
    Item,
    ItemStatus,
    Option,
    ProgressSnapshot,
)

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


def batch() -> Batch:
    now = datetime.now(UTC)
    progress = ProgressSnapshot(
        total=1,
        completed=1,
        failed=0,
        in_progress=0,
        pending=0,
        percent=100.0,
        success_rate=1.0,
        throughput_per_min=None,
        eta_seconds=0.0,
        elapsed_seconds=1.0,
        status="completed",
        started_at=now,
        finished_at=now,
    )
    return Batch(
        id="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        title=None,
        config=BatchConfig(topic="Cardiac physiology", count=1),
        status="completed",
        progress=progress,
        created_at=now,
        started_at=now,
        finished_at=now,
        last_event_id=1,
    )


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(items())
def test_every_item_that_passes_exports_in_every_format(item: GeneratedItem) -> None:
    if has_errors(validate_item(item, seen_stems=set(), topic=None)):
        return
    passed = Item(index=0, status=ItemStatus.COMPLETED, result=item)
    for export_format in ExportFormat:
        assert render_export(export_format, batch(), [passed])
