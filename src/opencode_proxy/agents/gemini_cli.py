"""Gemini CLI (0.61) on /google-ai-studio, Gemini's native API.

It reads its key from `GEMINI_API_KEY` (sent as `x-goog-api-key`, which the Worker
takes as the Access token) and its base URL from `GOOGLE_GEMINI_BASE_URL`. The
launcher's settings go in Gemini CLI's system settings file
(`GEMINI_CLI_SYSTEM_SETTINGS_PATH`), which it lays over the person's own: the API
key sign-in, the caller's model (a model named there turns its routing off, which
would otherwise ask a classifier and preview models off the menu), its helper
aliases (classifier, summaries, loop checks, compression, web tools) pointed at the
caller's small model, and model definitions and resolutions that make its /model
picker list the caller's Google models, none of its own, and keep each id as served.
Usage statistics and update checks are off: nothing but the model API goes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencode_proxy.clients import served_on
from opencode_proxy.launcher import Launched, LaunchedAgent, main_and_small

ROUTE = "google-ai-studio"
# Gemini CLI 0.61's own model definitions (DEFAULT_MODEL_CONFIGS.modelDefinitions),
# which its /model picker lists; each is hidden, and the caller's models are listed.
OWN_MODELS = (
    "gemini-3.1-flash-lite",
    "gemini-3.5-flash-lite",
    "gemini-3.1-pro-preview",
    "gemini-3.1-pro-preview-customtools",
    "gemini-3-pro-preview",
    "gemini-3-flash-preview",
    "gemini-3.5-flash",
    "gemini-3.8-flash",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemma-4-31b-it",
    "gemma-4-26b-a4b-it",
    "auto",
    "pro",
    "flash",
    "flash-lite",
    "auto-gemini-3",
    "auto-gemini-2.5",
)
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
    served = served_on(config, ROUTE)
    models = main_and_small(config, ROUTE)
    # The picker lists model definitions only with this on (0.61: "experimental").
    settings["experimental"] = {"dynamicModelConfiguration": True}
    definitions: dict[str, Any] = {
        model: {"tier": "custom", "family": "custom", "isVisible": False, "features": {}}
        for model in OWN_MODELS
    }
    for model, entry in served.items():
        definitions[model] = {
            "tier": "custom",
            "family": "custom",
            "isPreview": False,
            "isVisible": True,
            "displayName": str(entry.get("name") or model),
            "features": {"thinking": bool(entry.get("reasoning"))},
        }
    settings["modelConfigs"] = {
        "modelDefinitions": definitions,
        # Each served id as itself: Gemini CLI would otherwise trade some for their
        # newer or preview siblings (gemini-2.5-flash for its latest flash), off the menu.
        # Settings merge into its defaults key by key: `contexts` must be emptied too.
        "modelIdResolutions": {model: {"default": model, "contexts": []} for model in served},
    }
    if models is not None:
        main, small = models
        settings["model"] = {"name": main}
        settings["modelConfigs"]["customAliases"] = {
            alias: {"extends": "base", "modelConfig": {"model": small}} for alias in HELPER_ALIASES
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
