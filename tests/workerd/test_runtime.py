"""Which runtime runs the Worker, and what its events do to an isolate."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from devstack.gateway import FakeGateway
from devstack.models_dev import LocalModelsDev
from devstack.runtime import LocalWorker
from support import cpython

KEY = access_vectors.load_keys()["access-1"]


def test_the_worker_runs_on_python_3_14_and_pyodide_314(worker: LocalWorker) -> None:
    # Production's compatibility date (2026-11-01) selects Pyodide 314.0.6 / Python 3.14.2.
    runtime = httpx.get(f"{worker.url}/healthz").json()["runtime"]
    assert runtime["python"].startswith("3.14.")
    assert runtime["pyodide"].startswith("314.")


@pytest.fixture(scope="module")
def cron_first(
    tmp_path_factory: pytest.TempPathFactory,
    access: LocalAccess,
    session_gateway: FakeGateway,
    models_dev: LocalModelsDev,
    worker_settings: dict[str, str],
) -> Iterator[LocalWorker]:
    """A Worker whose isolate sees the hourly cron before any request."""
    workdir = tmp_path_factory.mktemp("cron-first")
    # Ready when the socket accepts connections: no request may reach the Worker first.
    with LocalWorker(
        workdir, session_gateway.origin, variables=worker_settings, ready_path=None
    ) as running:
        yield running


def test_a_cron_first_isolate_serves_signed_in_requests(
    cron_first: LocalWorker, access: LocalAccess, models_dev: LocalModelsDev
) -> None:
    models_dev.requests.clear()
    cron = httpx.post(f"{cron_first.url}/cdn-cgi/local/scheduled", timeout=60)
    assert cron.status_code == 200, cron_first.log_tail()
    # The refresh read the configured source, so the settings reached scheduled().
    assert models_dev.requests

    good = KEY.sign(access_claims(access.origin, cpython.AUDIENCE))
    bad = KEY.sign(access_claims(access.origin, "another-application"))
    refused = httpx.get(f"{cron_first.url}/whoami", headers={"cf-access-token": bad})
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["type"] == "invalid_token"
    accepted = httpx.get(f"{cron_first.url}/whoami", headers={"cf-access-token": good})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["kind"] == "user"
