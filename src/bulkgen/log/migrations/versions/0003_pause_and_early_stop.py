"""Pause, early stop and provider back-off on the batch row.

Revision ID: 0003
Revises: 0002

Existing batches are not paused, have not been judged by the early stop (batches created
before it have no ``early_stop`` in their config, so nothing judges them) and have no
back-off.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("pause", sa.Text, nullable=True))
        batch.add_column(
            sa.Column("early_stop_checked", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("backoff_until", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("backoff_until")
        batch.drop_column("early_stop_checked")
        batch.drop_column("pause")
