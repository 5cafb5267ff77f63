"""A batch's price and cost, and the provider batch it follows.

Revision ID: 0007
Revises: 0006

Existing batches have no price (their cost is not shown: the prices they ran at are not
known) and were delivered directly, so they follow no provider batch.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("price", sa.Text, nullable=True))
        batch.add_column(sa.Column("cost", sa.Float, nullable=False, server_default="0"))
        batch.add_column(sa.Column("provider_batch", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("provider_batch")
        batch.drop_column("cost")
        batch.drop_column("price")
