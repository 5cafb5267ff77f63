"""Durable state: the Store interface and its SQL implementation."""

from __future__ import annotations

from bulkgen.log.sql import SQLStore
from bulkgen.log.store import (
    Applied,
    BatchRecord,
    Change,
    EventRecord,
    ItemFinished,
    ItemStarted,
    Store,
)

__all__ = [
    "Applied",
    "BatchRecord",
    "Change",
    "EventRecord",
    "ItemFinished",
    "ItemStarted",
    "SQLStore",
    "Store",
]
