"""Council partnership pages: who sees and does what, what the public ledger shows (and never shows), and how many
queries each page runs."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from initiatives.models import Backing, CouncilOffer, Initiative, Outcome
from initiatives.services import council as services
from neighbourhoods.models import Group
from tests.factories import (
    CouncilFactory,
    CouncilMembershipFactory,
    CouncilOfferFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    ProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ["visitor", "resident", "member", "lead", "co_organiser", "officer", "council_admin", "officer_elsewhere"]
OFFICERS = {"officer", "council_admin"}
ORGANISERS = {"lead", "co_organiser"}

# Names and addresses that must never appear on officer pages or the ledger.
SECRET_NAME = "Zebedee Quillfeather"
SECRET_EMAIL = "zebedee.quillfeather@example.org"


class Place:
    """A council, a neighbourhood with a public and a members-only group, and an initiative in each."""

    def __init__(self):
        self.council = CouncilFactory(name="Cardiff Council", slug="cardiff")
        self.neighbourhood = NeighbourhoodFactory(council=self.council, name="Splott")
        self.public = GroupFactory(neighbourhood=self.neighbourhood, visibility=Group.Visibility.PUBLIC)
        self.private = GroupFactory(neighbourhood=self.neighbourhood, visibility=Group.Visibility.MEMBERS)
        self.garden = InitiativeFactory(group=self.public, title="Moira Terrace garden", support_count=12)
        self.club = InitiativeFactory(
            group=self.private,
            title="Hidden lunch club",
            summary="Lunch for older neighbours on Tuesdays.",
            description="Secret recipe from number 14.",
            support_count=12,
        )
        for initiative in (self.garden, self.club):
            lead = secret_person()
            InitiativeRoleFactory(initiative=initiative, user=lead, role="lead")
            MembershipFactory(group=initiative.group, user=lead)
        self.officer = CouncilMembershipFactory(council=self.council).user

    def initiative(self, visibility: str) -> Initiative:
        return self.garden if visibility == Group.Visibility.PUBLIC else self.club


def secret_person() -> User:
    user = UserFactory(email=f"{User.objects.count()}.{SECRET_EMAIL}")
    ProfileFactory(user=user)
    Profile.objects.filter(user=user).update(display_name=SECRET_NAME)
    return user


def person(role: str, place: Place, initiative: Initiative) -> User | None:
    if role == "visitor":
        return None
    if role == "resident":
        return UserFactory()
    if role == "member":
        return MembershipFactory(group=initiative.group).user
    if role in ORGANISERS:
        user = MembershipFactory(group=initiative.group).user
        if role == "lead":
            return initiative.roles.get(role="lead").user
        InitiativeRoleFactory(initiative=initiative, user=user, role="co_organiser")
        return user
    if role == "officer":
        return CouncilMembershipFactory(council=place.council, role="officer").user
    if role == "council_admin":
        return CouncilMembershipFactory(council=place.council, role="admin").user
    return CouncilMembershipFactory(council=CouncilFactory(name="Swansea Council")).user


def sign_in(client, user):
    if user is not None:
        client.force_login(user)
    return user


def offers_url(council, name="offers", *args):
    return reverse(f"initiatives:{name}", args=[council.slug, *args])


def approve(place: Place, initiative: Initiative, offer: CouncilOffer, **kwargs) -> Backing:
    lead = initiative.roles.get(role="lead").user
    backing = services.request_offer(by=lead, initiative=initiative, offer=offer, note=kwargs.pop("note", ""))
    return services.approve_backing(officer=place.officer, backing=backing, message=kwargs.pop("message", ""))


# --- Officer pages: the role matrix ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_this_councils_officers_and_admins_open_its_officer_pages(client, role):
    place = Place()
    offer = CouncilOfferFactory(council=place.council)
    sign_in(client, person(role, place, place.garden))
    pages = [
        offers_url(place.council),
        offers_url(place.council, "offer-create"),
        offers_url(place.council, "offer-edit", offer.pk),
        offers_url(place.council, "requests"),
    ]
    for page in pages:
        response = client.get(page)
        if role == "visitor":
            assert response.status_code == 302, page
            assert response["Location"].startswith(reverse("account_login"))
        elif role in OFFICERS:
            assert response.status_code == 200, page
        else:
            # Not one of this council's officers: the same 404 as for a council that does not exist.
            assert response.status_code == 404, page


@pytest.mark.parametrize("role", ROLES)
def test_only_this_councils_officers_act_on_its_offers_and_requests(client, role):
    place = Place()
    offer = CouncilOfferFactory(council=place.council, unlock_supporters=None, title="Skip hire")
    backing = services.request_offer(
        by=place.garden.roles.get(role="lead").user, initiative=place.garden, offer=offer, note=""
    )
    sign_in(client, person(role, place, place.garden))
    close = client.post(offers_url(place.council, "offer-close", offer.pk))
    create = client.post(
        offers_url(place.council, "offer-create"), {"kind": "skip", "title": "Another skip", "description": "A skip."}
    )
    decide = client.post(
        offers_url(place.council, "backing-decide", backing.pk), {f"request{backing.pk}-decision": "approve"}
    )
    backing.refresh_from_db()
    offer.refresh_from_db()
    if role in OFFICERS:
        assert [close.status_code, create.status_code, decide.status_code] == [302, 302, 302]
        assert not offer.is_open
        assert CouncilOffer.objects.filter(title="Another skip", council=place.council).exists()
        assert backing.status == Backing.Status.APPROVED
    else:
        expected = 302 if role == "visitor" else 404
        assert [close.status_code, create.status_code, decide.status_code] == [expected] * 3
        assert offer.is_open
        assert not CouncilOffer.objects.filter(title="Another skip").exists()
        assert backing.status == Backing.Status.REQUESTED


def test_an_unknown_council_is_not_found(client):
    place = Place()
    sign_in(client, place.officer)
    for name in ("offers", "offer-create", "requests", "ledger"):
        assert client.get(reverse(f"initiatives:{name}", args=["nowhere"])).status_code == 404


def test_an_officer_cannot_reach_another_councils_offer_through_their_own_council(client):
    place = Place()
    other = CouncilOfferFactory(council=CouncilFactory(), title="Their grant")
    sign_in(client, place.officer)
    assert client.get(offers_url(place.council, "offer-edit", other.pk)).status_code == 404
    assert client.post(offers_url(place.council, "offer-close", other.pk)).status_code == 404
    assert CouncilOffer.objects.get(pk=other.pk).is_open


# --- Officer pages: what they show ----------------------------------------------------------------------------------


def test_the_offers_page_lists_the_councils_offers_with_request_counts(client):
    place = Place()
    offer = CouncilOfferFactory(council=place.council, title="Tool library loan", unlock_supporters=None)
    CouncilOfferFactory(council=CouncilFactory(), title="Someone else's grant")
    approve(place, place.garden, offer)
    services.request_offer(by=place.club.roles.get(role="lead").user, initiative=place.club, offer=offer, note="")
    sign_in(client, place.officer)
    content = client.get(offers_url(place.council)).content.decode()
    assert "Tool library loan" in content
    assert "Someone else" not in content
    row = content.split("Tool library loan")[1].split("</tr>")[0]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[2:5]] == ["1", "1", "2"]


def test_an_officer_publishes_an_offer_and_bad_input_keeps_what_was_typed(client):
    place = Place()
    sign_in(client, place.officer)
    data = {"kind": "grant", "title": "Planters grant", "description": "For planters.", "amount": "-5"}
    response = client.post(offers_url(place.council, "offer-create"), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<title>Error:" in content
    assert "The value cannot be less than £0." in content
    assert 'value="Planters grant"' in content
    assert not CouncilOffer.objects.exists()

    too_big = client.post(offers_url(place.council, "offer-create"), data | {"amount": "1000000.01"})
    assert "at most £1,000,000" in too_big.content.decode()
    zero = client.post(offers_url(place.council, "offer-create"), data | {"unlock_supporters": "0"})
    assert "at least 1" in zero.content.decode()

    done = client.post(offers_url(place.council, "offer-create"), data | {"amount": "250", "unlock_supporters": "10"})
    assert done.status_code == 302
    offer = CouncilOffer.objects.get()
    assert (offer.title, offer.amount, offer.unlock_supporters, offer.council) == (
        "Planters grant",
        Decimal("250"),
        10,
        place.council,
    )


def test_an_officer_edits_closes_and_reopens_an_offer(client):
    place = Place()
    offer = CouncilOfferFactory(council=place.council, title="Grant", amount=500)
    sign_in(client, place.officer)
    form = client.get(offers_url(place.council, "offer-edit", offer.pk)).content.decode()
    assert 'value="Grant"' in form
    response = client.post(
        offers_url(place.council, "offer-edit", offer.pk),
        {"kind": "venue", "title": "Community hall", "description": "Tuesday evenings.", "amount": ""},
    )
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.kind, offer.title, offer.amount) == ("venue", "Community hall", None)
    client.post(offers_url(place.council, "offer-close", offer.pk))
    assert not CouncilOffer.objects.get(pk=offer.pk).is_open
    again = client.post(offers_url(place.council, "offer-close", offer.pk), follow=True)
    assert "already closed" in again.content.decode()
    client.post(offers_url(place.council, "offer-reopen", offer.pk))
    assert CouncilOffer.objects.get(pk=offer.pk).is_open
    assert client.get(offers_url(place.council, "offer-close", offer.pk)).status_code == 405


def test_requests_page_shows_public_fields_only_and_never_residents(client):
    place = Place()
    offer = CouncilOfferFactory(council=place.council, title="Skip hire", unlock_supporters=10)
    for initiative in (place.garden, place.club):
        lead = initiative.roles.get(role="lead").user
        services.request_offer(by=lead, initiative=initiative, offer=offer, note="For the big clear-up.")
    sign_in(client, place.officer)
    content = client.get(offers_url(place.council, "requests")).content.decode()
    assert "Moira Terrace garden" in content
    assert f'href="{place.garden.get_absolute_url()}"' in content
    # A members-only group's initiative: title, summary, status and supporters; no link, nothing more.
    assert "Hidden lunch club" in content
    assert "Lunch for older neighbours on Tuesdays." in content
    assert f'href="{place.club.get_absolute_url()}"' not in content
    assert "Secret recipe" not in content
    assert place.private.name not in content
    assert "members-only group" in content
    assert "For the big clear-up." in content
    assert SECRET_NAME not in content
    assert SECRET_EMAIL not in content


def test_an_officer_approves_and_declines_from_the_requests_page(client):
    place = Place()
    offer = CouncilOfferFactory(council=place.council, title="Skip hire", unlock_supporters=None)
    garden = services.request_offer(
        by=place.garden.roles.get(role="lead").user, initiative=place.garden, offer=offer, note=""
    )
    club = services.request_offer(
        by=place.club.roles.get(role="lead").user, initiative=place.club, offer=offer, note=""
    )
    sign_in(client, place.officer)
    url = offers_url(place.council, "backing-decide", garden.pk)

    # Declining without a reason: shown again, with the error, nothing changed.
    response = client.post(url, {f"request{garden.pk}-decision": "decline", f"request{garden.pk}-message": ""})
    assert response.status_code == 200
    content = response.content.decode()
    assert "<title>Error:" in content
    assert "Tell the initiative why the council is saying no." in content
    assert Backing.objects.get(pk=garden.pk).status == Backing.Status.REQUESTED

    response = client.post(url, {f"request{garden.pk}-decision": "approve", f"request{garden.pk}-message": "Enjoy!"})
    assert response.status_code == 302
    assert Backing.objects.get(pk=garden.pk).status == Backing.Status.APPROVED

    # Answering again: the request has left the list, and the officer is told why.
    again = client.post(url, {f"request{garden.pk}-decision": "decline", f"request{garden.pk}-message": "Oops"})
    assert "already been answered" in again.content.decode()
    assert Backing.objects.get(pk=garden.pk).status == Backing.Status.APPROVED

    club_url = offers_url(place.council, "backing-decide", club.pk)
    response = client.post(club_url, {f"request{club.pk}-decision": "decline", f"request{club.pk}-message": "Not now."})
    assert response.status_code == 302
    assert Backing.objects.get(pk=club.pk).status == Backing.Status.DECLINED

    # The approved one waits to be taken up.
    page = client.get(offers_url(place.council, "requests")).content.decode()
    assert "Approved, not yet taken up" in page
    client.post(offers_url(place.council, "backing-taken-up", garden.pk))
    assert Backing.objects.get(pk=garden.pk).taken_up_at is not None


def test_an_officer_cannot_answer_another_councils_request_through_their_own_council(client):
    place = Place()
    elsewhere = CouncilFactory()
    initiative = InitiativeFactory(group=GroupFactory(neighbourhood=NeighbourhoodFactory(council=elsewhere)))
    lead = InitiativeRoleFactory(initiative=initiative).user
    offer = CouncilOfferFactory(council=elsewhere, unlock_supporters=None)
    backing = services.request_offer(by=lead, initiative=initiative, offer=offer, note="")
    sign_in(client, place.officer)
    response = client.post(
        offers_url(place.council, "backing-decide", backing.pk), {f"request{backing.pk}-decision": "approve"}
    )
    assert response.status_code == 404
    assert Backing.objects.get(pk=backing.pk).status == Backing.Status.REQUESTED


# --- The initiative's council page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_the_council_page_is_for_those_who_may_see_the_initiative_and_the_form_for_organisers(client, role, visibility):
    place = Place()
    initiative = place.initiative(visibility)
    CouncilOfferFactory(council=place.council, title="Skip hire", unlock_supporters=None)
    sign_in(client, person(role, place, initiative))
    response = client.get(reverse("initiatives:council-support", args=[initiative.slug]))
    sees = visibility == Group.Visibility.PUBLIC or role in {"member", *ORGANISERS}
    assert response.status_code == (200 if sees else 404)
    content = response.content.decode()
    if not sees:
        assert initiative.title not in content
        return
    assert "Skip hire" in content
    assert ("Ask for this offer" in content) == (role in ORGANISERS)
    assert ("Requests waiting for an answer" in content) == (role in OFFICERS)


@pytest.mark.parametrize("role", ROLES)
def test_only_organisers_ask_for_an_offer(client, role):
    place = Place()
    offer = CouncilOfferFactory(council=place.council, unlock_supporters=None)
    sign_in(client, person(role, place, place.garden))
    url = reverse("initiatives:council-request", args=[place.garden.slug, offer.pk])
    response = client.post(url, {f"offer{offer.pk}-note": "For the beds."})
    if role in ORGANISERS:
        assert response.status_code == 302
        assert Backing.objects.get().request_note == "For the beds."
    else:
        assert response.status_code == (302 if role == "visitor" else 403)
        assert not Backing.objects.exists()


def test_the_council_page_shows_what_is_unlocked_and_how_many_more_supporters_are_needed(client):
    place = Place()
    Initiative.objects.filter(pk=place.garden.pk).update(support_count=7)
    locked = CouncilOfferFactory(council=place.council, title="Big grant", unlock_supporters=10)
    CouncilOfferFactory(council=place.council, title="Advice session", unlock_supporters=None)
    CouncilOfferFactory(council=place.council, title="Closed offer", is_open=False)
    CouncilOfferFactory(council=CouncilFactory(), title="Another council's offer")
    sign_in(client, place.garden.roles.get(role="lead").user)
    content = client.get(reverse("initiatives:council-support", args=[place.garden.slug])).content.decode()
    assert "Unlocks with 3 more supporters." in content
    assert "Advice session" in content
    assert "Closed offer" not in content
    assert "Another council" not in content
    assert content.count("Ask for this offer") == 1  # the unlocked one only

    # Asking for the locked one anyway: refused with the reason, nothing written.
    url = reverse("initiatives:council-request", args=[place.garden.slug, locked.pk])
    response = client.post(url, {f"offer{locked.pk}-note": "Please"})
    assert response.status_code == 200
    assert "This offer unlocks once 10 neighbours support the initiative. It has 7 so far." in response.content.decode()
    assert not Backing.objects.exists()


def test_an_organiser_asks_withdraws_and_the_answer_shows_with_the_badge(client):
    place = Place()
    offer = CouncilOfferFactory(council=place.council, title="Skip hire", unlock_supporters=10)
    lead = place.garden.roles.get(role="lead").user
    sign_in(client, lead)
    url = reverse("initiatives:council-support", args=[place.garden.slug])
    ask = reverse("initiatives:council-request", args=[place.garden.slug, offer.pk])

    too_long = client.post(ask, {f"offer{offer.pk}-note": "x" * 2001})
    assert too_long.status_code == 200
    assert "<title>Error:" in too_long.content.decode()
    assert not Backing.objects.exists()

    assert client.post(ask, {f"offer{offer.pk}-note": "For the clear-up."}).status_code == 302
    backing = Backing.objects.get()
    page = client.get(url).content.decode()
    assert "Waiting for the council's answer." in page
    assert "Ask for this offer" not in page

    client.post(reverse("initiatives:council-withdraw", args=[place.garden.slug, backing.pk]))
    assert Backing.objects.get(pk=backing.pk).status == Backing.Status.WITHDRAWN

    client.post(ask, {f"offer{offer.pk}-note": "Again, please."})
    again = Backing.objects.get(status="requested")
    services.approve_backing(officer=place.officer, backing=again, message="Delivered Friday.")
    page = client.get(url).content.decode()
    assert "Backed by Cardiff Council" in page
    assert "Delivered Friday." in page
    client.post(reverse("initiatives:council-taken-up", args=[place.garden.slug, again.pk]))
    assert Backing.objects.get(pk=again.pk).taken_up_at is not None

    # Visitors see the backing, not the notes between the initiative and the council.
    client.logout()
    public = client.get(url).content.decode()
    assert "Backed by Cardiff Council" in public
    assert "Delivered Friday." not in public
    assert "Again, please." not in public


# --- The public ledger ----------------------------------------------------------------------------------------------


def test_the_ledger_is_public_and_lists_approved_backings_only(client):
    place = Place()
    grant = CouncilOfferFactory(council=place.council, title="Garden grant", amount=500, unlock_supporters=None)
    skip = CouncilOfferFactory(council=place.council, title="Skip hire", amount=None, unlock_supporters=None)
    hall = CouncilOfferFactory(council=place.council, title="Hall hire", amount=120, unlock_supporters=None)
    approve(place, place.garden, grant)
    approve(place, place.club, hall)
    lead = place.garden.roles.get(role="lead").user
    services.request_offer(by=lead, initiative=place.garden, offer=skip, note="Waiting")
    declined = services.request_offer(by=lead, initiative=place.garden, offer=hall, note="")
    services.decline_backing(officer=place.officer, backing=declined, message="No.")
    other = CouncilFactory()
    CouncilOfferFactory(council=other, title="Elsewhere grant")

    response = client.get(reverse("initiatives:ledger", args=[place.council.slug]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Garden grant" in content
    assert content.count("Hall hire") == 1  # the approved one, not the declined one
    assert "Skip hire" not in content
    assert "Elsewhere" not in content
    assert f'<a href="{place.garden.get_absolute_url()}">Moira Terrace garden</a>' in content
    # Members-only: no title, no link, no content.
    assert "A community initiative in Splott" in content
    assert "Hidden lunch club" not in content
    assert "Lunch for older neighbours" not in content
    assert place.club.get_absolute_url() not in content
    # Totals: two backings worth £620.
    assert "<dt>Initiatives backed</dt><dd>2</dd>" in content
    assert "<dt>Value handed over</dt><dd>£620</dd>" in content
    assert SECRET_NAME not in content
    assert SECRET_EMAIL not in content
    assert place.officer.email not in content


def test_the_ledger_shows_what_came_of_it_for_public_initiatives_only(client):
    place = Place()
    offer = CouncilOfferFactory(council=place.council, title="Garden grant", amount=500, unlock_supporters=None)
    for initiative in (place.garden, place.club):
        backing = approve(place, initiative, offer)
        services.mark_taken_up(by=place.officer, backing=backing)
        Outcome.objects.create(
            initiative=initiative,
            people_involved=23,
            volunteer_hours=Decimal("140.5"),
            what_changed=f"{initiative.title}: the plot is growing food.",
        )
    content = client.get(reverse("initiatives:ledger", args=[place.council.slug])).content.decode()
    assert content.count("Taken up on") == 2
    assert "23 people involved, 140.5 volunteer hours." in content
    assert "Moira Terrace garden: the plot is growing food." in content
    assert "Hidden lunch club" not in content
    assert content.count("23 people involved") == 1


def test_no_resident_names_or_emails_on_officer_pages_or_the_ledger(client):
    place = Place()
    offer = CouncilOfferFactory(council=place.council, unlock_supporters=None)
    approve(place, place.garden, offer)
    services.request_offer(by=place.club.roles.get(role="lead").user, initiative=place.club, offer=offer, note="")
    sign_in(client, place.officer)
    for url in (
        offers_url(place.council),
        offers_url(place.council, "requests"),
        reverse("initiatives:ledger", args=[place.council.slug]),
    ):
        content = client.get(url).content.decode()
        assert SECRET_NAME not in content, url
        assert SECRET_EMAIL not in content, url


def test_the_whole_journey_request_approve_ledger(client):
    place = Place()
    lead = place.garden.roles.get(role="lead").user
    sign_in(client, place.officer)
    client.post(
        offers_url(place.council, "offer-create"),
        {"kind": "grant", "title": "Seed fund", "description": "Seeds.", "amount": "300", "unlock_supporters": "10"},
    )
    offer = CouncilOffer.objects.get()
    client.force_login(lead)
    client.post(
        reverse("initiatives:council-request", args=[place.garden.slug, offer.pk]), {f"offer{offer.pk}-note": "Seeds!"}
    )
    backing = Backing.objects.get()
    client.force_login(place.officer)
    client.post(
        offers_url(place.council, "backing-decide", backing.pk),
        {f"request{backing.pk}-decision": "approve", f"request{backing.pk}-message": "Happy growing."},
    )
    client.logout()
    ledger = client.get(reverse("initiatives:ledger", args=[place.council.slug])).content.decode()
    assert "Seed fund" in ledger
    assert "Moira Terrace garden" in ledger
    assert "£300" in ledger


# --- Query budgets --------------------------------------------------------------------------------------------------


def bulk_initiatives(group: Group, size: int) -> list[Initiative]:
    start = Initiative.objects.count()
    return Initiative.objects.bulk_create(
        [
            Initiative(
                group=group,
                neighbourhood=group.neighbourhood,
                title=f"Bulk initiative {n}",
                slug=f"bulk-{start + n}",
                summary="A bulk initiative.",
                support_count=n,
            )
            for n in range(size)
        ]
    )


def bulk_backings(place: Place, size: int, status: str) -> list[Backing]:
    offer = CouncilOfferFactory(council=place.council, amount=100)
    now = timezone.now()
    initiatives = bulk_initiatives(place.public, size // 2) + bulk_initiatives(place.private, size - size // 2)
    backings = Backing.objects.bulk_create(
        [
            Backing(
                offer=offer,
                initiative=i,
                status=status,
                request_note="Please.",
                decided_at=now if status == "approved" else None,
            )
            for i in initiatives
        ]
    )
    if status == "approved":
        Outcome.objects.bulk_create(
            [
                Outcome(initiative=i, people_involved=3, volunteer_hours=Decimal("4"), what_changed="Tidier.")
                for i in initiatives[::2]
            ]
        )
    return backings


@pytest.mark.parametrize("size", [5, 100])
def test_the_offers_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    place = Place()
    offers = CouncilOffer.objects.bulk_create(
        [CouncilOffer(council=place.council, kind="grant", title=f"Offer {n}", description="x") for n in range(size)]
    )
    initiatives = bulk_initiatives(place.public, 3)
    Backing.objects.bulk_create([Backing(offer=o, initiative=i) for o in offers for i in initiatives])
    sign_in(client, place.officer)
    # session, user, council, officer check, count, page
    with django_assert_max_num_queries(6):
        response = client.get(offers_url(place.council))
    assert response.content.decode().count("<tr>") == min(size, 20) + 1


@pytest.mark.parametrize("size", [5, 100])
def test_the_requests_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    place = Place()
    bulk_backings(place, size, "requested")
    bulk_backings(place, size, "approved")
    sign_in(client, place.officer)
    # session, user, council, officer check, count, page, approved-not-taken-up
    with django_assert_max_num_queries(7):
        response = client.get(offers_url(place.council, "requests"))
    assert response.content.decode().count('class="request"') == min(size, 20)


@pytest.mark.parametrize("size", [5, 100])
def test_the_ledger_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    place = Place()
    bulk_backings(place, size, "approved")
    # council, count, page, totals (a visitor: no session, no user, not an officer)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("initiatives:ledger", args=[place.council.slug]))
    content = response.content.decode()
    assert f"<dt>Initiatives backed</dt><dd>{size}</dd>" in content
    assert content.count("<tr>") == min(size, 25) + 1


@pytest.mark.parametrize("size", [5, 100])
def test_the_council_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    place = Place()
    CouncilOffer.objects.bulk_create(
        [
            CouncilOffer(council=place.council, kind="grant", title=f"Offer {n}", description="x", unlock_supporters=n)
            for n in range(1, size + 1)
        ]
    )
    lead = place.garden.roles.get(role="lead").user
    for offer in CouncilOffer.objects.filter(unlock_supporters__lte=3):
        services.request_offer(by=lead, initiative=place.garden, offer=offer, note="")
    sign_in(client, lead)
    # session, user, initiative, role, officer check, membership, backings, offers
    with django_assert_max_num_queries(8):
        response = client.get(reverse("initiatives:council-support", args=[place.garden.slug]))
    assert response.content.decode().count('class="card offer-card"') == size


# --- Officers must use two-step sign-in -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "admin"])
def test_an_officer_without_two_step_sign_in_is_asked_to_turn_it_on_and_changes_nothing(client, role):
    place = Place()
    offer = CouncilOfferFactory(council=place.council, title="Skip hire")
    officer = CouncilMembershipFactory(council=place.council, role=role, totp=False).user
    sign_in(client, officer)
    for page in (offers_url(place.council), offers_url(place.council, "requests")):
        response = client.get(page)
        assert response.status_code == 403
        content = response.content.decode()
        assert "Turn on two-step sign-in" in content
        assert reverse("mfa_activate_totp") in content
        assert "Skip hire" not in content
    assert client.post(offers_url(place.council, "offer-close", offer.pk)).status_code == 403
    assert CouncilOffer.objects.get(pk=offer.pk).is_open


def test_an_officer_without_two_step_sign_in_elsewhere_still_gets_not_found(client):
    place = Place()
    sign_in(client, CouncilMembershipFactory(totp=False).user)
    assert client.get(offers_url(place.council)).status_code == 404
