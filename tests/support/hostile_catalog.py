"""A models.dev document with every kind of text no place can take as it is: lone
surrogates, control and format characters, quotes and shell syntax, over-long ids.
Written as JSON text with the escapes left in, as models.dev would send it."""

from __future__ import annotations

import json
from typing import Any

from support.models_dev_fixture import DOCUMENT

# Ids no place can take as they are; written as JSON escapes, as models.dev would send.
HOSTILE_IDS = (
    "gpt-5\\ud800",
    "gpt-5\\u007f",
    "gpt-5\\u0000",
    "gpt-5\\n[x]",
    'gpt-5\\"',
    "gpt-$(id)",
    "gpt-`id`",
    "gpt-5;id",
    "gpt 5",
    "-rf",
    "g" * 129,
)
HOSTILE_NAMES = ("GPT\\ud800", "GPT\\u202e evil", "GPT\\u0007", "N" * 201)


def chat(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "tool_call": True,
        "modalities": {"input": ["text"], "output": ["text"]},
        "limit": {"context": 100_000, "output": 8_000},
    }


def models_dev_text(*, extra: int = 0) -> str:
    """The fixture's models.dev document, its OpenAI models joined by hostile ids and
    names (and `extra` more ordinary ones), as JSON text with escapes left in."""
    document = json.loads(json.dumps(DOCUMENT))
    models = document["openai"]["models"]
    for n in range(len(HOSTILE_IDS)):
        models[f"@@id{n}@@"] = chat("hostile id")
    for n in range(len(HOSTILE_NAMES)):
        models[f"gpt-named-{n}"] = chat(f"@@name{n}@@")
    models["gpt-quoted"] = chat('"; rm -rf / $(id) <script>')
    for n in range(extra):
        models[f"gpt-bulk-{n}"] = chat(f"Bulk {n}")
    text = json.dumps(document)
    for n, model_id in enumerate(HOSTILE_IDS):
        text = text.replace(f"@@id{n}@@", model_id)
    for n, name in enumerate(HOSTILE_NAMES):
        text = text.replace(f"@@name{n}@@", name)
    return text
