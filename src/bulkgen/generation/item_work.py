"""One item's work: generate it (retrying transient errors with backoff), then judge it
against the item-writing rules and, when its batch asked, have it reviewed blind
(:mod:`bulkgen.generation.review`); the result is the :class:`~bulkgen.log.FinishItem` the
event log commits.

Both ways of running a batch use it: :class:`~bulkgen.generation.batch_run.BatchRun` (the
embedded runner, many items at once in one process) and
:mod:`bulkgen.generation.slots` (distributed workers, one item at a time per slot).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import replace

from bulkgen.errors import GenerationError, PermanentGenerationError, TransientGenerationError
from bulkgen.generation.base import GenerationRequest, Generator, reviewer_of
from bulkgen.generation.judges import Judge
from bulkgen.generation.review import reviewed
from bulkgen.log import EventLog, FinishItem
from bulkgen.models import (
    Attempt,
    BatchConfig,
    GeneratedItem,
    ItemError,
    ItemReview,
    ItemStatus,
    RuleResult,
    Severity,
    from_epoch,
)
from bulkgen.settings import Settings

log = logging.getLogger(__name__)

#: Longest wait a provider's ``Retry-After`` can impose before an item's next attempt.
MAX_RETRY_AFTER_SECONDS = 60.0
#: The jitter added to a wait, as a share of it: U(0, JITTER × wait).
JITTER = 0.25
#: The message of an item whose generator raised something it should not have.
INTERNAL_ERROR = (
    "bulkgen failed unexpectedly while making this item (an internal error, logged on the "
    "server with the batch's id); retrying the batch's failed items may work"
)


def backoff_seconds(base: float, failures: int, retry_after: float | None = None) -> float:
    """The wait before the next attempt after ``failures`` failed ones.

    ``base × 2^(failures − 1)``, or what the provider asked (``Retry-After``, at most
    ``MAX_RETRY_AFTER_SECONDS``) when that is longer, plus up to a quarter of it at random
    so that the workers a rate limit hit together do not come back together.
    """
    wait = base * 2.0 ** (failures - 1)
    if retry_after is not None:
        wait = max(wait, min(retry_after, MAX_RETRY_AFTER_SECONDS))
    return wait + random.uniform(0, JITTER * wait)


class ItemWork:
    """Generates and judges the items of one batch; its ``judge`` runs the rules and keeps
    the stems passed before, which guard repeats."""

    def __init__(
        self,
        batch_id: str,
        config: BatchConfig,
        *,
        event_log: EventLog,
        generator: Generator,
        settings: Settings,
        judge: Judge,
    ) -> None:
        self.batch_id = batch_id
        self.config = config
        self._log = event_log
        self._generator = generator
        self._reviewer = reviewer_of(generator)
        self._settings = settings
        self.judge = judge
        self._backoff_until = 0.0

    async def make(self, index: int, prior_attempts: int) -> FinishItem:
        """Generate item ``index`` (``prior_attempts`` it already had) and judge it."""
        attempts: list[Attempt] = []
        last = prior_attempts + self._settings.max_attempts
        for number in range(prior_attempts + 1, last + 1):
            began = time.time()
            outcome = await self._attempt(index, number)
            ended = time.time()
            if isinstance(outcome, GeneratedItem):
                attempts.append(
                    Attempt(
                        number=number, started_at=from_epoch(began), finished_at=from_epoch(ended)
                    )
                )
                return await self._reviewed(await self._validated(index, attempts, outcome))
            attempts.append(
                Attempt(
                    number=number,
                    started_at=from_epoch(began),
                    finished_at=from_epoch(ended),
                    error_kind=outcome.kind,
                    error_message=outcome.message,
                )
            )
            if not outcome.transient or number == last:
                return self._failed(index, attempts, outcome)
            retry_after = (
                outcome.retry_after if isinstance(outcome, TransientGenerationError) else None
            )
            if retry_after is not None:
                await self._record_backoff(retry_after)
            await asyncio.sleep(
                backoff_seconds(self._settings.retry_backoff_seconds, len(attempts), retry_after)
            )
        raise AssertionError("unreachable: the last attempt always returns")

    async def judged(
        self, index: int, attempts: list[Attempt], outcome: GeneratedItem | GenerationError
    ) -> FinishItem:
        """The finish of an item whose answer came another way (a provider's batch)."""
        if isinstance(outcome, GeneratedItem):
            return await self._reviewed(await self._validated(index, attempts, outcome))
        return self._failed(index, attempts, outcome)

    async def _record_backoff(self, retry_after: float) -> None:
        """Keep the provider's back-off on the batch row, for the progress snapshot.

        Workers hit by one rate limit ask for about the same time: only a wait that ends
        more than a second after the one already recorded is written.
        """
        until = time.time() + min(retry_after, MAX_RETRY_AFTER_SECONDS)
        if until <= self._backoff_until + 1.0:
            return
        self._backoff_until = until
        try:
            await self._log.set_backoff(self.batch_id, until)
        except Exception:
            log.exception("could not record the back-off of batch %s", self.batch_id)

    def _request(self, index: int, number: int) -> GenerationRequest:
        return GenerationRequest(
            batch_id=self.batch_id,
            index=index,
            attempt=number,
            topic=self.config.topic,
            item_type=self.config.item_type,
            difficulty=self.config.difficulty,
            model=self.config.model,
        )

    async def _attempt(self, index: int, number: int) -> GeneratedItem | GenerationError:
        try:
            return await self._generator.generate(self._request(index, number))
        except GenerationError as error:
            return error
        except Exception:
            # A bug in a generator fails the item, never the batch or the worker; its text
            # goes to the server's log, not to the item a faculty member reads.
            log.exception("generator %s crashed on item %d", self._generator.name, index)
            return PermanentGenerationError("generator_error", INTERNAL_ERROR)

    async def _reviewed(self, finish: FinishItem) -> FinishItem:
        """An item that passed the rules, after the batch's blind review (when it has one)."""
        if self._reviewer is None or finish.result is None:
            return finish
        if finish.status is not ItemStatus.COMPLETED:
            return finish
        outcome = await self._review(finish.index, finish.result)
        judged = reviewed(finish, outcome)
        if judged.status is not ItemStatus.COMPLETED:
            # Its stem was reserved when it passed the rules: a later item may now use it.
            self.judge.withdraw(f"item {finish.index + 1}")
        return replace(judged, at=time.time())

    async def _review(self, index: int, item: GeneratedItem) -> ItemReview | GenerationError:
        """The review, retrying transient errors like generation does; the last error when
        every attempt failed."""
        assert self._reviewer is not None
        request = self._request(index, 1)
        attempts = self._settings.max_attempts
        for number in range(1, attempts + 1):
            try:
                return await self._reviewer.review(item, request)
            except GenerationError as error:
                if not error.transient or number == attempts:
                    return error
                retry_after = (
                    error.retry_after if isinstance(error, TransientGenerationError) else None
                )
                if retry_after is not None:
                    await self._record_backoff(retry_after)
                wait = backoff_seconds(self._settings.retry_backoff_seconds, number, retry_after)
                await asyncio.sleep(wait)
            except Exception:
                log.exception("the reviewer crashed on item %d", index)
                return PermanentGenerationError("generator_error", INTERNAL_ERROR)
        raise AssertionError("unreachable: the last attempt always returns")

    def _failed(self, index: int, attempts: list[Attempt], error: GenerationError) -> FinishItem:
        detail = error.message
        if error.transient and len(attempts) > 1:
            detail = f"{error.message} (gave up after {len(attempts)} attempts)"
        return FinishItem(
            batch_id=self.batch_id,
            index=index,
            status=ItemStatus.FAILED,
            at=time.time(),
            attempts=tuple(attempts),
            error=ItemError(kind=error.kind, message=detail, transient=error.transient),
        )

    async def _validated(
        self, index: int, attempts: list[Attempt], item: GeneratedItem
    ) -> FinishItem:
        results, key = await self.judge.judge(f"item {index + 1}", item)
        errors = [r for r in results if r.severity is Severity.ERROR]
        warnings = tuple(r for r in results if r.severity is Severity.WARNING)
        return FinishItem(
            batch_id=self.batch_id,
            index=index,
            status=ItemStatus.FAILED if errors else ItemStatus.COMPLETED,
            at=time.time(),
            attempts=tuple(attempts),
            result=item,
            warnings=warnings,
            error=_validation_error(errors) if errors else None,
            stem_key=key,
        )


def _validation_error(errors: list[RuleResult]) -> ItemError:
    names = ", ".join(r.rule for r in errors)
    return ItemError(
        kind="validation",
        message=f"failed {len(errors)} item-writing rule{'s' if len(errors) > 1 else ''}: {names}",
        rules=errors,
    )
