"""The config build: config-src/ in, the discovery document out, or a precise error."""

from __future__ import annotations

from pathlib import Path

import pytest

import build_config
from build_config import BuildError, compile_config
from opencode_proxy.models_dev import model_entry
from toolkit import opencode_cli

PREFIXES = (
    "{baseURL}/anthropic",
    "{baseURL}/openai/v1",
    "{baseURL}/google-ai-studio",
    "{baseURL}/workers-ai/v1",
)


def problems_for(src: Path) -> list[str]:
    with pytest.raises(BuildError) as info:
        compile_config(src)
    return info.value.problems


def test_shipped_example_compiles_into_a_complete_document() -> None:
    document = compile_config()
    assert document["auth"] == {
        "command": ["cloudflared", "access", "login", "--no-verbose", "-app={baseURL}"],
        "env": "CF_ACCESS_TOKEN",
    }
    config = document["config"]
    assert set(config["provider"]) == {"anthropic", "openai", "google", "workers-ai"}
    base_urls = sorted(p["options"]["baseURL"] for p in config["provider"].values())
    assert all(url.startswith(PREFIXES) for url in base_urls)
    assert config["mcp"]["cloudflare-docs"]["type"] == "remote"
    assert config["agent"]["reviewer"]["mode"] == "subagent"
    assert config["command"]["review"]["agent"] == "reviewer"
    assert config["permission"]["bash"]["rm -rf *"] == "deny"
    assert config["small_model"] == "anthropic/claude-haiku-4-5"


def test_every_provider_sends_the_access_token_and_no_key() -> None:
    for provider in compile_config()["config"]["provider"].values():
        options = provider["options"]
        assert options["apiKey"] == ""
        assert options["headers"] == {"cf-access-token": "{env:CF_ACCESS_TOKEN}"}


def test_openai_models_are_forced_to_store_nothing() -> None:
    providers = compile_config()["config"]["provider"]
    assert providers["openai"]["models"]
    for model in providers["openai"]["models"].values():
        assert model["options"]["store"] is False
    # Other models carry what models.dev's entries carry as catalog entries, nothing else.
    assert providers["anthropic"]["models"]["claude-sonnet-5"]["options"] == {"store": False}


def test_a_pinned_model_takes_its_fields_from_models_dev_and_only_overrides_by_hand(
    config_src: Path,
) -> None:
    upstream = opencode_cli.bundled_models_dev()["anthropic"]["models"]["claude-sonnet-5"]
    sonnet = compile_config()["config"]["provider"]["anthropic"]["models"]["claude-sonnet-5"]
    assert sonnet == model_entry("claude-sonnet-5", upstream, npm="@ai-sdk/anthropic")
    anthropic = config_src / "providers" / "anthropic.toml"
    anthropic.write_text(
        anthropic.read_text().replace(
            "[models.claude-sonnet-5]\n",
            '[models.claude-sonnet-5]\nname = "Sonnet"\nlimit = { context = 500000 }\n',
        )
    )
    ours = compile_config(config_src)["config"]["provider"]["anthropic"]["models"]
    assert ours["claude-sonnet-5"]["name"] == "Sonnet"
    assert ours["claude-sonnet-5"]["limit"] == {**sonnet["limit"], "context": 500000}
    assert ours["claude-sonnet-5"]["cost"] == sonnet["cost"]


def test_a_pinned_id_models_dev_does_not_know_is_served_as_written_with_a_warning(
    config_src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anthropic = config_src / "providers" / "anthropic.toml"
    anthropic.write_text(
        anthropic.read_text()
        + '\n[models.claude-private]\nname = "Ours"\nlimit = { context = 1000, output = 100 }\n'
    )
    models = compile_config(config_src)["config"]["provider"]["anthropic"]["models"]
    assert models["claude-private"] == {"name": "Ours", "limit": {"context": 1000, "output": 100}}
    assert (
        "warning: config-src/providers/anthropic.toml: models.claude-private: anthropic on "
        "models.dev has no coding model 'claude-private'" in capsys.readouterr().err
    )


def test_every_shipped_pinned_model_is_a_models_dev_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    compile_config()
    assert "warning" not in capsys.readouterr().err


def test_same_input_gives_byte_identical_output(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert build_config.main(["--out", str(first)]) == 0
    assert build_config.main(["--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_a_setting_opencode_rejects_names_file_field_and_reason_and_writes_nothing(
    config_src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    openai = config_src / "providers" / "openai.toml"
    openai.write_text(
        openai.read_text().replace(
            "[models.gpt-5]\n", '[models.gpt-5]\nlimit = { context = "big", output = 1 }\n'
        )
    )
    out = tmp_path / "out" / "opencode.json"
    out.parent.mkdir()
    out.write_text("previous build")

    assert build_config.main(["--src", str(config_src), "--out", str(out)]) == 1

    stderr = capsys.readouterr().err
    assert (
        "config-src/providers/openai.toml: models.gpt-5.limit.context: "
        "OpenCode rejects this: 'big' is not of type 'number'" in stderr
    )
    assert "nothing written" in stderr
    assert out.read_text() == "previous build"
    assert [p.name for p in out.parent.iterdir()] == ["opencode.json"]


def test_every_problem_is_reported_at_once(config_src: Path) -> None:
    (config_src / "opencode.toml").write_text(
        (config_src / "opencode.toml").read_text() + 'colour = "red"\n'
    )
    (config_src / "permission.toml").write_text('edit = "sometimes"\n')
    (config_src / "notes.txt").write_text("hello")
    problems = problems_for(config_src)
    assert (
        "config-src/opencode.toml: OpenCode rejects this: "
        "Additional properties are not allowed ('colour' was unexpected)" in problems
    )
    assert any(p.startswith("config-src/permission.toml: edit: OpenCode rejects") for p in problems)
    assert any(p.startswith("config-src/notes.txt: unknown file") for p in problems)


@pytest.mark.parametrize(
    ("relative", "old", "new", "expected"),
    [
        (
            "providers/anthropic.toml",
            'base_url = "{baseURL}/anthropic/v1"',
            'base_url = "https://api.anthropic.com/v1"',
            "base_url must start with one of",
        ),
        (
            "providers/openai.toml",
            "[models.gpt-5]\n",
            "[models.gpt-5]\noptions = { store = true }\n",
            "models.gpt-5: options.store must be false",
        ),
        (
            "providers/anthropic.toml",
            "[models.claude-sonnet-5]\n",
            "[models.claude-sonnet-5]\ncost = { inptu = 3, output = 15 }\n",
            "models.claude-sonnet-5.cost: OpenCode rejects this",
        ),
        (
            "providers/openai.toml",
            'base_url = "{baseURL}/openai/v1"',
            'base_url = "{baseURL}/openai/v1"\nwhitelist = ["gpt-5"]',
            "whitelist: set by the Worker",
        ),
        (
            "opencode.toml",
            'share = "disabled"',
            'share = "disabled"\nenabled_providers = ["openai"]',
            "enabled_providers: set by the Worker",
        ),
        ("providers/anthropic.toml", 'name = "Anthropic"', 'name = "Anthropic', "invalid TOML"),
        (
            "opencode.toml",
            'model = "anthropic/claude-sonnet-5"',
            'model = "anthropic/claude-nonexistent"',
            "model: 'anthropic/claude-nonexistent' is not a configured model",
        ),
        (
            "mcp/cloudflare-docs.toml",
            'type = "remote"',
            'type = "remot"',
            "OpenCode rejects this",
        ),
        (
            "mcp/cloudflare-docs.toml",
            'url = "https://docs.mcp.cloudflare.com/mcp"',
            "",
            "OpenCode rejects this: 'url' is a required property",
        ),
        ("commands/review.toml", 'agent = "reviewer"', 'agent = "nobody"', "agent: unknown agent"),
        (
            "agents/reviewer.toml",
            'model = "anthropic/claude-sonnet-5"',
            'model = "sonnet"',
            "model: must look like 'provider/model-id'",
        ),
        (
            "auth.toml",
            'env = "CF_ACCESS_TOKEN"',
            'env = "cf token"',
            "env: must be an environment variable name",
        ),
        *(
            (
                "providers/anthropic.toml",
                'name = "Anthropic"',
                f'name = "Anthropic"\nendpoints = [{endpoint}]',
                reason,
            )
            for endpoint, reason in [
                (
                    '{method = "POST", path = "/v1/messages/batches", model = "everywhere"}',
                    "endpoints.0: model 'everywhere' is not one of",
                ),
                (
                    '{method = "FETCH", path = "/v1/x", model = "none"}',
                    "endpoints.0: method 'FETCH' is not one of",
                ),
                (
                    '{method = "GET", path = "v1/x", model = "none"}',
                    "endpoints.0: 'v1/x' must be a path starting with '/'",
                ),
                (
                    '{method = "GET", path = "/v1/{batch}", model = "none"}',
                    "endpoints.0: unknown placeholder {batch}",
                ),
                (
                    '{method = "POST", path = "/v1/{model}:go", model = "body"}',
                    "goes with model = 'path'",
                ),
                (
                    '{method = "POST", path = "/v1/x", model = "body", models = "all"}',
                    "endpoints.0.models: is not a known setting",
                ),
            ]
        ),
    ],
)
def test_invalid_sources_fail_with_a_precise_reason(
    config_src: Path, relative: str, old: str, new: str, expected: str
) -> None:
    path = config_src / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    problems = problems_for(config_src)
    assert any(p.startswith(f"config-src/{relative}: ") and expected in p for p in problems), (
        problems
    )


def test_missing_required_file_is_named(config_src: Path) -> None:
    (config_src / "auth.toml").unlink()
    assert "config-src/auth.toml: file is missing" in problems_for(config_src)


def test_file_names_must_be_lower_case_toml(config_src: Path) -> None:
    (config_src / "agents" / "Helper.yaml").write_text("x: 1")
    assert any(
        "agents/Helper.yaml: expected a <lower-case-name>.toml file" in p
        for p in problems_for(config_src)
    )


def test_missing_source_folder_is_reported(tmp_path: Path) -> None:
    assert problems_for(tmp_path / "nowhere") == [
        f"{tmp_path / 'nowhere'}: config source folder not found"
    ]


# Each mismatch once found between the hand-written source schema and OpenCode 1.18.33.
OPENCODE_REJECTS = [
    ("permission.toml", 'webfetch = "ask"', 'webfetch = { "*" = "ask" }', "webfetch"),
    ("permission.toml", 'edit = "ask"', 'edit = "ask"\ntodowrite = { "*" = "ask" }', "todowrite"),
    ("permission.toml", 'edit = "ask"', 'edit = "ask"\nquestion = { "*" = "ask" }', "question"),
    ("permission.toml", 'edit = "ask"', 'edit = "ask"\nwebsearch = { "*" = "ask" }', "websearch"),
    ("permission.toml", 'edit = "ask"', 'edit = "ask"\ndoom_loop = { "*" = "ask" }', "doom_loop"),
]

OPENCODE_ACCEPTS = [
    ("providers/openai.toml", "[models.gpt-5]\n", '[models.gpt-5]\nstatus = "beta"\n'),
    (
        "providers/openai.toml",
        "[models.gpt-5]\n",
        '[models.gpt-5]\noptions = { reasoning = { effort = "high" } }\n',
    ),
    (
        "providers/openai.toml",
        "[models.gpt-5]\n",
        '[models.gpt-5]\nvariants = { high = { reasoningEffort = "high" } }\n',
    ),
    ("mcp/cloudflare-docs.toml", "enabled = true", "enabled = true\ntimeout = 10000"),
    ("mcp/cloudflare-docs.toml", "enabled = true", "enabled = true\noauth = false"),
    ("agents/reviewer.toml", 'mode = "subagent"', 'mode = "subagent"\nsteps = 20'),
    ("commands/review.toml", 'agent = "reviewer"', 'agent = "reviewer"\nsubtask = true'),
    ("commands/review.toml", 'agent = "reviewer"', 'agent = "reviewer"\nvariant = "high"'),
    ("opencode.toml", 'share = "disabled"', 'share = "disabled"\nautoupdate = "notify"'),
]


@pytest.mark.parametrize(("relative", "old", "new", "field"), OPENCODE_REJECTS)
def test_a_setting_opencode_rejects_fails_the_build(
    config_src: Path, relative: str, old: str, new: str, field: str
) -> None:
    path = config_src / relative
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    problems = problems_for(config_src)
    assert any(
        p.startswith(f"config-src/{relative}: {field}: OpenCode rejects this") for p in problems
    ), problems


@pytest.mark.parametrize(("relative", "old", "new"), OPENCODE_ACCEPTS)
def test_a_setting_opencode_accepts_builds(
    config_src: Path, relative: str, old: str, new: str
) -> None:
    path = config_src / relative
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    compile_config(config_src)


def test_a_models_dev_name_opencode_does_not_know_fails_with_a_suggestion(
    config_src: Path,
) -> None:
    path = config_src / "providers" / "openai.toml"
    path.write_text(path.read_text().replace('models_dev = "openai"', 'models_dev = "opnai"'))
    assert (
        "config-src/providers/openai.toml: models_dev: 'opnai' is not a models.dev provider "
        "(did you mean 'openai'?)" in problems_for(config_src)
    )


def test_every_provider_names_its_models_dev_provider(config_src: Path) -> None:
    path = config_src / "providers" / "google.toml"
    path.write_text(path.read_text().replace('models_dev = "google"\n', ""))
    assert "config-src/providers/google.toml: models_dev: is required" in problems_for(config_src)
    rules = compile_config()["catalog"]
    assert {pid: rule["source"] for pid, rule in rules.items()} == {
        "anthropic": "anthropic",
        "openai": "openai",
        "google": "google",
        "workers-ai": "cloudflare-workers-ai",
    }
