"""Reads for council partnership: the officers' offers and requests, an initiative's council page, and the public
community-power ledger. Each page loads what it needs in a fixed number of queries.

What officers see of an initiative: its public fields only — title, summary, status, support count, area — and the
note its organisers wrote to the council with the request. Never supporters' or organisers' names, never anything
else an initiative holds. An initiative of a members-only group may still ask for an offer; its officers then see
just those fields, without a link (its page is for the group's members). The querysets below load only those
columns, so nothing else can leak into a template by accident.

On the public ledger an initiative of a members-only group appears as "A community initiative in <neighbourhood>":
no title, no link, no outcome text; the offer, its value and the dates still count towards the council's totals.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from neighbourhoods.models import Council, Group

from ..models import Backing, CouncilOffer, Initiative

# The initiative's columns an officer (or a ledger reader) may see.
PUBLIC_INITIATIVE_FIELDS = (
    "initiative__id",
    "initiative__title",
    "initiative__slug",
    "initiative__summary",
    "initiative__status",
    "initiative__support_count",
    "initiative__group",
    "initiative__group__id",
    "initiative__group__name",
    "initiative__group__visibility",
    "initiative__neighbourhood",
    "initiative__neighbourhood__id",
    "initiative__neighbourhood__name",
)


def is_public_initiative(initiative: Initiative) -> bool:
    """Anyone may open the initiative's page: a neighbourhood-wide one, or one of a public group."""
    return initiative.group_id is None or initiative.group.visibility == Group.Visibility.PUBLIC


def get_council(*, slug: str) -> Council:
    return get_object_or_404(Council, slug=slug)


# --- Officers ----------------------------------------------------------------------------------------------------


def list_council_offers(*, council: Council) -> QuerySet:
    """The council's offers, open ones first, each with how many requests wait, were approved, in all."""
    return (
        CouncilOffer.objects.filter(council=council)
        .annotate(
            waiting_count=Count("backings", filter=Q(backings__status=Backing.Status.REQUESTED)),
            approved_count=Count("backings", filter=Q(backings__status=Backing.Status.APPROVED)),
            request_count=Count("backings", filter=~Q(backings__status=Backing.Status.WITHDRAWN)),
        )
        .order_by("-is_open", "-created_at", "-pk")
    )


def get_council_offer(*, council: Council, offer_id: int) -> CouncilOffer:
    return get_object_or_404(CouncilOffer.objects.select_related("council"), council=council, pk=offer_id)


def _with_public_initiative(backings: QuerySet) -> QuerySet:
    approved = Backing.objects.filter(initiative=OuterRef("initiative_id"), status=Backing.Status.APPROVED)
    return backings.select_related("offer", "initiative__group", "initiative__neighbourhood").annotate(
        initiative_backed=Exists(approved)
    )


def list_waiting_requests(*, council: Council) -> QuerySet:
    """Requests for the council's offers still waiting for an answer, oldest first (first come, first answered).
    Public initiative fields only: see the module's docstring."""
    backings = Backing.objects.filter(offer__council=council, status=Backing.Status.REQUESTED)
    return (
        _with_public_initiative(backings)
        .only(
            "id",
            "status",
            "request_note",
            "created_at",
            "offer",
            "offer__id",
            "offer__title",
            "offer__kind",
            "offer__amount",
            *PUBLIC_INITIATIVE_FIELDS,
        )
        .order_by("created_at", "pk")
    )


def list_not_taken_up(*, council: Council) -> QuerySet:
    """Approved backings not yet marked as taken up, most recently approved first, for the officer to follow up."""
    backings = Backing.objects.filter(offer__council=council, status=Backing.Status.APPROVED, taken_up_at__isnull=True)
    return (
        _with_public_initiative(backings)
        .only("id", "status", "decided_at", "offer", "offer__id", "offer__title", *PUBLIC_INITIATIVE_FIELDS)
        .order_by("-decided_at", "-pk")
    )


def get_council_backing(*, council: Council, backing_id: int) -> Backing:
    """One of the requests made for the council's offers, or a 404."""
    return get_object_or_404(
        Backing.objects.select_related("offer__council", "initiative"), offer__council=council, pk=backing_id
    )


# --- The initiative's council page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferForInitiative:
    offer: CouncilOffer
    unlocked: bool
    needed: int  # more supporters needed before it unlocks (0 once unlocked)
    live: Backing | None  # this initiative's request that is waiting or approved, if any


@dataclass(frozen=True)
class CouncilSupport:
    council: Council
    offers: list[OfferForInitiative] = field(default_factory=list)
    backings: list[Backing] = field(default_factory=list)  # every request the initiative made, newest first

    @property
    def approved(self) -> list[Backing]:
        return [b for b in self.backings if b.status == Backing.Status.APPROVED]


def council_support(*, initiative: Initiative) -> CouncilSupport:
    """The open offers of the initiative's council, with whether each is unlocked for it and how many more
    supporters it needs, and the initiative's own requests and the answers they got (two queries).
    `initiative` comes from `get_initiative_context`, with its neighbourhood's council loaded."""
    council = initiative.neighbourhood.council
    backings = list(
        Backing.objects.filter(initiative=initiative).select_related("offer").order_by("-created_at", "-pk")
    )
    live = {b.offer_id: b for b in backings if b.status in (Backing.Status.REQUESTED, Backing.Status.APPROVED)}
    offers = []
    for offer in CouncilOffer.objects.filter(council_id=council.pk, is_open=True).order_by("-created_at", "-pk"):
        needed = max((offer.unlock_supporters or 0) - initiative.support_count, 0)
        offers.append(OfferForInitiative(offer=offer, unlocked=needed == 0, needed=needed, live=live.get(offer.pk)))
    return CouncilSupport(council=council, offers=offers, backings=backings)


def get_initiative_backing(*, initiative: Initiative, backing_id: int) -> Backing:
    return get_object_or_404(Backing.objects.select_related("offer"), initiative=initiative, pk=backing_id)


def get_offer_for_initiative(*, initiative: Initiative, offer_id: int) -> CouncilOffer:
    """An offer of the initiative's own council, or a 404 (closed ones too: the service explains those)."""
    return get_object_or_404(
        CouncilOffer.objects.select_related("council"), council_id=initiative.neighbourhood.council_id, pk=offer_id
    )


# --- The public ledger ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerTotals:
    count: int
    value: Decimal


def list_ledger(*, council: Council) -> QuerySet:
    """What the council has handed to community initiatives: approved backings, most recent first, with the offer,
    its value, the initiative's public fields and its recorded outcome (one query per page)."""
    return (
        Backing.objects.filter(offer__council=council, status=Backing.Status.APPROVED)
        .select_related("offer", "initiative__group", "initiative__neighbourhood", "initiative__outcome")
        .only(
            "id",
            "status",
            "decided_at",
            "taken_up_at",
            "offer",
            "offer__id",
            "offer__title",
            "offer__kind",
            "offer__amount",
            *PUBLIC_INITIATIVE_FIELDS,
            "initiative__outcome__id",
            "initiative__outcome__people_involved",
            "initiative__outcome__volunteer_hours",
            "initiative__outcome__what_changed",
            "initiative__outcome__initiative",
        )
        .order_by("-decided_at", "-pk")
    )


def ledger_totals(*, council: Council) -> LedgerTotals:
    """How many times the council has backed an initiative, and the total £ value of what it handed over."""
    totals = Backing.objects.filter(offer__council=council, status=Backing.Status.APPROVED).aggregate(
        count=Count("pk"), value=Sum("offer__amount")
    )
    return LedgerTotals(count=totals["count"], value=totals["value"] or Decimal("0"))
