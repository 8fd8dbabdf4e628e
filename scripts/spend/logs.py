"""AI Gateway's logs as usage entries, through the pinned SDK (`cloudflare`).

Each log carries what the Worker sent as `cf-aig-metadata` (a JSON string:
`userId`, `group`, `client`, `session`), the model and provider, tokens in and out
and, where AI Gateway knows the model's price, the cost. Model names are
`provider/model` since 2026-09 and the bare model before; both read as
`provider/model`. A log without the Worker's metadata (a request that did not come
through it) is counted under `(none)`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cloudflare import Cloudflare

from opencode_proxy.bounded_json import TOKEN_DEPTH, loads

NONE = "(none)"
# The token permission reading logs needs.
GATEWAY_READ = "Account · AI Gateway · Read"
# Logs per page: the API's largest.
PER_PAGE = 50
# The Worker's metadata is at most 5 flat entries; anything longer is not its.
MAX_METADATA = 2048


@dataclass(frozen=True, slots=True)
class Entry:
    """One logged request, as the report counts it."""

    day: date
    user: str
    group: str
    client: str
    model: str
    requests: int = 1
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    unpriced: int = 0  # requests whose cost AI Gateway did not know


def model_name(model: str, provider: str) -> str:
    """`provider/model` whether the log used the old name (`gpt-5`) or the new
    (`openai/gpt-5`); /compat's models already name their provider."""
    if not provider or model.startswith(provider + "/") or provider == "compat":
        return model.removeprefix("compat/")
    return f"{provider}/{model}"


def _metadata(text: Any) -> dict[str, Any]:
    if not isinstance(text, str) or len(text) > MAX_METADATA:
        return {}
    try:
        value = loads(text, max_depth=TOKEN_DEPTH)
    except (ValueError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def entry(log: Any) -> Entry:
    """A log (the SDK's `LogListResponse`) as an entry."""
    metadata = _metadata(log.metadata)
    cost = log.cost if isinstance(log.cost, int | float) and log.cost >= 0 else None
    return Entry(
        day=log.created_at.astimezone(UTC).date(),
        user=str(metadata.get("userId") or NONE),
        group=str(metadata.get("group") or NONE),
        client=str(metadata.get("client") or NONE),
        model=model_name(str(log.model or ""), str(log.provider or "")),
        cached=1 if log.cached else 0,
        tokens_in=_count(log.tokens_in),
        tokens_out=_count(log.tokens_out),
        cost=float(cost or 0.0),
        unpriced=1 if cost is None and not log.cached else 0,
    )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1) - timedelta(microseconds=1)


def entries(client: Cloudflare, account_id: str, gateway_id: str, day: date) -> Iterator[Entry]:
    """Every logged request of one UTC day, page after page."""
    start, end = day_bounds(day)
    pages = client.ai_gateway.logs.list(
        gateway_id,
        account_id=account_id,
        start_date=start,
        end_date=end,
        order_by="created_at",
        order_by_direction="asc",
        per_page=PER_PAGE,
    )
    for log in pages:
        yield entry(log)
