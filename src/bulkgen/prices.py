"""What models' tokens cost: the price of a model, and the default table."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ModelPrice(BaseModel):
    """What a model's tokens cost, in US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0, le=10_000, description="Per million prompt (input) tokens.")
    output: float = Field(ge=0, le=10_000, description="Per million completion (output) tokens.")


#: OpenAI's list prices (USD per million tokens, standard tier) of the models people use
#: most for item writing; ``model_prices`` replaces the table.
DEFAULT_MODEL_PRICES = {
    "gpt-4o-mini": ModelPrice(input=0.15, output=0.60),
    "gpt-4o": ModelPrice(input=2.50, output=10.00),
    "gpt-4.1": ModelPrice(input=2.00, output=8.00),
    "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60),
    "gpt-4.1-nano": ModelPrice(input=0.10, output=0.40),
}
