"""The one way a request is refused: raise `Refusal`; the router renders and logs it.

A refusal carries what the client and the operator need: a status chosen for how
clients react to it, a stable `error_type`, a message a person can act on (never a
token or a secret), and optionally a `reason` refining the type and extra headers.
How it is written out (Anthropic's, OpenAI's, Google's or the Worker's own error
body) is the route's business, in dialects.py.
"""

from __future__ import annotations


class Refusal(Exception):
    """The request goes no further; the router answers it with this."""

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        *,
        reason: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.reason = reason
        self.headers = headers

    def with_hint(self, hint: str) -> Refusal:
        """The same refusal with advice appended to its message."""
        if not hint:
            return self
        message = f"{self.message} {hint}"
        return Refusal(
            self.status, self.error_type, message, reason=self.reason, headers=self.headers
        )


def config_error(problem: str) -> Refusal:
    """A missing or unusable setting; the message names it and the fix."""
    return Refusal(500, "config_error", problem)
