"""config-src's spend caps made AI Gateway Policies by `scripts/provision.py`, against the
API stand-in (which keeps an uncommitted change as a draft the gateway does not
enforce): plan shows them, apply commits them in a safe order, drift is set back,
policies that are not provisioning's stay, and too many caps are refused before any
write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import provision
import pytest
from provisioning.policies import MAX_POLICIES

from devstack.api_errors import ApiError
from devstack.cloudflare_api import LocalCloudflareApi
from support.groups import write_config_src
from support.provisioning import ROOT, WORKER, run

GATEWAY = "opencode"
START = f"{WORKER} budget: "
EVERYONE = f"{START}everyone may use the gateway"
FOREIGN: dict[str, Any] = {
    "name": "Security: block the preview model",
    "actor": "company:all",
    "resource": {"model": "openai/gpt-preview-*"},
    "condition": "true",
    "action": {"type": "block"},
}


@pytest.fixture
def budgeted(tmp_path: Path) -> Path:
    """The groups' config-src, with their budgets (tests/support/groups.py)."""
    return write_config_src(tmp_path / "config-src")


def enforced(api: LocalCloudflareApi) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in api.account.enforced(GATEWAY)}


def policy_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "AI Gateway policy" in line]


def test_plan_shows_each_cap_and_apply_commits_them_with_the_allow_policy_first(
    api: LocalCloudflareApi, wrangler: Path, budgeted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wrangler, "plan", "--config-src", str(budgeted)) == provision.SOMETHING_TO_DO
    planned = policy_lines(capsys.readouterr().out)
    assert api.writes == []
    assert planned[0] == f"+ AI Gateway policy {EVERYONE}: no-limit for everyone"
    assert (
        f"+ AI Gateway policy {START}per person, daily, group contractors: $10.00 daily per "
        'contractors/user:{metadata.userId} when metadata.group == "contractors"'
    ) in planned
    assert len(planned) == 7

    assert run(wrangler, "apply", "--config-src", str(budgeted)) == 0
    made = [path for method, path in api.writes if path.endswith(f"/gateways/{GATEWAY}/policies")]
    assert len(made) == 7
    policies = enforced(api)  # committed, so the gateway enforces them
    assert next(iter(policies)) == EVERYONE
    assert policies[f"{START}per person, daily"]["action"] == {
        "type": "limit",
        "amount": 50,
        "period": "daily",
        "technique": "named-interval",
    }
    # Pilots' $200 a day shares the default's bucket (the higher applies); contractors'
    # $10 has a bucket of its own (both apply, so the lower wins).
    assert policies[f"{START}per person, daily, group pilot"]["actor"] == "user:{metadata.userId}"
    assert policies[f"{START}per group, monthly, group pilot"]["actor"] == (
        "pilot/group:{metadata.group}"
    )
    writes = len(api.writes)
    capsys.readouterr()
    run(wrangler, "plan", "--config-src", str(budgeted))
    assert policy_lines(capsys.readouterr().out) == []
    assert len(api.writes) == writes


def test_drift_is_set_back_and_policies_that_are_not_provisionings_stay(
    api: LocalCloudflareApi, wrangler: Path, budgeted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wrangler, "apply", "--config-src", str(budgeted)) == 0
    api.account.on_gw_policy_create(FOREIGN, {"commit": "true"}, GATEWAY)
    daily = enforced(api)[f"{START}per person, daily"]
    daily["action"] = {**daily["action"], "amount": 5000}  # raised by hand in the dashboard
    capsys.readouterr()
    assert run(wrangler, "apply", "--config-src", str(budgeted)) == 0
    assert policy_lines(capsys.readouterr().out) == [
        f"~ AI Gateway policy {START}per person, daily: $50.00 daily per "
        "user:{metadata.userId} when true"
    ]
    assert enforced(api)[f"{START}per person, daily"]["action"]["amount"] == 50
    assert enforced(api)[FOREIGN["name"]]["action"] == {"type": "block"}


def test_caps_taken_out_of_config_src_are_removed_the_allow_policy_last(
    api: LocalCloudflareApi, wrangler: Path, budgeted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(wrangler, "apply", "--config-src", str(budgeted)) == 0
    api.account.on_gw_policy_create(FOREIGN, {"commit": "true"}, GATEWAY)
    ids = {p["id"]: p["name"] for p in api.account.enforced(GATEWAY)}
    writes = len(api.writes)
    assert run(wrangler, "apply", "--config-src", str(ROOT / "config-src")) == 0
    deleted = [
        ids[path.rsplit("/", 1)[1]]
        for method, path in api.writes[writes:]
        if method == "DELETE" and f"/gateways/{GATEWAY}/policies/" in path
    ]
    assert len(deleted) == 7
    assert deleted[-1] == EVERYONE  # no cap is ever live without it
    assert list(enforced(api)) == [FOREIGN["name"]]


def test_more_caps_than_the_gateway_takes_are_refused_before_any_write(
    api: LocalCloudflareApi, wrangler: Path, budgeted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(MAX_POLICIES):
        group = budgeted / "groups" / f"team-{n:02}.toml"
        members = f'emails = ["t{n}@example.com"]\n'
        group.write_text(members + "[budget]\nper_person = { daily = 5 }\n")
    assert run(wrangler, "apply", "--config-src", str(budgeted)) == provision.FAILED
    err = capsys.readouterr().err
    assert "config-src's budgets need 27 AI Gateway policies" in err
    assert f"more than {MAX_POLICIES}" in err
    assert api.writes == []


def test_a_config_src_that_does_not_build_stops_provisioning_in_words(
    api: LocalCloudflareApi, wrangler: Path, budgeted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (budgeted / "budgets.toml").write_text("per_person = { daily = 0, yearly = 5 }\n")
    assert run(wrangler, "plan", "--config-src", str(budgeted)) == provision.FAILED
    err = capsys.readouterr().err
    assert "budgets.toml: per_person.daily: Input should be greater than 0" in err
    assert "budgets.toml: per_person.yearly: is not a known setting" in err
    assert api.writes == []


def test_the_stand_in_keeps_an_uncommitted_change_as_a_draft_it_does_not_enforce(
    api: LocalCloudflareApi,
) -> None:
    account = api.account
    account.add_dashboard_gateway(GATEWAY)
    made = account.on_gw_policy_create(FOREIGN, {}, GATEWAY)
    assert account.enforced(GATEWAY) == []
    assert account.on_gw_policies(None, {"includeStaging": "true"}, GATEWAY)[0]["staging"]
    with pytest.raises(ApiError) as refused:  # only a committed policy can be updated
        account.on_gw_policy_put({"name": "x"}, {"commit": "true"}, GATEWAY, made["id"])
    assert refused.value.status == 404
    bad = {**FOREIGN, "action": {"type": "limit", "amount": 5, "period": "yearly"}}
    with pytest.raises(ApiError, match="period"):
        account.on_gw_policy_create(bad, {"commit": "true"}, GATEWAY)
