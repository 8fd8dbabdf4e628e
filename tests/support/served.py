"""Requests the shipped config-src serves, per proxy route: what the menu lets through."""

from __future__ import annotations

import json


def body(model: str, **fields: object) -> bytes:
    return json.dumps({"model": model, **fields}).encode()


ANTHROPIC = body("claude-sonnet-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}])
OPENAI = body("gpt-5", input="hi")
COMPAT = body("workers-ai/@cf/openai/gpt-oss-120b", messages=[{"role": "user", "content": "hi"}])
GEMINI_PATH = "/v1beta/models/gemini-2.5-pro:streamGenerateContent"
