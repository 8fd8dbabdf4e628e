"""What provisioning reads from the Worker's own route table: the paths Access must
leave open, and the gateway providers that need a stored key."""

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


def _services() -> Services:
    """The services of a Worker built on no platform and an empty config."""
    ports: dict[str, Any] = {f.name: _unavailable for f in dataclasses.fields(Platform)}
    return Services(Discovery({"auth": {}, "config": {}}), Settings({}), Platform(**ports))


def public_paths() -> tuple[str, ...]:
    """`App.public_paths()`: the paths Access leaves open."""
    return tuple(App(_services()).public_paths())


def byok_providers() -> tuple[str, ...]:
    """The AI Gateway providers the Worker forwards to with the gateway's stored keys: every
    route but those whose models run on Workers AI (which takes an API token instead)."""
    routes = _services().provider_routes
    return tuple(r.provider for r in routes if r.workers_ai is None)
