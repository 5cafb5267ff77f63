"""Errors bulkgen raises on purpose.

    BulkgenError
    ├── NotFound            a batch that does not exist or that the caller may not see
    ├── InvalidCursor       an SSE cursor that is not a sequence number of the batch's log
    ├── Conflict            an action the batch's current state does not allow
    ├── InvalidConfig       a batch config this server cannot run (a 422 naming the field)
    ├── Busy                the server holds as many streams as it may (a 503)
    ├── StorageUnavailable  the database cannot be written now (a 503)
    ├── QuotaExceeded       the caller's daily quota has no room (a 429)
    └── GenerationError     a generator could not produce an item
        ├── TransientGenerationError   worth another attempt (timeouts, rate limits)
        └── PermanentGenerationError   retrying will not help (malformed output, refusals)

The HTTP layer maps NotFound to 404, InvalidCursor to 400, Conflict to 409,
InvalidConfig to 422, QuotaExceeded to 429, Busy and StorageUnavailable to 503 (each
with ``Retry-After``); generation errors never reach HTTP, they end up in the failed
item's error details.
"""

from __future__ import annotations


class BulkgenError(Exception):
    """Base of every error bulkgen raises on purpose."""


class NotFound(BulkgenError):
    """The batch does not exist, or the caller may not see it (the two look the same)."""


class InvalidCursor(BulkgenError):
    """An SSE resume cursor that is malformed or points past the batch's log."""


class Conflict(BulkgenError):
    """The batch's current state does not allow the requested action."""


class InvalidConfig(BulkgenError):
    """A batch config that is valid on its own but that this server cannot run.

    For example ``generator: openai`` when no API key is configured. ``field`` names the
    config field at fault, so the 422 points at it like a validation error does.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Busy(BulkgenError):
    """The server is at a limit (its open streams, or one user's); try again later."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QuotaExceeded(BulkgenError):
    """The caller's daily quota has no room for what it asked (a 429 naming ``field``,
    with ``Retry-After`` seconds)."""

    def __init__(self, field: str, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.retry_after = retry_after


class StorageUnavailable(BulkgenError):
    """The database cannot be written now (a full disk, a read-only or deleted file, an
    unreachable server); the message says which. Work waits and resumes by itself."""


class GenerationError(BulkgenError):
    """A generator failed to produce an item.

    ``kind`` is a short stable name (``timeout``, ``rate_limited``, ``malformed_output``,
    ``provider_error`` …) shown to users and used to group failures.
    """

    transient = False

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class TransientGenerationError(GenerationError):
    """A failure that another attempt may not hit: retried with backoff.

    ``retry_after`` is how long the provider asked to wait (``Retry-After``), in seconds;
    the pipeline waits at least that long before the next attempt.
    """

    transient = True

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(kind, message)
        self.retry_after = retry_after


class PermanentGenerationError(GenerationError):
    """A failure that another attempt would repeat: the item fails at once."""
