"""The page at `/` in a real browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from devstack.dev_token import DEFAULT_EMAIL
from devstack.stack import DEV_USER_ID_KEY, SAMPLE_MODELS_DEV, DevStack
from opencode_proxy.identity import anonymous_id
from opencode_proxy.page import page_commands
from toolkit.worker_files import ROOT

SCREENSHOTS = ROOT / ".local" / "page"
# Characters of a model id a 390 px screen fits on one line.
SHORT_ID = 36
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "Chromium is missing: scripts/bootstrap installs Debian's chromium package"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


def open_page(
    browser: Browser, stack: DevStack, *, token: str | None = None, width: int = 390
) -> Page:
    # JavaScript off and, by default, a phone-sized screen: the page must not need either.
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": width, "height": 844}
    )
    if token is not None:
        context.add_cookies([{"name": "CF_Authorization", "value": token, "url": stack.url}])
    page = context.new_page()
    response = page.goto(f"{stack.url}/")
    assert response is not None
    assert response.status == 200
    return page


def served_models(stack: DevStack) -> list[str]:
    served = httpx.get(f"{stack.url}/.well-known/opencode").json()["config"]["provider"]
    return [f"{pid}/{model}" for pid, p in served.items() for model in p["whitelist"]]


@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "desktop"])
def test_a_person_sees_the_commands_for_this_url_and_every_served_model(
    browser: Browser, stack: DevStack, width: int
) -> None:
    page = open_page(browser, stack, width=width)
    commands = page.locator("pre").all_inner_texts()
    assert commands == [c for group in page_commands(stack.url, stack.auth).values() for c in group]
    cells = page.locator("td code").all_inner_texts()
    for model in served_models(stack):
        assert model in cells, model  # as OpenCode names it
        assert model.split("/", 1)[1] in cells, model  # as the other clients do
    # The page is behind Access: opening it goes through the team's sign-in first.
    status = page.get_by_role("status").inner_text()
    assert anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL) in status
    # Landmarks and headings a screen reader can navigate by; nothing wider than the screen.
    assert page.get_by_role("banner").count() == page.get_by_role("main").count() == 1
    assert page.get_by_role("heading", level=1).count() == 1
    assert page.get_by_role("heading", name="Models you can use").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width < 640:
        # On a phone each id has a line of its own, and one that fits it is never split.
        lines = page.locator("td code").evaluate_all(
            "els => els.map(e => [e.innerText, e.getClientRects().length])"
        )
        assert [text for text, count in lines if len(text) <= SHORT_ID and count > 1] == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"page-{width}.png", full_page=True)


def test_a_signed_in_person_sees_their_anonymous_id_and_not_their_email(
    browser: Browser, stack: DevStack
) -> None:
    page = open_page(browser, stack, token=stack.token())
    status = page.get_by_role("status").inner_text()
    assert anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL) in status
    assert DEFAULT_EMAIL not in page.content()
    page.screenshot(path=SCREENSHOTS / "page-signed-in.png", full_page=True)


def test_a_hostile_model_name_from_models_dev_is_shown_as_text(
    browser: Browser, stack: DevStack
) -> None:
    document = json.loads(SAMPLE_MODELS_DEV.read_text())
    hostile = {**document["openai"]["models"]["gpt-5"], "id": "gpt-5-hostile", "name": HOSTILE}
    document["openai"]["models"]["gpt-5-hostile"] = hostile
    stack.models_dev.serve(json.dumps(document).encode(), etag='"hostile"')
    try:
        cron = httpx.post(f"{stack.url}/cdn-cgi/local/scheduled", timeout=60)
        assert cron.status_code == 200
        page = open_page(browser, stack)
        assert HOSTILE in page.locator("main").inner_text()
        assert page.locator("main img").count() == 0
        assert page.title() != "pwned"
    finally:
        stack.models_dev.serve(SAMPLE_MODELS_DEV.read_bytes(), etag='"v1"')
        httpx.post(f"{stack.url}/cdn-cgi/local/scheduled", timeout=60)
