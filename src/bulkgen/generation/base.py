"""The generator protocol: how the pipeline asks for one item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bulkgen.models import Difficulty, GeneratedItem, ItemReview, ItemType


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One attempt at one item of a batch."""

    batch_id: str
    index: int
    attempt: int
    topic: str
    item_type: ItemType
    difficulty: Difficulty
    model: str | None = None


class Generator(Protocol):
    """Produces items; raises ``GenerationError`` subclasses when it cannot."""

    name: str

    async def generate(self, request: GenerationRequest) -> GeneratedItem: ...


@runtime_checkable
class Reviewer(Protocol):
    """A generator that can also review an item blind (see :mod:`bulkgen.generation.review`).

    ``reviewing`` says whether its batch asked for it; ``review`` raises
    ``GenerationError`` subclasses like ``generate``.
    """

    reviewing: bool

    async def review(self, item: GeneratedItem, request: GenerationRequest) -> ItemReview: ...


def reviewer_of(generator: Generator) -> Reviewer | None:
    """The generator as the reviewer of its batch's items, when the batch asked for one."""
    if isinstance(generator, Reviewer) and generator.reviewing:
        return generator
    return None


async def close_generator(generator: Generator) -> None:
    """Release what a generator holds (an HTTP client), when it has an ``aclose``."""
    aclose = getattr(generator, "aclose", None)
    if aclose is not None:
        await aclose()
