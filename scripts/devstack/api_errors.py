"""The Cloudflare API stand-in's error: an answer with the API's status and error code."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
