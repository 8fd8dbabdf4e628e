"""`scripts/usage.py` against the Cloudflare API stand-in: AI Gateway's logs, paged as the
API pages them, read back by the attribution the Worker sends; daily rollups that
outlive the logs' retention."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import usage
from devstack.cloudflare_api import LocalCloudflareApi
from spend.logs import GATEWAY_READ, model_name
from support.cpython import MemoryKV
from support.provisioning import ACCOUNT, ROOT

GATEWAY = "opencode"
TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)
ALICE, BOB = "a1" * 16, "b2" * 16


def log(
    day: date,
    *,
    user: str | None,
    group: str | None = "eng",
    client: str = "opencode",
    model: str = "anthropic/claude-sonnet-5",
    provider: str = "anthropic",
    tokens: tuple[int, int] = (1000, 200),
    cost: float | None = 0.01,
    cached: bool = False,
    minute: int = 0,
) -> dict[str, Any]:
    """One log as the API lists it (cloudflare SDK 5.9's LogListResponse)."""
    metadata = {"userId": user, "client": client, "session": "s-1"} if user else None
    if metadata is not None and group is not None:
        metadata["group"] = group
    created = datetime(day.year, day.month, day.day, 9, minute % 60, tzinfo=UTC)
    return {
        "id": f"log-{day}-{user}-{minute}-{model}",
        "cached": cached,
        "created_at": created.isoformat(),
        "duration": 900,
        "model": model,
        "path": "v1/messages",
        "provider": provider,
        "success": True,
        "tokens_in": tokens[0],
        "tokens_out": tokens[1],
        "cost": cost,
        "metadata": json.dumps(metadata) if metadata is not None else None,
        "status_code": 200,
    }


@pytest.fixture
def gateway(api: LocalCloudflareApi) -> list[dict[str, Any]]:
    api.account.gateways[GATEWAY] = {"id": GATEWAY}
    logs: list[dict[str, Any]] = []
    api.account.logs[GATEWAY] = logs
    return logs


def run(*args: str, rollups: Path) -> tuple[int, str]:
    out = rollups.parent / "out.txt"
    settings = ["--account", ACCOUNT, "--gateway-id", GATEWAY, "--rollups", str(rollups)]
    code = usage.main([*args, *settings, "--out", str(out)])
    return code, out.read_text() if out.exists() else ""


def test_a_report_totals_every_page_per_person_and_names_models_one_way(
    gateway: list[dict[str, Any]], tmp_path: Path
) -> None:
    # 120 requests: three pages of 50, the last short; old and new model names.
    for minute in range(60):
        gateway.append(log(YESTERDAY, user=ALICE, minute=minute))
        gateway.append(
            log(YESTERDAY, user=BOB, model="gpt-5", provider="openai", cost=0.02, minute=minute)
        )
    code, text = run(
        "report",
        "--since",
        YESTERDAY.isoformat(),
        "--by",
        "user,model",
        "--format",
        "json",
        rollups=tmp_path / "rollups",
    )
    assert code == 0
    report = json.loads(text)
    rows = {(row["user"], row["model"]): row for row in report["rows"]}
    assert set(rows) == {(ALICE, "anthropic/claude-sonnet-5"), (BOB, "openai/gpt-5")}
    assert rows[(BOB, "openai/gpt-5")]["requests"] == 60
    assert rows[(BOB, "openai/gpt-5")]["cost"] == pytest.approx(1.2)
    assert report["total"]["requests"] == 120
    assert report["total"]["tokens_in"] == 120_000
    assert report["rows"][0]["user"] == BOB  # the most costly first


def test_missing_cost_cached_hits_and_logs_without_the_workers_metadata_are_told_apart(
    gateway: list[dict[str, Any]], tmp_path: Path
) -> None:
    gateway += [
        log(YESTERDAY, user=ALICE, cost=None, minute=1),  # a model without a known price
        log(YESTERDAY, user=ALICE, cached=True, cost=0, tokens=(0, 0), minute=2),
        log(YESTERDAY, user=None, minute=3),  # not through the Worker
        log(YESTERDAY, user=ALICE, group=None, minute=4),
    ]
    code, text = run(
        "report",
        "--since",
        YESTERDAY.isoformat(),
        "--by",
        "user,group",
        "--format",
        "csv",
        rollups=tmp_path / "rollups",
    )
    assert code == 0
    rows = {(r["user"], r["group"]): r for r in csv.DictReader(io.StringIO(text))}
    assert rows[(ALICE, "eng")]["unpriced"] == "1"
    assert rows[(ALICE, "eng")]["cached"] == "1"
    assert rows[(ALICE, "eng")]["requests"] == "2"
    assert rows[("(none)", "(none)")]["requests"] == "1"
    assert rows[(ALICE, "(none)")]["requests"] == "1"


@pytest.mark.parametrize(
    ("model", "provider", "named"),
    [
        ("claude-sonnet-5", "anthropic", "anthropic/claude-sonnet-5"),
        ("anthropic/claude-sonnet-5", "anthropic", "anthropic/claude-sonnet-5"),
        ("@cf/openai/gpt-oss-120b", "workers-ai", "workers-ai/@cf/openai/gpt-oss-120b"),
        ("workers-ai/@cf/openai/gpt-oss-120b", "workers-ai", "workers-ai/@cf/openai/gpt-oss-120b"),
        ("openai/gpt-5", "compat", "openai/gpt-5"),
    ],
)
def test_old_and_new_model_names_read_alike(model: str, provider: str, named: str) -> None:
    assert model_name(model, provider) == named


def test_a_rollup_outlives_the_logs_and_running_it_twice_changes_nothing(
    api: LocalCloudflareApi, gateway: list[dict[str, Any]], tmp_path: Path
) -> None:
    old = TODAY - timedelta(days=6)
    gateway += [log(old, user=ALICE, minute=m) for m in range(3)]
    rollups = tmp_path / "rollups"
    code, text = run("rollup", "--day", old.isoformat(), rollups=rollups)
    assert (code, text.strip()) == (0, f"{old}: 3 logged requests, rollup written")
    written = (rollups / f"{old}.json").read_bytes()
    code, text = run("rollup", "--day", old.isoformat(), rollups=rollups)
    assert "rollup kept" in text
    assert (rollups / f"{old}.json").read_bytes() == written
    # The retention passes: the API no longer lists that day; the rollup stays as it was.
    api.account.log_retention_days = 5
    code, text = run("rollup", "--day", old.isoformat(), rollups=rollups)
    assert f"{old}: 0 logged requests, rollup kept" in text
    assert (rollups / f"{old}.json").read_bytes() == written
    code, text = run("report", "--since", old.isoformat(), "--format", "json", rollups=rollups)
    assert json.loads(text)["total"]["requests"] == 3
    # Without the rollup the same report has lost the day.
    code, text = run(
        "report", "--since", old.isoformat(), "--format", "json", rollups=tmp_path / "none"
    )
    assert json.loads(text)["total"]["requests"] == 0


def test_a_late_log_is_added_to_a_days_rollup(
    gateway: list[dict[str, Any]], tmp_path: Path
) -> None:
    rollups = tmp_path / "rollups"
    gateway.append(log(YESTERDAY, user=ALICE, minute=1))
    run("rollup", "--day", YESTERDAY.isoformat(), rollups=rollups)
    gateway.append(log(YESTERDAY, user=BOB, minute=2))
    code, text = run("rollup", "--day", YESTERDAY.isoformat(), rollups=rollups)
    assert (code, text.strip()) == (0, f"{YESTERDAY}: 2 logged requests, rollup written")


def test_the_html_report_is_self_contained_and_escapes_what_the_logs_hold(
    gateway: list[dict[str, Any]], tmp_path: Path
) -> None:
    gateway += [
        log(YESTERDAY, user=ALICE, group="<script>alert(1)</script>", minute=1),
        log(TODAY - timedelta(days=2), user=BOB, group="ops", model="gpt-5", provider="openai"),
    ]
    code, text = run(
        "report",
        "--since",
        (TODAY - timedelta(days=2)).isoformat(),
        "--format",
        "html",
        rollups=tmp_path / "rollups",
    )
    assert code == 0
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert not re.search(r"(src|href)=", text)  # no external asset
    assert text.count("<svg") == 3  # per day per group, top people, model mix
    assert 'name="viewport"' in text


def test_a_missing_setting_or_permission_says_what_to_fix(
    api: LocalCloudflareApi,
    gateway: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    assert usage.main(["report", "--since", YESTERDAY.isoformat()]) == 2
    assert "CLOUDFLARE_ACCOUNT_ID" in capsys.readouterr().err
    assert run("report", rollups=tmp_path / "rollups")[0] == 2
    assert "--since" in capsys.readouterr().err
    assert run("report", "--since", "2026-11-01", "--by", "email", rollups=tmp_path / "r")[0] == 2
    assert "--by takes some of user, group, client, model" in capsys.readouterr().err
    backwards = ("report", "--since", "2026-11-02", "--until", "2026-11-01")
    assert run(*backwards, rollups=tmp_path / "r")[0] == 2
    assert "--until 2026-11-01 is before --since 2026-11-02" in capsys.readouterr().err
    api.denied.add(GATEWAY_READ)
    assert run("report", "--since", YESTERDAY.isoformat(), rollups=tmp_path / "rollups")[0] == 1
    err = capsys.readouterr().err
    assert f"the token needs {GATEWAY_READ}" in err
    assert api.token not in err


def three_days_of_a_small_team() -> list[dict[str, Any]]:
    """Two people, two groups, four clients and three models over three days; one
    model without a known price."""
    logs = []
    for back in range(1, 4):
        day = TODAY - timedelta(days=back)
        logs += [log(day, user=ALICE, minute=m) for m in range(4 + back)]
        logs += [
            log(day, user=BOB, group="contractors", client="claude-code", minute=m)
            for m in range(3)
        ]
        logs += [
            log(
                day,
                user=BOB,
                group="contractors",
                client="codex",
                model="gpt-5",
                provider="openai",
                cost=0.03,
                minute=m,
            )
            for m in range(2)
        ]
        logs += [
            log(
                day,
                user=ALICE,
                client="sdk",
                model="openai/gpt-5-mini",
                provider="openai",
                cost=None,
                minute=m + 30,
            )
            for m in range(2)
        ]
    return logs


def test_the_readmes_report_is_what_the_script_prints_for_the_tests_data(
    gateway: list[dict[str, Any]], tmp_path: Path
) -> None:
    gateway += three_days_of_a_small_team()
    since = (TODAY - timedelta(days=3)).isoformat()
    code, text = run(
        "report",
        "--since",
        since,
        "--until",
        YESTERDAY.isoformat(),
        "--by",
        "group,client,model",
        rollups=tmp_path / "rollups",
    )
    assert code == 0
    readme = (ROOT / "README.md").read_text()
    assert f"```\n{text}```" in readme


def test_emails_come_only_with_the_flag_and_from_the_users_map(
    gateway: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway += [log(YESTERDAY, user=ALICE, minute=1), log(YESTERDAY, user=BOB, minute=2)]
    users = MemoryKV({ALICE: "alice@example.com"})  # Bob was never mapped
    monkeypatch.setattr(usage, "namespace", lambda binding, local: users)
    args = ("report", "--since", YESTERDAY.isoformat(), "--format", "csv")
    _, anonymous = run(*args, rollups=tmp_path / "rollups")
    assert "@" not in anonymous
    _, named = run(*args, "--emails", rollups=tmp_path / "rollups")
    people = {row["user"] for row in csv.DictReader(io.StringIO(named))}
    assert people == {f"alice@example.com ({ALICE})", BOB}
