"""Alembic environment: bulkgen runs migrations on a connection it opened itself."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bulkgen.log.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("bulkgen migrations run through `bulkgen migrate` or at server start")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
