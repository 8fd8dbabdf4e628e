"""One local stack per session (Worker + stand-ins), shared by every real-client test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import build_config
from devstack.gateway import FakeGateway
from devstack.stack import DevStack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    assert build_config.main([]) == 0
    with DevStack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture
def gateway(stack: DevStack) -> FakeGateway:
    """The stack's fake gateway with nothing seen yet."""
    stack.gateway.seen.clear()
    return stack.gateway


@pytest.fixture
def refusals(stack: DevStack) -> Callable[[], list[dict[str, Any]]]:
    """What the Worker refused since the test began (from its log lines)."""
    start = stack.worker.log_size()

    def since_start() -> list[dict[str, Any]]:
        time.sleep(0.3)  # the runtime's log is written asynchronously
        return stack.worker.refusals(start)

    return since_start
