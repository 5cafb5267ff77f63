"""Where a server leaves, for the CLI on the same machine, what lets it in: a per-user
runtime folder and the API token file of each local server."""

from __future__ import annotations

import os
from pathlib import Path


def default_runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/bulkgen`` (private to the user, cleared at log-out), else
    ``~/.local/state/bulkgen``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime else Path.home() / ".local" / "state"
    return base / "bulkgen"


def token_file(runtime_dir: Path, host: str, port: int) -> Path:
    """Where the server on ``host:port`` leaves the local user's API token for the CLI."""
    name = host.strip("[]").replace(":", "_") or "localhost"
    if name in ("localhost", "0.0.0.0", "::", "__1", "_"):  # one machine, one server per port
        name = "127.0.0.1"
    return runtime_dir / f"token-{name}-{port}"
