"""Per-group menus on CPython: the rule, where groups come from, the menu each caller is
shown and held to, and the remote config OpenCode starts with."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import access_vectors
import build_config
from devstack.access import LocalAccess, access_claims
from opencode_proxy.catalog import Catalog, CatalogStore
from opencode_proxy.groups import Grant, Group, Groups
from opencode_proxy.http import Response
from opencode_proxy.identity import anonymous_id
from opencode_proxy.membership import KV_PREFIX
from opencode_proxy.router import App
from support import cpython
from support.groups import (
    CONTRACTOR,
    CONTRACTOR_MODEL,
    CONTRACTOR_MODELS,
    EVERYONE,
    PILOT,
    PILOT_GROUP,
    PILOT_MODEL,
    compiled,
)

KEY = access_vectors.load_keys()["access-1"]
ORIGIN = "https://ai.example.com"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models_dev.json"

# --- the rule -----------------------------------------------------------------------------


def rule(*groups: Group) -> Groups:
    return Groups(groups)


def test_a_group_adds_to_the_default_and_a_hide_in_any_group_wins() -> None:
    groups = rule(
        Group("a-pilot", providers={"p": Grant(serve=("big-*",))}),
        Group("b-careful", providers={"p": Grant(hide=("big-2",))}),
    )
    default, candidates = ["small"], ["small", "big-1", "big-2"]
    assert groups.menu_ids("p", ["a-pilot"], default, candidates) == ["small", "big-1", "big-2"]
    assert groups.menu_ids("p", ["a-pilot", "b-careful"], default, candidates) == [
        "small",
        "big-1",
    ]
    # A provider a group says nothing about keeps the default.
    assert groups.menu_ids("q", ["a-pilot"], default, candidates) == default


def test_replace_default_starts_from_nothing() -> None:
    groups = rule(Group("interns", replace_default=True, providers={"p": Grant(serve=("s*",))}))
    assert groups.menu_ids("p", ["interns"], ["small", "big"], ["small", "big", "s2"]) == [
        "small",
        "s2",
    ]
    assert groups.menu_ids("q", ["interns"], ["other"], ["other"]) == []


def test_membership_by_access_group_email_or_domain_in_name_order() -> None:
    groups = rule(
        Group("b", emails=frozenset({"a@example.com"})),
        Group("a", access_groups=frozenset({"eng"})),
        Group("c", email_domains=frozenset({"example.com"})),
    )
    ordered = Groups.from_json({g.name: {} for g in groups.groups})
    assert [g.name for g in ordered.groups] == ["a", "b", "c"]
    assert groups.of("a@example.com", ["eng"]) == ("b", "a", "c")
    assert groups.of("x@other.example", ["eng"]) == ("a",)
    assert groups.of(None, []) == ()


# --- the build ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[providers.openai]\nserve = ['x']\n", "name its members"),
        ("emails = ['not an address']\n", "emails.0: not an email address"),
        ("access_groups = ['x']\n[providers.nope]\nserve = ['x']\n", "providers.nope: unknown"),
        ("access_groups = ['x']\nserves = ['x']\n", "serves: is not a known setting"),
        ("access_groups = ['x']\n[providers.openai]\nserve = ['']\n", "must not be empty"),
    ],
)
def test_the_build_refuses_a_group_file_it_cannot_use(
    config_src: Path, text: str, problem: str
) -> None:
    (config_src / "groups").mkdir()
    (config_src / "groups" / "broken.toml").write_text(text)
    with pytest.raises(build_config.BuildError) as raised:
        build_config.compile_config(config_src)
    assert any(
        line.startswith("config-src/groups/broken.toml") and problem in line
        for line in raised.value.problems
    ), raised.value.problems


def test_the_build_normalises_members_as_the_worker_compares_them(config_src: Path) -> None:
    (config_src / "groups").mkdir()
    (config_src / "groups" / "g.toml").write_text(
        "emails = ['Lead@EXAMPLE.com']\nemail_domains = ['Bücher.example']\n"
    )
    group = build_config.compile_config(config_src)["groups"]["g"]
    assert group["emails"] == ["lead@example.com"]
    assert group["email_domains"] == ["xn--bcher-kva.example"]


# --- through the Worker's core ------------------------------------------------------------


@pytest.fixture
def access() -> LocalAccess:
    return LocalAccess(published=[KEY], groups={PILOT: [PILOT_GROUP, "everyone"]})


@pytest.fixture
def cache() -> cpython.MemoryKV:
    """The CATALOG namespace, holding the fixture's catalog."""
    kv = cpython.MemoryKV()
    providers = {
        source: {model_id: {"name": model_id} for model_id in provider["models"]}
        for source, provider in json.loads(FIXTURE.read_text()).items()
    }
    store = CatalogStore(kv, lambda: 0.0)
    asyncio.run(store.write(Catalog(providers, 0.0, tuple(providers))))
    return kv


@pytest.fixture
def logged() -> list[dict[str, Any]]:
    return []


def make_app(
    tmp_path: Path,
    access: LocalAccess,
    cache: cpython.MemoryKV,
    logged: list[dict[str, Any]],
    **settings: str,
) -> App:
    path = tmp_path / "opencode.json"
    path.write_bytes(build_config.render(compiled(tmp_path / "config-src")))
    return cpython.make_app(
        access,
        settings={**cpython.default_settings(access), **settings},
        cache=cache,
        compiled=path,
        log_line=lambda line: logged.append(json.loads(line)),
    )


@pytest.fixture
def app(
    tmp_path: Path, access: LocalAccess, cache: cpython.MemoryKV, logged: list[dict[str, Any]]
) -> App:
    return make_app(tmp_path, access, cache, logged)


def token(access: LocalAccess, email: str, **claims: Any) -> str:
    return KEY.sign(access_claims(access.origin, cpython.AUDIENCE, email=email, **claims))


def ask(app: App, path: str, tok: str | None, body: dict[str, Any] | None = None) -> Response:
    headers = {"cf-access-token": tok} if tok else {}
    data = None if body is None else json.dumps(body).encode()
    return cpython.call(app, "GET" if body is None else "POST", ORIGIN + path, headers, data)


def chat(app: App, tok: str, model: str) -> Response:
    return ask(app, "/openai/v1/chat/completions", tok, {"model": model, "messages": []})


def whitelists(response: Response) -> dict[str, list[str]]:
    assert response.status == 200
    providers = json.loads(response.body)["provider"]
    return {pid: provider["whitelist"] for pid, provider in providers.items()}


def test_each_person_is_held_to_their_own_menu(app: App, access: LocalAccess) -> None:
    pilot, everyone = token(access, PILOT), token(access, EVERYONE)
    assert chat(app, pilot, PILOT_MODEL).status == 200
    refused = chat(app, everyone, PILOT_MODEL)
    assert (refused.status, cpython.error_type(refused)) == (400, "model_not_allowed")
    assert "your model menu" in refused.body.decode()
    contractor = token(access, CONTRACTOR)
    assert chat(app, contractor, CONTRACTOR_MODEL).status == 200
    refused = chat(app, contractor, "gpt-5")
    message = json.loads(refused.body)["error"]["message"]
    assert refused.status == 400
    # It names the caller's menu and groups, not anyone else's.
    assert "groups: contractors" in message
    assert "Served to you here: gpt-4.1-mini." in message


def test_the_remote_config_is_the_callers_menu_and_never_anything_but_200_json(
    app: App, access: LocalAccess
) -> None:
    pilot = whitelists(ask(app, "/setup/opencode", token(access, PILOT)))
    everyone = whitelists(ask(app, "/setup/opencode", token(access, EVERYONE)))
    contractor = ask(app, "/setup/opencode", token(access, CONTRACTOR))
    assert PILOT_MODEL in pilot["openai"]
    assert PILOT_MODEL not in everyone["openai"]
    assert set(pilot["openai"]) - set(everyone["openai"]) == {"gpt-5.1-codex"}
    assert whitelists(contractor) == {pid: CONTRACTOR_MODELS.get(pid, []) for pid in everyone}
    # Defaults the contractor is not served are replaced by ones they are.
    answer = json.loads(contractor.body)
    assert (answer["model"], answer["small_model"]) == (
        "anthropic/claude-haiku-4-5",
        "anthropic/claude-haiku-4-5",
    )
    expired = token(access, PILOT, exp=1_000_000, iat=999_000, nbf=999_000)
    for tok in (None, "not-a-token", expired):
        response = ask(app, "/setup/opencode", tok)
        assert (response.status, response.body) == (200, b"{}")
        assert dict(response.headers)["content-type"].startswith("application/json")


def test_discovery_stays_the_same_for_everyone_and_points_at_the_remote_config(
    app: App, access: LocalAccess
) -> None:
    anonymous = ask(app, "/.well-known/opencode", None)
    signed = ask(app, "/.well-known/opencode", token(access, PILOT))
    assert anonymous.body == signed.body
    remote = json.loads(anonymous.body)["remote_config"]
    assert remote == {
        "url": f"{ORIGIN}/setup/opencode",
        "headers": {"cf-access-token": "{env:CF_ACCESS_TOKEN}"},
    }


def test_get_identity_is_asked_once_per_person_and_nonce_and_kept_in_kv(
    app: App, access: LocalAccess, cache: cpython.MemoryKV, tmp_path: Path
) -> None:
    first = token(access, PILOT, identity_nonce="nonce-1")
    for _ in range(3):
        assert chat(app, first, PILOT_MODEL).status == 200
    assert access.identity_requests == 1
    user_id = anonymous_id(cpython.USER_ID_KEY, PILOT)
    stored = cache.data[f"{KV_PREFIX}{user_id}:nonce-1"]
    assert json.loads(stored) == [PILOT_GROUP, "everyone"]
    assert PILOT not in stored
    # A new identity nonce (Access's view of the person changed) asks again.
    access.groups[PILOT] = []
    renewed = token(access, PILOT, identity_nonce="nonce-2")
    assert chat(app, renewed, PILOT_MODEL).status == 400
    assert access.identity_requests == 2
    # Another isolate finds the answer in KV without asking.
    (tmp_path / "isolate").mkdir()
    other = make_app(tmp_path / "isolate", access, cache, [])
    assert chat(other, first, PILOT_MODEL).status == 200
    assert access.identity_requests == 2


@pytest.mark.parametrize("failure", ["down", 401, 500, "junk"])
def test_unknown_groups_give_the_default_menu_and_a_log_line_never_a_500(
    app: App, access: LocalAccess, logged: list[dict[str, Any]], failure: str | int
) -> None:
    access.identity_failure = failure
    pilot = token(access, PILOT)
    assert chat(app, pilot, "gpt-5").status == 200
    assert chat(app, pilot, PILOT_MODEL).status == 400
    (line,) = [entry for entry in logged if entry["event"] == "groups_unavailable"]
    assert line["userId"] == anonymous_id(cpython.USER_ID_KEY, PILOT)
    assert "get-identity" in line["reason"]
    assert PILOT not in json.dumps(logged)
    # A failed lookup is not repeated on every request.
    assert access.identity_requests <= 1


def test_groups_can_come_from_a_token_claim_instead(
    tmp_path: Path, access: LocalAccess, cache: cpython.MemoryKV, logged: list[dict[str, Any]]
) -> None:
    app = make_app(tmp_path, access, cache, logged, GROUPS_FROM="claim:groups")
    claimed = token(access, EVERYONE, groups=[PILOT_GROUP])
    assert chat(app, claimed, PILOT_MODEL).status == 200
    assert chat(app, token(access, PILOT), PILOT_MODEL).status == 400  # no claim, no group
    assert access.identity_requests == 0


def test_an_unusable_groups_setting_names_itself(
    tmp_path: Path, access: LocalAccess, cache: cpython.MemoryKV, logged: list[dict[str, Any]]
) -> None:
    app = make_app(tmp_path, access, cache, logged, GROUPS_FROM="ldap")
    refused = chat(app, token(access, PILOT), "gpt-5")
    assert (refused.status, cpython.error_type(refused)) == (500, "config_error")
    assert "GROUPS_FROM" in refused.body.decode()
    # OpenCode still starts: its remote config falls back to the default menu.
    assert ask(app, "/setup/opencode", token(access, PILOT)).body == b"{}"


def test_claude_code_and_codex_setups_fetched_with_a_token_carry_the_callers_menu(
    app: App, access: LocalAccess
) -> None:
    contractor = token(access, CONTRACTOR)
    settings = json.loads(ask(app, "/setup/claude-code", contractor).body)
    assert settings["availableModels"] == ["claude-haiku-4-5"]
    assert settings["env"]["ANTHROPIC_MODEL"] == "claude-haiku-4-5"
    default = json.loads(ask(app, "/setup/claude-code", None).body)
    assert "claude-sonnet-5" in default["availableModels"]
    profile = ask(app, "/setup/codex", contractor).body.decode()
    assert f'model = "{CONTRACTOR_MODEL}"' in profile
    # IT's managed drop-in is for everyone: fetched without a token, the default menu.
    managed = json.loads(ask(app, "/setup/claude-code-managed", None).body)
    assert managed["availableModels"] == default["availableModels"]


def test_the_page_shows_a_signed_in_reader_their_groups_and_menu(
    app: App, access: LocalAccess
) -> None:
    headers = {"cookie": f"CF_Authorization={token(access, PILOT)}", "accept": "text/html"}
    html = cpython.call(app, "GET", ORIGIN + "/", headers).body.decode()
    assert "Your groups: pilot" in html
    assert f"<code>openai/{PILOT_MODEL}</code>" in html
    anonymous = cpython.call(app, "GET", ORIGIN + "/", {"accept": "text/html"}).body.decode()
    assert f"openai/{PILOT_MODEL}" not in anonymous
