"""bulkgen: generate assessment items in bulk and watch the batch live."""

from __future__ import annotations

__version__ = "0.1.0"

from bulkgen.models import (
    Batch,
    BatchConfig,
    BatchStatus,
    DemoOptions,
    GeneratedItem,
    Item,
    ItemError,
    ItemStatus,
    ItemSummary,
    ProgressSnapshot,
)
from bulkgen.settings import Settings

__all__ = [
    "Batch",
    "BatchConfig",
    "BatchStatus",
    "DemoOptions",
    "GeneratedItem",
    "Item",
    "ItemError",
    "ItemStatus",
    "ItemSummary",
    "ProgressSnapshot",
    "Settings",
    "__version__",
]
