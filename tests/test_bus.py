"""The in-process bus: wake-ups per batch, merged, bounded waits, subscriptions that end."""

from __future__ import annotations

import asyncio

from bulkgen.log.bus import LocalBus

#: A bound for waits that must end without a wake-up (no event is coming).
NOTHING_COMES = 0.01
#: A bound for waits that a wake-up ends; only reached if the bus is broken.
GUARD = 60.0


async def test_publish_wakes_the_subscribers_of_that_batch_only() -> None:
    bus = LocalBus()
    with bus.subscribe("a") as first, bus.subscribe("a") as second, bus.subscribe("b") as other:
        await bus.publish("a")
        assert await first.wait(GUARD) is True
        assert await second.wait(GUARD) is True
        assert await other.wait(NOTHING_COMES) is False


async def test_a_waiting_subscriber_is_woken_by_a_publish() -> None:
    bus = LocalBus()
    with bus.subscribe("a") as subscription:
        ready = asyncio.Event()

        async def wait() -> bool:
            ready.set()  # runs on into the wait without yielding in between
            return await subscription.wait(GUARD)

        waiting = asyncio.create_task(wait())
        await ready.wait()
        assert not waiting.done()
        await bus.publish("a")
        assert await waiting is True


async def test_wake_ups_while_busy_merge_into_one() -> None:
    bus = LocalBus()
    with bus.subscribe("a") as subscription:
        for _ in range(3):
            await bus.publish("a")
        assert await subscription.wait(GUARD) is True
        assert await subscription.wait(NOTHING_COMES) is False


async def test_wait_returns_false_after_its_bound_without_a_wake_up() -> None:
    bus = LocalBus()
    with bus.subscribe("a") as subscription:
        assert await subscription.wait(NOTHING_COMES) is False
        await bus.publish("a")  # a later wake-up still arrives
        assert await subscription.wait(GUARD) is True


async def test_a_subscription_ends_with_its_context() -> None:
    bus = LocalBus()
    with bus.subscribe("a") as ended:
        pass
    await bus.publish("a")
    assert await ended.wait(NOTHING_COMES) is False
    with bus.subscribe("a") as fresh:
        # A wake-up nobody listened to is not kept for a later subscriber.
        assert await fresh.wait(NOTHING_COMES) is False
        await bus.publish("a")
        assert await fresh.wait(GUARD) is True


async def test_publishing_to_a_batch_nobody_watches_is_harmless() -> None:
    bus = LocalBus()
    await bus.publish("nobody")
    with bus.subscribe("nobody") as subscription:
        assert await subscription.wait(NOTHING_COMES) is False
