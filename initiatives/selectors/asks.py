"""Reads for asks and pledges. Callers have already loaded the initiative for this viewer (`get_initiative_context`);
each function runs a fixed number of queries whatever the data size."""

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404

from ..models import Ask, Initiative, Pledge
from . import InitiativeContext
from .volunteering import FINISHED, OPEN_FOR_SIGN_UPS


def format_amount(ask: Ask, amount: Decimal) -> str:
    """An amount as people read it: "£120", "£12.50", "£1,200", "20 bags", "2.5 kg", "3"."""
    amount = Decimal(amount)
    whole = amount == amount.to_integral_value()
    if ask.kind == Ask.Kind.MONEY:
        return f"£{amount:,.0f}" if whole else f"£{amount:,.2f}"
    number = f"{amount:,.0f}" if whole else f"{amount.normalize():,f}"
    return f"{number} {ask.unit}".strip()


@dataclass(frozen=True)
class AskProgress:
    """One ask as the page shows it: how far it has got, in words and as a bar."""

    ask: Ask
    pledge_count: int
    my_pledges: list[Pledge] = field(default_factory=list)
    pledges: list[Pledge] = field(default_factory=list)  # everyone's, for the lead and co-organisers only

    @property
    def target_text(self) -> str:
        return format_amount(self.ask, self.ask.target)

    @property
    def pledged_text(self) -> str:
        return format_amount(self.ask, self.ask.pledged)

    @property
    def percent(self) -> int:
        """The share of the target pledged, rounded down (so 100 means met), and beyond 100 when over-pledged."""
        return int((self.ask.pledged * 100 / self.ask.target).to_integral_value(rounding=ROUND_FLOOR))

    @property
    def bar(self) -> int:
        """The progress bar's value: it stops at full."""
        return min(self.percent, 100)

    @property
    def is_met(self) -> bool:
        return self.ask.pledged >= self.ask.target

    @property
    def over_text(self) -> str:
        """How far past the target the pledges go ("£100", "5 bags"), or "" when they do not."""
        over = self.ask.pledged - self.ask.target
        return format_amount(self.ask, over) if over > 0 else ""

    @property
    def still_needed_text(self) -> str:
        left = self.ask.target - self.ask.pledged
        return format_amount(self.ask, left) if left > 0 else ""


@dataclass(frozen=True)
class AsksPage:
    asks: list[AskProgress]
    can_organise: bool
    can_participate: bool
    pledges_open: bool  # the initiative's stage takes new pledges
    withdrawals_open: bool


def get_ask(*, initiative: Initiative, ask_id: int) -> Ask:
    """One of the initiative's asks (with the initiative loaded), or a 404."""
    return get_object_or_404(Ask.objects.filter(initiative=initiative).select_related("initiative"), pk=ask_id)


def get_pledge(*, initiative: Initiative, pledge_id: int) -> Pledge:
    """One of the pledges made towards the initiative's asks, or a 404. Whose it is, the service checks."""
    return get_object_or_404(
        Pledge.objects.filter(ask__initiative=initiative).select_related("ask__initiative"), pk=pledge_id
    )


def list_asks(*, ctx: InitiativeContext) -> list[Ask]:
    """The initiative's asks in the order they were added, each with `pledge_count`, and — for the lead and
    co-organisers — `all_pledges` with the pledgers' profiles (one query, two for organisers)."""
    asks = Ask.objects.filter(initiative=ctx.initiative).annotate(pledge_count=Count("pledges"))
    if ctx.can_organise:
        pledges = Pledge.objects.select_related("user__profile").order_by("created_at", "pk")
        asks = asks.prefetch_related(Prefetch("pledges", queryset=pledges, to_attr="all_pledges"))
    return list(asks.order_by("created_at", "pk"))


def list_my_pledges(*, initiative: Initiative, viewer) -> list[Pledge]:
    """The viewer's own pledges towards this initiative's asks, oldest first (one query; none for a visitor)."""
    if not viewer.is_authenticated:
        return []
    return list(Pledge.objects.filter(ask__initiative=initiative, user=viewer).order_by("created_at", "pk"))


def asks_page(*, ctx: InitiativeContext, viewer) -> AsksPage:
    """Everything the "What we need" page shows this viewer, in at most three queries. Each pledge shown carries
    `amount_text` ("£20", "5 bags")."""
    mine: dict[int, list[Pledge]] = {}
    for pledge in list_my_pledges(initiative=ctx.initiative, viewer=viewer):
        mine.setdefault(pledge.ask_id, []).append(pledge)
    rows = []
    for ask in list_asks(ctx=ctx):
        ask.initiative = ctx.initiative  # already loaded: saves a query per ask wherever it is used
        my_pledges = mine.get(ask.pk, [])
        everyone = getattr(ask, "all_pledges", [])
        for pledge in [*my_pledges, *everyone]:
            pledge.ask = ask
            pledge.amount_text = format_amount(ask, pledge.amount)
        rows.append(
            AskProgress(
                ask=ask,
                pledge_count=ask.pledge_count,
                my_pledges=my_pledges,
                pledges=everyone,
            )
        )
    status = ctx.initiative.status
    return AsksPage(
        asks=rows,
        can_organise=ctx.can_organise,
        can_participate=ctx.can_participate,
        pledges_open=status in OPEN_FOR_SIGN_UPS,
        withdrawals_open=status not in FINISHED,
    )
