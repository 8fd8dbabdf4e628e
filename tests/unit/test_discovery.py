"""Rendering the discovery document for the origin a client used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from build_config import compile_config
from opencode_proxy.discovery import CompiledConfigError, Discovery


@pytest.fixture(scope="module")
def discovery() -> Discovery:
    return Discovery(compile_config())


def test_every_base_url_placeholder_becomes_the_origin(discovery: Discovery) -> None:
    rendered = discovery.render("https://ai.example.com").decode()
    assert "{baseURL}" not in rendered
    document = json.loads(rendered)
    assert document["auth"]["command"][-1] == "-app=https://ai.example.com"
    providers = document["config"]["provider"]
    assert providers["anthropic"]["options"]["baseURL"] == "https://ai.example.com/anthropic/v1"
    assert providers["google"]["options"]["baseURL"] == (
        "https://ai.example.com/google-ai-studio/v1beta"
    )


def test_opencode_placeholders_are_left_for_opencode(discovery: Discovery) -> None:
    document = json.loads(discovery.render("http://127.0.0.1:8787"))
    headers = document["config"]["provider"]["openai"]["options"]["headers"]
    assert headers == {"cf-access-token": "{env:CF_ACCESS_TOKEN}"}


def test_an_origin_cannot_break_out_of_the_json_string(discovery: Discovery) -> None:
    hostile = 'https://x.example"},"evil":{"a":"\\'
    document = json.loads(discovery.render(hostile))
    assert "evil" not in document
    assert document["auth"]["command"][-1] == f"-app={hostile}"


def test_rendered_documents_are_cached_per_origin_and_bounded(discovery: Discovery) -> None:
    first = discovery.render("https://a.example")
    assert discovery.render("https://a.example") is first
    for n in range(100):
        discovery.render(f"https://host{n}.example")
    assert len(discovery._rendered) <= Discovery._CACHE_SIZE


def test_summary_counts_providers_and_models(discovery: Discovery) -> None:
    assert discovery.summary() == {"providers": 4, "models": 9}


def test_missing_compiled_file_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(CompiledConfigError, match=r"run `python scripts/build\.py`"):
        Discovery.from_file(tmp_path / "opencode.json")


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"auth": {}}'])
def test_unusable_compiled_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "opencode.json"
    path.write_text(content)
    with pytest.raises(CompiledConfigError):
        Discovery.from_file(path)
