"""A council admin in a real browser: the dashboard (sorting by a heading, filtering by decile, a bad address), the
levelling-up lens, and the team page (a mistake, then an invitation), then the invited officer accepts; an officer
without two-step sign-in is shown why not. Every page is scanned with axe and has exactly one h1.

Set E2E_SCREENSHOTS to a folder to also save full-page screenshots at desktop and phone widths.
"""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from engagement.models import EngagementSnapshot, OfficerInvite
from engagement.services import team
from neighbourhoods.models import CouncilMembership
from tests.e2e.conftest import check_page, signed_in
from tests.engagement.conftest import snapshot_council
from tests.factories import CouncilMembershipFactory, GroupFactory, NeighbourhoodFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def check(page, screenshot: str | None = None) -> None:
    check_page(page, screenshot and f"council-{screenshot}")


def first_column(page) -> list[str]:
    return page.locator("table.figures tbody th[scope=row]").all_inner_texts()


def test_an_admin_reads_the_dashboard_and_the_lens_and_grows_the_team(page, live_server):
    # Busy neighbourhoods, and one in the most deprived decile where few have joined yet.
    place = snapshot_council(size=16, seed=11, slug="caerwen", values=lambda rng, key: rng.randint(0, 300))
    deprived = NeighbourhoodFactory(council=place.council, name="Tremorfa", imd_decile=1, households=900)
    EngagementSnapshot.objects.create(
        neighbourhood=deprived, date=EngagementSnapshot.objects.values_list("date", flat=True).first(), members=2
    )
    GroupFactory(neighbourhood=deprived, name="Tremorfa Terrace Friends")
    admin = CouncilMembershipFactory(council=place.council, role="admin").user
    signed_in(page, live_server, admin)
    base = f"{live_server.url}/council/{place.council.slug}/"

    page.goto(base)
    check(page, "dashboard")
    main = page.get_by_role("main")
    expect(main.get_by_role("table", name=re.compile("neighbourhoods, with the council's total"))).to_be_visible()
    names = first_column(page)
    assert names == sorted(names, key=str.casefold)

    # Sort by members, highest first, with the heading's link; then the other way.
    main.get_by_role("link", name=re.compile(r"^Members \(sort from highest\)")).click()
    expect(main.locator('th[aria-sort="descending"]')).to_contain_text("Members")
    check(page)
    main.get_by_role("link", name=re.compile(r"^Members \(sort from lowest\)")).click()
    expect(main.locator('th[aria-sort="ascending"]')).to_contain_text("Members")

    # Filter by decile: only those neighbourhoods, the sort kept.
    main.get_by_label(re.compile(r"^Deprivation decile:?$")).select_option(label="1 (most deprived)")
    main.get_by_role("button", name="Show").click()
    expect(main.locator('th[aria-sort="ascending"]')).to_contain_text("Members")
    expect(main.locator("tfoot th")).to_have_text("Selected neighbourhoods")
    assert "Tremorfa" in first_column(page)
    main.locator("details.legend > summary").click()
    expect(main.locator("details.legend")).to_contain_text("means a number from 1 to 9")
    check(page, "dashboard-decile")

    # A made-up address: a note, and the whole table.
    page.goto(base + "?sort=secrets&decile=42")
    expect(page.get_by_role("status")).to_contain_text("cannot be sorted that way")
    check(page)

    # The levelling-up lens.
    page.get_by_role("navigation", name=re.compile("council pages")).get_by_role("link", name="Levelling up").click()
    check(page, "levelling-up")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name=re.compile("^Tremorfa"))).to_be_visible()
    expect(main.get_by_role("link", name="Tremorfa Terrace Friends")).to_be_visible()
    expect(main.get_by_role("table", name=re.compile("by deprivation decile"))).to_be_visible()

    # The team: a mistake first, then an invitation.
    page.get_by_role("navigation", name=re.compile("council pages")).get_by_role("link", name="Team").click()
    check(page, "team")
    main = page.get_by_role("main")
    main.get_by_label(re.compile(r"^Their email address:?$")).fill("not an address")
    main.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check(page)
    main.get_by_label(re.compile(r"^Their email address:?$")).fill("gwen@caerwen.gov.uk")
    main.get_by_label("Officer", exact=True).check()
    main.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to gwen@caerwen.gov.uk.")
    expect(main.get_by_role("region", name="Invitations waiting")).to_contain_text("gwen@caerwen.gov.uk as Officer")
    check(page)


def test_an_invited_officer_accepts_and_is_asked_for_two_step_sign_in(page, live_server):
    place = snapshot_council(size=3, slug="caerwen")
    admin = CouncilMembershipFactory(council=place.council, role="admin").user
    invite = team.invite_officer(admin=admin, council=place.council, email="gwen@caerwen.gov.uk", role="officer")
    link = live_server.url + team.invite_url(invite).removeprefix(settings.SITE_URL)

    page.goto(link)
    check(page, "invite")
    expect(page.get_by_role("main")).to_contain_text("sign in with gwen@caerwen.gov.uk")

    gwen = UserFactory(email="gwen@caerwen.gov.uk")
    signed_in(page, live_server, gwen)
    page.goto(link)
    check(page)
    page.get_by_role("main").get_by_role("button", name="Accept the invitation").click()
    # Officers must use two-step sign-in: the dashboard says so and shows nothing else.
    expect(page.get_by_role("heading", level=1)).to_have_text("Turn on two-step sign-in to see your council's pages")
    expect(page.get_by_role("link", name="Set up an authenticator app")).to_be_visible()
    check(page, "mfa-required")
    assert CouncilMembership.objects.filter(user=gwen, council=place.council).exists()
    assert OfficerInvite.objects.get().accepted_by == gwen

    page.goto(link)
    expect(page.get_by_role("main")).to_contain_text("already been used")
    check(page)
    page.goto(live_server.url + "/council-invites/tampered/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This invitation link does not work")
    check(page)
