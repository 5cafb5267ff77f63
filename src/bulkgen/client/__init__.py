"""An async Python client of a running bulkgen server: the HTTP API and the SSE stream.

    async with BulkgenClient("http://127.0.0.1:8000") as client:
        batch = await client.create_batch({"topic": "Cardiac physiology", "count": 20})
        async for event in client.events(batch.id):
            ...

Every failure the caller can act on is a :class:`ClientError`: an error response of the
server (with its status and ``detail``) or a server that cannot be reached. The client
lives in :mod:`.api`, the events it yields in :mod:`.events` and its error in
:mod:`.errors`.
"""

from __future__ import annotations

from bulkgen.client.api import BulkgenClient, ExportFile, ReconnectHook
from bulkgen.client.errors import ClientError, describe_detail
from bulkgen.client.events import (
    CompleteEvent,
    ControlEvent,
    ItemEvent,
    ProgressEvent,
    StreamEvent,
)

__all__ = [
    "BulkgenClient",
    "ClientError",
    "CompleteEvent",
    "ControlEvent",
    "ExportFile",
    "ItemEvent",
    "ProgressEvent",
    "ReconnectHook",
    "StreamEvent",
    "describe_detail",
]
