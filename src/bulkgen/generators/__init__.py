"""Item generators and the factory that picks one for a batch."""

from __future__ import annotations

from bulkgen.generators.base import GenerationRequest, Generator
from bulkgen.generators.demo import DemoGenerator
from bulkgen.models import BatchConfig

__all__ = ["DemoGenerator", "GenerationRequest", "Generator", "build_generator"]


def build_generator(config: BatchConfig) -> Generator:
    """The generator a batch's config names, set up with its options."""
    return DemoGenerator(config.generator_options)
