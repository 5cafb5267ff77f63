"""A finished batch as the API shows it, for tests of what is written from one."""

from __future__ import annotations

from datetime import UTC, datetime

from bulkgen.models import Batch, BatchConfig, ProgressSnapshot


def make_batch(topic: str = "Cardiac physiology", title: str | None = None) -> Batch:
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
        title=title,
        config=BatchConfig(topic=topic, count=1),
        status="completed",
        progress=progress,
        created_at=now,
        started_at=now,
        finished_at=now,
        last_event_id=1,
    )
