"""The HTTP layer: JSON API, SSE stream and (later) pages."""

from __future__ import annotations

from bulkgen.http.app import create_app

__all__ = ["create_app"]
