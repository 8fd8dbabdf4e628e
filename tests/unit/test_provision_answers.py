"""Provisioning meets the answers the real API gives and we would rather not get: nulls
read back, 409s on the custom domain, hand-made Access objects, missing provider
keys. `apply` never shows a traceback: it adopts what it can and otherwise stops,
naming the object and the fix; `plan` shows drift on everything it manages."""

from __future__ import annotations

from pathlib import Path

import provision
import pytest

from devstack.cloudflare_api import LocalCloudflareApi
from support.provisioning import HOST, WORKER, deployed, run


def _changes(out: str) -> list[str]:
    return [line for line in out.splitlines() if line[:2] in ("+ ", "~ ", "- ")]


def _main_app(api: LocalCloudflareApi) -> dict[str, object]:
    return next(a for a in api.account.apps if a["name"] == WORKER)


def test_a_gateway_made_in_the_dashboard_with_null_settings_is_adopted(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.account.add_dashboard_gateway("opencode")
    assert run(wrangler, "plan") == provision.SOMETHING_TO_DO
    assert "~ AI Gateway opencode: authentication False -> True, byok_only False -> True" in (
        capsys.readouterr().out
    )
    assert run(wrangler, "apply") == 0
    gateway = api.account.gateways["opencode"]
    assert (gateway["authentication"], gateway["byok_only"]) == (True, True)
    # What it does not manage stays as it was: null.
    assert (gateway["cache_ttl"], gateway["rate_limiting_limit"]) == (None, None)
    capsys.readouterr()
    assert run(wrangler, "apply") == 0  # and again, on what the first apply left
    assert _changes(capsys.readouterr().out) == []


def test_a_hostname_with_a_dns_record_stops_apply_naming_the_record(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed(api)
    api.account.dns_records.add(HOST)
    assert run(wrangler, "apply") == provision.FAILED
    error = capsys.readouterr().err
    assert f"custom domain {HOST}: {HOST} already has a DNS record: delete that record" in error
    assert "Traceback" not in error
    assert api.account.domains == []


def test_a_hostname_another_worker_holds_stops_plan_and_apply(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed(api)
    api.account.scripts["legacy-proxy"] = {}
    zone = api.account.zones[0]
    api.account.on_domain_put(
        {"hostname": HOST, "service": "legacy-proxy", "zone_id": zone["id"]}, {}
    )
    for command in ("plan", "apply"):
        assert run(wrangler, command) == provision.FAILED
        error = capsys.readouterr().err
        assert f"custom domain {HOST} is attached to the Worker 'legacy-proxy': detach it" in error
    assert [(d["hostname"], d["service"]) for d in api.account.domains] == [(HOST, "legacy-proxy")]


def test_the_apis_own_409_for_a_taken_hostname_reads_as_one(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Another Worker takes the hostname between plan's read and apply's write.
    deployed(api)
    api.account.scripts["legacy-proxy"] = {}
    zone = api.account.zones[0]
    original = api.account.on_domains
    api.account.on_domains = lambda body, query: original(body, {"hostname": "nothing"})  # type: ignore[method-assign]
    api.account.on_domain_put(
        {"hostname": HOST, "service": "legacy-proxy", "zone_id": zone["id"]}, {}
    )
    assert run(wrangler, "apply") == provision.FAILED
    assert f"custom domain {HOST}: another Worker already serves {HOST}" in (
        capsys.readouterr().err
    )


def test_a_hand_made_policy_session_and_destination_show_in_plan_and_apply_undoes_them(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wrangler, "apply") == 0
    app = _main_app(api)
    app_id = str(app["id"])
    api.account.on_policy_create(
        {"name": "Allow Everyone", "decision": "allow", "include": [{"everyone": {}}]}, {}, app_id
    )
    app["session_duration"] = "720h"
    app["destinations"] = [
        {"type": "public", "uri": HOST},
        {"type": "public", "uri": "other.example.com"},
    ]
    capsys.readouterr()
    assert run(wrangler, "plan") == provision.SOMETHING_TO_DO
    changes = _changes(capsys.readouterr().out)
    assert f"- Access policy Allow Everyone on {HOST} (not provisioning's: allow " in changes[1]
    assert changes[0].startswith(f"~ Access application {WORKER} ({HOST}): destinations ")
    assert "session_duration 720h -> 24h" in changes[0]
    assert run(wrangler, "apply") == 0
    app = _main_app(api)
    assert app["session_duration"] == "24h"
    assert app["destinations"] == [{"type": "public", "uri": HOST}]
    assert [p["name"] for p in api.account.policies[app_id]] == [f"{WORKER} allow"]
    assert app["id"] == app_id  # updated in place: its AUD, in wrangler.toml, stays


def test_a_hand_made_application_on_the_hostname_stops_the_run_before_a_second_one(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = api.account.on_app_create(
        {"name": "AI tools", "domain": HOST, "type": "self_hosted"}, {}
    )
    for command in ("plan", "apply"):
        assert run(wrangler, command) == provision.FAILED
        error = capsys.readouterr().err
        assert f"the Access application 'AI tools' ({made['id']}) already protects {HOST}" in error
        assert f"rename it to '{WORKER}' for provisioning to adopt it" in error
    assert [a["name"] for a in api.account.apps] == ["AI tools"]

    made["name"] = WORKER  # the operator renames it: it is adopted, not duplicated
    assert run(wrangler, "apply") == 0
    assert [a["id"] for a in api.account.apps if a["domain"] == HOST] == [made["id"]]


def test_plan_names_the_provider_keys_byok_still_needs(
    api: LocalCloudflareApi, wrangler: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.account.provider_keys["opencode"] = ["openai"]
    assert run(wrangler, "apply") == 0
    capsys.readouterr()
    assert run(wrangler, "plan") == provision.SOMETHING_TO_DO
    out = capsys.readouterr().out
    assert (
        "waiting: AI Gateway opencode stores no provider key for anthropic, google-ai-studio"
    ) in out
    api.account.provider_keys["opencode"] += ["anthropic", "google-ai-studio"]
    assert run(wrangler, "plan") == provision.SOMETHING_TO_DO  # the Worker is not deployed
    assert "provider key" not in capsys.readouterr().out
