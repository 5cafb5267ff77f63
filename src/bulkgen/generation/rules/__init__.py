"""Item-writing rules for generated multiple-choice items: pure functions, no I/O.

Each rule has a stable dotted id, a severity (``error`` fails the item, ``warning`` is
shown but passes) and a check that yields one message per problem it finds. The rules
follow the NBME's technical item flaws ("Constructing Written Test Questions for the Basic
and Health Sciences"); one module per concern: ``schema``, ``options``, ``ranges``,
``stem``, ``rationale`` and ``cues``; ``similar`` holds the stem index the duplicate rules
look up. Schema rules run first; a rule that needs a
well-formed part of the item (a stem, a rationale, options and an answer that names one
of them) is skipped when the schema rule for that part failed, so malformed items get one
clear complaint instead of a cascade.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

# The rule modules register their checks on import.
from bulkgen.generation.rules import cues, options, ranges, rationale, schema, stem
from bulkgen.generation.rules.registry import CHECKS, Check, Context, Rule
from bulkgen.generation.rules.similar import StemIndex, StemMatch, stem_key
from bulkgen.models import GeneratedItem, RuleResult, Severity

__all__ = [
    "RULES",
    "Rule",
    "StemIndex",
    "StemMatch",
    "has_errors",
    "stem_key",
    "validate_item",
]

_MODULES = (schema, options, ranges, stem, rationale, cues)
# Schema rules run first, so the rules that need their part of the item can be skipped.
_MODULE_ORDER = [module.__name__ for module in _MODULES]
_RUN_ORDER: list[tuple[Rule, frozenset[str], Check]] = sorted(
    CHECKS, key=lambda entry: _MODULE_ORDER.index(entry[2].__module__)
)


def validate_item(
    item: GeneratedItem, *, stems: StemIndex | None = None, topic: str | None = None
) -> list[RuleResult]:
    """Every rule the item breaks.

    ``stems`` indexes the stems passed before this item (the duplicate rules look it up;
    the caller adds the item once it passed); ``topic`` is the batch's topic, whose own
    words ("False memory", "Never events") are not read as a negation or a cue.
    """
    context = Context(stems, topic)
    results: list[RuleResult] = []
    failed: set[str] = set()
    for rule, needs, check in _RUN_ORDER:
        if failed and not failed.isdisjoint(needs):
            continue
        for message in check(item, context):
            failed.add(rule.id)
            results.append(RuleResult(rule=rule.id, severity=rule.severity, message=message))
    return results


def has_errors(results: Iterable[RuleResult]) -> bool:
    """True if any result fails the item."""
    return any(result.severity is Severity.ERROR for result in results)


RULES: Mapping[str, Rule] = MappingProxyType({rule.id: rule for rule, _, _ in _RUN_ORDER})
