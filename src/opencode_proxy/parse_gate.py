"""How many bytes of large bodies the isolate parses at once.

Parsing a body for its model holds, for a moment, its text and every value in it
beside the bytes (up to about 7 times an agent's body in all, benchmarks/README.md),
in an isolate of 128 MB that every request in it shares. Requests past the budget
wait for the parses ahead of them (each takes well under a tenth of a second), so a
few large bodies at once queue instead of exhausting the isolate and cutting
everyone's streams; small bodies never wait.

A waiting request polls its own timer rather than awaiting a future another request
resolves: the runtime cancels a continuation resumed from another request's context.
And a request the runtime cancels midway may never give its share back, so a wait
ends after `patience` seconds whatever is held: the budget bounds memory in the
common case and can never stop requests for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ParseGate:
    def __init__(self, budget: int, *, patience: float = 5.0, poll: float = 0.005) -> None:
        self.budget = budget
        self._held = 0
        self._poll = poll
        # Counted in polls: the clocks a Worker reads move only across I/O.
        self._polls = max(1, round(patience / poll))

    @asynccontextmanager
    async def holding(self, size: int) -> AsyncIterator[None]:
        """Hold `size` bytes of the budget while the block runs (a body over the whole
        budget waits until nothing else is held)."""
        for _ in range(self._polls):
            if not self._held or self._held + size <= self.budget:
                break
            await asyncio.sleep(self._poll)
        self._held += size
        try:
            yield
        finally:
            self._held -= size
