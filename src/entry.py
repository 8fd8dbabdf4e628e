"""The Worker entrypoint: hands each event to the platform adapter."""

from typing import Any

from workers import WorkerEntrypoint

from workers_adapter import handle_fetch, handle_scheduled


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Any:
        return await handle_fetch(request, self.env, self.ctx)

    async def scheduled(self, controller: Any, env: Any = None, ctx: Any = None) -> None:
        # The runtime's own `env` argument is None for a cron event (or absent when the
        # event comes over a service binding); the bindings are always on self.env.
        await handle_scheduled(self.env)
