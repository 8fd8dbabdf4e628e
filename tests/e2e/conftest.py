"""One local stack per session (Worker + stand-ins), shared by every real-client test."""

from __future__ import annotations

from collections.abc import Iterator

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
