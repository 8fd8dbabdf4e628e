"""A per-person brake: at most `limit` provider requests per `period` seconds from one
anonymous id, counted by the Workers Rate Limiting binding (approximate, per
location). A runaway agent loop then stops at the Worker, in the provider's own
429, before it reaches the gateway or the bill."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .identity import Identity
from .ports import RateLimit
from .refusal import Refusal

# The [[ratelimits]] binding the brake counts with (see wrangler.toml).
BINDING = "USER_LIMIT"


@dataclass(frozen=True, slots=True)
class Brake:
    rate_limit: RateLimit
    limit: int
    period: int

    @classmethod
    def of(cls, rate_limit: RateLimit, compiled: Mapping[str, Any]) -> Brake:
        """The brake wrangler.toml's binding sets (copied into the compiled config)."""
        return cls(rate_limit, int(compiled["limit"]), int(compiled["period"]))

    async def check(self, identity: Identity) -> None:
        """Raise 429 (with retry-after) once the caller is over the limit."""
        try:
            admitted = await self.rate_limit(identity.user_id)
        except OSError:
            raise Refusal(
                503,
                "rate_limit_unavailable",
                "The per-person request limit cannot be checked right now; try again shortly.",
                headers=(("retry-after", "10"),),
            ) from None
        if not admitted:
            raise Refusal(
                429,
                "rate_limited",
                f"You sent more than {self.limit} requests in {self.period} seconds, this "
                f"organisation's limit per person; wait {self.period} seconds and try again.",
                headers=(("retry-after", str(self.period)),),
            )
