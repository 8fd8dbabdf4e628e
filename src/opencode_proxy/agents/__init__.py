"""The agents set up through a launcher, one module each, registered here."""

from __future__ import annotations

from . import aider, gemini_cli, qwen_code

LAUNCHED = (gemini_cli.AGENT, qwen_code.AGENT, aider.AGENT)
