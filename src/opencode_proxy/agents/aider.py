"""aider (0.86) on /openai/v1, through litellm's OpenAI provider.

It reads its key and base URL from `OPENAI_API_KEY` and `OPENAI_API_BASE`, and every
option from an `AIDER_*` variable, so the launcher needs no file: the caller's model,
and its weak (commit messages, summaries) and editor models, which aider would
otherwise pick itself (`gpt-5-nano` for `gpt-5`, off most menus). aider has no model
picker of its own beyond these. Update checks, analytics, model warnings (it does
not know every served id) and litellm's price download at import are off. aider
itself still fetches litellm's price list from GitHub once a day (no setting stops
it; offline it prints the failure and goes on).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencode_proxy.launcher import Launched, LaunchedAgent, main_and_small

ROUTE = "openai"


def launched(config: Mapping[str, Any], origin: str) -> Launched:
    environment = {
        "OPENAI_API_BASE": f"{origin}/{ROUTE}/v1",
        "AIDER_CHECK_UPDATE": "false",
        "AIDER_ANALYTICS": "false",
        "AIDER_SHOW_MODEL_WARNINGS": "false",
        "AIDER_SHOW_RELEASE_NOTES": "false",
        # litellm otherwise downloads its price list from GitHub when imported.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    models = main_and_small(config, ROUTE)
    if models is not None:
        main, small = models
        environment |= {
            "AIDER_MODEL": f"openai/{main}",
            "AIDER_WEAK_MODEL": f"openai/{small}",
            "AIDER_EDITOR_MODEL": f"openai/{main}",
        }
    return Launched(environment=environment)


AGENT = LaunchedAgent(
    name="aider",
    title="aider",
    program="aider",
    route=ROUTE,
    token_variables=("OPENAI_API_KEY",),
    headless='{launcher} --yes-always --message "your prompt"',
    user_agent=None,  # litellm sends the OpenAI SDK's: counted as "sdk"
    launched=launched,
)
