"""A Worker deployed with no settings and no AI binding still answers, and says what is missing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import build_config
from devstack.runtime import LocalWorker


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorker]:
    assert build_config.main([]) == 0
    with LocalWorker(tmp_path_factory.mktemp("bare"), production_vars=False) as running:
        yield running


def test_public_routes_work_without_settings(bare: LocalWorker) -> None:
    assert httpx.get(f"{bare.url}/.well-known/opencode").status_code == 200
    assert httpx.get(f"{bare.url}/healthz").json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/whoami", "/openai/v1/models"])
def test_signed_in_routes_name_the_missing_setting(bare: LocalWorker, path: str) -> None:
    response = httpx.get(f"{bare.url}{path}", headers={"cf-access-token": "a.b.c"})
    assert response.status_code == 500
    assert response.headers["x-proxy-error"] == "config_error"
    assert response.json()["error"]["message"].startswith("ACCESS_TEAM_DOMAIN is not set")
    assert "Traceback" not in response.text
