"""The floor plus one runtime step at a time: what each step the proxy's checks need
costs in workerd, whatever Python does around it.

benchmarks/steps.py sends `?step=<name>`; every step ends in the floor's forward.
"""

import json
from typing import Any

import js
from pyodide.ffi import run_sync, to_js
from workers import WorkerEntrypoint

# As many headers as a small proxied request sends on, the gateway's two among them.
HEADERS = [
    ["content-type", "application/json"],
    ["accept", "application/json"],
    ["user-agent", "bench"],
    ["cf-aig-authorization", "Bearer bench-gateway-token"],
    ["cf-aig-metadata", '{"userId":"00000000-0000-8000-8000-000000000000"}'],
]
LINE = {"event": "proxy", "userId": "00000000-0000-8000-8000-000000000000", "status": 200}


def init(headers: Any, body: Any) -> Any:
    """An upstream init as the proxy's adapter builds one: field by field."""
    made = js.Object.new()
    made.method, made.headers, made.body, made.redirect = "POST", headers, body, "manual"
    return made


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Any:
        incoming = request.js_object
        url = js.URL.new(incoming.url)
        step = url.searchParams.get("step")
        target = str(self.env.UPSTREAM) + url.pathname
        if step == "an await":
            await js.Promise.resolve(None)
        elif step == "an await, run_sync instead":
            run_sync(js.Promise.resolve(None))
        elif step == "headers into a dict":
            js.Object.fromEntries(incoming.headers).to_py()
        elif step == "a new init, the request's headers":
            return await js.fetch(target, init(incoming.headers, incoming.body))
        elif step == "a new init, headers from Python":
            return await js.fetch(target, init(to_js(HEADERS), incoming.body))
        elif step == "the body read and forwarded":
            buffer = await incoming.arrayBuffer()
            buffer.to_bytes()
            return await js.fetch(target, init(incoming.headers, buffer))
        elif step == "the body read and forwarded, no copy":
            buffer = await incoming.arrayBuffer()
            return await js.fetch(target, init(incoming.headers, buffer))
        elif step == "the body parsed by the runtime and forwarded":
            buffer = await incoming.arrayBuffer()
            await js.Response.new(buffer).json()
            return await js.fetch(target, init(incoming.headers, buffer))
        elif step == "a log line":
            js.console.log(json.dumps(LINE, separators=(",", ":")))
        elif step != "floor":
            status = to_js({"status": 404}, dict_converter=js.Object.fromEntries)
            return js.Response.new(f"unknown step {step!r}", status)
        return await js.fetch(target, incoming)
