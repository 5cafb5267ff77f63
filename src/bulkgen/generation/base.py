"""The generator protocol: how the pipeline asks for one item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bulkgen.models import Difficulty, GeneratedItem, ItemType


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


async def close_generator(generator: Generator) -> None:
    """Release what a generator holds (an HTTP client), when it has an ``aclose``."""
    aclose = getattr(generator, "aclose", None)
    if aclose is not None:
        await aclose()
