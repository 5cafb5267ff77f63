"""The durable event log: batches, items and each batch's log of events.

Everything a batch does is written here and nowhere else. :class:`EventLog` is the one
seam every write goes through (item changes group-committed, control actions in order);
it commits through the :class:`Store` (``SQLStore``: SQLAlchemy Core, SQLite WAL by
default), whose transactions decide with the pure :mod:`bulkgen.log.state`, and then
wakes the batch's viewers on the :class:`Bus` (wake-ups only: viewers read the log from
their own cursor). Next in the flow: :mod:`bulkgen.live`, which follows the log.
"""

from __future__ import annotations

from bulkgen.log.bus import Bus, LocalBus, Subscription
from bulkgen.log.eventlog import EventLog, Receipt
from bulkgen.log.pgbus import PgBus
from bulkgen.log.sql import SQLStore
from bulkgen.log.store import (
    Applied,
    BatchRecord,
    Change,
    EventRecord,
    FinishItem,
    PassedStem,
    StartItem,
    Store,
)

__all__ = [
    "Applied",
    "BatchRecord",
    "Bus",
    "Change",
    "EventLog",
    "EventRecord",
    "FinishItem",
    "LocalBus",
    "PassedStem",
    "PgBus",
    "Receipt",
    "SQLStore",
    "StartItem",
    "Store",
    "Subscription",
]
