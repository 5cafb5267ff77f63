"""What a batch's tokens cost: its price, fixed when it is created, and the estimate.

A batch's price comes from the ``model_prices`` setting (USD per million input and output
tokens) for its model and, with a blind review, the review's model. Requests sent through
the provider's batch API (``delivery: provider_batch``) pay ``provider_batch_discount`` of
the list price; reviews are always sent directly and pay the full price. The price is
stored with the batch, so a later change of the settings does not rewrite what a batch
already cost. A batch whose model (or review model) has no price shows tokens, no cost.

The cost is summed item by item in the write transaction that counts the item's tokens,
so each generation and each review is priced at its own rate.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bulkgen.models import BatchConfig, CostEstimate, GeneratedItem, OpenAIOptions, TokenUsage
from bulkgen.settings import Settings

__all__ = ["BatchPrice", "estimate", "item_cost", "price_for"]

_MILLION = 1_000_000


class BatchPrice(BaseModel):
    """A batch's prices in USD per million tokens: list prices and the discount its
    generation requests get."""

    model_config = ConfigDict(frozen=True)

    input: float
    output: float
    review_input: float = 0.0
    review_output: float = 0.0
    discount: float = 1.0


def price_for(config: BatchConfig, settings: Settings) -> BatchPrice | None:
    """The price of a new batch, or None when the server has no price for its models."""
    options = config.generator_options
    if not isinstance(options, OpenAIOptions):
        return None  # demo items use no tokens
    model = config.model or settings.openai_model
    price = settings.model_prices.get(model)
    if price is None:
        return None
    review = price
    if options.reviewing:
        review_model = (options.review.model if options.review else None) or model
        found = settings.model_prices.get(review_model)
        if found is None:
            return None
        review = found
    discount = settings.provider_batch_discount if config.delivery == "provider_batch" else 1.0
    return BatchPrice(
        input=price.input,
        output=price.output,
        review_input=review.input,
        review_output=review.output,
        discount=discount,
    )


def _priced(usage: TokenUsage | None, per_input: float, per_output: float) -> float:
    if usage is None:
        return 0.0
    return (usage.prompt_tokens * per_input + usage.completion_tokens * per_output) / _MILLION


def item_cost(result: GeneratedItem | None, price: BatchPrice) -> float:
    """What an item's generation and its review cost, in USD."""
    if result is None:
        return 0.0
    generation = _priced(result.usage, price.input, price.output) * price.discount
    review = result.review.usage if result.review is not None else None
    return generation + _priced(review, price.review_input, price.review_output)


def estimate(usd: float, price: BatchPrice | None, valid_items: int) -> CostEstimate | None:
    """The cost shown for a batch that has spent ``usd`` and has ``valid_items`` passed."""
    if price is None:
        return None
    return CostEstimate(
        usd=round(usd, 9),
        per_valid_item_usd=round(usd / valid_items, 9) if valid_items else None,
        discount=price.discount,
    )
