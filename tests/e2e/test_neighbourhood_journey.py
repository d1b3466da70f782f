"""A resident's journey into their street group, and an organiser's pages, in a real browser.

Every page visited, including those showing form errors, is scanned with axe. Set E2E_SCREENSHOTS to a folder to
also save full-page screenshots of the main pages at desktop and phone widths, for a look by eye.
"""

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Tag, User
from neighbourhoods.models import RSVP, Connection, Event, Group, Membership, Post, Wave
from tests.e2e.conftest import check_page
from tests.factories import (
    EventFactory,
    GroupFactory,
    JoinCodeFactory,
    MembershipFactory,
    PostcodeFactory,
    PostFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-walk-down-clifton-street"
PASSWORD_LABEL = re.compile(r"^Password:?$")
POSTCODE = "CF24 4HQ"
CODE = "K7QM3XTA"
RESIDENT = "Sam at number 12"
NEIGHBOUR = "Priya at number 14"
ORGANISER = "Olu"
GROUP = "Clifton Street neighbours"
PRIVATE_GROUP = "Moira Terrace residents"
EVENT = "Street tea party"
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS")


@dataclass
class Street:
    group: Group
    private_group: Group
    event: Event
    resident: User
    neighbour: User
    organiser: User


def make_street() -> Street:
    """A covered postcode with a join-code street group (organiser, a listed neighbour, an event, a code) and a
    members-only group next door that the resident is not in."""
    postcode = PostcodeFactory(
        code=POSTCODE, neighbourhood__name="Plasnewydd", neighbourhood__council__name="Cardiff Council"
    )
    area = postcode.neighbourhood
    group = GroupFactory(
        neighbourhood=area,
        name=GROUP,
        slug="clifton-street",
        streets="Clifton Street, Moira Place",
        about="Neighbours on Clifton Street: bulb planting, a tool library and tea on the green.",
        join_policy="code",
        postcodes=[postcode],
    )
    organiser = UserFactory(email="olu@example.org", password=PASSWORD, profile__display_name=ORGANISER)
    MembershipFactory(group=group, user=organiser, role="organiser", verified_by="founder")
    neighbour = UserFactory(
        email="priya@example.org", password=PASSWORD, profile__display_name=NEIGHBOUR, profile__in_directory=True
    )
    gardening = Tag.objects.create(kind=Tag.Kind.INTEREST, name="Gardening", slug="gardening")
    baking = Tag.objects.create(kind=Tag.Kind.INTEREST, name="Baking", slug="baking")
    tools = Tag.objects.create(kind=Tag.Kind.SKILL, name="Can lend tools", slug="can-lend-tools")
    neighbour.profile.interests.add(gardening, baking)
    neighbour.profile.skills.add(tools)
    MembershipFactory(group=group, user=neighbour)
    JoinCodeFactory(group=group, code=CODE, label="Flyers for Clifton Street", max_uses=40, created_by=organiser)
    PostFactory(group=group, author=neighbour, kind="offer", title="Ladder to lend", body="Ask at number 14.")
    event = EventFactory(
        group=group,
        created_by=organiser,
        title=EVENT,
        starts_at=(timezone.localtime() + timedelta(days=7)).replace(hour=18, minute=30, second=0, microsecond=0),
        description="Bring a cup. **Cake** provided.",
        capacity=30,
        cost="Free",
        step_free=True,
        quiet_space=True,
    )
    private_group = GroupFactory(
        neighbourhood=area, name=PRIVATE_GROUP, slug="moira-terrace", visibility="members", postcodes=[postcode]
    )
    MembershipFactory(group=private_group, role="organiser")
    PostFactory(group=private_group, title="Spare key arrangements")
    resident = UserFactory(email="sam@example.org", password=PASSWORD, profile__display_name=RESIDENT)
    return Street(group, private_group, event, resident, neighbour, organiser)


def sign_in(page, live_server, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()


def exactly(label: str) -> re.Pattern:
    """A field's whole label, with or without the colon Django may put after it."""
    return re.compile(rf"^{re.escape(label)}:?$")


def main(page):
    return page.get_by_role("main")


def group_nav(page):
    return page.get_by_role("navigation", name=f"{GROUP} sections")


def messages(page):
    return page.locator(".messages")


# Paper sizes in PostScript points, as a PDF's MediaBox gives them.
A5_POINTS = (420, 595)
A4_POINTS = (595, 842)


def printed_pages(page) -> list[tuple[int, int]]:
    """The size of each sheet when the page is printed (headless Chromium prints to PDF), using the page's own
    @page sizes."""
    pdf = page.pdf(prefer_css_page_size=True)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(round(float(width)), round(float(height))) for width, height in boxes]


def test_resident_finds_their_street_joins_with_a_code_says_hello_waves_replies_and_saves_the_event(
    page, new_page, live_server
):
    street = make_street()
    sign_in(page, live_server, "sam@example.org")

    # The landing page: a postcode typed any old way is found.
    page.goto(live_server.url)
    check_page(page)
    main(page).get_by_label("Your postcode").fill("cf244hq")
    main(page).get_by_role("button", name="Find my street group").click()
    expect(main(page).get_by_role("heading", level=2)).to_have_text(f"{POSTCODE} is in Plasnewydd")
    expect(main(page)).to_contain_text("Cardiff Council")
    cards = main(page).locator(".card")
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text=GROUP)).to_contain_text("2 members")
    # The members-only group next door shows its name, and no numbers.
    expect(cards.filter(has_text=PRIVATE_GROUP)).to_contain_text("Members-only group")
    expect(cards.filter(has_text=PRIVATE_GROUP)).not_to_contain_text(re.compile(r"\d+ members?"))
    check_page(page, "find")

    # The group's home page asks for the code from the flyer; a wrong code first.
    main(page).get_by_role("link", name=GROUP).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(GROUP)
    check_page(page, "group-home-visitor")
    main(page).get_by_label("Join code").fill("WRONG123")
    main(page).get_by_role("button", name="Join with this code").click()
    expect(messages(page)).to_contain_text("That code is not right")
    check_page(page)
    main(page).get_by_label("Join code").fill(CODE.lower())
    main(page).get_by_role("button", name="Join with this code").click()
    expect(messages(page)).to_contain_text(f"Welcome to {GROUP}!")
    expect(main(page).locator(".badge--verified")).to_have_text("Verified neighbour")
    check_page(page, "group-home-member")
    membership = Membership.objects.get(group=street.group, user=street.resident)
    assert (membership.status, membership.verified_by) == ("active", "code")

    # The notice board: say hello.
    group_nav(page).get_by_role("link", name="Notice board").click()
    expect(main(page)).to_contain_text("Ladder to lend")
    check_page(page, "board")
    main(page).get_by_role("link", name="Write a post").click()
    check_page(page)
    main(page).get_by_label("Hello / introduction").check()
    main(page).get_by_label("Title").fill("Hello from number 12")
    main(page).get_by_label("Message").fill("Hi all, I'm Sam.\n\n- **Happy** to water plants\n- <script>no</script>")
    main(page).get_by_role("button", name="Post it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello from number 12")
    expect(main(page).locator(".post-body strong")).to_have_text("Happy")
    expect(main(page).locator(".post-body")).to_contain_text("<script>no</script>")
    check_page(page, "post-detail")
    assert Post.objects.get(group=street.group, author=street.resident).kind == "hello"

    # The neighbour directory: wave to a neighbour who chose to be listed, filtering by interest first.
    group_nav(page).get_by_role("link", name="Neighbours").click()
    expect(main(page).locator(".person-card").filter(has_text=NEIGHBOUR)).to_contain_text("Can lend tools")
    check_page(page, "directory")
    main(page).get_by_label("Interest").select_option(label="Gardening")
    main(page).get_by_role("button", name="Filter").click()
    expect(main(page).locator(".person-card")).to_have_count(1)
    check_page(page)
    main(page).get_by_role("link", name=f"Wave to {NEIGHBOUR}").click()
    check_page(page, "wave-form")
    main(page).get_by_label("A short message (optional)").fill("Hello from number 12! Fancy a cuppa?")
    main(page).get_by_role("button", name="Send wave").click()
    expect(messages(page)).to_contain_text(f"You waved to {NEIGHBOUR}.")
    check_page(page)

    # Events: going to the tea party, then the calendar file.
    group_nav(page).get_by_role("link", name="Events").click()
    check_page(page, "event-list")
    main(page).get_by_role("link", name=EVENT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(EVENT)
    check_page(page)
    main(page).get_by_role("radio", name="Going", exact=True).check()
    main(page).get_by_role("button", name="Send reply").click()
    expect(messages(page)).to_contain_text("You are going. See you there!")
    expect(main(page).locator(".event-status")).to_have_text("You are going.")
    check_page(page, "event-detail")
    assert RSVP.objects.get(event=street.event, user=street.resident).status == "going"

    with page.expect_download() as download_info:
        main(page).get_by_role("link", name="Download a calendar file (.ics)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    calendar = icalendar.Calendar.from_ical(Path(download.path()).read_bytes())
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["SUMMARY"]) == EVENT
    assert str(entry["URL"]).endswith(f"/groups/{street.group.slug}/events/{street.event.pk}/")
    assert entry.decoded("DTSTART") == street.event.starts_at

    # The neighbour, at their own computer, waves back.
    other = new_page()
    sign_in(other, live_server, "priya@example.org")
    other.get_by_role("banner").get_by_role("link", name="My neighbours").click()
    expect(main(other).locator(".wave")).to_contain_text(f"{RESIDENT} waved to you in {GROUP}")
    expect(main(other).locator(".wave")).to_contain_text("Fancy a cuppa?")
    check_page(other, "neighbours-wave")
    main(other).get_by_role("button", name=f"Wave back to {RESIDENT}").click()
    expect(messages(other)).to_contain_text(f"You and {RESIDENT} are now connected.")
    check_page(other)
    assert Wave.objects.get(sender=street.resident).status == "accepted"
    assert Connection.objects.count() == 1

    # ... and the resident sees them among their neighbours.
    page.get_by_role("banner").get_by_role("link", name="My neighbours").click()
    expect(main(page).get_by_role("heading", name="1 connection")).to_be_visible()
    expect(main(page).locator(".people")).to_contain_text(NEIGHBOUR)
    check_page(page, "neighbours")

    # The members-only group next door: its name and area, and nothing of its content.
    page.goto(live_server.url + street.private_group.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(PRIVATE_GROUP)
    expect(main(page)).to_contain_text("This is a members-only group")
    expect(main(page)).not_to_contain_text("Spare key")
    expect(page.get_by_role("navigation", name=f"{PRIVATE_GROUP} sections").get_by_role("link")).to_have_count(1)
    check_page(page, "private-group")
    response = page.goto(live_server.url + f"/groups/{street.private_group.slug}/board/")
    assert response.status == 404
    expect(main(page)).not_to_contain_text("Spare key")
    check_page(page)


def test_organiser_pages_members_codes_flyers_settings_and_forms_with_mistakes(page, live_server):
    street = make_street()
    MembershipFactory(group=street.group, status="pending", verified_at=None, verified_by="")
    MembershipFactory(group=street.group, verified_at=None, verified_by="")
    sign_in(page, live_server, "olu@example.org")
    page.goto(live_server.url + street.group.get_absolute_url())
    expect(main(page)).to_contain_text("You are an organiser of this group.")
    check_page(page, "group-home-organiser")

    # Members: one asking to join, and the table of members.
    group_nav(page).get_by_role("link", name="Members").click()
    expect(main(page).get_by_role("table")).to_contain_text(NEIGHBOUR)
    check_page(page, "members")

    # Join codes: make one with a mistake first, then the flyers.
    group_nav(page).get_by_role("link", name="Join codes and flyers").click()
    expect(main(page).get_by_role("table")).to_contain_text(CODE)
    check_page(page, "codes")
    main(page).get_by_label("Number of uses").fill("0")
    main(page).get_by_role("button", name="Make code").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(main(page).locator(".error-summary")).to_be_visible()
    check_page(page)
    main(page).get_by_label("Number of uses").fill("25")
    main(page).get_by_role("button", name="Make code").click()
    expect(messages(page)).to_contain_text("is ready to print")
    check_page(page)

    # The flyers, A5 and A4: each prints on one sheet of its own paper size.
    main(page).get_by_role("link", name=f"A5 flyer {CODE}").click()
    flyer = main(page).locator(".flyer")
    expect(flyer).to_contain_text(GROUP)
    expect(flyer.locator(".flyer__code")).to_have_text(CODE)
    expect(flyer.locator(".flyer__url")).to_contain_text(f"/j/{CODE}/")
    expect(flyer.get_by_role("img", name=re.compile(rf"^QR code that opens .*\/j\/{CODE}\/$"))).to_have_count(1)
    check_page(page, "flyer-a5")
    assert printed_pages(page) == [A5_POINTS]
    page.get_by_role("navigation", name="Paper size").get_by_role("link", name="A4 flyer").click()
    expect(page.locator(".flyer--a4")).to_be_visible()
    check_page(page, "flyer-a4")
    assert printed_pages(page) == [A4_POINTS]
    if SCREENSHOTS:
        # The printed sheet, approximately: the width inside the page margins, at 96 pixels to the inch.
        page.emulate_media(media="print")
        for size, width in (("a4", 680), ("a5", 484)):
            page.goto(re.sub(r"size=a\d", f"size={size}", page.url))
            page.set_viewport_size({"width": width, "height": 800})
            page.screenshot(path=Path(SCREENSHOTS) / f"flyer-{size}-print.png", full_page=True)
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1280, "height": 720})

    # Settings, saved with a mistake: the name cannot be empty.
    group_nav(page).get_by_role("link", name="Settings").click()
    expect(main(page).get_by_label("Group name")).to_have_value(GROUP)
    check_page(page, "settings")
    main(page).get_by_label("Group name").fill("")
    main(page).get_by_role("button", name="Save settings").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    check_page(page)

    # Plan an event, first in the past.
    page.goto(live_server.url + f"/groups/{street.group.slug}/events/")
    main(page).get_by_role("link", name="Plan an event").click()
    check_page(page, "event-form")
    yesterday = timezone.localdate() - timedelta(days=1)
    main(page).get_by_label(exactly("Title")).fill("Bulb planting")
    main(page).get_by_label(exactly("Date")).fill(yesterday.isoformat())
    main(page).get_by_label("Start time").fill("10:00")
    main(page).get_by_label("End time").fill("12:00")
    main(page).get_by_label(exactly("Place")).fill("The green outside number 20")
    main(page).get_by_label("Step-free access").check()
    main(page).get_by_role("button", name="Add the event").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(main(page).locator(".error-summary")).to_contain_text("The event must start in the future")
    expect(main(page).get_by_label(exactly("Place"))).to_have_value("The green outside number 20")
    check_page(page, "event-form-error")
    main(page).get_by_label(exactly("Date")).fill((yesterday + timedelta(days=8)).isoformat())
    main(page).get_by_role("button", name="Add the event").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bulb planting")
    expect(main(page).get_by_role("heading", name="Running this event")).to_be_visible()
    check_page(page, "event-detail-organiser")

    # Write a post with nothing in it.
    group_nav(page).get_by_role("link", name="Notice board").click()
    main(page).get_by_role("link", name="Write a post").click()
    main(page).get_by_role("button", name="Post it").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(main(page).locator(".error-summary")).to_contain_text("Give your post a title.")
    check_page(page, "post-form-error")
