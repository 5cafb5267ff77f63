"""Sign-in: users with a role, and the hashes of their API tokens and sessions.

Revision ID: 0006
Revises: 0005

``users``: one row per person (``id`` owns their batches), a role (``faculty`` or
``admin``), an argon2 password hash for local accounts, the OpenID Connect subject for
accounts made at first sign-in. ``tokens``: API tokens, browser sessions and one-time
sign-in links, each stored as the SHA-256 of its secret.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("oidc_subject", sa.String(512), nullable=True, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=True),
    )
    op.create_index("ix_tokens_user_kind", "tokens", ["user_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_tokens_user_kind", table_name="tokens")
    op.drop_table("tokens")
    op.drop_table("users")
