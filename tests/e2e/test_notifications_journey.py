"""Notifications in a real browser: the bell in the header, the notifications page grouped by day, reading them,
the notification settings (with a mistake first) and the one-click unsubscribe link from an email, intact and
tampered with.

The notifications are recorded by the real services (a neighbour waves and posts), so their lines and links are
the ones people get. Every page and state visited is scanned with axe and has exactly one h1. Set E2E_SCREENSHOTS to
a folder to also save full-page screenshots of the main pages at desktop and phone widths.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from neighbourhoods.services import board, neighbours
from notifications.models import Category, DeliverySettings, Frequency, Notification, Preference
from notifications.unsubscribe import make_token
from tests.e2e.conftest import check_page
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-walk-down-clifton-street"
PASSWORD_LABEL = re.compile(r"^Password:?$")
GROUP = "Clifton Street neighbours"
RESIDENT = "Sam at number 12"
NEIGHBOUR = "Priya at number 14"
OLD_POST = "Ladder to lend"
NEW_POST = "Bulb planting on Saturday"
# The bell's count is hidden from screen readers, which hear it in words instead.
BELL = re.compile(r"^Notifications(?: \d+ unread)?$")


def header(page):
    return page.get_by_role("banner")


def main(page):
    return page.get_by_role("main")


def bell(page):
    return header(page).get_by_role("link", name=BELL)


def messages(page):
    return page.locator(".messages")


def check(page, screenshot: str | None = None) -> None:
    check_page(page, screenshot and f"notifications-{screenshot}")


def expect_unread(page, count: int) -> None:
    """The bell shows `count` (nothing when it is 0), and its accessible name says it in words."""
    if count:
        expect(bell(page)).to_have_accessible_name(f"Notifications {count} unread")
        expect(bell(page).locator(".count")).to_have_text(str(count))
    else:
        expect(bell(page)).to_have_accessible_name("Notifications")
        expect(bell(page).locator(".count")).to_have_count(0)


def expect_focus_is_visible(page, locator) -> None:
    """Tab to `locator` from the top of the page, as a keyboard user would, and check the focus can be seen."""
    page.locator("body").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            break
    else:
        raise AssertionError("The element cannot be reached with the Tab key")
    style = locator.evaluate(
        """element => {
            const style = getComputedStyle(element);
            return {
                focusVisible: element.matches(":focus-visible"),
                outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
                ring: style.boxShadow !== "none",
            };
        }"""
    )
    assert style == {"focusVisible": True, "outline": True, "ring": True}, style


def test_resident_reads_notifications_changes_settings_and_unsubscribes_from_an_email_link(page, new_page, live_server):
    group = GroupFactory(name=GROUP, slug="clifton-street")
    resident = UserFactory(email="sam@example.org", password=PASSWORD, profile__display_name=RESIDENT)
    neighbour = UserFactory(email="priya@example.org", password=PASSWORD, profile__display_name=NEIGHBOUR)
    MembershipFactory(group=group, user=resident)
    MembershipFactory(group=group, user=neighbour)

    # The neighbour posted yesterday, and today posted again and waved.
    old_post = board.create_post(author=neighbour, group=group, kind="offer", title=OLD_POST, body="At number 14.")
    Notification.objects.filter(recipient=resident).update(created_at=timezone.now() - timedelta(days=1))
    board.create_post(author=neighbour, group=group, kind="notice", title=NEW_POST, body="Bring a trowel.")
    neighbours.send_wave(sender=neighbour, recipient=resident, group=group, message="Fancy a cuppa?")
    assert Notification.objects.filter(recipient=resident, read_at__isnull=True).count() == 3

    # The resident signs in: the bell in the header says three are unread, and shows its focus.
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill("sam@example.org")
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    main(page).get_by_role("button", name="Sign In").click()
    expect(header(page).get_by_role("button", name="Sign out")).to_be_visible()
    expect_unread(page, 3)
    expect_focus_is_visible(page, bell(page))
    check(page)

    # The notifications page: today's first, then yesterday's, each line from its event.
    bell(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    days = main(page).locator(".notification-day")
    expect(days.get_by_role("heading", level=2)).to_have_text(["Today", "Yesterday"])
    expect(days.nth(0).locator(".notification")).to_contain_text(
        [
            f"New: {NEIGHBOUR} waved to you in {GROUP}: “Fancy a cuppa?”",
            f"New: {NEIGHBOUR} posted in {GROUP}: “{NEW_POST}”",
        ]
    )
    expect(days.nth(1).locator(".notification")).to_contain_text(OLD_POST)
    expect(main(page)).to_contain_text("You have 3 unread notifications.")
    check(page, "list-unread")

    # Following yesterday's notification opens the post and marks it read.
    days.nth(1).get_by_role("button", name=re.compile(OLD_POST)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(OLD_POST)
    assert page.url == live_server.url + old_post.get_absolute_url()
    expect_unread(page, 2)
    check(page)

    # Back on the notifications page it is an ordinary link now; the other two are still new.
    bell(page).click()
    read = days.nth(1).get_by_role("link", name=re.compile(OLD_POST))
    expect(read).to_have_attribute("href", old_post.get_absolute_url())
    expect(days.nth(0).locator(".notification--unread")).to_have_count(2)
    check(page)

    # Mark all as read: the count leaves the bell and the button goes.
    main(page).get_by_role("button", name="Mark all as read").click()
    expect(messages(page)).to_contain_text("2 notifications marked as read.")
    expect_unread(page, 0)
    expect(main(page).get_by_role("button", name="Mark all as read")).to_have_count(0)
    expect(main(page).locator(".notification--unread")).to_have_count(0)
    check(page, "list-read")
    assert not Notification.objects.filter(recipient=resident, read_at__isnull=True).exists()

    # The settings: waves in a daily email, emails paused, weekly emails on Mondays at 18:00, in Welsh.
    main(page).get_by_role("link", name="Choose how you hear about things").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification settings")
    waves = main(page).get_by_role("group", name=str(Category.NEIGHBOURS.label))
    expect(waves.get_by_role("radio", name="Email me straight away")).to_be_checked()
    check(page, "preferences")
    waves.get_by_role("radio", name="In a daily email").check()
    main(page).get_by_label("Pause all notification emails").check()
    main(page).get_by_label("Day for the weekly email").select_option(label="Monday")
    main(page).get_by_label("Language of emails").select_option(value="cy")
    # Every choice on the page is a valid one, so the mistake is an hour the form has since stopped offering (as a
    # page left open for a long time might send).
    hour = main(page).get_by_label("Time of day for daily and weekly emails")
    hour.evaluate("select => select.add(new Option('25:00', '25', true, true))")
    main(page).get_by_role("button", name="Save notification settings").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = main(page).locator(".error-summary")
    expect(summary.get_by_role("link", name=re.compile(r"^Time of day for daily and weekly emails"))).to_be_visible()
    expect(waves.get_by_role("radio", name="In a daily email")).to_be_checked()
    expect(main(page).get_by_label("Pause all notification emails")).to_be_checked()
    expect(main(page).get_by_label("Day for the weekly email")).to_have_value("0")
    expect(main(page).get_by_label("Language of emails")).to_have_value("cy")
    check(page, "preferences-error")
    assert not Preference.objects.filter(user=resident).exists()
    assert not DeliverySettings.objects.filter(user=resident).exists()

    hour.select_option(label="18:00")
    main(page).get_by_role("button", name="Save notification settings").click()
    # Saved, and the site follows the new language.
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(messages(page)).to_be_visible()
    expect(page.locator("#id_frequency_neighbours_1")).to_be_checked()
    expect(page.locator("#id_paused")).to_be_checked()
    expect(page.locator("#id_digest_hour")).to_have_value("18")
    check(page, "preferences-saved")
    assert Preference.objects.get(user=resident, category=Category.NEIGHBOURS).frequency == Frequency.DAILY
    delivery = DeliverySettings.objects.get(user=resident)
    assert (delivery.paused, delivery.digest_hour, delivery.digest_weekday) == (True, 18, 0)
    resident.profile.refresh_from_db()
    assert resident.profile.language == "cy"

    # An email's unsubscribe link, opened in a browser that is not signed in: a question first, which changes
    # nothing, then the answer.
    mail = new_page()
    link = f"/unsubscribe/{make_token(resident, Category.POSTS)}/"
    response = mail.goto(live_server.url + link)
    assert response.status == 200
    expect(mail.get_by_role("heading", level=1)).to_have_text("Stop these emails?")
    expect(main(mail)).to_contain_text(str(Category.POSTS.label))
    check(mail, "unsubscribe-confirm")
    assert not Preference.objects.filter(user=resident, category=Category.POSTS).exists()
    main(mail).get_by_role("button", name="Stop these emails").click()
    expect(mail.get_by_role("heading", level=1)).to_have_text("You have been unsubscribed")
    expect(main(mail).get_by_role("link", name="Manage all your notification settings")).to_be_visible()
    check(mail, "unsubscribe-done")
    assert Preference.objects.get(user=resident, category=Category.POSTS).frequency == Frequency.IN_APP

    # The same link with one character changed: a 400 page that says what to do, and nothing changes.
    token = make_token(resident, Category.EVENTS)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = mail.goto(live_server.url + f"/unsubscribe/{tampered}/")
    assert response.status == 400
    expect(mail.get_by_role("heading", level=1)).to_have_text("This unsubscribe link does not work")
    check(mail, "unsubscribe-invalid")
    assert not Preference.objects.filter(user=resident, category=Category.EVENTS).exists()
