"""The Worker entrypoint: hands each event to the platform adapter."""

from typing import Any

from workers import WorkerEntrypoint

from workers_adapter import handle_fetch


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Any:
        return await handle_fetch(request, self.env, self.ctx)
