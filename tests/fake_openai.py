"""Moved to ``helpers.fake_openai``; kept until every test module imports it from there."""

from helpers.fake_openai import (
    USAGE,
    FakeOpenAI,
    Recorded,
    Reply,
    flawed,
    item,
    malformed,
    ok,
    rate_limited,
    server_error,
    slow,
)

__all__ = [
    "USAGE",
    "FakeOpenAI",
    "Recorded",
    "Reply",
    "flawed",
    "item",
    "malformed",
    "ok",
    "rate_limited",
    "server_error",
    "slow",
]
