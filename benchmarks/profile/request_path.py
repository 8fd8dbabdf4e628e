"""Inside Pyodide (driver.mjs calls `main`): time and profile `workers_adapter.handle_fetch`.

The first request verifies the token (WebCrypto, certs from the stand-in fetch);
every later one is the warm-token path production serves most.
"""

import cProfile
import io
import pstats
import sys
import time

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


async def main(count: int) -> None:
    env = Env()
    await serve(env, 50)  # first request verifies; the rest warm up
    started = time.perf_counter()
    await serve(env, count)
    per_request = (time.perf_counter() - started) / count * 1e6
    print(f"Python {sys.version.split()[0]}: {per_request:.0f} µs per request (handle_fetch)")
    profiler = cProfile.Profile()
    profiler.enable()
    await serve(env, count)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())
