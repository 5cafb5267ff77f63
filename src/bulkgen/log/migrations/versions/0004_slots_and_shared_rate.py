"""Distributed workers: the slot that claimed an item, and a request-rate limit shared by
every worker of a batch.

Revision ID: 0004
Revises: 0003

``items.slot``: which of the batch's ``concurrency`` slots generates the item (null when
the embedded runner does, or before a claim); a slot that restarts after its worker died
puts its leftovers back to pending. ``batches.next_request_at``: epoch seconds of the next
free request slot of the batch's provider rate limit, reserved by workers in turn.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("slot", sa.Integer, nullable=True))
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("next_request_at", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("next_request_at")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("slot")
