"""An officer makes an API token in a real browser, uses it, and revokes it: the tokens page in every state is
scanned with axe; and the API docs (Swagger UI from our own files) run under our Content-Security-Policy without a
single blocked script or style."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible, signed_in
from tests.engagement.api_support import make_officer
from tests.factories import CouncilFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_officer_makes_uses_and_revokes_a_token(page, live_server):
    council = CouncilFactory(name="Caerwen")
    signed_in(page, live_server, make_officer(council))

    page.goto(f"{live_server.url}/council/{council.slug}/api-tokens/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Caerwen: API tokens")
    expect(page.get_by_role("link", name="API tokens")).to_have_attribute("aria-current", "page")
    assert_accessible(page)

    # A mistake: the error summary, and nothing made.
    page.get_by_role("button", name="Make the token").click()
    expect(page.get_by_role("alert")).to_contain_text("Give the token a name.")
    assert_accessible(page)

    page.get_by_label("Name").fill("Ward reports")
    page.get_by_role("button", name="Make the token").click()
    token = page.get_by_label("Token", exact=True).input_value()
    assert token.startswith("ssk_")
    expect(page.get_by_role("table", name="Your API tokens for Caerwen")).to_contain_text("Ward reports")
    assert_accessible(page)

    answer = page.request.get(
        f"{live_server.url}/api/v1/councils/{council.slug}/metrics/", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 200
    assert "totals" in answer.json()

    page.reload()  # the token is not shown again
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)
    page.get_by_role("button", name=re.compile(r"^Revoke\W+Ward reports$")).click()
    expect(page.get_by_role("status").first).to_contain_text("The token Ward reports no longer works.")
    expect(page.get_by_role("table", name="Your API tokens for Caerwen")).to_contain_text("Revoked on")
    assert_accessible(page)
    answer = page.request.get(
        f"{live_server.url}/api/v1/councils/{council.slug}/metrics/", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 401


def test_the_api_docs_work_under_our_content_security_policy(strict_page, live_server):
    problems = []
    strict_page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    strict_page.on("pageerror", lambda error: problems.append(str(error)))
    strict_page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))

    # Recorded from the first byte: anything our policy blocks, scripts and styles alike.
    strict_page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', event => window.cspViolations.push("
        "event.violatedDirective + ' ' + event.blockedURI));"
    )
    strict_page.goto(f"{live_server.url}/api/docs/")
    expect(strict_page.locator(".opblock")).to_have_count(6)
    expect(strict_page.locator(".info .title")).to_contain_text("Stronger Streets council API")
    strict_page.locator(".opblock-summary").first.click()
    expect(strict_page.locator(".opblock-body").first).to_be_visible()
    violations = strict_page.evaluate("() => window.cspViolations")
    assert violations == []
    assert problems == []
