"""Delivery ``provider_batch``: a batch's requests go through the provider's batch API.

OpenAI's Batch API (and any server that implements it) runs a file of Chat Completions
requests within 24 hours at half the price, in a rate-limit pool of its own. A
:class:`ProviderBatchRun` drives one bulkgen batch in **rounds**:

1. **Submit.** Every pending item becomes one line of a JSONL file (``custom_id``
   ``<batch id>:<index>``, the same request direct delivery sends, with structured output
   by JSON schema), uploaded with ``POST /v1/files`` (purpose ``batch``); ``POST
   /v1/batches`` (``completion_window`` 24h) starts the provider's batch.
2. **Follow.** ``GET /v1/batches/{id}`` every ``provider_batch_poll_seconds``: its status
   and request counts are stored on the batch row, so the progress view, its bar and its
   estimate follow them (``progress.provider_batch``). Items stay ``pending`` meanwhile.
3. **Collect.** Once the provider's batch has ended its output and error files (``GET
   /v1/files/{id}/content``) are read, and each answer goes through the item pipeline of
   direct delivery: ``item.started``, then the rules, the blind review (sent directly),
   ``item.completed`` or ``item.failed`` through the event log, replacements in mode
   ``valid`` — the same counts and events.
4. Items still pending (an expired request, a transient error, a replacement) make the
   next round; the batch ends when none is left.

Every step is stored (``batches.provider_batch``) before the next, so a restart resumes
following the provider's batch without sending it again, and collects only the items that
are still pending (the store counts each finish once). An **expired** request (the
provider's 24-hour window ran out before it) or one that failed transiently (429, 5xx) is
sent again in the next round while the item has had fewer than ``max_attempts`` sends;
then it fails as ``timeout`` (or its own kind). Cancelling the bulkgen batch cancels the
provider's batch.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Literal

import openai
from pydantic import BaseModel, Field

from bulkgen.errors import GenerationError, PermanentGenerationError, TransientGenerationError
from bulkgen.generation.base import GenerationRequest, close_generator
from bulkgen.generation.item_work import ItemWork
from bulkgen.generation.judges import InlineJudge
from bulkgen.generation.openai_compat import OpenAIGenerator
from bulkgen.generation.outcomes import batch_line_error
from bulkgen.generation.stem_history import load_stems
from bulkgen.log import BatchRecord, EventLog, StartItem, Store
from bulkgen.logs import working_on
from bulkgen.models import Attempt, BatchConfig, GeneratedItem, ProviderBatch, from_epoch
from bulkgen.settings import Settings

log = logging.getLogger(__name__)

_PAGE = 1024
ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"
EXPIRED = (
    "the provider's batch ran out of its 24-hour window before this request ran; it was "
    "sent {sends} time{s}"
)

Outcome = GeneratedItem | GenerationError


class ProviderState(BaseModel):
    """What is stored of the round a batch is in (``batches.provider_batch``)."""

    batch: ProviderBatch
    #: Sends of an item that expired or failed transiently, by index.
    tries: dict[int, int] = Field(default_factory=dict)
    #: The round's answers have all gone through the pipeline.
    collected: bool = False

    @classmethod
    def load(cls, stored: str | None) -> ProviderState | None:
        return None if not stored else cls.model_validate_json(stored)


def client_for(settings: Settings) -> openai.AsyncOpenAI:
    key = settings.openai_api_key
    return openai.AsyncOpenAI(
        base_url=settings.openai_base_url,
        api_key=key.get_secret_value() if key is not None else "",
        timeout=settings.openai_timeout_seconds,
        max_retries=2,  # the batch API's own calls: uploads and polls are cheap to repeat
    )


async def cancel_provider_batch(
    record: BatchRecord, event_log: EventLog, settings: Settings
) -> None:
    """Cancel the provider's batch a bulkgen batch follows, if it still runs."""
    state = ProviderState.load(record.provider_state)
    if state is None or state.batch.id is None or state.batch.ended:
        return
    client = client_for(settings)
    try:
        await client.batches.cancel(state.batch.id)
    except openai.APIError as error:
        log.warning("could not cancel provider batch %s: %s", state.batch.id, type(error).__name__)
        return
    finally:
        await client.close()
    state.batch = state.batch.model_copy(update={"status": "cancelling"})
    await event_log.set_provider_state(record.id, state.model_dump_json())


class ProviderBatchRun:
    """Runs one ``provider_batch`` batch round by round until no item is pending."""

    def __init__(
        self,
        batch_id: str,
        config: BatchConfig,
        *,
        store: Store,
        event_log: EventLog,
        generator: OpenAIGenerator,
        settings: Settings,
    ) -> None:
        self.batch_id = batch_id
        self.config = config
        self._store = store
        self._log = event_log
        self._generator = generator
        self._settings = settings
        self._client = client_for(settings)
        self._wake = asyncio.Event()
        self._holding = False
        self._stopping = False
        #: True once the run has decided to end.
        self.ending = False

    def poke(self) -> None:
        self._wake.set()

    def hold(self) -> None:
        """Paused: follow and collect no further; the provider's batch runs on."""
        self._holding = True
        self._wake.set()

    def release(self) -> None:
        self._holding = False
        self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    @property
    def _halted(self) -> bool:
        return self._holding or self._stopping

    async def run(self) -> None:
        working_on(self.batch_id)
        log.info("batch %s: provider batch run started", self.batch_id)
        try:
            record = await self._store.get_batch(self.batch_id, None)
            state = ProviderState.load(record.provider_state)
            self._work = ItemWork(
                self.batch_id,
                self.config,
                event_log=self._log,
                generator=self._generator,
                settings=self._settings,
                judge=InlineJudge(await load_stems(self._store, self.batch_id), self.config.topic),
            )
            while not self._halted:
                if state is None or state.collected:
                    pending = await self._pending()
                    if not pending:
                        return  # the last finish ended the batch
                    rounds = 0 if state is None else state.batch.round
                    tries = {} if state is None else state.tries
                    state = await self._upload(pending, rounds + 1, tries)
                if state.batch.id is None:
                    state = await self._create(state)
                state = await self._follow(state)
                if not state.batch.ended or not await self._collect(state):
                    return  # held or stopped: a resume or a restart goes on from here
                state = state.model_copy(update={"collected": True})
                await self._save(state)
        finally:
            self.ending = True
            await self._client.close()
            await close_generator(self._generator)

    async def _pending(self) -> list[int]:
        found: list[int] = []
        while True:
            after = found[-1] if found else -1
            page = await self._store.pending_indices(self.batch_id, after=after, limit=_PAGE)
            found += page
            if len(page) < _PAGE:
                return found

    async def _save(self, state: ProviderState) -> None:
        await self._log.set_provider_state(self.batch_id, state.model_dump_json())

    # -- submit --------------------------------------------------------------------------

    async def _upload(
        self, pending: list[int], round_: int, tries: dict[int, int]
    ) -> ProviderState:
        prior = await self._store.prior_attempts(self.batch_id, pending)
        lines = []
        for index in pending:
            request = GenerationRequest(
                batch_id=self.batch_id,
                index=index,
                attempt=prior.get(index, 0) + tries.get(index, 0) + 1,
                topic=self.config.topic,
                item_type=self.config.item_type,
                difficulty=self.config.difficulty,
                model=self.config.model,
            )
            line = {
                "custom_id": f"{self.batch_id}:{index}",
                "method": "POST",
                "url": ENDPOINT,
                "body": self._generator.request_body(request),
            }
            lines.append(json.dumps(line, ensure_ascii=False))
        data = ("\n".join(lines) + "\n").encode()
        name = f"bulkgen-{self.batch_id}-{round_}.jsonl"
        uploaded = await self._client.files.create(
            file=(name, data, "application/jsonl"), purpose="batch"
        )
        batch = ProviderBatch(
            round=round_,
            id=None,
            status="uploading",
            total=len(pending),
            completed=0,
            failed=0,
            submitted_at=from_epoch(time.time()),
            input_file_id=uploaded.id,
        )
        state = ProviderState(batch=batch, tries=tries)
        await self._save(state)
        return state

    async def _create(self, state: ProviderState) -> ProviderState:
        assert state.batch.input_file_id is not None
        created = await self._client.batches.create(
            input_file_id=state.batch.input_file_id,
            endpoint=ENDPOINT,
            completion_window="24h",
            metadata={"bulkgen_batch": self.batch_id, "round": str(state.batch.round)},
        )
        log.info("batch %s: provider batch %s submitted", self.batch_id, created.id)
        state = _seen(state, created)
        await self._save(state)
        return state

    # -- follow --------------------------------------------------------------------------

    async def _follow(self, state: ProviderState) -> ProviderState:
        assert state.batch.id is not None
        while not state.batch.ended and not self._halted:
            try:
                remote = await self._client.batches.retrieve(state.batch.id)
            except openai.APIError as error:
                # Polling is cheap to repeat: a provider's bad minute is waited out.
                log.warning("batch %s: provider batch poll failed (%s)", self.batch_id, error)
            else:
                seen = _seen(state, remote)
                if seen != state:
                    state = seen
                    await self._save(state)
                if state.batch.ended:
                    break
            self._wake.clear()
            try:
                async with asyncio.timeout(self._settings.provider_batch_poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass
        return state

    # -- collect -------------------------------------------------------------------------

    async def _collect(self, state: ProviderState) -> bool:
        """Put the round's answers through the pipeline; False when held or stopped first."""
        outcomes: dict[int, Outcome] = {}
        for file_id in (state.batch.output_file_id, state.batch.error_file_id):
            if file_id is not None:
                content = await self._client.files.content(file_id)
                outcomes.update(self._read(content.text))
        pending = await self._pending()
        prior = await self._store.prior_attempts(self.batch_id, pending)
        ended = state.batch.status
        for index in pending:
            outcome = outcomes.get(index) or _unanswered(ended)
            sends = state.tries.get(index, 0) + 1
            if isinstance(outcome, GenerationError) and outcome.transient:
                if sends < self._settings.max_attempts:
                    state.tries[index] = sends  # pending: it goes in the next round
                    continue
                if outcome.kind == "timeout":
                    message = EXPIRED.format(sends=sends, s="" if sends == 1 else "s")
                    outcome = TransientGenerationError("timeout", message)
            if self._halted:
                return False
            await self._finish(index, prior.get(index, 0) + 1, state.batch, outcome)
        return True

    async def _finish(
        self, index: int, number: int, batch: ProviderBatch, outcome: Outcome
    ) -> None:
        now = time.time()
        await self._log.submit(StartItem(self.batch_id, index, now))
        error = outcome if isinstance(outcome, GenerationError) else None
        attempt = Attempt(
            number=number,
            started_at=batch.submitted_at,
            finished_at=from_epoch(now),
            error_kind=None if error is None else error.kind,
            error_message=None if error is None else error.message,
        )
        await self._log.submit(await self._work.judged(index, [attempt], outcome))

    def _read(self, text: str) -> dict[int, Outcome]:
        """The outcome of each line of an output or error file, by item index."""
        found: dict[int, Outcome] = {}
        prefix = f"{self.batch_id}:"
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                custom_id = str(entry.get("custom_id", ""))
                if not custom_id.startswith(prefix):
                    continue
                index = int(custom_id[len(prefix) :])
            except (ValueError, AttributeError):
                log.warning("batch %s: unreadable line in a provider batch file", self.batch_id)
                continue
            found[index] = self._outcome(entry)
        return found

    def _outcome(self, entry: dict[str, Any]) -> Outcome:
        response = entry.get("response")
        if isinstance(response, dict):
            status = int(response.get("status_code", 0))
            body = response.get("body")
            if status == 200 and isinstance(body, dict):
                try:
                    return self._generator.item_of(body)
                except GenerationError as error:
                    return error
            return self._status_error(status, body)
        problem = entry.get("error") or {}
        code = str(problem.get("code", "")) if isinstance(problem, dict) else ""
        said = str(problem.get("message", "")) if isinstance(problem, dict) else ""
        return _unanswered(code.removeprefix("batch_"), said)

    def _status_error(self, status: int, body: object) -> GenerationError:
        model = self.config.model or self._settings.openai_model
        return batch_line_error(status, body, self._generator.scrub, model=model)


def _seen(state: ProviderState, remote: Any) -> ProviderState:
    """The state after a look at the provider's batch object ``remote``."""
    counts = remote.request_counts
    batch = state.batch.model_copy(
        update={
            "id": remote.id,
            "status": remote.status,
            "total": counts.total if counts is not None else state.batch.total,
            "completed": counts.completed if counts is not None else 0,
            "failed": counts.failed if counts is not None else 0,
            "output_file_id": remote.output_file_id,
            "error_file_id": remote.error_file_id,
        }
    )
    if remote.status == "failed" and remote.errors is not None and remote.errors.data:
        reasons = "; ".join(str(e.message) for e in remote.errors.data[:3])
        log.warning("provider batch %s failed: %s", remote.id, reasons)
    return state.model_copy(update={"batch": batch})


def _unanswered(why: str, said: str = "") -> GenerationError:
    """The outcome of a request the provider's batch ended without answering."""
    if why in ("expired", "completed", "finalizing"):
        return TransientGenerationError("timeout", EXPIRED.format(sends=1, s=""))
    if why in ("cancelled", "cancelling"):
        return PermanentGenerationError(
            "cancelled", "the provider's batch was cancelled before this request ran"
        )
    detail = f": {said}" if said else ""
    return PermanentGenerationError(
        "provider_error",
        f"the provider's batch could not run this request ({why or 'no answer'}){detail}",
    )
