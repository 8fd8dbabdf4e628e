"""Qwen Code (0.15) on /openai/v1 (OpenAI's chat completions) and /workers-ai/v1.

It reads its key from `OPENAI_API_KEY` and its base URL and model from
`OPENAI_BASE_URL` and `OPENAI_MODEL`. The launcher's settings go in Qwen Code's
system settings file (`QWEN_CODE_SYSTEM_SETTINGS_PATH`), laid over the person's own:
the OpenAI sign-in, the caller's model, and `modelProviders.openai`, which is what
its /model picker offers: the caller's OpenAI and Workers AI models, each with its
base URL, the key read from the same variable. Usage statistics and update checks
are off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencode_proxy.clients import served_on
from opencode_proxy.launcher import Launched, LaunchedAgent, main_and_small

ROUTE = "openai"
# Routes that speak OpenAI's chat completions at `/v1`, and what the picker adds.
CHAT_ROUTES = (("openai", ""), ("workers-ai", " (Workers AI)"))
KEY = "OPENAI_API_KEY"


def launched(config: Mapping[str, Any], origin: str) -> Launched:
    pickable = [
        {
            "id": model,
            "name": str(entry.get("name") or model) + suffix,
            "baseUrl": f"{origin}/{route}/v1",
            "envKey": KEY,
        }
        for route, suffix in CHAT_ROUTES
        for model, entry in served_on(config, route).items()
    ]
    settings: dict[str, Any] = {
        "security": {"auth": {"selectedType": "openai"}},
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"enableAutoUpdate": False},
        "modelProviders": {"openai": pickable},
    }
    environment = {"OPENAI_BASE_URL": f"{origin}/{ROUTE}/v1"}
    models = main_and_small(config, ROUTE)
    if models is not None:
        settings["model"] = {"name": models[0]}
        environment["OPENAI_MODEL"] = models[0]
    return Launched(
        environment=environment,
        settings_variable="QWEN_CODE_SYSTEM_SETTINGS_PATH",
        settings=settings,
    )


AGENT = LaunchedAgent(
    name="qwen-code",
    title="Qwen Code",
    program="qwen",
    route=ROUTE,
    token_variables=(KEY,),
    headless='{launcher} -p "your prompt"',
    user_agent="qwencode",
    launched=launched,
)
