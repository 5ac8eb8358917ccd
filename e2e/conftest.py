"""Browser tests: pytest-django's live server driven by Playwright's sync API on Debian's chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM would refuse to run there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Static files: the root conftest.py swaps the hashed-manifest storage (DEBUG=0) for plain storage, so the
# live server (which serves /static/ from the source folders) can serve every stylesheet and script.
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@pytest.fixture
def console_messages():
    """Every console message and page error of the test's page, as text (CSP violations show up here)."""
    return []


@pytest.fixture
def page(browser, live_server, console_messages):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", lambda msg: console_messages.append(f"{msg.type}: {msg.text} [{msg.location.get('url', '')}]"))
    page.on("pageerror", lambda exc: console_messages.append(f"pageerror: {exc}"))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot(page):
    """screenshot("name") saves a full-page PNG to e2e/screenshots/name.png (gitignored) and returns its path."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def csp_violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m or "Content-Security-Policy" in m]


def console_errors(messages: list[str]) -> list[str]:
    """Console errors and page errors (the browser's own /favicon.ico request is answered too: it redirects)."""
    return [m for m in messages if m.startswith(("error", "pageerror"))]
