"""A deployed Worker checked from outside: up, discoverable, open where it must be (the
Worker itself answers, a refusal included), and behind Access everywhere else."""

from __future__ import annotations

from typing import Any

import httpx

from opencode_proxy.pages import Pages

TIMEOUT_SECONDS = 20.0


def _asks_for_sign_in(response: httpx.Response) -> bool:
    """Access's redirect to its login page."""
    location = response.headers.get("location", "")
    return response.status_code in (302, 303) and "/cdn-cgi/access/login" in location


def _reaches_the_worker(response: httpx.Response) -> bool:
    """An answer of the Worker's own: a page, or a refusal it names (`x-proxy-error`), as a
    provider route without a token gets; never Access's redirect."""
    return response.status_code == 200 or "x-proxy-error" in response.headers


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

        def get(path: str, accept: str = "application/json") -> httpx.Response | None:
            try:
                return http.get(path, headers={"accept": accept})
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
                ok = _reaches_the_worker(answer)
                checks.append((ok, f"{path}: {answer.status_code}, open"))
        page = get("/", "text/html")
        if page is not None:
            checks.append((_asks_for_sign_in(page), f"/: {page.status_code}, asks for sign-in"))
    return checks
