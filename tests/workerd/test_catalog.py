"""The hourly catalog refresh inside workerd: models.dev -> KV -> discovery."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

import refresh_catalog
from devstack.models_dev import LocalModelsDev
from devstack.runtime import LocalWorker
from opencode_proxy.refresh import FETCH_TIMEOUT_SECONDS

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models_dev.json"
CATALOG_ONLY = {"gpt-4.1-mini", "gpt-5.1-codex", "o3-mini"}


def run_cron(worker: LocalWorker) -> None:
    response = httpx.post(f"{worker.url}/cdn-cgi/local/scheduled", timeout=60)
    assert response.status_code == 200, response.text


def openai_models(worker: LocalWorker) -> dict[str, dict[str, object]]:
    document = httpx.get(f"{worker.url}/.well-known/opencode").json()
    models: dict[str, dict[str, object]] = document["config"]["provider"]["openai"]["models"]
    return models


def test_refresh_serve_survive_a_broken_source_and_revalidate(
    worker: LocalWorker, models_dev: LocalModelsDev
) -> None:
    models_dev.serve(FIXTURE.read_bytes(), etag='"v1"')
    run_cron(worker)
    models = openai_models(worker)
    assert set(models) >= CATALOG_ONLY
    assert models["gpt-5"]["name"] == "GPT-5"
    assert all(entry["options"] == {"store": False} for entry in models.values())
    assert "text-embedding-3-large" not in models
    health = httpx.get(f"{worker.url}/healthz").json()
    # OpenAI's four chat models, and the fixture's one Anthropic model: each config-src
    # provider names the models.dev provider it serves from.
    assert health["catalog"]["models"] == 5
    assert health["catalog"]["fetched_age_seconds"] < 60

    models_dev.serve(b"<html>502 Bad Gateway</html>", etag='"broken"')
    run_cron(worker)
    assert openai_models(worker) == models
    assert "kept the previous catalog: invalid JSON" in worker.log_tail(200)
    refused = httpx.get(f"{worker.url}/healthz").json()["catalog"]["refused"]
    assert "invalid JSON" in refused["reason"]

    models_dev.serve(FIXTURE.read_bytes(), etag='"v1"')
    before = len(models_dev.requests)
    run_cron(worker)
    assert models_dev.requests[before]["if-none-match"] == '"v1"'
    assert openai_models(worker) == models
    assert "refused" not in httpx.get(f"{worker.url}/healthz").json()["catalog"]


def test_an_operator_can_refresh_the_catalog_from_a_laptop(
    worker: LocalWorker, models_dev: LocalModelsDev, capsys: pytest.CaptureFixture[str]
) -> None:
    models_dev.serve(FIXTURE.read_bytes(), etag='"v2"')
    assert refresh_catalog.main(["--local", str(worker.workdir), "--url", models_dev.url]) == 0
    shrunk = json.loads(FIXTURE.read_text())
    shrunk["openai"]["models"] = {"gpt-5": shrunk["openai"]["models"]["gpt-5"]}
    models_dev.serve(json.dumps(shrunk).encode(), etag='"v3"')
    assert refresh_catalog.main(["--local", str(worker.workdir), "--url", models_dev.url]) == 1
    assert "would drop from 4 to 1 models" in capsys.readouterr().out

    document = json.loads(FIXTURE.read_text())
    document["openai"]["models"]["gpt-5.2"] = {
        **document["openai"]["models"]["gpt-5"],
        "name": "GPT-5.2",
    }
    models_dev.serve(json.dumps(document).encode(), etag='"v4"')
    assert refresh_catalog.main(["--local", str(worker.workdir), "--url", models_dev.url]) == 0
    assert "stored 6 models" in capsys.readouterr().out


def test_a_local_refresh_reads_the_stacks_own_document_offline_and_leaves_no_hold(
    worker: LocalWorker, capsys: pytest.CaptureFixture[str]
) -> None:
    # As the README writes it: no --url, no network; the stand-in's document from disk.
    assert refresh_catalog.main(["--local", str(worker.workdir)]) == 0
    assert "kept the previous catalog" not in capsys.readouterr().out
    catalog = httpx.get(f"{worker.url}/healthz").json()["catalog"]
    assert "refused" not in catalog
    assert catalog["models"] > 0


def test_a_models_dev_that_never_answers_is_a_logged_failure_not_a_hung_cron(
    worker: LocalWorker, models_dev: LocalModelsDev
) -> None:
    models_dev.serve(FIXTURE.read_bytes(), etag=None)
    models_dev.stall = FETCH_TIMEOUT_SECONDS + 10
    try:
        started = time.monotonic()
        run_cron(worker)
        assert time.monotonic() - started < FETCH_TIMEOUT_SECONDS + 8
    finally:
        models_dev.stall = 0
    assert "kept the previous catalog: cannot reach" in worker.log_tail(200)
    refused = httpx.get(f"{worker.url}/healthz").json()["catalog"]["refused"]
    assert "cannot reach" in refused["reason"]
