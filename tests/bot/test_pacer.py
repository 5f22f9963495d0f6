"""The sender's pacing: the rate kept on average, at most a second's worth at once,
nothing lost in a lull.

The clock is the test's own, so what is checked is the order of sends in time, not
how fast this machine runs."""

from __future__ import annotations

import asyncio

from bot.delivery import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def pacer(rate: float, clock: Clock) -> Pacer:
    return Pacer(rate, clock=clock, sleep=clock.sleep)


async def sends(pacer: Pacer, clock: Clock, count: int, recipient: str = "") -> list[float]:
    times = []
    for index in range(count):
        await pacer.wait(recipient or f"chat{index}")
        times.append(clock.now)
    return times


async def test_sends_keep_to_the_rate_with_at_most_a_seconds_worth_at_once() -> None:
    clock = Clock()
    times = await sends(pacer(30, clock), clock, 100)
    # A second's worth (30) may go at once; after that, one every 1/30 s.
    assert times[:30] == [times[0]] * 30
    gaps = [round(b - a, 6) for a, b in zip(times[30:], times[31:], strict=False)]
    assert gaps == [round(1 / 30, 6)] * 69
    # Over any span, no more than a second's worth plus the rate times the span.
    for first, start in enumerate(times):
        for last in range(first, len(times)):
            assert last - first + 1 <= 30 + 30 * (times[last] - start) + 1e-6
    # ... and the cap is used in full: 100 sends in (100 - 30) / 30 s.
    assert abs(times[-1] - times[0] - 70 / 30) < 1e-6


async def test_a_burst_after_a_lull_goes_out_at_once() -> None:
    clock = Clock()
    paced = pacer(30, clock)
    await sends(paced, clock, 5)
    clock.now += 10  # a quiet spell
    times = await sends(paced, clock, 20)
    assert times == [times[0]] * 20


async def test_bulk_messages_to_one_chat_are_a_second_apart() -> None:
    clock = Clock()
    paced = pacer(30, clock)
    times = []
    for _ in range(3):
        await paced.wait("chat", bulk=True)
        times.append(clock.now)
    assert [round(b - a, 6) for a, b in zip(times, times[1:], strict=False)] == [1.0, 1.0]


async def test_a_pause_holds_every_send() -> None:
    clock = Clock()
    paced = pacer(30, clock)
    paced.pause(5.0)
    await paced.wait("chat")
    assert clock.now == 105.0


async def test_a_rate_under_one_per_second_spaces_single_sends() -> None:
    clock = Clock()
    times = await sends(pacer(0.5, clock), clock, 3)
    assert [round(b - a, 6) for a, b in zip(times, times[1:], strict=False)] == [2.0, 2.0]
