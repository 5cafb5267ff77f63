"""One runner per batch: the process that runs a batch holds a lease on it.

Revision ID: 0005
Revises: 0004

``batches.runner``: the id of the process whose embedded runner runs the batch (null when
none does); ``batches.lease_until``: epoch seconds until which that process's lease holds.
The process renews it while the run lasts; another process takes the batch over only once
the lease has run out, so a second server on the same database never re-runs the items a
live one is generating.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("runner", sa.String(32), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("runner")
