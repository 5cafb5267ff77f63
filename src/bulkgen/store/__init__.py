"""Durable state: the Store interface and its SQL implementation."""

from __future__ import annotations

from bulkgen.store.base import (
    Applied,
    BatchRecord,
    Change,
    EventRecord,
    ItemFinished,
    ItemStarted,
    Store,
)
from bulkgen.store.sql import SQLStore

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
