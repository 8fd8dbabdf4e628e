"""The hand-written models.dev-shaped fixture and the OpenCode entries it must become."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models_dev.json"
DOCUMENT: dict[str, Any] = json.loads(FIXTURE.read_text())

EXPECTED_OPENAI = {
    "gpt-4.1-mini": {
        "name": "GPT-4.1 mini",
        "limit": {"context": 1047576, "output": 32768},
        "modalities": {"input": ["text", "image"], "output": ["text"]},
        "reasoning": False,
        "tool_call": True,
        "attachment": True,
        "temperature": True,
        "release_date": "2025-04-14",
        "options": {"store": False},
    },
    "gpt-5": {
        "name": "GPT-5",
        "limit": {"context": 400000, "output": 128000, "input": 272000},
        "family": "gpt-5",
        "cost": {"input": 1.25, "output": 10, "cache_read": 0.125},
        "modalities": {"input": ["text", "image"], "output": ["text"]},
        "reasoning": True,
        "tool_call": True,
        "attachment": True,
        "temperature": False,
        "release_date": "2025-08-07",
        "options": {"store": False},
    },
    "gpt-5.1-codex": {
        "name": "GPT-5.1 Codex",
        "limit": {"context": 400000, "output": 128000},
        "family": "gpt-5-codex",
        "cost": {"input": 1.25, "output": 10, "cache_read": 0.125},
        "modalities": {"input": ["text"], "output": ["text"]},
        "reasoning": True,
        "tool_call": True,
        "attachment": False,
        "temperature": False,
        "release_date": "2025-11-13",
        "options": {"store": False},
    },
    "o3-mini": {
        "name": "o3-mini",
        "limit": {"context": 200000, "output": 100000},
        "cost": {"input": 1.1, "output": 4.4, "cache_read": 0.55},
        "modalities": {"input": ["text"], "output": ["text"]},
        "reasoning": True,
        "tool_call": True,
        "attachment": False,
        "temperature": False,
        "release_date": "2025-01-31",
        "options": {"store": False},
    },
}
