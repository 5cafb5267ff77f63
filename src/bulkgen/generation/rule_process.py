"""The item-writing rules in a process of their own, so a large batch's rules do not take
the event loop's time (a thread would not help: the rules are pure Python, under the GIL).

One :class:`RuleProcess` per runner holds one worker process, reached through a pipe
that the event loop reads (no thread in between); each run judges through a
:class:`ProcessJudge`, whose near-duplicate index lives in that process. Calls are sent
in groups: every item handed over within one turn of the event loop goes in one message
(a group is cut at :data:`GROUP` items, so the process works on one group while the
workers generate the next), and nothing ever waits for a group to fill, so a slow item
holds up no other. An item travels as its JSON, and its verdict comes back as the rule
results and its stem's key.

Order is the index's semantics: the process applies a run's judgements and withdrawals
in the order they were called, exactly as :class:`~bulkgen.generation.judges.InlineJudge`
would. Until the process is ready (it starts with the first large batch) and after it
failed, the judge runs the rules here on an index it built from the same stems, in the
same order, so no verdict depends on where it was made.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import multiprocessing
import pickle
import uuid
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from bulkgen.generation.judges import InlineJudge, Verdict, judged
from bulkgen.generation.rule_worker import serve
from bulkgen.generation.validators import StemIndex
from bulkgen.models import GeneratedItem

log = logging.getLogger(__name__)

#: At most this many items per message to the process.
GROUP = 16
#: The pipes' buffer (Linux): the items in flight fit, so a send never waits.
PIPE_BYTES = 1 << 20

#: A message's operations (see :func:`~bulkgen.generation.rule_worker.run_operations`).
Operation = tuple[Any, ...]
_Waiting = tuple[str, GeneratedItem, "asyncio.Future[Verdict]"]


class RuleProcess:
    """The process that runs the rules for the batch runs of this runner (started by the
    first run that asks for it, started again after it died)."""

    def __init__(self) -> None:
        self._process: Any = None
        self._send: Connection | None = None
        self._receive: Connection | None = None
        self._replies: collections.deque[asyncio.Future[list[Verdict]]] = collections.deque()
        self._ready: asyncio.Future[None] | None = None

    @property
    def ready(self) -> bool:
        """The process has started and takes messages."""
        return self._ready is not None and self._ready.done() and self._send is not None

    async def started(self) -> None:
        """Return once the process takes messages (it starts with the first judge)."""
        if self._ready is None:
            raise RuntimeError("the rule process was not started")
        await asyncio.shield(self._ready)

    def judge_for(
        self,
        topic: str | None,
        stems: Sequence[tuple[str, str]],
        index: StemIndex | None = None,
    ) -> ProcessJudge:
        """A judge for one run whose index starts with ``stems`` ((stem, label) pairs);
        ``index``, when given, is that index already built (off the event loop: with
        10,000 earlier stems it takes a while), for the items judged here meanwhile."""
        if self._process is None:
            self._start()
        return ProcessJudge(self, topic, stems, index)

    def _start(self) -> None:
        # spawn, not fork: the server's threads (the database's) are not copied.
        context = multiprocessing.get_context("spawn")
        to_child, self._send = context.Pipe(duplex=False)
        self._receive, from_child = context.Pipe(duplex=False)
        for end in (self._send, from_child):
            _widen(end)
        self._process = context.Process(
            target=serve, args=(to_child, from_child), name="bulkgen-rules", daemon=True
        )
        self._ready = asyncio.get_running_loop().create_future()
        self._process.start()
        to_child.close()
        from_child.close()
        asyncio.get_running_loop().add_reader(self._receive.fileno(), self._on_readable)

    def call(self, run_id: str, ops: list[Operation]) -> asyncio.Future[list[Verdict]]:
        """Send one message; its verdicts come back in order. OSError when it cannot go."""
        if not self.ready or self._send is None:
            raise OSError("the rule process is not running")
        reply: asyncio.Future[list[Verdict]] = asyncio.get_running_loop().create_future()
        self._send.send_bytes(pickle.dumps((run_id, ops), pickle.HIGHEST_PROTOCOL))
        self._replies.append(reply)
        return reply

    def _on_readable(self) -> None:
        assert self._receive is not None
        try:
            data = self._receive.recv_bytes()
        except (EOFError, OSError):
            log.error("the rule process ended; the rules run in the server's process")
            self._stop()
            return
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)  # its first message: imports done
            return
        reply = self._replies.popleft()
        answer = pickle.loads(data)  # noqa: S301 (our own child, over a private pipe)
        if reply.done():
            return
        if isinstance(answer, str):
            reply.set_exception(RuntimeError(answer))
        else:
            reply.set_result(answer)

    def _stop(self) -> None:
        if self._receive is not None:
            asyncio.get_running_loop().remove_reader(self._receive.fileno())
        for end in (self._send, self._receive):
            if end is not None:
                end.close()
        self._send = self._receive = None
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(OSError("the rule process ended before it started"))
            self._ready.exception()  # retrieved: nobody may be waiting
        self._ready = None
        while self._replies:
            reply = self._replies.popleft()
            if not reply.done():
                reply.set_exception(OSError("the rule process ended"))
        process, self._process = self._process, None
        if process is not None and process.is_alive():
            process.terminate()

    def kill(self) -> None:
        """End the process at once (what a crash does; for tests)."""
        if self._process is not None:
            self._process.kill()

    async def close(self) -> None:
        process = self._process
        self._stop()
        if process is not None:
            await asyncio.to_thread(process.join, 5)


def _widen(end: Connection) -> None:
    """A bigger pipe buffer where the platform allows (Linux's F_SETPIPE_SZ)."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


class ProcessJudge:
    """A run's judge whose rules run in the rule process (see the module's docstring)."""

    def __init__(
        self,
        process: RuleProcess,
        topic: str | None,
        stems: Sequence[tuple[str, str]],
        index: StemIndex | None = None,
    ) -> None:
        self._process = process
        self._topic = topic
        self._run_id = uuid.uuid4().hex
        self._initial = list(stems)
        #: Every stem kept ((stem, label)) and withdrawn (label) since, in order.
        self._history: list[tuple[str, str] | str] = []
        self._ops: list[Operation] = []
        self._waiting: list[_Waiting] = []
        self._flush_due = False
        self._settled: asyncio.Future[None] | None = None
        #: The process has this run's index; else the rules run here, on ``_inline``.
        self._remote = False
        self._inline = None if index is None else InlineJudge(index, topic)

    async def judge(self, label: str, item: GeneratedItem) -> Verdict:
        if not self._remote and not self._try_remote():
            return self._judge_here(label, item)
        verdict: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        self._ops.append(("judge", item.model_dump_json(), label))
        self._waiting.append((label, item, verdict))
        if len(self._waiting) >= GROUP:
            self._flush()
        else:
            self._flush_soon()
        return await verdict

    def withdraw(self, label: str) -> None:
        self._history.append(label)
        if self._remote:
            self._ops.append(("withdraw", label))
            self._flush_soon()
        else:
            self._here().stems.withdraw(label)

    async def close(self) -> None:
        if self._remote:
            self._ops.append(("close",))
            self._flush()
        if self._settled is not None:
            await asyncio.gather(self._settled, return_exceptions=True)

    def _try_remote(self) -> bool:
        """Hand the index over to the process once it is ready (and nothing is pending
        here: every earlier verdict was made here, so the history is complete)."""
        if self._settled is not None or not self._process.ready:
            return False
        self._ops.append(("open", self._topic, self._initial, list(self._history)))
        self._remote, self._inline = True, None
        return True

    def _judge_here(self, label: str, item: GeneratedItem) -> Verdict:
        verdict = judged(item, label, self._here().stems, self._topic)
        if verdict[1] is not None:
            self._history.append((item.stem, label))
        return verdict

    def _flush_soon(self) -> None:
        if not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        if not self._ops:
            return
        ops, self._ops = self._ops, []
        waiting, self._waiting = self._waiting, []
        answer: asyncio.Future[list[Verdict]] | None = None
        if self._remote:
            try:
                answer = self._process.call(self._run_id, ops)
            except OSError:
                answer = None
        previous = self._settled
        self._settled = asyncio.ensure_future(self._settle(previous, answer, waiting))

    async def _settle(
        self,
        previous: asyncio.Future[None] | None,
        answer: asyncio.Future[list[Verdict]] | None,
        waiting: list[_Waiting],
    ) -> None:
        """Hand out one message's verdicts, after the previous message's (order matters)."""
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        verdicts: list[Verdict] | None = None
        if answer is not None and self._remote:
            try:
                verdicts = await answer
            except Exception:
                log.exception("the rule process failed; the rules run in this process now")
        if verdicts is None:
            self._remote = False  # for good: the process lost this run's index
            stems = self._here().stems
            verdicts = [judged(item, label, stems, self._topic) for label, item, _ in waiting]
        for (label, item, future), verdict in zip(waiting, verdicts, strict=True):
            if verdict[1] is not None:
                self._history.append((item.stem, label))
            if not future.done():
                future.set_result(verdict)

    def _here(self) -> InlineJudge:
        """The judge on this side: the same index the process has, built here."""
        if self._inline is None:
            stems = StemIndex()
            for stem, label in self._initial:
                stems.add(stem, label)
            for entry in self._history:
                if isinstance(entry, str):
                    stems.withdraw(entry)
                else:
                    stems.add(*entry)
            self._inline = InlineJudge(stems, self._topic)
        return self._inline
