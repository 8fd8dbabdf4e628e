"""The Worker running in the current runtime (workerd, Pyodide 314), one per session,
with local stand-ins beside it: Access certs, AI Gateway and models.dev."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from devstack.gateway import FakeGateway
from devstack.models_dev import LocalModelsDev
from devstack.runtime import LocalWorker
from support.cpython import AUDIENCE, GATEWAY_TOKEN, PROXY_USER, USER_ID_KEY, WORKERS_AI_TOKEN
from toolkit.wrangler_config import production_config, with_brake

GATEWAY_ID = "test-gateway"
UNREACHED_LIMIT = 1_000_000_000


@pytest.fixture(scope="session")
def access() -> Iterator[LocalAccess]:
    with LocalAccess(published=[access_vectors.load_keys()["access-1"]]) as running:
        yield running


@pytest.fixture(scope="session")
def session_gateway() -> Iterator[FakeGateway]:
    with FakeGateway(token=GATEWAY_TOKEN, workers_ai_token=WORKERS_AI_TOKEN) as running:
        yield running


@pytest.fixture
def gateway(session_gateway: FakeGateway) -> Iterator[FakeGateway]:
    """The session's fake gateway, with nothing seen, default answers, no cap used up
    and no policy blocking."""
    session_gateway.seen.clear()
    session_gateway.responders.clear()
    yield session_gateway
    session_gateway.responders.clear()
    session_gateway.tripped.clear()
    session_gateway.blocked.clear()


@pytest.fixture(scope="session")
def models_dev() -> Iterator[LocalModelsDev]:
    with LocalModelsDev(b"{}", etag=None, status=503) as running:
        yield running


@pytest.fixture(scope="session")
def token(access: LocalAccess) -> str:
    """A valid Access token for PROXY_USER."""
    return access_vectors.load_keys()["access-1"].sign(
        access_claims(access.origin, AUDIENCE, email=PROXY_USER)
    )


@pytest.fixture
def client(worker: LocalWorker, token: str) -> Iterator[httpx.Client]:
    """An HTTP client for the Worker that sends the token."""
    with httpx.Client(
        base_url=worker.url, headers={"cf-access-token": token}, timeout=30
    ) as session:
        yield session


@pytest.fixture(scope="session")
def worker_settings(access: LocalAccess, models_dev: LocalModelsDev) -> dict[str, str]:
    """The local Worker's settings: every one set, pointing at the stand-ins."""
    return {
        "ACCESS_TEAM_DOMAIN": access.origin,
        "ACCESS_AUD": AUDIENCE,
        "USER_ID_KEY": USER_ID_KEY,
        "AI_GATEWAY_ID": GATEWAY_ID,
        "GATEWAY_TOKEN": GATEWAY_TOKEN,
        "WORKERS_AI_TOKEN": WORKERS_AI_TOKEN,
        "CATALOG_URL": models_dev.url,
        # The tests read the log lines of requests answered 200 too.
        "REQUEST_LOG": "all",
    }


@pytest.fixture(scope="session")
def worker(
    tmp_path_factory: pytest.TempPathFactory,
    session_gateway: FakeGateway,
    worker_settings: dict[str, str],
) -> Iterator[LocalWorker]:
    workdir = tmp_path_factory.mktemp("worker")
    # One person sends every request of the session: the brake (tested in test_groups)
    # must not count them against a minute's limit.
    wrangler = with_brake(production_config(), limit=UNREACHED_LIMIT)
    with LocalWorker(
        workdir, session_gateway.origin, variables=worker_settings, wrangler=wrangler
    ) as running:
        yield running
