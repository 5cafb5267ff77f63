"""Tables of the store. Migrations in ``bulkgen/log/migrations`` create exactly these."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

batches = Table(
    "batches",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("title", String(200)),
    Column("config", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("pending", Integer, nullable=False),
    Column("in_progress", Integer, nullable=False, default=0),
    Column("completed", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    # Last sequence number of the batch's event log; allocated inside write transactions.
    Column("last_seq", Integer, nullable=False, default=0),
    # JSON list of the latest finish times (epoch seconds) for the throughput window.
    Column("recent_finishes", Text, nullable=False, default="[]"),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("error", Text),
    # JSON object: failed items per reason key (``rule:<id>``, ``kind:<kind>``), counts > 0.
    Column("failure_reasons", Text, nullable=False, default="{}", server_default="{}"),
    # Token usage summed over the results of finished items (migration 0002).
    Column("prompt_tokens", Integer, nullable=False, default=0, server_default="0"),
    Column("completion_tokens", Integer, nullable=False, default=0, server_default="0"),
    Column("total_tokens", Integer, nullable=False, default=0, server_default="0"),
    # Pause and early stop (migration 0003). ``pause``: JSON PauseInfo while paused, else
    # null; ``early_stop_checked``: 1 once the early stop has judged the batch (once only);
    # ``backoff_until``: epoch seconds a provider's Retry-After asked the batch to wait.
    Column("pause", Text),
    Column("early_stop_checked", Integer, nullable=False, default=0, server_default="0"),
    Column("backoff_until", Float),
    # Distributed workers (migration 0004): the next free request slot of the batch's
    # provider rate limit, shared by all its workers (epoch seconds).
    Column("next_request_at", Float),
    # One runner per batch (migration 0005): the process running the batch and until when
    # its lease holds (see bulkgen.log.leases).
    Column("runner", String(32)),
    Column("lease_until", Float),
    # Cost in view (migration 0007): ``price``, JSON BatchPrice fixed at creation (null: no
    # price for its model); ``cost``, USD summed over finished items. Delivery
    # ``provider_batch``: ``provider_batch``, JSON of the provider's batch being followed.
    Column("price", Text),
    Column("cost", Float, nullable=False, default=0.0, server_default="0"),
    Column("provider_batch", Text),
)
Index("ix_batches_owner_created", batches.c.owner, batches.c.created_at)
Index("ix_batches_status", batches.c.status)

items = Table(
    "items",
    metadata,
    Column("batch_id", String(32), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Text, nullable=False, default="[]"),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("result", Text),
    Column("warnings", Text),
    Column("error", Text),
    Column("stem_key", Text),
    # The batch slot whose worker claimed the item (migration 0004; distributed workers).
    Column("slot", Integer),
)
Index("ix_items_batch_status_idx", items.c.batch_id, items.c.status, items.c.idx)

events = Table(
    "events",
    metadata,
    Column("batch_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("type", String(32), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)


# Sign-in (migration 0006). ``users.id`` is the owner of their batches.
users = Table(
    "users",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text),  # null: signs in another way (OpenID Connect, a proxy)
    Column("email", String(320)),
    Column("oidc_subject", String(512), unique=True),  # "<issuer> <sub>"
    Column("created_at", Float, nullable=False),
)

# API tokens, browser sessions and one-time sign-in links: only a SHA-256 of each secret.
tokens = Table(
    "tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
)
Index("ix_tokens_user_kind", tokens.c.user_id, tokens.c.kind)
