"""The Worker running in the offline runtime (wrangler 3.90.0 / miniflare), one per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import build_config
from offline_runtime import OfflineWorker


@pytest.fixture(scope="session")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfflineWorker]:
    assert build_config.main([]) == 0
    with OfflineWorker(tmp_path_factory.mktemp("worker")) as running:
        yield running
