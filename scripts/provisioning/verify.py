"""A deployed Worker checked from outside: up, discoverable, open where it must be, and
asking for a sign-in everywhere else."""

from __future__ import annotations

from typing import Any

import httpx

from opencode_proxy.pages import Pages

TIMEOUT_SECONDS = 20.0


def _asks_for_sign_in(response: httpx.Response) -> bool:
    """Access's redirect to its login page, or (no Access in front) the Worker's 401."""
    location = response.headers.get("location", "")
    if response.status_code in (302, 303) and "/cdn-cgi/access/login" in location:
        return True
    return response.status_code == 401


def _json(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; {} for anything else (an HTML page, a redirect)."""
    try:
        value = response.json() if response.status_code == 200 else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def verify(origin: str, public_paths: tuple[str, ...]) -> list[tuple[bool, str]]:
    """(passed, what) per check, in order."""
    checks: list[tuple[bool, str]] = []
    with httpx.Client(base_url=origin, timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:

        def get(path: str) -> httpx.Response | None:
            try:
                return http.get(path, headers={"accept": "application/json"})
            except httpx.HTTPError as exc:
                checks.append((False, f"{path}: unreachable ({type(exc).__name__})"))
                return None

        health = get(Pages.HEALTH)
        if health is not None:
            ok = _json(health).get("status") == "ok"
            checks.append((ok, f"{Pages.HEALTH}: {health.status_code}"))
        discovery = get(Pages.DISCOVERY)
        if discovery is not None:
            document = _json(discovery)
            ok = isinstance(document.get("auth"), dict) and isinstance(document.get("config"), dict)
            checks.append((ok, f"{Pages.DISCOVERY}: {discovery.status_code}, auth and config"))
        for path in public_paths:
            if path in (Pages.HEALTH, Pages.DISCOVERY):
                continue
            answer = get(path)
            if answer is not None:
                checks.append((answer.status_code == 200, f"{path}: {answer.status_code}, open"))
        protected = get(Pages.WHOAMI)
        if protected is not None:
            ok = _asks_for_sign_in(protected)
            checks.append((ok, f"{Pages.WHOAMI}: {protected.status_code}, asks for sign-in"))
    return checks
