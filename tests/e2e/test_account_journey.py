"""A resident's journey through their account in a real browser, with an accessibility scan on every page."""

import re
import time
from urllib.parse import urlsplit

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "sam@example.org"
DISPLAY_NAME = "Sam at number 12"
PASSWORD = "a-long-walk-down-clifton-street"
# Django puts a colon after each label; a screen reader reads the same name either way.
PASSWORD_LABEL = re.compile(r"^Password:?$")
CONFIRMATION_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")


def current_totp_code(secret: str, *, margin: float = 3.0) -> str:
    """The code an authenticator app shows now, computed with allauth's own helpers.

    Close to the end of a 30-second window the code could expire before the form reaches the server, so then this
    waits for the next window first, as a person would.
    """
    left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left < margin:
        time.sleep(left + 0.1)
    counters = list(yield_hotp_counters_from_time())  # the current window, with allauth's tolerance either side
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def confirmation_path(outbox, to: str) -> str:
    """The path of the confirmation link in the last email to `to`: the live server's port is its own business."""
    for message in reversed(outbox):
        if to in message.to:
            found = CONFIRMATION_LINK.search(message.body)
            if found:
                return urlsplit(found.group(0)).path
    raise AssertionError(f"No confirmation link was sent to {to}; sent: {[m.subject for m in outbox]}")


def header(page):
    return page.get_by_role("banner")


def test_sign_up_confirm_email_turn_on_two_step_sign_in_and_sign_in_again(page, live_server, mailoutbox):
    # Home page, as a visitor.
    page.goto(live_server.url)
    expect(page.locator("html")).to_have_attribute("lang", "en-gb")
    assert_accessible(page)

    # Create an account, first with a mistake: the passwords do not match.
    header(page).get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Display name").fill(DISPLAY_NAME)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD + "-typo")
    page.get_by_role("main").get_by_role("button", name="Sign Up").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_label("Display name")).to_have_value(DISPLAY_NAME)
    expect(page.get_by_label("Email")).to_have_value(EMAIL)
    assert_accessible(page)

    # Fix it: passwords are never sent back, so both are typed again.
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign Up").click()

    # Asked to verify the email address; the link comes by email.
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    assert_accessible(page)
    page.goto(live_server.url + confirmation_path(mailoutbox, EMAIL))
    expect(page.get_by_role("main")).to_contain_text(EMAIL)
    assert_accessible(page)
    page.get_by_role("main").get_by_role("button", name="Confirm").click()

    # Confirmed and signed in: the header greets them by their display name.
    expect(header(page)).to_contain_text(DISPLAY_NAME)
    assert_accessible(page)

    # The account area, then two-step sign-in.
    header(page).get_by_role("link", name=re.compile("Your account")).click()
    expect(page.get_by_label("Display name")).to_have_value(DISPLAY_NAME)
    assert_accessible(page)
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Two-step sign-in").click()
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name=re.compile("Activate|Set up")).click()

    # Confirming the email signed them in without a password, so allauth asks for it before a security change.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    assert_accessible(page)
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Confirm").click()

    # Activate an authenticator app with a code computed from the secret shown on the page.
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert_accessible(page)
    page.get_by_label("Authenticator code").fill(current_totp_code(secret))
    page.get_by_role("main").get_by_role("button", name="Activate").click()

    # Recovery codes are shown straight away, for when the phone is lost.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10
    assert_accessible(page)

    # Sign out from the header.
    header(page).get_by_role("button", name="Sign out").click()
    expect(header(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(header(page)).not_to_contain_text(DISPLAY_NAME)
    assert_accessible(page)

    # Sign in again: email and password first ...
    header(page).get_by_role("link", name="Sign in").click()
    assert_accessible(page)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign In").click()

    # ... then the second step. The code used to activate the app cannot be used again in its 30-second window,
    # so a wrong code first (to check the error), then one of the recovery codes.
    code_field = page.get_by_role("main").get_by_label(re.compile(r"^Code:?$"))
    expect(code_field).to_be_visible()
    assert_accessible(page)
    code_field.fill("000000")
    page.get_by_role("main").get_by_role("button", name="Sign In").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page)
    code_field.fill(codes[0])
    page.get_by_role("main").get_by_role("button", name="Sign In").click()

    expect(header(page)).to_contain_text(DISPLAY_NAME)
    assert_accessible(page)


def test_visitor_pages_are_accessible_in_english_and_welsh_and_keep_to_the_csp(page, strict_page, live_server):
    for path in ("/", "/privacy/", "/accessibility/"):
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        assert_accessible(page)

    response = page.goto(live_server.url + "/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_accessible(page)

    page.goto(live_server.url + "/find/?postcode=NOT+A+POSTCODE")
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("Your postcode")).to_have_value("NOT A POSTCODE")
    assert_accessible(page)

    # The footer's language buttons switch the whole page to Welsh, and back to the same page.
    page.get_by_role("contentinfo").get_by_role("button", name="Cymraeg").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    assert page.url.endswith("/find/?postcode=NOT+A+POSTCODE")
    assert_accessible(page)
    page.goto(live_server.url)
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    assert_accessible(page)

    # With the Content-Security-Policy enforced, nothing on the page is refused.
    messages = []
    strict_page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    strict_page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    for path in ("/", "/accounts/signup/"):
        response = strict_page.goto(live_server.url + path)
        assert response.ok
        assert "content-security-policy" in response.headers  # Playwright lower-cases header names
    refused = [m for m in messages if "content security policy" in m.lower()]
    assert not refused, "\n".join(refused)
