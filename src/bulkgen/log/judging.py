"""The early stop's judgement: when it judges, how many items may start before it, and
what a batch it pauses says."""

from __future__ import annotations

from bulkgen.models import BatchConfig, EarlyStop


def starts_before_judgement(config: BatchConfig, checked: bool, started: int) -> int | None:
    """Items that may still start before the early stop judges a batch that has
    ``started`` items finished or in progress; None when nothing limits them.

    The judgement needs ``min_finished`` finishes and no more: a batch whose every request
    fails pauses after that many requests (and their retries), not after a whole wave of
    ``concurrency`` items and their retries.
    """
    rule = config.early_stop
    if rule is None or not rule.enabled or checked:
        return None
    return max(0, rule.min_finished - started)


def early_stop_message(failed: int, finished: int, rule: EarlyStop) -> str:
    """Why the early stop paused a batch, and what to do."""
    return (
        f"{failed} of the first {finished} finished items failed "
        f"({_percent(failed / finished)} ≥ {_percent(rule.max_failure_rate)}): "
        "check the provider settings, then resume or cancel"
    )


def _percent(share: float) -> str:
    return f"{round(100.0 * share, 1):g}%"
