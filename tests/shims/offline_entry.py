"""Main module for the offline runtime: it only dispatches `on_fetch` to Python.

The production entry (`entry.Default`, a `WorkerEntrypoint`) is constructed per
event with the runtime's `env` and `ctx`, exactly as the current runtime does.
"""

from typing import Any

from entry import Default


async def on_fetch(request: Any, env: Any, ctx: Any) -> Any:
    return await Default(ctx, env).fetch(request)
