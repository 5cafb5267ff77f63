"""HTTP: the stage that serves the JSON API, the live stream and the pages.

An item travels generator → validation → log → live feed → HTTP → page or CLI; this package
is the door to the last step. :func:`create_app` composes the routers: ``batches`` (the JSON
API of batches and items), ``stream`` (one SSE loop per viewer over the batch's live feed),
``pages`` (server-rendered HTML and its static files) and ``ops`` (health, readiness,
metrics). Routes reach batches and the log only through :class:`bulkgen.services.Services`,
given to them by ``deps``; ``csrf`` guards unsafe requests and ``server`` runs the app
under uvicorn with bulkgen's logging, ending live streams on shutdown.
"""

from __future__ import annotations

from bulkgen.http.app import create_app

__all__ = ["create_app"]
