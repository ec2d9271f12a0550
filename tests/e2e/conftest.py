"""Browser tests: Debian's Chromium, headless, driven by Playwright against pytest-django's
live_server. The browser is the system one (/usr/bin/chromium, installed by
scripts/ensure-chromium.sh); Playwright never downloads one here.

Tests run with SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE on. No override is needed:
live_server serves http://localhost, which Chromium treats as a secure context, so it keeps
and sends Secure cookies there."""

import os
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop running in the test thread; Django refuses ORM
# calls from such a thread unless told that this thread does no async work of its own.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} がありません。scripts/ensure-chromium.sh を実行してください。")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Pages in their own browser contexts, so that two people can be logged in at once."""
    contexts = []

    def open_page():
        context = browser.new_context(locale="ja-JP")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(autouse=True)
def _branches(branches_present):
    """Browser tests are transactional (see branches_present in the root conftest)."""
