"""A config-src with groups, as the group tests use it at every level.

- `pilot`: members of the Access group "ai-pilot" also get the catalog's gpt-5.1
  models, which the default menu hides;
- `contractors`: anyone at contractor.example.com gets only Claude Haiku and
  gpt-4.1-mini (also off the default menu), instead of the default menu.

Budgets: everyone $50 a day and $500 a month, each group $5,000 a month; contractors
$10 a day each (below the default), pilots $200 a day each and $2,000 a month as a
group (above and below the default).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import build_config

ROOT = Path(__file__).resolve().parents[2]
PILOT_GROUP = "ai-pilot"
PILOT_MODEL = "gpt-5.1-codex"  # a catalog model of tests/fixtures/models_dev.json
PILOT = "pilot@example.com"
CONTRACTOR = "dev@contractor.example.com"
CONTRACTOR_MODEL = "gpt-4.1-mini"  # a catalog model of the fixture, off the default menu
CONTRACTOR_MODELS = {"anthropic": ["claude-haiku-4-5"], "openai": [CONTRACTOR_MODEL]}
EVERYONE = "someone@example.com"
BUDGETS = """
per_person = { daily = 50, monthly = 500 }
per_group = { monthly = 5000 }
"""

GROUPS = {
    "pilot.toml": f"""
access_groups = ["{PILOT_GROUP}"]

[budget]
per_person = {{ daily = 200 }}
per_group = {{ monthly = 2000 }}

[providers.openai]
serve = ["gpt-5.1*"]
""",
    "contractors.toml": """
email_domains = ["contractor.example.com"]
replace_default = true

[budget]
per_person = { daily = 10 }

[providers.anthropic]
serve = ["claude-haiku-*"]

[providers.openai]
serve = ["gpt-4.1-mini"]
""",
}


def write_config_src(target: Path) -> Path:
    """The shipped config-src with the groups and budgets above, and the gpt-5.1 and
    gpt-4.1 models off the default menu."""
    shutil.copytree(ROOT / "config-src", target)
    openai = target / "providers" / "openai.toml"
    text = openai.read_text()
    # Top-level keys go before the first [table], or they would belong to it.
    head, table, rest = text.partition("\n[")
    openai.write_text(f'{head}\nhide = ["gpt-5.1*", "gpt-4.1*"]\n{table}{rest}')
    (target / "groups").mkdir()
    for name, body in GROUPS.items():
        (target / "groups" / name).write_text(body)
    (target / "budgets.toml").write_text(BUDGETS)
    return target


def compiled(target: Path, wrangler: dict[str, Any] | None = None) -> dict[str, Any]:
    """The compiled config of that config-src (with `wrangler`'s brake, when given)."""
    return build_config.compile_config(write_config_src(target), wrangler=wrangler)
