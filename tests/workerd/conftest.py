"""The Worker running in the offline runtime (wrangler 3.90.0 / miniflare), one per session,
with a local Access certs endpoint standing in for the team domain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import access_vectors
import build_config
from local_access import LocalAccess
from offline_runtime import OfflineWorker
from support.cpython import AUDIENCE, USER_ID_KEY


@pytest.fixture(scope="session")
def access() -> Iterator[LocalAccess]:
    with LocalAccess(published=[access_vectors.load_keys()["access-1"]]) as running:
        yield running


@pytest.fixture(scope="session")
def worker(
    tmp_path_factory: pytest.TempPathFactory, access: LocalAccess
) -> Iterator[OfflineWorker]:
    assert build_config.main([]) == 0
    variables = {
        "ACCESS_TEAM_DOMAIN": access.origin,
        "ACCESS_AUD": AUDIENCE,
        "USER_ID_KEY": USER_ID_KEY,
    }
    with OfflineWorker(tmp_path_factory.mktemp("worker"), variables=variables) as running:
        yield running
