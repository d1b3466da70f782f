"""Browser journeys: headless Chromium (Debian's own build) driven by Playwright's sync API against a live server.

Every page a journey visits is scanned with axe; `assert_accessible` fails the test on any WCAG 2.2 AA violation.
"""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect, sync_playwright

# Playwright's sync API keeps an event loop running in the main thread, which makes Django's async-safety check
# refuse the database calls pytest-django makes for the test itself.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
TIMEOUT_MS = 10_000
# A folder to also save full-page screenshots of checked pages in, at desktop and phone widths.
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS")

_axe = Axe()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open_page(browser, *, bypass_csp: bool):
    context = browser.new_context(bypass_csp=bypass_csp, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def page(browser):
    """A page in a fresh browser context that lets the axe script in past our Content-Security-Policy."""
    context, page = _open_page(browser, bypass_csp=True)
    yield page
    context.close()


@pytest.fixture
def strict_page(browser):
    """A page in a fresh browser context that enforces our Content-Security-Policy, as a real browser does."""
    context, page = _open_page(browser, bypass_csp=False)
    yield page
    context.close()


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}")
            summary = node.get("failureSummary")
            if summary:
                lines.extend(f"      {line}" for line in summary.splitlines())
        lines.append(f"    see {violation.get('helpUrl', '')}")
    return "\n".join(lines)


def assert_accessible(page) -> None:
    """Scan the page as it stands with axe and fail on any WCAG 2.0, 2.1 or 2.2 A or AA violation."""
    results = _axe.run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    assert not violations, (
        f"{len(violations)} accessibility violation(s) on {page.url} ({page.title()!r}):\n"
        + describe_violations(violations)
    )


@pytest.fixture
def new_page(browser):
    """Opens more pages, each in its own browser context (its own cookies): a second person at another computer."""
    contexts = []

    def open_another():
        context, page = _open_page(browser, bypass_csp=True)
        contexts.append(context)
        return page

    yield open_another
    for context in contexts:
        context.close()


def check_page(page, screenshot: str | None = None) -> None:
    """One h1 and no axe violations; with E2E_SCREENSHOTS set, also a screenshot at 1280px and 360px wide."""
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert_accessible(page)
    if SCREENSHOTS and screenshot:
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        size = page.viewport_size
        for width in (1280, 360):
            page.set_viewport_size({"width": width, "height": 800})
            page.screenshot(path=folder / f"{screenshot}-{width}.png", full_page=True)
        page.set_viewport_size(size)


def signed_in(page, live_server, user) -> None:
    """The person's session in the browser (two-step sign-in itself is covered by the account journey)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
