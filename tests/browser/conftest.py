"""A real browser for the customer-facing pages: Debian's Chromium driven by Playwright.

The pages are served by pytest-django's `live_server` (a threaded server in this process, on
the test database), so the test's settings overrides reach the pages. `PUBLIC_BASE_URL` is the
live server's address: the links the API hands out (checkoutUrl, the portal link) open as is.
The merchant's own site (success and cancel URLs) is answered inside the browser.

Chromium is Debian's (`apt-get install -y chromium`, which `.ci/run` does when it is missing);
Playwright's own browser download is not used. Without it these tests fail and say how to get
it: they are part of the suite, not an optional extra.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CYNCO_CHROMIUM", "/usr/bin/chromium"))
MISSING_CHROMIUM = (
    f"The browser tests (tests/browser/) need Chromium at {CHROMIUM}, and it is not there. "
    "Install Debian's: `sudo apt-get install -y chromium` (or set CYNCO_CHROMIUM to another "
    "Chromium binary). `playwright install` is not needed."
)
TIMEOUT_MS = 10_000
SHOP = "https://shop.example"  # the merchant's site: successUrl and cancelUrl point here
SUCCESS_URL = f"{SHOP}/thanks"
CANCEL_URL = f"{SHOP}/pricing"


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module (each test gets its own context).

    Playwright's sync API keeps an asyncio loop registered as running in this thread while it
    is open, which Django takes for an async context and refuses ORM calls in
    (SynchronousOnlyOperation). The tests and the ORM here are plain synchronous code, so the
    check is switched off (DJANGO_ALLOW_ASYNC_UNSAFE) only while a browser module runs; the
    browser closes at the end of the module, and the rest of the suite keeps the check.
    """
    if not CHROMIUM.exists():
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, settings):
    """The live server's base URL, which the API's links now point at."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture
def browser_errors() -> list[tuple[str, str]]:
    """(message, url) of the script errors, and errors logged to the console, that the browser
    met. The test fails on any left here at its end; a test that expects one checks it and
    removes it. A page the server answered with an error status (an expired link's 410) is the
    test's to check, so the console's note of that status is not counted."""
    return []


@pytest.fixture
def page(chromium, browser_errors):
    """A fresh browser page with its own cookies, on which the merchant's site answers."""
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.route(f"{SHOP}/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body=f"<h1>Shop</h1><p>{route.request.url}</p>"))
    tab = context.new_page()
    error_pages: set[str] = set()
    tab.on("pageerror", lambda error: browser_errors.append((f"script error: {error}", tab.url)))
    tab.on("console", lambda message: message.type == "error" and browser_errors.append(
        (message.text, message.location.get("url", ""))))
    tab.on("response", lambda response: response.request.is_navigation_request()
           and response.status >= 400 and error_pages.add(response.url))
    yield tab
    context.close()
    unexpected = [(text, url) for text, url in browser_errors
                  if not (url in error_pages and text.startswith("Failed to load resource"))]
    assert not unexpected, f"the browser met errors: {unexpected}"
