"""Generation: the stage where items are written, judged and scheduled.

An item travels generator → validation → log → live feed → HTTP → page or CLI, and this
package is where it starts. A :class:`Generator` writes it (``demo`` offline, or ``openai``
for any OpenAI-compatible endpoint; :func:`build_generator` picks the one a batch's config
names), ``validators`` checks it against the item-writing rules, and ``runner`` keeps a
batch's items generating across workers, retries transient errors and submits each item's
change of state to the log's writer, which is all this stage hands on: it never sees HTTP
or a viewer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bulkgen.errors import InvalidConfig
from bulkgen.generation.base import GenerationRequest, Generator, close_generator
from bulkgen.generation.demo import DemoGenerator
from bulkgen.models import BatchConfig, OpenAIOptions
from bulkgen.settings import Settings

if TYPE_CHECKING:
    from bulkgen.generation.openai_compat import OpenAIGenerator

__all__ = [
    "DemoGenerator",
    "GenerationRequest",
    "Generator",
    "OpenAIGenerator",
    "build_generator",
    "check_runnable",
    "close_generator",
]


def build_generator(config: BatchConfig, settings: Settings) -> Generator:
    """The generator a batch's config names, set up with its options and the settings.

    One instance serves one run of one batch (it may hold an HTTP client and the batch's
    request-rate limit); the runner closes it when the run ends.
    """
    from bulkgen.generation.openai_compat import OpenAIGenerator

    options = config.generator_options
    if isinstance(options, OpenAIOptions):  # the config guarantees generator == "openai"
        return OpenAIGenerator(
            options,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            model=config.model or settings.openai_model,
            timeout_seconds=settings.openai_timeout_seconds,
            requests_per_minute=settings.openai_requests_per_minute,
            review_base_url=settings.openai_review_base_url,
            review_api_key=settings.openai_review_api_key,
        )
    return DemoGenerator(options)


def __getattr__(name: str) -> Any:
    # The provider's SDK loads on first use: the rule process (which imports this package
    # for its rules) starts without it.
    if name == "OpenAIGenerator":
        from bulkgen.generation.openai_compat import OpenAIGenerator

        return OpenAIGenerator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_runnable(config: BatchConfig, settings: Settings) -> None:
    """Raise :class:`InvalidConfig` for a config this server's settings cannot run."""
    if config.delivery == "provider_batch" and settings.sqlalchemy_url.startswith("postgresql"):
        raise InvalidConfig(
            "delivery",
            "provider_batch runs on the embedded server (SQLite) only for now; "
            "use delivery direct with PostgreSQL workers",
        )
    if config.generator == "openai" and settings.openai_api_key is None:
        raise InvalidConfig(
            "generator", "openai needs BULKGEN_OPENAI_API_KEY or OPENAI_API_KEY on the server"
        )
