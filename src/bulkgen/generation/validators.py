"""The item-writing rules, as the rest of bulkgen imports them.

The rules live in the :mod:`bulkgen.generation.rules` package, one module per concern;
this module keeps the names other modules and tests use.
"""

from __future__ import annotations

from bulkgen.generation.rules import (
    RULES,
    Rule,
    StemIndex,
    StemMatch,
    has_errors,
    stem_key,
    validate_item,
)

__all__ = ["RULES", "Rule", "StemIndex", "StemMatch", "has_errors", "stem_key", "validate_item"]
