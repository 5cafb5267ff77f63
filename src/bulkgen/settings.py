"""The one settings object: every knob bulkgen has, validated once at start-up.

Each field can be set by an environment variable named ``BULKGEN_<FIELD>`` (for example
``BULKGEN_DATABASE=/var/lib/bulkgen/bulkgen.db``) or by the matching ``bulkgen serve``
flag; the API key of the ``openai`` generator is also read from the standard
``OPENAI_API_KEY``. Nothing else in the package reads the environment.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bulkgen.prices import DEFAULT_MODEL_PRICES, ModelPrice
from bulkgen.runtime import default_runtime_dir

#: The URL schemes of the databases bulkgen runs on.
DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+psycopg://")


class Settings(BaseSettings):
    """Validated configuration for one bulkgen process."""

    model_config = SettingsConfigDict(env_prefix="BULKGEN_", extra="forbid", frozen=True)

    database: Path = Field(
        default=Path("bulkgen.db"),
        description="Path of the SQLite database file (created on first start).",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; overrides `database` when set "
        "(for example `sqlite+aiosqlite:///data/bulkgen.db`).",
    )
    sqlite_synchronous: Literal["full", "normal"] = Field(
        default="full",
        description="SQLite: `full` syncs every commit to disk, so an acknowledged write "
        "survives a power loss; `normal` is a little faster and may lose the last commits "
        "on power loss (never on a crash of bulkgen itself).",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port of the HTTP server.")
    local_user: str = Field(
        default="local",
        min_length=1,
        max_length=100,
        description="Owner of every request when no trusted identity header is configured.",
    )
    user_header: str | None = Field(
        default=None,
        description="Name of a request header carrying the caller's user id, set by a "
        "trusted reverse proxy that signs users in (for example `X-Forwarded-User`). "
        "Unset: every request acts as `local_user`.",
    )
    require_sign_in: bool = Field(
        default=True,
        description="Every request must carry a credential: a session cookie, an API token "
        "or a trusted proxy's `user_header`. `false`: a request without one acts as "
        "`local_user` (a machine where every local process is trusted).",
    )
    runtime_dir: Path = Field(
        default_factory=lambda: default_runtime_dir(),
        description="Private folder (0700) of this user's server credentials: a server "
        "signing in `local_user` writes the CLI's API token there (0600), and the CLI on "
        "the same machine reads it. Default: `$XDG_RUNTIME_DIR/bulkgen`, else "
        "`~/.local/state/bulkgen`.",
    )
    admins: list[str] = Field(
        default_factory=list,
        description="User ids or email addresses that are admins whatever their stored "
        "role (users of OpenID Connect or of a trusted proxy).",
    )
    oidc_issuer: str | None = Field(
        default=None,
        max_length=500,
        description="OpenID Connect: the identity provider's issuer URL (its discovery "
        "document is ISSUER/.well-known/openid-configuration); set with oidc_client_id and "
        "oidc_client_secret to offer its sign-in.",
    )
    oidc_client_id: str | None = Field(
        default=None, max_length=500, description="OpenID Connect: bulkgen's client id."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="OpenID Connect: bulkgen's client secret."
    )
    oidc_name: str = Field(
        default="your institution",
        max_length=100,
        description='What the sign-in button names: "Sign in with <oidc_name>".',
    )
    session_hours: float = Field(
        default=168.0,
        gt=0,
        le=24 * 366,
        description="How long a browser session lasts after signing in.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses (IPs or CIDR blocks, e.g. `10.0.0.0/8`) of the reverse "
        "proxies whose `user_header` and `X-Forwarded-Proto` are believed; from any other "
        "peer those headers are ignored. Required with `user_header`.",
    )
    allowed_hosts: list[str] | None = Field(
        default=None,
        description="Host names the server answers to (the `Host` header, port ignored); "
        "any other is a `400`, which stops DNS-rebinding pages. Unset: `localhost`, "
        '`127.0.0.1`, `[::1]` and `host`. `["*"]` allows every name.',
    )
    heartbeat_seconds: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="Longest silence on an SSE stream before a comment heartbeat is sent.",
    )
    sse_retry_ms: int = Field(
        default=2000,
        ge=0,
        le=600_000,
        description="Reconnection delay the SSE stream asks browsers to use (`retry:`).",
    )
    feed_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="How often a live feed re-reads a batch's log without a wake-up: the "
        "safety net for writes no bus announced (another process on the same database).",
    )
    progress_interval_seconds: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="Shortest time between two `batch.progress` events of one batch.",
    )
    global_concurrency: int = Field(
        default=64,
        ge=1,
        le=4096,
        description="Most items generated at once across all batches of this process.",
    )
    rules_process_min_items: int = Field(
        default=200,
        ge=0,
        description="Batches of at least this many items run the item-writing rules in a "
        "process of their own, off the event loop; 0: always in the server's process.",
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Attempts per item for transient generation errors (first try included).",
    )
    retry_backoff_seconds: float = Field(
        default=0.5,
        ge=0,
        le=60,
        description="Delay before the second attempt; doubles on each further attempt.",
    )
    workers: bool = Field(
        default=True,
        description="Generate items in this process. With PostgreSQL, `false` makes an "
        "API/pages-only replica (`bulkgen serve --no-workers`) and `bulkgen worker` "
        "processes generate; with SQLite generation always runs in the server.",
    )
    quota_items_per_day: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        description="Most items one user's batches created in the last 24 hours may hold; "
        "a batch past it is refused (429). Unset: no bound.",
    )
    quota_tokens_per_day: int | None = Field(
        default=None,
        ge=1,
        le=10_000_000_000,
        description="Most provider tokens one user's batches created in the last 24 hours "
        "may spend; a provider batch is refused once they are spent, and a running one "
        "pauses (reason `quota`). Unset: no bound.",
    )
    run_lease_seconds: float = Field(
        default=15.0,
        ge=0.5,
        le=3600,
        description="SQLite: how long a process's claim on the batches it runs holds "
        "without renewal (renewed every third of it). Another server on the same file "
        "takes a batch over only after its runner's lease ran out.",
    )
    worker_stalled_seconds: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="PostgreSQL workers: a worker whose heartbeat (sent every quarter of "
        "this) is older than this is taken for dead, and its items are generated again "
        "by another worker within this plus 5 s.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="`bulkgen worker` only: serve this process's Prometheus metrics (items "
        "finished, generation latency) on this port of `host`; unset: none.",
    )
    writer_max_group: int = Field(
        default=2000,
        ge=1,
        le=100_000,
        description="Most state changes written to the store in one transaction.",
    )
    max_streams: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Live streams (SSE) one process holds at once; one more is answered "
        "`503` with `Retry-After`. Unset: the open-file limit (raised to the hard limit "
        "at start) minus 256.",
    )
    max_connections: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Open HTTP connections one process holds; a request on one more is "
        "answered `503` with `Retry-After`. Unset: the open-file limit minus 128.",
    )
    max_header_bytes: int = Field(
        default=65_536,
        ge=1024,
        le=1 << 24,
        description="Longest request line and headers, in bytes; a longer one is answered `431`.",
    )
    header_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        le=600,
        description="Longest a client may take to send a request's line and headers; a "
        "slower one is answered `408` and closed.",
    )
    send_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Longest a response may wait for a client that reads nothing; the "
        "connection is then dropped (a live viewer reconnects and resumes where it was).",
    )
    max_streams_per_user: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Live streams one user may hold at once on one process.",
    )
    recent_event_cache: int = Field(
        default=4096,
        ge=16,
        le=1_000_000,
        description="Encoded events kept in memory per watched batch for live viewers.",
    )
    log_level: str = Field(default="info", description="Log level of the server.")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Format of the server's log lines: `text` for a terminal, `json` for one "
        "JSON object per line (with the `batch_id` of lines logged while working on a batch).",
    )
    openai_base_url: str = Field(
        default="https://api.openai.com/v1",
        min_length=1,
        description="Base URL of the OpenAI-compatible Chat Completions endpoint of the "
        "`openai` generator (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp, LM Studio …).",
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        # BULKGEN_OPENAI_API_KEY wins over the standard OPENAI_API_KEY when both are set.
        validation_alias=AliasChoices("bulkgen_openai_api_key", "openai_api_key"),
        description="API key of the `openai` generator (`BULKGEN_OPENAI_API_KEY` or "
        "`OPENAI_API_KEY`). Never stored in a batch, an event, a log line or a page.",
    )
    openai_model: str = Field(
        default="gpt-4o-mini",
        min_length=1,
        max_length=200,
        description="Model of the `openai` generator when a batch does not name one.",
    )
    openai_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        le=600,
        description="Deadline of each request of the `openai` generator as a whole "
        "(connecting, headers and body), not a per-read timeout; a timeout is retried like "
        "other transient errors.",
    )
    openai_requests_per_minute: int = Field(
        default=60,
        ge=1,
        le=100_000,
        description="Most requests one batch sends to the `openai` endpoint per minute "
        "(attempts included); a batch's `generator_options.requests_per_minute` overrides it.",
    )
    openai_review_base_url: str | None = Field(
        default=None,
        min_length=1,
        description="Endpoint of the blind review requests (`generator_options.review`) when "
        "they go to another server than `openai_base_url`; that one when unset.",
    )
    openai_review_api_key: SecretStr | None = Field(
        default=None,
        description="API key of `openai_review_base_url`; `openai_api_key` when unset. Never "
        "stored in a batch, an event, a log line or a page.",
    )

    model_prices: dict[str, ModelPrice] = Field(
        default_factory=lambda: dict(DEFAULT_MODEL_PRICES),
        description="Price of each model's tokens in USD per million, as JSON "
        '(`{"gpt-4o-mini": {"input": 0.15, "output": 0.6}}`; replaces the built-in table of '
        "OpenAI list prices); a batch of a model not in it shows tokens but no cost.",
    )
    provider_batch_discount: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Share of the list price paid for requests sent through the provider's "
        "batch API (`delivery: provider_batch`); OpenAI charges half.",
    )
    provider_batch_poll_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How often a `provider_batch` batch asks the provider how its batch "
        "is doing (status, request counts, result files).",
    )

    @field_validator("database_url", mode="before")
    @classmethod
    def _known_driver(cls, value: object) -> object:
        """An empty value is unset (``BULKGEN_DATABASE_URL=``); otherwise one of the two
        drivers bulkgen runs on, named as SQLAlchemy's async URLs name them."""
        if isinstance(value, str) and value.strip() == "":
            return None
        if isinstance(value, str) and not value.startswith(DATABASE_SCHEMES):
            scheme = value.split("://", 1)[0] if "://" in value else value[:20]
            raise ValueError(
                f"unknown database {scheme!r}: use sqlite+aiosqlite:///PATH or "
                "postgresql+psycopg://USER@HOST/NAME"
            )
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            raise ValueError("oidc_issuer needs oidc_client_id and oidc_client_secret")
        if self.oidc_issuer and not self.oidc_issuer.startswith(("https://", "http://")):
            raise ValueError("oidc_issuer must be an http(s):// URL")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR block") from None
        return value

    @model_validator(mode="after")
    def _header_needs_proxies(self) -> Settings:
        if self.user_header is not None and not self.trusted_proxies:
            raise ValueError(
                "user_header needs trusted_proxies: the addresses of the proxies that set it"
            )
        return self

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"critical", "error", "warning", "info", "debug"}:
            raise ValueError("must be one of critical, error, warning, info, debug")
        return level

    @property
    def sqlalchemy_url(self) -> str:
        """The async database URL the store connects to."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.database}"
