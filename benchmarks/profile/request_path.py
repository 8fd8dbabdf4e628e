"""Inside Pyodide (driver.mjs calls `main`): time and profile `workers_adapter.handle_fetch`.

The first request verifies the token (WebCrypto, certs from the stand-in fetch);
every later one is the warm-token path production serves most.
"""

import cProfile
import io
import pstats
import sys
import time
from collections.abc import Awaitable, Callable

import js

sys.path[:0] = ["/worker", "/vendored"]

import workers_adapter  # noqa: E402


class Env:
    """Settings as plain attributes, bindings from the JavaScript stand-ins."""

    def __init__(self) -> None:
        self.__dict__.update(js.profileSettings.to_py())

    def __getattr__(self, name: str) -> object:
        return getattr(js.profileEnv, name)


async def serve(env: Env, count: int) -> None:
    for _ in range(count):
        response = await workers_adapter.handle_fetch(js.makeRequest(), env, js.profileCtx)
        if response.status != 200:
            raise RuntimeError(f"status {response.status}: {await response.text()}")


async def forward(count: int) -> None:
    """The floor's work: the same request, only forwarded."""
    for _ in range(count):
        response = await js.fetch("https://gateway.example/v1/acct/profile", js.makeRequest())
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")


async def per_request_us(run: Callable[[int], Awaitable[None]], count: int) -> float:
    await run(50)  # the proxy's first request verifies the token; the rest warm up
    started = time.perf_counter()
    await run(count)
    return (time.perf_counter() - started) / count * 1e6


async def main(count: int) -> None:
    env = Env()
    proxied = await per_request_us(lambda n: serve(env, n), count)
    bare = await per_request_us(forward, count)
    print(f"Python {sys.version.split()[0]}: {proxied:.0f} µs per request (handle_fetch)")
    own = proxied - bare
    print(f"a bare forward (the floor's js.fetch): {bare:.0f} µs; the proxy's own: {own:.0f} µs")
    profiler = cProfile.Profile()
    profiler.enable()
    await serve(env, count)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())
