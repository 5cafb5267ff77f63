"""Failure reasons and token usage on the batch row.

Revision ID: 0002
Revises: 0001

Batches created before this revision start with no reasons and no usage; their failed
items' reasons are counted from the items so the counters equal a recount.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("failure_reasons", sa.Text, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("total_tokens", sa.Integer, nullable=False, server_default="0"))
    _backfill()


def _backfill() -> None:
    """Count existing failed items' reasons and results' usage (the same keys as the store)."""
    conn = op.get_bind()
    reasons: dict[str, dict[str, int]] = {}
    usage: dict[str, list[int]] = {}
    rows = conn.execute(
        sa.text(
            "SELECT batch_id, status, result, error FROM items "
            "WHERE status IN ('failed', 'completed')"
        )
    )
    for batch_id, status, result, error in rows:
        if status == "failed":
            found: dict[str, Any] = json.loads(error) if error else {"kind": "unknown"}
            kind = str(found.get("kind", ""))
            rules = [r["rule"] for r in found.get("rules", []) if r.get("severity") == "error"]
            keys = (
                [f"rule:{r}" for r in dict.fromkeys(rules)]
                if kind == "validation" and rules
                else [f"kind:{kind}"]
            )
            counts = reasons.setdefault(batch_id, {})
            for key in keys:
                counts[key] = counts.get(key, 0) + 1
        if result:
            used = json.loads(result).get("usage")
            if used:
                sums = usage.setdefault(batch_id, [0, 0, 0])
                sums[0] += int(used.get("prompt_tokens", 0))
                sums[1] += int(used.get("completion_tokens", 0))
                sums[2] += int(used.get("total_tokens", 0))
    for batch_id in reasons.keys() | usage.keys():
        prompt, completion, total = usage.get(batch_id, [0, 0, 0])
        conn.execute(
            sa.text(
                "UPDATE batches SET failure_reasons = :reasons, prompt_tokens = :prompt, "
                "completion_tokens = :completion, total_tokens = :total WHERE id = :id"
            ),
            {
                "reasons": json.dumps(reasons.get(batch_id, {})),
                "prompt": prompt,
                "completion": completion,
                "total": total,
                "id": batch_id,
            },
        )


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("total_tokens")
        batch.drop_column("completion_tokens")
        batch.drop_column("prompt_tokens")
        batch.drop_column("failure_reasons")
