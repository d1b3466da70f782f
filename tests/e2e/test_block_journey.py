"""Blocking someone in a real browser: from the directory to the confirmation page, back again without them, then
unblocking them from account settings. Every page visited is scanned with axe."""

import re

import pytest
from playwright.sync_api import expect

from moderation.models import Block
from neighbourhoods.models import Wave
from tests.e2e.conftest import assert_accessible
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-walk-down-clifton-street"


def sign_in(page, live_server, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()


def listed(group, email: str, name: str):
    user = UserFactory(email=email, password=PASSWORD, profile__display_name=name, profile__in_directory=True)
    return MembershipFactory(group=group, user=user)


def test_blocking_from_the_directory_and_unblocking_from_account_settings(page, live_server):
    group = GroupFactory(name="Clifton Street neighbours", slug="clifton-street")
    me = listed(group, "sam@example.org", "Sam at number 12")
    pest = listed(group, "rob@example.org", "Rob at number 3")
    listed(group, "priya@example.org", "Priya at number 14")
    Wave.objects.create(sender=pest.user, recipient=me.user, group=group, message="Open the door!")
    sign_in(page, live_server, "sam@example.org")

    page.goto(live_server.url + "/neighbours/")
    expect(page.get_by_role("link", name="Block Rob at number 3")).to_be_visible()
    assert_accessible(page)

    page.goto(live_server.url + f"/groups/{group.slug}/neighbours/")
    assert_accessible(page)
    page.get_by_role("link", name="Block Rob at number 3").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Block Rob at number 3?")
    assert_accessible(page)
    page.get_by_role("button", name="Yes, block Rob at number 3").click()

    # Back on the directory, without him.
    expect(page.get_by_role("status")).to_contain_text("You have blocked Rob at number 3.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Neighbours in Clifton Street neighbours")
    expect(page.get_by_role("heading", name="Rob at number 3")).to_have_count(0)
    expect(page.get_by_role("heading", name="Priya at number 14")).to_be_visible()
    assert_accessible(page)
    assert Block.objects.filter(blocker=me.user, blocked=pest.user).exists()
    assert not Wave.objects.exists()

    # Trying to block yourself by address is a form error, not a crash.
    page.goto(live_server.url + f"/neighbours/{me.pk}/block/")
    expect(page.get_by_role("alert")).to_contain_text("You cannot block yourself.")
    assert_accessible(page)

    page.goto(live_server.url + "/accounts/profile/")
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="People you have blocked").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People you have blocked")
    assert_accessible(page)
    page.get_by_role("button", name="Unblock Rob at number 3").click()
    expect(page.get_by_role("status")).to_contain_text("You have unblocked Rob at number 3.")
    expect(page.get_by_role("main")).to_contain_text("You have not blocked anyone.")
    assert_accessible(page)
    assert not Block.objects.exists()
