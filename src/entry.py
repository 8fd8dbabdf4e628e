"""The Worker entrypoint: hands each event to the platform adapter."""

from typing import Any

from workers import WorkerEntrypoint

from workers_adapter import handle_fetch, handle_scheduled


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Any:
        return await handle_fetch(request, self.env, self.ctx)

    async def scheduled(self, controller: Any, env: Any, ctx: Any) -> None:
        await handle_scheduled(env)
