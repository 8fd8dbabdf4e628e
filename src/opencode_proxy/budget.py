"""A tripped AI Gateway spend limit, told apart from a provider's own 429.

Over a spend limit AI Gateway blocks the request itself, before the provider, with
429 and `{"error": {"message": "Spending limit exceeded", "bucket", "spent",
"limit"}}` (AI Gateway docs, "Spend limits": "blocks further requests with a 429
response until the window resets"; the body as measured on 2026-12-01). Passed
through, that body is in no client's dialect: an SDK shows a decoding error and a
coding agent retries it like a rate limit (Codex 0.169 for seconds, then shows only
"exceeded retry limit, last status: 429"). So it is answered as a refusal on the
route, saying which cap was reached, what was spent and what to do, with 400, as
Anthropic answers an exhausted credit balance: every client shows a 400's message
at once, and the window (a day, a month) outlasts any retry. `x-should-retry:
false` says the same to the Anthropic and OpenAI SDKs. A provider's own 429 passes
untouched.
"""

from __future__ import annotations

from typing import Any

from .bounded_json import TOKEN_DEPTH, loads
from .refusal import Refusal
from .safe_text import usable_text

# A spend-limit answer is a few hundred bytes; larger 429s are the provider's.
MAX_ERROR_BODY = 4096
STATUS = 429
REFUSED = 400
_MESSAGE = "spending limit exceeded"


def _amount(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return f"${value:,.2f}"


def tripped(status: int, error: bytes | None) -> Refusal | None:
    """The refusal to answer for AI Gateway's spend-limit answer, or None for any other."""
    if status != STATUS or error is None or len(error) > MAX_ERROR_BODY:
        return None
    try:
        document = loads(error, max_depth=TOKEN_DEPTH)
    except ValueError:
        return None
    inner = document.get("error") if isinstance(document, dict) else None
    message = inner.get("message") if isinstance(inner, dict) else None
    if not isinstance(message, str) or message.strip().lower() != _MESSAGE:
        return None
    assert isinstance(inner, dict)
    bucket = usable_text(inner.get("bucket"))
    spent, limit = _amount(inner.get("spent")), _amount(inner.get("limit"))
    cap = f" ({bucket})" if bucket else ""
    amounts = f": {spent} spent of {limit}" if spent and limit else ""
    return Refusal(
        REFUSED,
        "budget_exceeded",
        f"Your AI budget{cap} is used up{amounts}. Requests are refused until its window "
        "resets; ask the people who run this service if you need more.",
        headers=(("x-should-retry", "false"),),
    )
