"""The floor: a Python Worker that only forwards each request with `js.fetch`.

Run beside the proxy by benchmarks/run.py; what the proxy costs above this is
its own work (auth, routing, header rewrite, logging).
"""

from typing import Any

import js
from workers import WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Any:
        incoming = request.js_object
        path = js.URL.new(incoming.url).pathname
        return await js.fetch(str(self.env.UPSTREAM) + path, incoming)
