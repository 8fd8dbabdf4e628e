"""Main module for the offline runtime: it only dispatches `on_fetch` to Python.

The production entry (`entry.Default`, a `WorkerEntrypoint`) is constructed per
event with the runtime's `env` and `ctx`, exactly as the current runtime does.
The AI binding is remote-only in local dev, so when `OFFLINE_GATEWAY_URL` is set
`env.AI` is a stand-in whose `gateway(id).getUrl(provider)` points at a local
fake gateway; the production code path that asks the binding stays the same.
`/__scheduled` runs the cron handler, which this runtime cannot trigger itself.
"""

import time
from typing import Any
from urllib.parse import urlsplit

from js import Response

from entry import Default

LOCAL_ACCOUNT = "local-account"
SCHEDULED_PATH = "/__scheduled"


class _LocalGateway:
    def __init__(self, base: str, gateway_id: str) -> None:
        self._base = base.rstrip("/")
        self._gateway_id = gateway_id

    async def getUrl(self, provider: str) -> str:
        return f"{self._base}/v1/{LOCAL_ACCOUNT}/{self._gateway_id}/{provider}"


class _LocalAi:
    def __init__(self, base: str) -> None:
        self._base = base

    def gateway(self, gateway_id: str) -> _LocalGateway:
        return _LocalGateway(self._base, gateway_id)


class _OfflineEnv:
    """The runtime's env, with `AI` replaced by the local stand-in."""

    def __init__(self, env: Any, gateway_url: str) -> None:
        self._env = env
        self.AI = _LocalAi(gateway_url)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


class _Controller:
    """What a cron trigger hands `scheduled()`."""

    cron = "0 * * * *"
    type = "scheduled"

    def __init__(self) -> None:
        self.scheduledTime = int(time.time() * 1000)


async def on_fetch(request: Any, env: Any, ctx: Any) -> Any:
    gateway_url = getattr(env, "OFFLINE_GATEWAY_URL", None)
    if gateway_url:
        env = _OfflineEnv(env, gateway_url)
    if urlsplit(str(request.url)).path == SCHEDULED_PATH:
        # This runtime never dispatches cron events to Python; a local request stands in.
        await Default(ctx, env).scheduled(_Controller(), env, ctx)
        return Response.new("scheduled() ran\n")
    return await Default(ctx, env).fetch(request)
