"""How many streams one process holds: a cap in all and one per user, so a flood of
viewers gets a ``503`` with ``Retry-After`` instead of a server that runs out of file
descriptors and hangs for everyone.

Each stream is one socket, so the default cap in all is the process's open-file limit
minus :data:`FD_HEADROOM` (database connections, the listener, log files, new requests);
:func:`raise_open_file_limit` lifts the soft limit to the hard one at start.
"""

from __future__ import annotations

import resource
from collections import Counter
from collections.abc import AsyncIterator

from bulkgen.errors import Busy
from bulkgen.metrics import SSE_VIEWERS

#: File descriptors kept free for everything but streams.
FD_HEADROOM = 256
#: The least cap in all, however low the open-file limit.
MIN_STREAMS = 16
#: What a refused viewer is told to wait before trying again, in seconds.
RETRY_AFTER_SECONDS = 5
#: The highest soft open-file limit asked for (the hard limit may be "unlimited").
MAX_OPEN_FILES = 1 << 20


def raise_open_file_limit() -> int:
    """Raise the soft open-file limit as far as the hard limit allows; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # keep the limit we have; the cap below follows it
    return soft


def open_file_limit() -> int:
    """The process's soft open-file limit."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return MAX_OPEN_FILES if soft == resource.RLIM_INFINITY else soft


def default_stream_cap() -> int:
    """Streams one process may hold: its open-file limit minus the headroom."""
    return max(MIN_STREAMS, open_file_limit() - FD_HEADROOM)


def default_connection_cap() -> int:
    """Connections one process may hold: half the headroom above the stream cap, so a
    stream is refused by the app (in JSON) before a connection is refused at all."""
    return max(MIN_STREAMS * 2, open_file_limit() - FD_HEADROOM // 2)


class StreamLimits:
    """Counts open streams, in all and per user, and refuses one past either cap."""

    def __init__(self, total: int, per_user: int) -> None:
        self.total = total
        self.per_user = per_user
        self.open = 0
        self._by_user: Counter[str] = Counter()

    def admit(self, owner: str) -> None:
        """Count a new stream of ``owner``; :class:`Busy` when a cap is reached."""
        if self.open >= self.total:
            raise Busy(
                f"the server holds as many live streams as it may ({self.total}); "
                f"try again in {RETRY_AFTER_SECONDS} s",
                RETRY_AFTER_SECONDS,
            )
        if self._by_user[owner] >= self.per_user:
            raise Busy(
                f"you have {self.per_user} live streams open, the most one user may; "
                "close a page that follows a batch, or try again later",
                RETRY_AFTER_SECONDS,
            )
        self.open += 1
        self._by_user[owner] += 1

    def release(self, owner: str) -> None:
        self.open -= 1
        self._by_user[owner] -= 1
        if self._by_user[owner] <= 0:
            del self._by_user[owner]

    async def held(self, owner: str, frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """``frames`` of a stream already admitted for ``owner``, counted in
        ``bulkgen_sse_viewers``; released when it ends, however it ends (the batch
        finished, the client went away, the server shut down)."""
        SSE_VIEWERS.inc()
        try:
            async for frame in frames:
                yield frame
        finally:
            SSE_VIEWERS.dec()
            self.release(owner)
            # A client that went away closes this loop: close the one inside it now, so
            # its own clean-up (leaving the batch's feed) runs at once.
            close = getattr(frames, "aclose", None)
            if close is not None:
                await close()
