"""A real PostgreSQL server for tests, started by ``scripts/postgres`` (Debian's package).

One server runs for the whole test session, in a temporary directory, reachable only
through its Unix socket; each test that wants PostgreSQL gets a database of its own.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bulkgen.log.pgbus import libpq_url

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "postgres"


@dataclass
class Postgres:
    """A running PostgreSQL server and the databases handed out on it."""

    directory: Path
    url: str  # SQLAlchemy URL of the `bulkgen` database
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls) -> Postgres:
        found = subprocess.run(
            [str(SCRIPT), "start"], check=True, capture_output=True, text=True
        ).stdout.strip()
        directory = Path(found.split("host=", 1)[1].split("&", 1)[0])
        return cls(directory, found)

    def url_of(self, database: str) -> str:
        return self.url.replace("/bulkgen?", f"/{database}?", 1)

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        name = f"test_{next(self._names)}"
        with psycopg.connect(libpq_url(self.url), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return self.url_of(name)

    def restart(self) -> None:
        """Stop and start the server: every connection to it breaks."""
        subprocess.run([str(SCRIPT), "restart", str(self.directory)], check=True)

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.directory)], check=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
