"""Gemini CLI (0.61) on /google-ai-studio, Gemini's native API.

It reads its key from `GEMINI_API_KEY` (sent as `x-goog-api-key`, which the Worker
takes as the Access token) and its base URL from `GOOGLE_GEMINI_BASE_URL`. The
launcher's settings go in Gemini CLI's system settings file
(`GEMINI_CLI_SYSTEM_SETTINGS_PATH`), which it lays over the person's own: the API
key sign-in, the caller's model (a model named there turns its routing off, which
would otherwise ask a classifier and preview models off the menu), and its helper
aliases (classifier, summaries, loop checks, compression, web tools) pointed at the
caller's small model. Usage statistics and update checks are off: nothing but the
model API goes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencode_proxy.clients import models_on
from opencode_proxy.launcher import Launched, LaunchedAgent, main_and_small

ROUTE = "google-ai-studio"
# Gemini CLI 0.61's helper aliases (its DEFAULT_MODEL_CONFIGS), each of which names a
# model of its own; redefined to run on the caller's small model.
HELPER_ALIASES = (
    "classifier",
    "prompt-completion",
    "fast-ack-helper",
    "edit-corrector",
    "summarizer-default",
    "summarizer-shell",
    "web-search",
    "web-fetch",
    "web-fetch-fallback",
    "loop-detection",
    "loop-detection-double-check",
    "llm-edit-fixer",
    "next-speaker-checker",
    "context-snapshotter",
    "chat-compression-default",
    "agent-history-provider-summarizer",
)


def launched(config: Mapping[str, Any], origin: str) -> Launched:
    settings: dict[str, Any] = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    }
    models = main_and_small(models_on(config, ROUTE))
    if models is not None:
        main, small = models
        settings["model"] = {"name": main}
        settings["modelConfigs"] = {
            "customAliases": {
                alias: {"extends": "base", "modelConfig": {"model": small}}
                for alias in HELPER_ALIASES
            }
        }
    return Launched(
        environment={"GOOGLE_GEMINI_BASE_URL": f"{origin}/{ROUTE}"},
        settings_variable="GEMINI_CLI_SYSTEM_SETTINGS_PATH",
        settings=settings,
    )


AGENT = LaunchedAgent(
    name="gemini-cli",
    title="Gemini CLI",
    program="gemini",
    route=ROUTE,
    token_variables=("GEMINI_API_KEY",),
    headless='GEMINI_CLI_TRUST_WORKSPACE=true {launcher} -p "your prompt"',
    user_agent="geminicli",
    launched=launched,
)
