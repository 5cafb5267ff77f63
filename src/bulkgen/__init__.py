"""bulkgen: generate assessment items in bulk and watch the batch live.

The public API is what ``__all__`` names: the HTTP client and the events it yields, the
app factory and the services it serves, the settings, the main models and the error tree.
Everything else is internal and may change. ``create_app`` and ``Services`` load the
server stack (FastAPI, SQLAlchemy, the provider SDK), so they are imported on first use
and ``import bulkgen`` stays quick for client scripts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

from bulkgen.client import (
    BulkgenClient,
    ClientError,
    CompleteEvent,
    ControlEvent,
    ExportFile,
    ItemEvent,
    ProgressEvent,
    StreamEvent,
)
from bulkgen.errors import (
    BulkgenError,
    Busy,
    Conflict,
    GenerationError,
    InvalidConfig,
    InvalidCursor,
    NotFound,
    PermanentGenerationError,
    QuotaExceeded,
    StorageUnavailable,
    TransientGenerationError,
)
from bulkgen.export import ExportFormat
from bulkgen.models import (
    Batch,
    BatchConfig,
    BatchStatus,
    DemoOptions,
    Difficulty,
    EarlyStop,
    GeneratedItem,
    Item,
    ItemError,
    ItemStatus,
    ItemSummary,
    OpenAIOptions,
    Page,
    ProgressSnapshot,
)
from bulkgen.settings import Settings

if TYPE_CHECKING:
    from bulkgen.http import create_app
    from bulkgen.services import Services

__all__ = [
    "Batch",
    "BatchConfig",
    "BatchStatus",
    "BulkgenClient",
    "BulkgenError",
    "Busy",
    "ClientError",
    "CompleteEvent",
    "Conflict",
    "ControlEvent",
    "DemoOptions",
    "Difficulty",
    "EarlyStop",
    "ExportFile",
    "ExportFormat",
    "GeneratedItem",
    "GenerationError",
    "InvalidConfig",
    "InvalidCursor",
    "Item",
    "ItemError",
    "ItemEvent",
    "ItemStatus",
    "ItemSummary",
    "NotFound",
    "OpenAIOptions",
    "Page",
    "PermanentGenerationError",
    "ProgressEvent",
    "ProgressSnapshot",
    "QuotaExceeded",
    "Services",
    "Settings",
    "StorageUnavailable",
    "StreamEvent",
    "TransientGenerationError",
    "__version__",
    "create_app",
]

#: Public names imported on first use, and the module each comes from.
_LAZY = {"Services": "bulkgen.services", "create_app": "bulkgen.http"}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
