"""Refusals written in the language of the client that gets them.

A provider route answers in its provider's own error body, so an SDK or a coding
agent parses it and shows the message instead of a decoding error. The Worker's
own routes answer `{"error": {"type", "message", "reason"?}}`. Every refusal also
carries `x-proxy-error: <type>`, one stable name whatever the body's dialect.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from .http import Response, json_response
from .refusal import Refusal

ERROR_HEADER = "x-proxy-error"


class Dialect(Enum):
    WORKER = "worker"
    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    GOOGLE = "google"


# Anthropic's error types (docs: "Errors"), by status.
_ANTHROPIC_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
}
# OpenAI's error types, by status; `code` carries the proxy's own type.
_OPENAI_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
}
# google.rpc.Code names, by HTTP status.
_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
}


def _anthropic(refusal: Refusal) -> dict[str, Any]:
    default = "api_error" if refusal.status >= 500 else "invalid_request_error"
    kind = _ANTHROPIC_TYPES.get(refusal.status, default)
    return {"type": "error", "error": {"type": kind, "message": refusal.message}}


def _openai(refusal: Refusal) -> dict[str, Any]:
    default = "server_error" if refusal.status >= 500 else "invalid_request_error"
    kind = _OPENAI_TYPES.get(refusal.status, default)
    error = {"message": refusal.message, "type": kind, "param": None, "code": refusal.error_type}
    return {"error": error}


def _google(refusal: Refusal) -> dict[str, Any]:
    status = _GOOGLE_STATUS.get(refusal.status, "FAILED_PRECONDITION")
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": refusal.error_type,
        "domain": "opencode-proxy",
    }
    error = {"code": refusal.status, "message": refusal.message, "status": status}
    return {"error": {**error, "details": [info]}}


def _worker(refusal: Refusal) -> dict[str, Any]:
    error = {"type": refusal.error_type, "message": refusal.message}
    if refusal.reason is not None:
        error["reason"] = refusal.reason
    return {"error": error}


_BODIES = {
    Dialect.WORKER: _worker,
    Dialect.ANTHROPIC: _anthropic,
    Dialect.OPENAI: _openai,
    Dialect.GOOGLE: _google,
}


def render(refusal: Refusal, dialect: Dialect) -> Response:
    """The refusal as the client on this route expects an error to look."""
    headers = ((ERROR_HEADER, refusal.error_type), *refusal.headers)
    return json_response(refusal.status, _BODIES[dialect](refusal), headers=headers)
