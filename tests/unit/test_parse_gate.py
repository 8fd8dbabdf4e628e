"""Large bodies queue for the parser instead of adding up in the isolate: within the
budget they run together, past it they wait their turn, and every one gets one."""

from __future__ import annotations

import asyncio
import contextlib

from opencode_proxy.parse_gate import ParseGate


async def parse_all(gate: ParseGate, sizes: list[int]) -> tuple[int, list[int]]:
    held, peak, order = 0, 0, []

    async def parse(n: int, size: int) -> None:
        nonlocal held, peak
        async with gate.holding(size):
            held += size
            peak = max(peak, held)
            await asyncio.sleep(0.01)
            order.append(n)
            held -= size

    await asyncio.gather(*(parse(n, size) for n, size in enumerate(sizes)))
    return peak, order


def test_bodies_within_the_budget_are_parsed_together() -> None:
    peak, order = asyncio.run(parse_all(ParseGate(100), [40, 40, 20]))
    assert peak == 100
    assert sorted(order) == [0, 1, 2]


def test_bodies_past_the_budget_wait_and_all_are_parsed() -> None:
    peak, order = asyncio.run(parse_all(ParseGate(100), [80, 80, 80, 80, 10]))
    assert peak <= 100
    assert sorted(order) == [0, 1, 2, 3, 4]


def test_a_body_larger_than_the_budget_runs_alone_and_is_not_refused() -> None:
    peak, order = asyncio.run(parse_all(ParseGate(100), [150, 30, 30]))
    assert peak == 150  # alone: nothing else held beside it
    assert sorted(order) == [0, 1, 2]


def test_a_share_never_given_back_delays_others_only_for_the_patience() -> None:
    gate = ParseGate(100, patience=0.05, poll=0.01)

    async def run() -> list[int]:
        stuck = gate.holding(100)
        await stuck.__aenter__()  # a request the runtime cancelled midway
        return (await parse_all(gate, [100, 10]))[1]

    assert sorted(asyncio.run(run())) == [0, 1]


def test_a_failed_parse_gives_its_share_back() -> None:
    gate = ParseGate(100)

    async def failing() -> None:
        async with gate.holding(100):
            raise ValueError("not JSON")

    async def run() -> list[int]:
        with contextlib.suppress(ValueError):
            await failing()
        return (await parse_all(gate, [100]))[1]

    assert asyncio.run(run()) == [0]
