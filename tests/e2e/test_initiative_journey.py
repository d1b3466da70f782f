"""A local initiative from idea to council backing, in a real browser: propose, invite a co-organiser, add a volunteer
role and a need, volunteer, pledge, vote, ask the council for an offer, the officer approves, the ledger shows it.

Every page visited, including a form shown again with a mistake, is scanned with axe and has exactly one h1. Set
E2E_SCREENSHOTS to a folder to also save full-page screenshots of the main pages at desktop and phone widths.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from initiatives.models import Backing, Initiative, InitiativeRole, Pledge, VolunteerSignup, Vote
from neighbourhoods.models import Council, Group
from tests.e2e.conftest import check_page
from tests.e2e.test_account_journey import current_totp_code
from tests.factories import (
    CouncilMembershipFactory,
    CouncilOfferFactory,
    GroupFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    UserFactory,
    activate_totp,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-walk-down-clifton-street"
PASSWORD_LABEL = re.compile(r"^Password:?$")
COUNCIL = "Cardiff Council"
GROUP = "Clifton Street neighbours"
LEAD = "Olu"
CO_ORGANISER = "Priya at number 14"
NEIGHBOUR = "Sam at number 12"
TITLE = "Community garden on Moira Terrace"
ROLE = "Digging the beds"
ASK = "Money for seeds and compost"
OFFER = "Small grant up to £500"
QUESTION = "Shall we plant fruit trees along the fence?"


@dataclass
class Street:
    council: Council
    group: Group
    lead: User
    co_organiser: User
    neighbour: User
    officer: User
    officer_secret: str


def make_street() -> Street:
    """A public street group in a neighbourhood of a council with an officer and an open grant that unlocks once two
    neighbours support an initiative; the group has a lead-to-be and two neighbours."""
    area = NeighbourhoodFactory(name="Plasnewydd", council__name=COUNCIL, council__slug="cardiff")
    council = area.council
    group = GroupFactory(neighbourhood=area, name=GROUP, slug="clifton-street")
    people = {}
    for key, email, name in (
        ("lead", "olu@example.org", LEAD),
        ("co_organiser", "priya@example.org", CO_ORGANISER),
        ("neighbour", "sam@example.org", NEIGHBOUR),
    ):
        people[key] = UserFactory(email=email, password=PASSWORD, profile__display_name=name)
        MembershipFactory(group=group, user=people[key], role="organiser" if key == "lead" else "member")
    officer = UserFactory(email="rhian@cardiff.example.org", password=PASSWORD, profile__display_name="Rhian")
    # Council pages ask officers for two-step sign-in: an authenticator app, turned on with allauth's own helper.
    secret = activate_totp(officer)
    CouncilMembershipFactory(council=council, user=officer, role="officer")
    CouncilOfferFactory(
        council=council,
        title=OFFER,
        description="For community projects that bring neighbours together.",
        eligibility="Initiatives open to everyone on the street.",
        amount=500,
        unlock_supporters=2,
        created_by=officer,
    )
    return Street(council, group, officer=officer, officer_secret=secret, **people)


def sign_in(page, live_server, email: str, *, totp_secret: str | None = None) -> None:
    page.goto(live_server.url + "/accounts/login/")
    check(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign In").click()
    if totp_secret:
        # The second step, with the code the officer's authenticator app shows now.
        code_field = page.get_by_role("main").get_by_label(re.compile(r"^Code:?$"))
        expect(code_field).to_be_visible()
        check(page)
        code_field.fill(current_totp_code(totp_secret))
        page.get_by_role("main").get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()
    check(page)


def exactly(label: str) -> re.Pattern:
    """A field's whole label, with or without the colon Django may put after it."""
    return re.compile(rf"^{re.escape(label)}:?$")


def main(page):
    return page.get_by_role("main")


def nav(page):
    return page.get_by_role("navigation", name=f"{TITLE} sections")


def messages(page):
    return page.locator(".messages")


def h1(page):
    return page.get_by_role("heading", level=1)


def check(page, screenshot: str | None = None) -> None:
    check_page(page, screenshot and f"initiative-{screenshot}")


def test_propose_team_volunteer_pledge_vote_ask_the_council_officer_approves_and_the_ledger_shows_it(
    page, new_page, live_server
):
    street = make_street()

    # The lead proposes the initiative in their street group.
    sign_in(page, live_server, "olu@example.org")
    page.goto(live_server.url + "/initiatives/new/")
    expect(h1(page)).to_have_text("Propose an initiative")
    expect(main(page).get_by_label(GROUP)).to_be_checked()
    check(page, "propose")
    main(page).get_by_label(exactly("Title")).fill(TITLE)
    main(page).get_by_label(exactly("Summary")).fill("Turning the empty plot into a garden for everyone.")
    main(page).get_by_label(exactly("Description")).fill("We need **compost**, tools and people.")
    main(page).get_by_label(exactly("Category")).select_option(label="Green spaces")
    main(page).get_by_label(exactly("Place")).fill("The empty plot behind the library")
    main(page).get_by_role("button", name="Propose the initiative").click()
    expect(h1(page)).to_have_text(TITLE)
    expect(messages(page)).to_contain_text("Your initiative is up.")
    expect(main(page).locator(".user-text strong")).to_have_text("compost")
    check(page)
    initiative = Initiative.objects.get(title=TITLE)
    assert (initiative.group, initiative.status) == (street.group, "idea")

    # The council's grant is locked until two neighbours support the initiative.
    nav(page).get_by_role("link", name="Council support").click()
    offer_card = main(page).locator(".offer-card").filter(has_text=OFFER)
    expect(offer_card).to_contain_text("Unlocks with 2 more supporters.")
    expect(offer_card.get_by_role("button")).to_have_count(0)
    check(page)

    # The lead invites a neighbour to help run it.
    nav(page).get_by_role("link", name="Overview").click()
    check(page)
    main(page).get_by_role("link", name="Manage the team").click()
    check(page)
    main(page).get_by_role("combobox", name="Invite a co-organiser").select_option(label=CO_ORGANISER)
    main(page).get_by_role("button", name="Send the invitation").click()
    expect(messages(page)).to_contain_text(f"We have invited {CO_ORGANISER}.")
    expect(main(page).get_by_role("table")).to_contain_text("Invited to be a co-organiser")
    check(page, "team")

    # The neighbour, at their own computer, accepts from the initiative's page and backs it.
    priya = new_page()
    sign_in(priya, live_server, "priya@example.org")
    priya.goto(live_server.url + initiative.get_absolute_url())
    expect(main(priya).get_by_role("heading", name="You are invited to help run this initiative")).to_be_visible()
    check(priya)
    main(priya).get_by_role("button", name="Accept the invitation").click()
    expect(messages(priya)).to_contain_text("Welcome to the team!")
    check(priya)
    assert InitiativeRole.objects.get(initiative=initiative, user=street.co_organiser).status == "active"
    nav(priya).get_by_role("link", name="Overview").click()
    expect(main(priya).get_by_role("heading", name="Running this initiative")).to_be_visible()
    check(priya)
    main(priya).get_by_role("button", name="Support this initiative").click()
    expect(messages(priya)).to_contain_text("Thank you for supporting this initiative!")
    check(priya)

    # The lead adds a volunteer role with two places ...
    nav(page).get_by_role("link", name="Volunteer").click()
    check(page)
    main(page).get_by_role("link", name="Add a volunteer role").click()
    check(page)
    next_week = timezone.localdate() + timedelta(days=7)
    main(page).get_by_label(exactly("Role")).fill(ROLE)
    main(page).get_by_label("What it involves").fill("Bring gloves. Spades provided.")
    main(page).get_by_label("Number of places").fill("2")
    main(page).get_by_label(exactly("Date")).fill(next_week.isoformat())
    main(page).get_by_label("Start time").fill("10:00")
    main(page).get_by_label("End time").fill("12:00")
    main(page).get_by_role("button", name="Add the role").click()
    expect(messages(page)).to_contain_text("The role has been added.")
    expect(main(page).locator(".volunteer-role")).to_contain_text("2 of 2 places left")
    check(page)

    # ... and £200 it needs.
    nav(page).get_by_role("link", name="What we need").click()
    check(page)
    main(page).get_by_role("link", name="Add something the initiative needs").click()
    check(page)
    main(page).get_by_label("Money", exact=True).check()
    main(page).get_by_label("What is needed").fill(ASK)
    main(page).get_by_label(exactly("Target")).fill("200")
    main(page).get_by_role("button", name="Add it").click()
    expect(messages(page)).to_contain_text("Added. Members can now pledge towards it.")
    expect(main(page).locator(".ask")).to_contain_text("£0 of £200 pledged (0%)")
    check(page)

    # Another neighbour supports it, volunteers and pledges: first £0 by mistake, then £50.
    sam = new_page()
    sign_in(sam, live_server, "sam@example.org")
    sam.goto(live_server.url + initiative.get_absolute_url())
    check(sam)
    main(sam).get_by_label("Add a note (optional)").fill("I can bring a wheelbarrow.")
    main(sam).get_by_role("button", name="Support this initiative").click()
    expect(messages(sam)).to_contain_text("Thank you for supporting this initiative!")
    expect(main(sam).locator(".support-count")).to_have_text("2 neighbours support this")
    expect(main(sam).locator(".supporters")).to_contain_text("I can bring a wheelbarrow.")
    check(sam)

    nav(sam).get_by_role("link", name="Volunteer").click()
    check(sam)
    main(sam).get_by_role("button", name=f"Sign up as {ROLE}").click()
    expect(messages(sam)).to_contain_text(f"You have signed up as {ROLE}.")
    expect(main(sam).locator(".volunteer-role")).to_contain_text("1 of 2 places left")
    check(sam, "volunteer")
    assert VolunteerSignup.objects.filter(role__initiative=initiative, user=street.neighbour).exists()

    nav(sam).get_by_role("link", name="What we need").click()
    check(sam)
    ask_card = main(sam).locator(".ask").filter(has_text=ASK)
    ask_card.get_by_label("Amount in £").fill("0")
    ask_card.get_by_label("Note for the organisers (optional)").fill("Cash on Saturday at the plot.")
    ask_card.get_by_role("button", name=f"Pledge towards {ASK}").click()
    expect(sam).to_have_title(re.compile(r"^Error: "))
    ask_card = main(sam).locator(".ask").filter(has_text=ASK)
    expect(ask_card.locator(".error-summary")).to_be_visible()
    expect(ask_card.get_by_label("Amount in £")).to_have_value("0")
    expect(ask_card.get_by_label("Note for the organisers (optional)")).to_have_value("Cash on Saturday at the plot.")
    check(sam, "asks-error")
    assert not Pledge.objects.exists()
    ask_card.get_by_label("Amount in £").fill("50")
    ask_card.get_by_role("button", name=f"Pledge towards {ASK}").click()
    expect(messages(sam)).to_contain_text(f"You pledged £50 towards {ASK}.")
    expect(main(sam).locator(".ask")).to_contain_text("£50 of £200 pledged (25%)")
    check(sam, "asks")
    assert Pledge.objects.get(user=street.neighbour).amount == Decimal("50")

    # The organisers see who signed up and who pledged what.
    nav(page).get_by_role("link", name="Volunteer").click()
    expect(main(page).locator(".volunteer-role .people")).to_contain_text(NEIGHBOUR)
    check(page, "volunteer-organiser")
    nav(page).get_by_role("link", name="What we need").click()
    expect(main(page).get_by_role("row").filter(has_text=NEIGHBOUR)).to_contain_text("Cash on Saturday at the plot.")
    check(page, "asks-organiser")

    # The lead opens a proposal for the group to decide ...
    nav(page).get_by_role("link", name="Decisions").click()
    check(page)
    main(page).get_by_role("link", name="Open a decision").click()
    check(page)
    expect(main(page).get_by_role("radio", name=re.compile(r"^A proposal"))).to_be_checked()
    main(page).get_by_label(exactly("Question")).fill(QUESTION)
    main(page).get_by_role("button", name="Open the decision").click()
    expect(h1(page)).to_have_text(QUESTION)
    expect(messages(page)).to_contain_text("Your decision is open.")
    check(page)

    # ... and the neighbour agrees, with a reason.
    nav(sam).get_by_role("link", name="Decisions").click()
    check(sam)
    main(sam).get_by_role("link", name=re.compile(r"^Vote now")).click()
    check(sam)
    main(sam).get_by_role("radio", name="Agree", exact=True).check()
    main(sam).get_by_label("Your reason (optional)").fill("Apples for everyone in a few years.")
    main(sam).get_by_role("button", name="Vote", exact=True).click()
    expect(messages(sam)).to_contain_text("Thanks, your vote is counted.")
    expect(main(sam).locator(".event-status")).to_have_text("You voted: Agree")
    expect(main(sam).locator(".decision-reasons")).to_contain_text("Apples for everyone in a few years.")
    check(sam, "decision-detail")
    assert Vote.objects.get(user=street.neighbour).position == "agree"

    # Two neighbours support it now, so the lead can ask the council for its grant.
    nav(page).get_by_role("link", name="Council support").click()
    offer_card = main(page).locator(".offer-card").filter(has_text=OFFER)
    expect(offer_card).to_contain_text("Unlocked: this initiative can ask for it.")
    check(page, "council-support-unlocked")
    offer_card.get_by_label("Why you are asking").fill("Seeds, compost and two raised beds for the plot.")
    offer_card.get_by_role("button", name=re.compile(r"^Ask for this offer")).click()
    expect(messages(page)).to_contain_text(f"Your request has gone to {COUNCIL}.")
    expect(main(page).locator(".backing-list")).to_contain_text("Requested")
    check(page, "council-support-requested")

    # The council's officer approves it with a message.
    officer = new_page()
    sign_in(officer, live_server, "rhian@cardiff.example.org", totp_secret=street.officer_secret)
    officer.goto(live_server.url + f"/council/{street.council.slug}/requests/")
    request = main(officer).locator(".request").filter(has_text=TITLE)
    expect(request).to_contain_text(f"Asks for: {OFFER}")
    expect(request).to_contain_text("Seeds, compost and two raised beds for the plot.")
    check(officer, "council-requests")
    request.get_by_label("Message to the initiative").fill("Happy to help. We will be in touch about the payment.")
    request.get_by_role("button", name=re.compile(r"^Approve")).click()
    expect(messages(officer)).to_contain_text(f"You approved the request. {TITLE} now shows it is backed by {COUNCIL}.")
    expect(main(officer)).to_contain_text("0 requests waiting")
    check(officer)
    backing = Backing.objects.get(initiative=initiative)
    assert (backing.status, backing.decided_by) == ("approved", street.officer)

    # The initiative shows the council's backing, on its page and on its timeline.
    page.reload()
    expect(main(page).locator(".backing-list")).to_contain_text("Happy to help.")
    check(page, "council-support")
    nav(page).get_by_role("link", name="Overview").click()
    expect(main(page).locator(".badge--backed")).to_have_text(f"Backed by {COUNCIL}")
    expect(main(page).locator(".timeline")).to_contain_text(f"{COUNCIL} backed this initiative: {OFFER}")
    check(page, "initiative-detail")

    # Anyone, signed out, sees it on the council's public ledger.
    visitor = new_page()
    visitor.goto(live_server.url + f"/ledger/{street.council.slug}/")
    expect(h1(visitor)).to_have_text(f"{COUNCIL}: community-power ledger")
    row = main(visitor).get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text(OFFER)
    expect(row).to_contain_text("£500")
    expect(row.get_by_role("link", name=TITLE)).to_have_attribute("href", initiative.get_absolute_url())
    expect(main(visitor).locator(".ledger-totals")).to_contain_text("1")
    check(visitor, "ledger")
