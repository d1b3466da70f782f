"""Council partnership services: offers, requests and their thresholds, answers, and who hears about them."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier

import pytest
from django.db import connection

from core.exceptions import DomainError
from initiatives.models import Backing, CouncilOffer, Initiative, TimelineEntry
from initiatives.services import council as services
from initiatives.timeline import render
from notifications.models import Category, Notification
from tests.factories import (
    CouncilFactory,
    CouncilMembershipFactory,
    CouncilOfferFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


class Setting:
    """An initiative in a council's area with a lead, a co-organiser, an officer and an admin of that council, and an
    officer of another council."""

    def __init__(self, *, supporters: int = 0, visibility: str = "public"):
        self.council = CouncilFactory(name="Cardiff Council")
        self.group = GroupFactory(neighbourhood=NeighbourhoodFactory(council=self.council), visibility=visibility)
        self.initiative = InitiativeFactory(group=self.group, support_count=supporters, title="Plot garden")
        self.lead = InitiativeRoleFactory(initiative=self.initiative, role="lead").user
        self.co_organiser = InitiativeRoleFactory(initiative=self.initiative, role="co_organiser").user
        self.invited = InitiativeRoleFactory(initiative=self.initiative, role="co_organiser", status="invited").user
        self.member = MembershipFactory(group=self.group).user
        self.officer = CouncilMembershipFactory(council=self.council, role="officer").user
        self.admin = CouncilMembershipFactory(council=self.council, role="admin").user
        self.elsewhere = CouncilMembershipFactory(council=CouncilFactory(name="Swansea Council")).user

    def offer(self, **kwargs) -> CouncilOffer:
        return CouncilOfferFactory(council=self.council, **kwargs)

    def request(self, offer: CouncilOffer, by=None, note: str = "") -> Backing:
        return services.request_offer(by=by or self.lead, initiative=self.initiative, offer=offer, note=note)


def offer_details(**overrides) -> dict:
    details = {
        "kind": "grant",
        "title": "Small grant",
        "description": "Up to £500 for a street project.",
        "eligibility": "",
        "amount": Decimal("500"),
        "unlock_supporters": 10,
    }
    return details | overrides


# --- Offers ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "admin"])
def test_officers_and_council_admins_publish_offers_for_their_council(role):
    s = Setting()
    person = s.officer if role == "officer" else s.admin
    offer = services.publish_offer(officer=person, council=s.council, **offer_details(title="  Skip hire  "))
    assert offer.council == s.council
    assert offer.title == "Skip hire"
    assert offer.is_open
    assert offer.created_by == person


@pytest.mark.parametrize("who", ["elsewhere", "member", "lead"])
def test_nobody_else_publishes_a_councils_offers(who):
    s = Setting()
    with pytest.raises(DomainError, match="Only officers of Cardiff Council"):
        services.publish_offer(officer=getattr(s, who), council=s.council, **offer_details())
    assert not CouncilOffer.objects.exists()


@pytest.mark.parametrize(
    ("amount", "ok"),
    [
        (None, True),
        (Decimal("0"), True),
        (Decimal("1000000"), True),
        (Decimal("-1"), False),
        (Decimal("1000000.01"), False),
    ],
)
def test_an_offers_value_is_between_nothing_and_a_million_pounds(amount, ok):
    s = Setting()
    if ok:
        assert services.publish_offer(officer=s.officer, council=s.council, **offer_details(amount=amount)).pk
    else:
        with pytest.raises(DomainError, match="between £0 and £1,000,000"):
            services.publish_offer(officer=s.officer, council=s.council, **offer_details(amount=amount))
        assert not CouncilOffer.objects.exists()


@pytest.mark.parametrize(("threshold", "ok"), [(None, True), (1, True), (10_000, True), (0, False), (10_001, False)])
def test_an_offers_threshold_is_between_one_and_ten_thousand_supporters_or_none(threshold, ok):
    s = Setting()
    if ok:
        offer = services.publish_offer(
            officer=s.officer, council=s.council, **offer_details(unlock_supporters=threshold)
        )
        assert offer.unlock_supporters == threshold
    else:
        with pytest.raises(DomainError, match="between 1 and 10,000"):
            services.publish_offer(officer=s.officer, council=s.council, **offer_details(unlock_supporters=threshold))


def test_an_offer_needs_a_kind_a_title_and_a_description():
    s = Setting()
    for bad in ({"kind": "cash"}, {"title": "   "}, {"description": ""}):
        with pytest.raises(DomainError):
            services.publish_offer(officer=s.officer, council=s.council, **offer_details(**bad))
    assert not CouncilOffer.objects.exists()


def test_an_officer_of_another_council_cannot_change_or_close_an_offer():
    s = Setting()
    offer = s.offer(title="Venue hire")
    with pytest.raises(DomainError, match="Only officers of Cardiff Council"):
        services.edit_offer(officer=s.elsewhere, offer=offer, **offer_details(title="Hijacked"))
    with pytest.raises(DomainError, match="Only officers of Cardiff Council"):
        services.close_offer(officer=s.elsewhere, offer=offer)
    offer.refresh_from_db()
    assert offer.title == "Venue hire"
    assert offer.is_open


def test_officers_edit_close_and_reopen_their_offers():
    s = Setting()
    offer = s.offer()
    edited = services.edit_offer(
        officer=s.admin,
        offer=offer,
        **offer_details(title="Bigger grant", amount=Decimal("750"), unlock_supporters=None),
    )
    assert (edited.title, edited.amount, edited.unlock_supporters) == ("Bigger grant", Decimal("750"), None)
    services.close_offer(officer=s.officer, offer=offer)
    assert not CouncilOffer.objects.get(pk=offer.pk).is_open
    with pytest.raises(DomainError, match="already closed"):
        services.close_offer(officer=s.officer, offer=offer)
    services.reopen_offer(officer=s.officer, offer=offer)
    assert CouncilOffer.objects.get(pk=offer.pk).is_open
    with pytest.raises(DomainError, match="already open"):
        services.reopen_offer(officer=s.officer, offer=offer)


def test_once_an_offer_has_backed_someone_its_value_is_fixed_for_the_ledger():
    s = Setting()
    offer = s.offer(amount=500, unlock_supporters=None)
    services.approve_backing(officer=s.officer, backing=s.request(offer), message="")
    with pytest.raises(DomainError, match="value cannot change"):
        services.edit_offer(officer=s.officer, offer=offer, **offer_details(amount=Decimal("5000")))
    assert CouncilOffer.objects.get(pk=offer.pk).amount == Decimal("500")
    # Anything else may still change.
    services.edit_offer(officer=s.officer, offer=offer, **offer_details(title="Grant, renamed", amount=Decimal("500")))
    assert CouncilOffer.objects.get(pk=offer.pk).title == "Grant, renamed"


# --- Requests -------------------------------------------------------------------------------------------------------


def test_an_offer_stays_locked_until_enough_neighbours_support_the_initiative():
    s = Setting(supporters=7)
    offer = s.offer(unlock_supporters=10)
    with pytest.raises(DomainError) as refused:
        s.request(offer)
    assert refused.value.message == "This offer unlocks once 10 neighbours support the initiative. It has 7 so far."
    assert not Backing.objects.exists()
    Initiative.objects.filter(pk=s.initiative.pk).update(support_count=10)
    backing = s.request(offer, note="  For compost and tools.  ")
    assert backing.status == Backing.Status.REQUESTED
    assert backing.request_note == "For compost and tools."
    assert backing.requested_by == s.lead


def test_the_threshold_message_speaks_of_one_neighbour_in_the_singular():
    s = Setting(supporters=0)
    with pytest.raises(DomainError) as refused:
        s.request(s.offer(unlock_supporters=1))
    assert refused.value.message == "This offer unlocks once 1 neighbour supports the initiative. It has 0 so far."


def test_the_threshold_is_checked_against_the_count_in_the_database_not_a_stale_copy():
    s = Setting(supporters=7)
    offer = s.offer(unlock_supporters=10)
    stale = Initiative.objects.get(pk=s.initiative.pk)
    stale.support_count = 12  # what a page loaded earlier might hold
    with pytest.raises(DomainError, match="It has 7 so far"):
        services.request_offer(by=s.lead, initiative=stale, offer=offer, note="")


def test_an_offer_without_a_threshold_can_be_asked_for_straight_away():
    s = Setting(supporters=0)
    assert s.request(s.offer(unlock_supporters=None)).pk


def test_co_organisers_may_ask_too():
    s = Setting()
    assert s.request(s.offer(unlock_supporters=None), by=s.co_organiser).requested_by == s.co_organiser


@pytest.mark.parametrize("who", ["member", "invited", "officer", "elsewhere"])
def test_only_the_lead_and_co_organisers_ask_for_council_support(who):
    s = Setting(supporters=50)
    with pytest.raises(DomainError, match="Only the initiative's lead and co-organisers"):
        s.request(s.offer(), by=getattr(s, who))
    assert not Backing.objects.exists()


def test_an_initiative_asks_only_its_own_council():
    s = Setting(supporters=50)
    other = CouncilOfferFactory(council=CouncilFactory(name="Newport Council"), unlock_supporters=None)
    with pytest.raises(DomainError, match=r"This offer is from another council\. You can ask Cardiff Council"):
        s.request(other)
    assert not Backing.objects.exists()


def test_a_closed_offer_takes_no_new_requests():
    s = Setting(supporters=50)
    with pytest.raises(DomainError, match="closed to new requests"):
        s.request(s.offer(is_open=False))


def test_an_archived_initiative_cannot_ask():
    s = Setting(supporters=50)
    Initiative.objects.filter(pk=s.initiative.pk).update(status="archived")
    with pytest.raises(DomainError, match="archived"):
        s.request(s.offer())


def test_a_note_longer_than_two_thousand_characters_is_refused():
    s = Setting(supporters=50)
    with pytest.raises(DomainError, match="2,000 characters"):
        s.request(s.offer(), note="x" * 2001)


def test_an_initiative_asks_once_while_a_request_waits_and_again_after_a_withdrawal_or_a_no():
    s = Setting(supporters=50)
    offer = s.offer()
    first = s.request(offer)
    with pytest.raises(DomainError, match="already asked for this offer"):
        s.request(offer, by=s.co_organiser)
    assert Backing.objects.count() == 1

    services.withdraw_request(by=s.co_organiser, backing=first)
    assert Backing.objects.get(pk=first.pk).status == Backing.Status.WITHDRAWN
    second = s.request(offer)
    services.decline_backing(officer=s.officer, backing=second, message="The budget has gone this year.")
    third = s.request(offer)
    services.approve_backing(officer=s.officer, backing=third, message="")
    with pytest.raises(DomainError, match="already backs this initiative"):
        s.request(offer)
    assert list(Backing.objects.order_by("pk").values_list("status", flat=True)) == [
        "withdrawn",
        "declined",
        "approved",
    ]


def test_a_request_notifies_the_councils_officers_only():
    s = Setting(supporters=50)
    backing = s.request(s.offer(title="Skip"))
    notified = Notification.objects.filter(event="council.offer_requested")
    assert set(notified.values_list("recipient", flat=True)) == {s.officer.pk, s.admin.pk}
    note = notified.first()
    assert note.category == Category.COUNCIL
    assert note.context == {"initiative": "Plot garden", "offer": "Skip", "council": "Cardiff Council"}
    assert note.dedupe_key.startswith(f"council.offer_requested:{backing.pk}:")


def test_a_refused_request_leaves_nothing_behind():
    s = Setting(supporters=1)
    with pytest.raises(DomainError):
        s.request(s.offer(unlock_supporters=5))
    assert not Backing.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("who", ["member", "officer", "invited"])
def test_only_organisers_withdraw_a_request(who):
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    with pytest.raises(DomainError, match="Only the initiative's lead and co-organisers can withdraw"):
        services.withdraw_request(by=getattr(s, who), backing=backing)
    assert Backing.objects.get(pk=backing.pk).status == Backing.Status.REQUESTED


def test_an_answered_request_cannot_be_withdrawn():
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    services.approve_backing(officer=s.officer, backing=backing, message="")
    with pytest.raises(DomainError, match="still waiting"):
        services.withdraw_request(by=s.lead, backing=backing)
    assert Backing.objects.get(pk=backing.pk).status == Backing.Status.APPROVED


# --- Answers --------------------------------------------------------------------------------------------------------


def test_approval_records_the_timeline_and_notifies_the_lead_and_co_organisers():
    s = Setting(supporters=50)
    supporter = MembershipFactory(group=s.group).user
    backing = s.request(s.offer(title="Skip for the clear-up"))
    Notification.objects.all().delete()
    approved = services.approve_backing(officer=s.officer, backing=backing, message="  Delivered on Friday.  ")

    assert approved.status == Backing.Status.APPROVED
    assert approved.decided_by == s.officer
    assert approved.decided_at is not None
    assert approved.response == "Delivered on Friday."
    entry = TimelineEntry.objects.get(initiative=s.initiative)
    assert entry.kind == TimelineEntry.Kind.COUNCIL
    assert entry.actor == s.officer
    assert entry.url == f"/ledger/{s.council.slug}/"
    assert render(entry) == "Cardiff Council backed this initiative: Skip for the clear-up"

    notified = Notification.objects.filter(event="council.offer_approved")
    assert set(notified.values_list("recipient", flat=True)) == {s.lead.pk, s.co_organiser.pk}
    assert not Notification.objects.filter(recipient__in=[s.invited, s.officer, supporter, s.member]).exists()
    assert {n.category for n in notified} == {Category.COUNCIL}
    assert notified.first().context["message"] == "Delivered on Friday."
    assert notified.first().url == f"/initiatives/{s.initiative.slug}/council/"


def test_decline_needs_a_reason_and_notifies_the_lead_and_co_organisers():
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    with pytest.raises(DomainError, match="why the council is saying no"):
        services.decline_backing(officer=s.officer, backing=backing, message="   ")
    assert Backing.objects.get(pk=backing.pk).status == Backing.Status.REQUESTED

    services.decline_backing(officer=s.admin, backing=backing, message="Only for groups in Splott this year.")
    backing.refresh_from_db()
    assert (backing.status, backing.decided_by, backing.response) == (
        "declined",
        s.admin,
        "Only for groups in Splott this year.",
    )
    notified = Notification.objects.filter(event="council.offer_declined")
    assert set(notified.values_list("recipient", flat=True)) == {s.lead.pk, s.co_organiser.pk}
    assert not TimelineEntry.objects.filter(initiative=s.initiative).exists()


@pytest.mark.parametrize("answer", ["approve", "decline"])
def test_an_officer_of_another_council_cannot_answer(answer):
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    action = services.approve_backing if answer == "approve" else services.decline_backing
    with pytest.raises(DomainError, match="Only officers of Cardiff Council"):
        action(officer=s.elsewhere, backing=backing, message="No.")
    with pytest.raises(DomainError, match="Only officers of Cardiff Council"):
        action(officer=s.lead, backing=backing, message="Yes please.")
    assert Backing.objects.get(pk=backing.pk).status == Backing.Status.REQUESTED
    assert not Notification.objects.filter(event__in=["council.offer_approved", "council.offer_declined"]).exists()
    assert not TimelineEntry.objects.exists()


def test_a_request_is_answered_only_once():
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    services.approve_backing(officer=s.officer, backing=backing, message="")
    with pytest.raises(DomainError, match="already been answered"):
        services.approve_backing(officer=s.admin, backing=backing, message="")
    with pytest.raises(DomainError, match="already been answered"):
        services.decline_backing(officer=s.admin, backing=backing, message="Changed our minds.")
    backing.refresh_from_db()
    assert (backing.status, backing.decided_by) == ("approved", s.officer)
    assert TimelineEntry.objects.filter(kind="council").count() == 1
    assert Notification.objects.filter(event="council.offer_approved").count() == 2


def test_a_withdrawn_request_cannot_be_answered():
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    services.withdraw_request(by=s.lead, backing=backing)
    with pytest.raises(DomainError, match="withdrew this request"):
        services.approve_backing(officer=s.officer, backing=backing, message="")


def test_an_archived_initiative_is_not_backed():
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    Initiative.objects.filter(pk=s.initiative.pk).update(status="archived")
    with pytest.raises(DomainError, match="archived"):
        services.approve_backing(officer=s.officer, backing=backing, message="")
    services.decline_backing(officer=s.officer, backing=backing, message="The initiative has closed.")
    assert Backing.objects.get(pk=backing.pk).status == Backing.Status.DECLINED


def test_a_closed_offers_waiting_requests_can_still_be_answered():
    s = Setting(supporters=50)
    offer = s.offer()
    backing = s.request(offer)
    services.close_offer(officer=s.officer, offer=offer)
    services.approve_backing(officer=s.officer, backing=backing, message="")
    assert Backing.objects.get(pk=backing.pk).status == Backing.Status.APPROVED


# --- What came of it ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["lead", "co_organiser", "officer", "admin"])
def test_organisers_or_the_councils_officers_mark_support_as_taken_up(who):
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    services.approve_backing(officer=s.officer, backing=backing, message="")
    services.mark_taken_up(by=getattr(s, who), backing=backing)
    assert Backing.objects.get(pk=backing.pk).taken_up_at is not None
    with pytest.raises(DomainError, match="already marked"):
        services.mark_taken_up(by=s.lead, backing=backing)


@pytest.mark.parametrize("who", ["member", "elsewhere", "invited"])
def test_nobody_else_marks_support_as_taken_up(who):
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    services.approve_backing(officer=s.officer, backing=backing, message="")
    with pytest.raises(DomainError, match="Only the initiative's organisers or the council's officers"):
        services.mark_taken_up(by=getattr(s, who), backing=backing)
    assert Backing.objects.get(pk=backing.pk).taken_up_at is None


def test_only_approved_support_is_taken_up():
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    with pytest.raises(DomainError, match="Only support the council has approved"):
        services.mark_taken_up(by=s.lead, backing=backing)


def test_is_council_officer_knows_officers_and_admins_of_that_council_only():
    s = Setting()
    assert services.is_council_officer(s.officer, s.council)
    assert services.is_council_officer(s.admin, s.council.pk)
    assert not services.is_council_officer(s.elsewhere, s.council)
    assert not services.is_council_officer(UserFactory(is_staff=True, is_superuser=True), s.council)
    assert not services.is_council_officer(None, s.council)


# --- At the same moment, on real PostgreSQL -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_organisers_asking_at_the_same_moment_make_one_request():
    s = Setting(supporters=50)
    offer = s.offer()
    people = [s.lead, s.co_organiser] * 4
    start = Barrier(len(people))

    def ask(person) -> str:
        try:
            start.wait(timeout=30)
            services.request_offer(by=person, initiative=s.initiative, offer=offer, note="")
            return "asked"
        except DomainError as error:
            return error.message
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        results = list(pool.map(ask, people))

    assert results.count("asked") == 1
    assert all("already asked" in r for r in results if r != "asked")
    assert Backing.objects.filter(offer=offer, initiative=s.initiative).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_officers_answering_at_the_same_moment_answer_once():
    s = Setting(supporters=50)
    backing = s.request(s.offer())
    start = Barrier(2)

    def answer(kind: str) -> str:
        try:
            start.wait(timeout=30)
            if kind == "approve":
                services.approve_backing(officer=s.officer, backing=backing, message="")
            else:
                services.decline_backing(officer=s.admin, backing=backing, message="No budget.")
            return kind
        except DomainError as error:
            return error.message
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(answer, ["approve", "decline"]))

    winners = [r for r in results if r in ("approve", "decline")]
    assert len(winners) == 1
    assert any("already been answered" in r for r in results)
    backing.refresh_from_db()
    assert backing.status == ("approved" if winners == ["approve"] else "declined")
    assert Notification.objects.filter(event__in=["council.offer_approved", "council.offer_declined"]).count() == 2
