"""Live feeds: following a batch's event log and sending it to viewers as SSE.

After :mod:`bulkgen.log` commits and wakes the bus, a batch's :class:`BatchFeed` (one per
batch per process) reads the new events once and frames them once (:mod:`bulkgen.live.sse`);
each viewer's loop (:mod:`bulkgen.live.viewer`) copies the frames after its own cursor.
Next in the flow: :mod:`bulkgen.http`, whose stream routes return these loops.
"""

from __future__ import annotations

from bulkgen.live.feed import BatchFeed, FeedHub, ProgressFrame
from bulkgen.live.viewer import batches_frames, viewer_frames

__all__ = ["BatchFeed", "FeedHub", "ProgressFrame", "batches_frames", "viewer_frames"]
