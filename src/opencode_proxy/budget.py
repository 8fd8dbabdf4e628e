"""AI Gateway's own refusals (a spend cap used up, a policy's block), told apart from a
provider's answer and said in the client's terms.

AI Gateway refuses before any provider (AI Gateway docs, "Policies" and "Spend
limits"): over a cap with 429 `{"success": false, "error": {"message": "Spending
limit exceeded", "bucket", "spent", "limit"}}`, and for a blocking policy (or none
matching) with 403 `{"success": false, "error": {"message": "Access denied by
policy"}}`. Passed through, neither is in any client's dialect: an SDK shows a
decoding error, and a coding agent retries the 429 like a rate limit (Codex 0.169 for
seconds, then shows only "exceeded retry limit, last status: 429"). So each becomes a
refusal on the route with 400, as Anthropic answers an exhausted credit balance:
every client shows a 400's message at once, and neither answer changes on a retry.
`x-should-retry: false` says the same to the Anthropic and OpenAI SDKs.

A cap is named, and its reset given (in the message and as `retry-after`), when the
reported limit is the amount of the caller's caps of one period (config-src's
budgets, caps.py); a limit set by hand in the dashboard gets the amounts only. A
provider's own 429 or 403 passes untouched.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from .bounded_json import TOKEN_DEPTH, loads
from .caps import Cap, next_reset, reached
from .refusal import Refusal
from .safe_text import usable_text

# The gateway's refusals are a few hundred bytes; larger answers are the provider's.
MAX_ERROR_BODY = 4096
STATUSES = frozenset({403, 429})
REFUSED = 400
_OVER_CAP = (429, "spending limit exceeded")
_BLOCKED = (403, "access denied by policy")
_NO_RETRY = ("x-should-retry", "false")


def _amount(value: Any) -> float | None:
    """Dollars as the gateway reports them; None for anything that is not a finite number
    (its JSON could say NaN or Infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _error(status: int, error: bytes | None) -> dict[str, Any] | None:
    """The gateway's `error` object, when `error` is one of its own refusals."""
    if status not in STATUSES or error is None or len(error) > MAX_ERROR_BODY:
        return None
    try:
        document = loads(error, max_depth=TOKEN_DEPTH)
    except ValueError:
        return None
    inner = document.get("error") if isinstance(document, dict) else None
    message = inner.get("message") if isinstance(inner, dict) else None
    if not isinstance(message, str) or (status, message.strip().lower()) not in (
        _OVER_CAP,
        _BLOCKED,
    ):
        return None
    assert isinstance(inner, dict)
    return inner


def _over_cap(inner: dict[str, Any], caps: tuple[Cap, ...], now: datetime) -> Refusal:
    spent, limit = _amount(inner.get("spent")), _amount(inner.get("limit"))
    mine = reached(caps, limit) if limit is not None else ()
    periods = {cap.period for cap in mine}
    if len(mine) == 1:
        which = f"your cap of {mine[0].describe()}"
    else:
        bucket = usable_text(inner.get("bucket"))
        which = f"your AI budget ({bucket})" if bucket else "your AI budget"
    amounts = f": ${spent:,.2f} spent of ${limit:,.2f}" if spent is not None and limit else ""
    headers = [_NO_RETRY]
    if len(periods) == 1:
        reset = next_reset(periods.pop(), now)
        when = f"It resets at {reset:%Y-%m-%d %H:%M} UTC"
        headers.append(("retry-after", str(math.ceil((reset - now).total_seconds()))))
    else:
        when = "Requests are refused until its window resets"
    return Refusal(
        REFUSED,
        "budget_exceeded",
        f"{which[0].upper()}{which[1:]} is used up{amounts}. {when}; ask the people who "
        "run this service if you need more.",
        headers=tuple(headers),
    )


def gateway_refusal(
    status: int,
    error: bytes | None,
    *,
    caps: tuple[Cap, ...] = (),
    now: datetime | None = None,
) -> Refusal | None:
    """The refusal to answer for AI Gateway's own 429 (over a cap; `caps` are the
    caller's) or 403 (a policy's block), or None for any other answer."""
    inner = _error(status, error)
    if inner is None:
        return None
    if status == _OVER_CAP[0]:
        return _over_cap(inner, caps, now or datetime.now(UTC))
    return Refusal(
        REFUSED,
        "policy_denied",
        "AI Gateway's policies refuse this request (a block on this model, or on you). "
        "Choose another model from your menu, or ask the people who run this service.",
        headers=(_NO_RETRY,),
    )
