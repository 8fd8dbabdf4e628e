"""What OpenCode shows through the Worker is what it would build natively from the same
models.dev data: the catalog, the menu and OpenCode's own merge agree model by model."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import build_config
from devstack.stack import DevStack
from opencode_proxy.menu import CatalogRule
from toolkit import opencode_cli
from toolkit.worker_files import ROOT

OPENCODE = ROOT / "node_modules" / "opencode-linux-x64" / "bin" / "opencode"
# Fields OpenCode's config cannot carry: its config merge drops a tiered price.
NOT_CARRIED = {("cost", "experimentalOver200K")}
# What differs by construction: where requests go, and Zero Data Retention.
ROUTING = {"id", "providerID", "headers"}
EFFORTS = ["low", "medium", "high"]
# models.dev's reasoning options, in the shapes its entries use (the pinned CLI's own
# data has none for these providers): efforts (null is "none"), a toggle beside an
# effort, budgets with and without bounds, a toggle alone, and an empty list.
REASONING_OPTIONS: dict[str, list[dict[str, Any]]] = {
    "anthropic/claude-opus-4-7": [{"type": "effort", "values": [*EFFORTS, "xhigh", "max"]}],
    "anthropic/claude-sonnet-5": [
        {"type": "toggle"},
        {"type": "effort", "values": [*EFFORTS, "xhigh", "max"]},
    ],
    "anthropic/claude-haiku-4-5": [{"type": "budget_tokens", "min": 1024}],
    "anthropic/claude-opus-4-5": [
        {"type": "effort", "values": EFFORTS},
        {"type": "budget_tokens", "min": 1024},
    ],
    "anthropic/claude-sonnet-4-5": [{"type": "budget_tokens", "min": 1024, "max": 63999}],
    "openai/gpt-5": [{"type": "effort", "values": ["minimal", *EFFORTS]}],
    "openai/gpt-5.5": [{"type": "effort", "values": [None, *EFFORTS, "xhigh"]}],
    "openai/gpt-5-mini": [],
    "openai/o3": [{"type": "effort", "values": EFFORTS}],
    "google/gemini-2.5-pro": [{"type": "budget_tokens", "min": 128, "max": 32768}],
    "google/gemini-2.5-flash": [{"type": "toggle"}, {"type": "budget_tokens", "max": 24576}],
    "google/gemini-3.5-flash": [{"type": "effort", "values": ["minimal", *EFFORTS]}],
    "cloudflare-workers-ai/@cf/moonshotai/kimi-k2.6": [{"type": "effort", "values": EFFORTS}],
    "cloudflare-workers-ai/@cf/zai-org/glm-4.7-flash": [{"type": "effort", "values": EFFORTS}],
    "cloudflare-workers-ai/@cf/zai-org/glm-5.2": [{"type": "effort", "values": EFFORTS}],
    "cloudflare-workers-ai/@cf/openai/gpt-oss-20b": [],
    "cloudflare-workers-ai/@cf/zai-org/glm-5.3": [{"type": "toggle"}],
}
# What OpenCode shows for the models whose own guess differs from models.dev.
NOT_GUESSED = {
    "workers-ai/@cf/moonshotai/kimi-k2.6": set(EFFORTS),
    "workers-ai/@cf/zai-org/glm-4.7-flash": set(EFFORTS),
    "workers-ai/@cf/zai-org/glm-5.2": set(EFFORTS),
    "workers-ai/@cf/openai/gpt-oss-20b": set(),
}


def verbose_listing(text: str) -> dict[str, dict[str, Any]]:
    """`opencode models --verbose`: a `provider/model` line, then that model as JSON."""
    text, models, position = re.sub(r"\x1b\[[0-9;]*m", "", text), {}, 0
    decoder = json.JSONDecoder()
    while text[position:].strip():
        position += len(text[position:]) - len(text[position:].lstrip())
        end = text.index("\n", position)
        models[text[position:end].strip()], position = decoder.raw_decode(text, end + 1)
    return models


def opencode(home: Path, document: Path, *args: str, **env: str) -> str:
    """Run the CLI with its models.dev data taken from `document`; returns its stdout
    (written to a file: OpenCode cuts a long answer short on a pipe)."""
    home.mkdir(parents=True, exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    clean.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        OPENCODE_MODELS_PATH=str(document),
        **env,
    )
    out = home / "stdout.txt"
    with out.open("w") as stdout:
        done = subprocess.run(
            [str(OPENCODE), *args],
            cwd=home,
            env=clean,
            stdout=stdout,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=180,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    return out.read_text()


def comparable(model: dict[str, Any]) -> dict[str, Any]:
    model = {k: v for k, v in json.loads(json.dumps(model)).items() if k not in ROUTING}
    model.get("api", {}).pop("url", None)
    model.get("api", {}).pop("id", None)  # /compat names Workers AI models "workers-ai/<id>"
    model.get("options", {}).pop("store", None)
    for field, part in NOT_CARRIED:
        model.get(field, {}).pop(part, None)
    return model


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned OpenCode's own models.dev data for the providers config-src serves,
    with reasoning options added."""
    bundled = opencode_cli.bundled_models_dev()
    path = tmp_path_factory.mktemp("models-dev") / "api.json"
    sources = ("anthropic", "openai", "google", "cloudflare-workers-ai")
    document = {name: bundled[name] for name in sources}
    for key, options in REASONING_OPTIONS.items():
        provider, model = key.split("/", 1)
        document[provider]["models"][model]["reasoning_options"] = options
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory, document: Path) -> Iterator[DevStack]:
    with DevStack(tmp_path_factory.mktemp("replay"), models_dev_file=document) as running:
        yield running


def test_every_served_model_is_listed_as_opencode_builds_it_natively(
    replay: DevStack, document: Path, tmp_path: Path
) -> None:
    keys = {
        name: "x"
        for provider in json.loads(document.read_text()).values()
        for name in provider["env"]
    }
    native = verbose_listing(opencode(tmp_path / "native", document, "models", "--verbose", **keys))
    home = tmp_path / "through-the-worker"
    opencode(home, document, "auth", "login", replay.url)
    shown = verbose_listing(opencode(home, document, "models", "--verbose"))
    discovery = httpx.get(f"{replay.url}/.well-known/opencode").json()
    served = discovery["config"]["provider"]
    assert set(shown) == {
        f"{p}/{m}" for p, provider in served.items() for m in provider["whitelist"]
    }
    rules = {
        pid: CatalogRule.from_json(rule)
        for pid, rule in build_config.compile_config()["catalog"].items()
    }
    compared = 0
    for key in sorted(shown):
        provider_id, model_id = key.split("/", 1)
        rule = rules[provider_id]
        upstream = f"{rule.source}/{model_id.removeprefix(rule.prefix)}"
        ours = comparable(shown[key])
        theirs = comparable(native[upstream])
        for field in rule.pinned.get(model_id, {}):  # what config-src writes by hand
            ours.pop(field, None)
            theirs.pop(field, None)
        assert ours == theirs, key
        compared += 1
    assert compared > 90  # the whole menu, not a sample
    for key, names in NOT_GUESSED.items():
        assert set(shown[key]["variants"]) == names, key
