"""The paths Access must leave open, read from the Worker's own route table."""

from __future__ import annotations

import dataclasses
from typing import Any

from opencode_proxy.discovery import Discovery
from opencode_proxy.ports import Platform
from opencode_proxy.router import App
from opencode_proxy.services import Services
from opencode_proxy.settings import Settings


def _unavailable(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("provisioning reads the Worker's route table, never its platform")


def public_paths() -> tuple[str, ...]:
    """`App.public_paths()` of a Worker built on no platform and an empty config."""
    ports: dict[str, Any] = {f.name: _unavailable for f in dataclasses.fields(Platform)}
    platform = Platform(**ports)
    discovery = Discovery({"auth": {}, "config": {}})
    return tuple(App(Services(discovery, Settings({}), platform)).public_paths())
