"""`scripts/provision.py` against the Cloudflare API stand-in, through the pinned SDK:
plan, apply, idempotency, convergence after a failed run, drift, conflicts, missing
permissions, and secrets that never show."""

from __future__ import annotations

import json
import shutil
import tomllib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import provision
import pytest
from cloudflare.types.ai_gateway import AIGatewayGetResponse
from cloudflare.types.kv import Namespace
from cloudflare.types.workers import DomainListResponse, ScriptListResponse
from cloudflare.types.workers.scripts import SecretListResponse
from cloudflare.types.zero_trust import Organization
from cloudflare.types.zero_trust.access import ApplicationListResponse
from cloudflare.types.zero_trust.access.applications import PolicyListResponse
from cloudflare.types.zones import Zone
from provisioning.cloud import GATEWAY_EDIT, PERMISSIONS
from provisioning.routes import public_paths
from pydantic import TypeAdapter

from devstack.access import LocalAccess
from devstack.cloudflare_account import Account
from devstack.cloudflare_api import LocalCloudflareApi
from devstack.server import LocalHttpServer, QuietHandler
from support.cpython import make_app
from support.provisioning import (
    ACCOUNT,
    GATEWAY_TOKEN,
    HOST,
    WORKER,
    WORKERS_AI_TOKEN,
    deployed,
    run,
)

ROOT = Path(__file__).resolve().parents[2]


def converged(api: LocalCloudflareApi) -> dict[str, Any]:
    """The account's managed state, in a form two runs can be compared by."""
    account = api.account
    return {
        "kv": sorted(ns["title"] for ns in account.namespaces),
        "gateways": {
            gid: {k: g[k] for k in ("authentication", "byok_only", "collect_logs")}
            for gid, g in account.gateways.items()
        },
        "apps": sorted((a["name"], a["domain"]) for a in account.apps),
        "policies": sorted(
            (a["name"], p["name"], p["decision"], json.dumps(p["include"]))
            for a in account.apps
            for p in account.policies[a["id"]]
        ),
        "secrets": sorted(account.scripts.get(WORKER, {})),
        "domains": sorted((d["hostname"], d["service"]) for d in account.domains),
    }


def test_plan_reads_only_and_says_everything_apply_would_do(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = wrangler.read_text()
    assert run(wrangler, "plan") == provision.SOMETHING_TO_DO
    out = capsys.readouterr().out
    assert api.writes == []
    assert wrangler.read_text() == before
    for line in (
        f"+ KV namespace {WORKER}-CATALOG",
        f"+ KV namespace {WORKER}-USERS",
        "+ AI Gateway opencode: authentication on, BYOK only, logs on",
        f"+ Access application {WORKER} ({HOST})",
        "~ wrangler.toml vars.ACCESS_TEAM_DOMAIN = 'example-team.cloudflareaccess.com'",
        f"~ wrangler.toml vars.PUBLIC_ORIGIN = 'https://{HOST}'",
        "waiting: the Worker opencode-proxy is not deployed yet",
    ):
        assert line in out, line
    for path in public_paths():
        assert f"+ Access application {WORKER} public {path} ({HOST}{path})" in out


def test_apply_makes_it_so_then_a_second_apply_writes_nothing(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wrangler, "apply") == 0
    deployed(api)
    assert run(wrangler, "apply") == 0
    state = converged(api)
    assert state["kv"] == [f"{WORKER}-CATALOG", f"{WORKER}-USERS"]
    assert state["gateways"] == {
        "opencode": {"authentication": True, "byok_only": True, "collect_logs": True}
    }
    public = {(f"{WORKER} public {p}", f"{HOST}{p}") for p in public_paths()}
    assert set(state["apps"]) == {(WORKER, HOST), *public}
    allow = [p for p in state["policies"] if p[0] == WORKER]
    assert allow == [
        (WORKER, f"{WORKER} allow", "allow", '[{"email_domain": {"domain": "example.com"}}]')
    ]
    assert {p[2] for p in state["policies"] if p[0] != WORKER} == {"bypass"}
    assert state["secrets"] == ["GATEWAY_TOKEN", "USER_ID_KEY", "WORKERS_AI_TOKEN"]
    assert state["domains"] == [(HOST, WORKER)]

    written = tomllib.loads(wrangler.read_text())
    ids = {kv["binding"]: kv["id"] for kv in written["kv_namespaces"]}
    assert ids == {ns["title"].rsplit("-", 1)[1]: ns["id"] for ns in api.account.namespaces}
    main_app = next(a for a in api.account.apps if a["name"] == WORKER)
    assert written["vars"]["ACCESS_AUD"] == main_app["aud"]
    assert written["vars"]["ACCESS_TEAM_DOMAIN"] == api.account.team
    assert written["vars"]["PUBLIC_ORIGIN"] == f"https://{HOST}"
    assert (
        "# Create with `npx wrangler kv namespace create" in wrangler.read_text()
    )  # comments kept

    writes, text = len(api.writes), wrangler.read_text()
    capsys.readouterr()
    assert run(wrangler, "apply") == 0
    assert len(api.writes) == writes
    assert wrangler.read_text() == text
    assert run(wrangler, "plan") == provision.NOTHING_TO_DO
    assert capsys.readouterr().out.strip().endswith("up to date")


def test_no_secret_shows_in_output_or_files_and_the_key_is_never_rotated(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed(api)
    assert run(wrangler, "apply") == 0
    key = api.secret_values["USER_ID_KEY"]
    assert api.secret_values["GATEWAY_TOKEN"] == GATEWAY_TOKEN
    assert api.secret_values["WORKERS_AI_TOKEN"] == WORKERS_AI_TOKEN
    assert len(key) >= 40
    assert run(wrangler, "apply") == 0
    output = capsys.readouterr()
    for secret in (key, GATEWAY_TOKEN, WORKERS_AI_TOKEN):
        assert secret not in output.out + output.err
        assert secret not in wrangler.read_text()
    assert api.secret_values["USER_ID_KEY"] == key
    assert [w for w in api.writes if w[1].endswith("/secrets")] == [
        ("PUT", f"/accounts/{ACCOUNT}/workers/scripts/{WORKER}/secrets")
    ] * 3


@pytest.mark.parametrize(
    ("name", "what"),
    [("GATEWAY_TOKEN", "AI Gateway: Run"), ("WORKERS_AI_TOKEN", "Workers AI: Read")],
)
def test_a_missing_token_names_itself_and_its_permission_and_is_not_stored(
    api: LocalCloudflareApi,
    wrangler: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    what: str,
) -> None:
    monkeypatch.delenv(name)
    deployed(api)
    assert run(wrangler, "apply") == provision.FAILED
    error = capsys.readouterr().err
    assert f"{name} is not set" in error
    assert what in error
    assert name not in api.account.scripts[WORKER]


def test_a_run_that_dies_at_any_step_converges_on_the_next_without_duplicates(
    api: LocalCloudflareApi, tmp_path: Path
) -> None:
    def fresh_account() -> None:
        api.account, api.writes = Account(), []
        api.account.add_zone("example.com")
        deployed(api)

    fresh_account()
    target = tmp_path / "clean.toml"
    shutil.copy(ROOT / "wrangler.toml", target)
    assert run(target, "apply") == 0
    expected, steps = converged(api), len(api.writes)
    assert steps >= 10
    for dies_after in range(steps):
        fresh_account()
        path = tmp_path / f"run-{dies_after}.toml"
        shutil.copy(ROOT / "wrangler.toml", path)
        api.fail_writes_after = dies_after
        assert run(path, "apply") == provision.FAILED
        assert len(api.writes) == dies_after
        api.fail_writes_after = None
        assert run(path, "apply") == 0, dies_after
        assert converged(api) == expected, dies_after
        assert tomllib.loads(path.read_text())["vars"]["ACCESS_AUD"] == next(
            a["aud"] for a in api.account.apps if a["name"] == WORKER
        )


def test_drift_shows_exactly_in_plan_and_apply_keeps_what_it_does_not_manage(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wrangler, "apply") == 0
    gateway = api.account.gateways["opencode"]
    gateway.update(authentication=False, cache_ttl=300, rate_limiting_limit=50)
    capsys.readouterr()
    assert run(wrangler, "plan") == provision.SOMETHING_TO_DO
    changes = [
        line for line in capsys.readouterr().out.splitlines() if line[:2] in ("+ ", "~ ", "- ")
    ]
    assert changes == ["~ AI Gateway opencode: authentication False -> True"]
    assert run(wrangler, "apply") == 0
    gateway = api.account.gateways["opencode"]
    assert (gateway["authentication"], gateway["cache_ttl"], gateway["rate_limiting_limit"]) == (
        True,
        300,
        50,
    )


def test_a_new_allow_rule_keeps_the_policys_other_settings(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wrangler, "apply") == 0
    app = next(a for a in api.account.apps if a["name"] == WORKER)
    (policy,) = api.account.policies[app["id"]]
    policy.update(require=[{"email_domain": {"domain": "example.com"}}], session_duration="8h")
    capsys.readouterr()
    assert run(wrangler, "apply", "--allow-email", "lead@partner.example") == 0
    assert f"~ Access policy {WORKER} allow on {HOST}" in capsys.readouterr().out
    (policy,) = api.account.policies[app["id"]]
    assert policy["include"] == [
        {"email": {"email": "lead@partner.example"}},
        {"email_domain": {"domain": "example.com"}},
    ]
    assert policy["require"] == [{"email_domain": {"domain": "example.com"}}]
    assert policy["session_duration"] == "8h"


def test_a_public_path_the_worker_no_longer_has_is_closed(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wrangler, "apply") == 0
    api.account.on_app_create({"name": f"{WORKER} public /old", "domain": f"{HOST}/old"}, {})
    capsys.readouterr()
    assert run(wrangler, "apply") == 0
    assert f"- Access application {WORKER} public /old ({HOST}/old)" in capsys.readouterr().out
    assert f"{HOST}/old" not in {a["domain"] for a in api.account.apps}


def test_two_applications_of_the_same_name_stop_the_run(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        api.account.on_app_create({"name": WORKER, "domain": HOST, "type": "self_hosted"}, {})
    assert run(wrangler, "apply") == provision.FAILED
    error = capsys.readouterr().err
    assert f"2 Access applications are named '{WORKER}' on {HOST}" in error
    assert all(app["id"] in error for app in api.account.apps)
    assert [w for w in api.writes if "/access/" in w[1]] == []


def test_no_api_token_names_the_variable(
    api: LocalCloudflareApi,
    wrangler: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    assert run(wrangler, "plan") == provision.FAILED
    assert "CLOUDFLARE_API_TOKEN is not set" in capsys.readouterr().err


def test_a_token_without_a_permission_fails_naming_it(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.denied = {GATEWAY_EDIT}
    assert run(wrangler, "apply") == provision.FAILED
    assert f"the API token lacks the permission '{GATEWAY_EDIT}'" in capsys.readouterr().err


def test_who_may_sign_in_must_be_said_and_everyone_only_explicitly(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["apply", "--account", ACCOUNT, "--hostname", HOST, "--wrangler", str(wrangler)]
    assert provision.main(args) == provision.FAILED
    assert "say who may sign in" in capsys.readouterr().err
    assert not [a for a in api.account.apps if a["name"] == WORKER]
    api.account.groups.append({"id": "grp-1", "name": "engineering"})
    assert provision.main([*args, "--allow-group", "engineering", "--allow-everyone"]) == 0
    app = next(a for a in api.account.apps if a["name"] == WORKER)
    (policy,) = api.account.policies[app["id"]]
    assert policy["include"] == [{"group": {"id": "grp-1"}}, {"everyone": {}}]
    assert provision.main([*args, "--allow-group", "nobody"]) == provision.FAILED
    assert "no Access group is named 'nobody'" in capsys.readouterr().err


def test_the_public_paths_are_the_workers_own() -> None:
    assert public_paths() == tuple(make_app(LocalAccess()).public_paths())


def test_the_stand_in_answers_in_shapes_the_sdks_own_types_parse(
    api: LocalCloudflareApi, wrangler: Path
) -> None:
    deployed(api)
    assert run(wrangler, "apply") == 0
    app_id = next(a["id"] for a in api.account.apps if a["name"] == WORKER)
    shapes: list[tuple[str, Any]] = [
        (f"/accounts/{ACCOUNT}/storage/kv/namespaces", list[Namespace]),
        (f"/accounts/{ACCOUNT}/ai-gateway/gateways/opencode", AIGatewayGetResponse),
        (f"/accounts/{ACCOUNT}/access/organizations", Organization),
        (f"/accounts/{ACCOUNT}/access/apps", list[ApplicationListResponse]),
        (f"/accounts/{ACCOUNT}/access/apps/{app_id}/policies", list[PolicyListResponse]),
        (f"/accounts/{ACCOUNT}/workers/scripts", list[ScriptListResponse]),
        (f"/accounts/{ACCOUNT}/workers/scripts/{WORKER}/secrets", list[SecretListResponse]),
        (f"/accounts/{ACCOUNT}/workers/domains", list[DomainListResponse]),
        ("/zones", list[Zone]),
    ]
    headers = {"authorization": f"Bearer {api.token}"}
    for path, shape in shapes:
        envelope = httpx.get(api.base_url + path, headers=headers).json()
        assert envelope["success"] is True, path
        assert envelope["errors"] == [], path
        TypeAdapter(shape).validate_python(envelope["result"], strict=False)
    missing = httpx.get(
        f"{api.base_url}/accounts/{ACCOUNT}/ai-gateway/gateways/nope", headers=headers
    )
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == 7002
    duplicate = httpx.post(
        f"{api.base_url}/accounts/{ACCOUNT}/storage/kv/namespaces",
        headers=headers,
        json={"title": f"{WORKER}-CATALOG"},
    )
    assert (duplicate.status_code, duplicate.json()["errors"][0]["code"]) == (400, 10014)
    # Past the last page, a list comes back empty: where the SDK stops paging.
    beyond = httpx.get(
        f"{api.base_url}/accounts/{ACCOUNT}/access/apps?page=99&per_page=20", headers=headers
    ).json()
    assert beyond["result"] == []
    assert beyond["result_info"]["page"] == 99


def test_the_readme_lists_the_least_privilege_of_both_tokens() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### With the provisioning script") : readme.index("### By hand")]
    for permission in PERMISSIONS:
        assert permission in " ".join(section.split()), permission
    assert "*AI Gateway: Run* only" in section


def test_what_it_made_is_found_on_any_page_of_a_long_list(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed(api)
    assert run(wrangler, "apply") == 0
    ours = list(api.account.namespaces), list(api.account.apps)
    others = [{"id": f"{i:032x}", "title": f"team-{i}"} for i in range(250)]
    api.account.namespaces = [*others, *ours[0]]
    for i in range(45):
        api.account.on_app_create({"name": f"other {i}", "domain": f"app{i}.example.com"}, {})
    api.account.apps = [*api.account.apps[len(ours[1]) :], *ours[1]]
    capsys.readouterr()
    assert run(wrangler, "plan") == provision.NOTHING_TO_DO, capsys.readouterr().out
    assert len(api.account.namespaces) == 252


@dataclass
class HtmlEverywhere(LocalHttpServer):
    """A hostname that answers every path with an HTML page and 200 (not the Worker)."""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        class Handler(QuietHandler):
            def do_GET(self) -> None:
                page = b"<!doctype html><title>Parked</title>"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        return Handler


def test_verify_fails_in_words_on_a_host_that_is_not_the_worker(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with HtmlEverywhere() as parked:
        verified = provision.main(["verify", "--hostname", "x", "--origin", parked.origin])
    out = capsys.readouterr().out
    assert verified == provision.FAILED
    assert "FAIL /healthz: 200" in out
    assert "FAIL /.well-known/opencode: 200, auth and config" in out
    assert "FAIL /: 200, asks for sign-in" in out
