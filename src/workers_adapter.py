"""Platform adapter: the only module that touches the Workers runtime (`js`, `pyodide`).

It turns a runtime request into the core's `Request`, and the core's `Response`
back into a runtime `Response`. Everything else lives in `opencode_proxy`.
"""

from __future__ import annotations

from typing import Any

import js
from pyodide.ffi import to_js

from opencode_proxy.discovery import CompiledConfigError, Discovery
from opencode_proxy.http import Request, Response, error_response
from opencode_proxy.router import App

_app: App | None = None


def _get_app() -> App:
    """One App per isolate, built on first use so a bad build is reported, not fatal."""
    global _app
    if _app is None:
        _app = App(Discovery.from_file())
    return _app


def to_core_request(js_request: Any) -> Request:
    headers = {str(name).lower(): str(value) for name, value in js_request.headers}
    return Request(method=str(js_request.method), url=str(js_request.url), headers=headers)


def to_js_response(response: Response) -> Any:
    init = to_js(
        {"status": response.status, "headers": [list(h) for h in response.headers]},
        dict_converter=js.Object.fromEntries,
    )
    body = to_js(response.body) if response.body else None
    return js.Response.new(body, init)


async def handle_fetch(request: Any) -> Any:
    """Entry point for the Worker's `fetch` event."""
    js_request = getattr(request, "js_object", request)
    try:
        app = _get_app()
    except CompiledConfigError as exc:
        return to_js_response(error_response(500, "config_missing", str(exc)))
    return to_js_response(await app.handle(to_core_request(js_request)))
