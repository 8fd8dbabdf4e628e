"""Stand-in for a module the current Python Workers runtime provides and the offline one lacks.

Only the names `workers-runtime-sdk` imports are defined; the offline runtime
has no `cloudflare:workers` module, so anything that needs it fails loudly.
"""

from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

cloudflareWorkersModule: Any = None
cloudflareSocketsModule: Any = None


def doAnImport(module_name: str) -> Any:
    raise ImportError(f"{module_name} is not available in the offline runtime")


def patchWaitUntil(ctx: Any) -> None:
    """The offline runtime's ctx.waitUntil already works as is."""


@contextmanager
def patch_env_helper(kwds: Any) -> Generator[None]:
    yield
