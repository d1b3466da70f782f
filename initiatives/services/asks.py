"""Asks and pledges: what an initiative needs (money in £, materials, skills, space, permission), each with a target,
and members' promises towards it. No money changes hands on the platform: a pledge is a promise.

Every pledge and withdrawal happens with the ask's row locked (`select_for_update`), and `pledged` is updated under
that same lock, so the running total always equals the sum of its pledges however many arrive at once.

Over-pledging is welcome — more compost than needed is fine — and the page shows it. What is refused is an amount no
one could mean: one pledge of more than ten times the target, or pledges that together would pass ten times the
target (a stray extra zero, or the same amount typed a dozen times). That cap also keeps the total well inside what
the database column holds.

Like volunteering, pledging is open while the initiative is an idea, being planned or active; withdrawing a pledge is
allowed up to and including a pause, but not once it is completed or archived; organisers manage asks until then.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from accounts.models import User
from core.exceptions import DomainError
from notifications import services as notifications
from notifications.models import Category

from .. import timeline
from ..models import Ask, Initiative, Pledge, TimelineEntry
from ..selectors import active_memberships_for, is_neighbourhood_member, organisers
from ..selectors.asks import format_amount
from ..selectors.volunteering import FINISHED, OPEN_FOR_SIGN_UPS, is_organiser

MAX_AMOUNT = Decimal("1000000")
# Beyond this many times the target, a pledge (or the total) is a typo rather than generosity.
ABSURD_MULTIPLE = 10


def asks_url(initiative: Initiative) -> str:
    return reverse("initiatives:asks", args=[initiative.slug])


AMOUNT_ERRORS = {
    "invalid": gettext_lazy("Enter the amount as a number, like 20 or 12.50."),
    "min_value": gettext_lazy("The amount must be more than 0."),
    "max_value": gettext_lazy("The amount can be up to 1,000,000."),
    "max_decimal_places": gettext_lazy("The amount can have at most 2 decimal places, like 12.50."),
}
TARGET_ERRORS = {
    "invalid": gettext_lazy("Enter the target as a number, like 500 or 20."),
    "min_value": gettext_lazy("The target must be more than 0."),
    "max_value": gettext_lazy("The target can be up to 1,000,000."),
    "max_decimal_places": gettext_lazy("The target can have at most 2 decimal places, like 12.50."),
}


def clean_amount(value, *, errors: dict = AMOUNT_ERRORS) -> Decimal:
    """`value` as a Decimal of more than 0, at most 1,000,000 and at most two decimal places ("£1,200.50" is read as
    1200.50); anything else is a DomainError a resident can act on."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "").lstrip("£"))
    except (InvalidOperation, ValueError):
        raise DomainError(str(errors["invalid"])) from None
    if not amount.is_finite():
        raise DomainError(str(errors["invalid"]))
    if amount <= 0:
        raise DomainError(str(errors["min_value"]))
    if amount > MAX_AMOUNT:
        raise DomainError(str(errors["max_value"]))
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError(str(errors["max_decimal_places"]))
    return amount.quantize(Decimal("0.01"))


def _check_organiser(user: User, initiative: Initiative) -> None:
    if not is_organiser(user, initiative):
        raise DomainError(_("Only the initiative's lead and co-organisers can manage what it needs."))
    if initiative.status in FINISHED:
        raise DomainError(_("This initiative has finished, so what it needs can no longer be changed."))


def _check_kind(kind: str) -> None:
    if kind not in Ask.Kind.values:
        raise DomainError(_("Choose what kind of thing is needed: money, materials, skills, space or permission."))


def _lock(ask: Ask) -> Ask:
    return Ask.objects.select_for_update(of=("self",)).select_related("initiative").get(pk=ask.pk)


def _set_pledged(ask: Ask, pledged: Decimal) -> None:
    Ask.objects.filter(pk=ask.pk).update(pledged=pledged)
    ask.pledged = pledged


@transaction.atomic
def add_ask(
    *,
    organiser: User,
    initiative: Initiative,
    kind: str,
    title: str,
    target,
    description: str = "",
    unit: str = "",
) -> Ask:
    """List something the initiative needs, with a target of more than 0 and at most 1,000,000 (two decimal places;
    for money, pounds and pence, and the unit is always £)."""
    _check_organiser(organiser, initiative)
    _check_kind(kind)
    target = clean_amount(target, errors=TARGET_ERRORS)
    if not title.strip():
        raise DomainError(_("Say what is needed."))
    return Ask.objects.create(
        initiative=initiative,
        kind=kind,
        title=title.strip(),
        description=description.strip(),
        target=target,
        unit="" if kind == Ask.Kind.MONEY else unit.strip(),
    )


@transaction.atomic
def edit_ask(
    *,
    organiser: User,
    ask: Ask,
    kind: str,
    title: str,
    target,
    description: str = "",
    unit: str = "",
) -> Ask:
    """Change an ask. Once anyone has pledged, its kind and unit stay as they were (their pledges were made in
    them); the target may move either way, and a lower target simply shows as over-pledged."""
    ask = _lock(ask)
    _check_organiser(organiser, ask.initiative)
    _check_kind(kind)
    target = clean_amount(target, errors=TARGET_ERRORS)
    if not title.strip():
        raise DomainError(_("Say what is needed."))
    unit = "" if kind == Ask.Kind.MONEY else unit.strip()
    if (kind != ask.kind or unit != ask.unit) and ask.pledges.exists():
        raise DomainError(
            _("People have already pledged towards this, so its kind and unit cannot change. Add a new need instead.")
        )
    changes = {"kind": kind, "title": title.strip(), "description": description.strip(), "target": target, "unit": unit}
    for name, value in changes.items():
        setattr(ask, name, value)
    # `pledged` is owned by pledge/withdraw_pledge; leaving it out means this save can never undo one.
    ask.save(update_fields=[*changes, "updated_at"])
    return ask


@transaction.atomic
def remove_ask(*, organiser: User, ask: Ask) -> int:
    """Delete an ask and its pledges; everyone who had pledged and is still a member where the initiative lives is
    told (event "initiative.ask_removed"). Returns how many pledges there were."""
    ask = _lock(ask)
    initiative = ask.initiative
    _check_organiser(organiser, initiative)
    pledgers = list(ask.pledges.values_list("user_id", flat=True))
    notifications.record(
        event="initiative.ask_removed",
        category=Category.INITIATIVES,
        subject=ask,
        actor=organiser,
        # Someone who has left a members-only group hears nothing more of it.
        recipients=User.objects.filter(pk__in=pledgers)
        .filter(Exists(active_memberships_for(initiative, OuterRef("pk"))))
        .exclude(pk=organiser.pk),
        context={"ask": ask.title, "initiative": initiative.title},
        url=asks_url(initiative),
    )
    ask.delete()
    return len(pledgers)


@transaction.atomic
def pledge(*, user: User, ask: Ask, amount, note: str = "") -> Pledge:
    """Promise `amount` towards the ask (more than 0, at most 1,000,000, at most two decimal places, and not more
    than ten times the target — alone or with what is already pledged). Members only, while pledging is open.

    The ask's row is locked while the total is checked and raised, so simultaneous pledges are counted one by one.
    Records a timeline entry and notifies the lead and co-organisers (event "initiative.pledge_received").
    """
    amount = clean_amount(amount)
    ask = _lock(ask)
    initiative = ask.initiative
    if not is_neighbourhood_member(user=user, initiative=initiative):
        raise DomainError(_("Only members of the group can pledge. Join the group first."))
    if initiative.status == Initiative.Status.PAUSED:
        raise DomainError(_("This initiative is paused, so it is not taking pledges just now."))
    if initiative.status not in OPEN_FOR_SIGN_UPS:
        raise DomainError(_("This initiative has finished, so it is not taking pledges."))
    limit = ask.target * ABSURD_MULTIPLE
    if amount > limit:
        raise DomainError(
            _("That is more than ten times what is needed (%(target)s). Check the amount — is there an extra zero?")
            % {"target": format_amount(ask, ask.target)}
        )
    if ask.pledged + amount > limit:
        raise DomainError(
            _(
                "Thank you, but this already has plenty pledged: with yours it would be more than ten times what is "
                "needed (%(target)s)."
            )
            % {"target": format_amount(ask, ask.target)}
        )

    promise = Pledge.objects.create(ask=ask, user=user, amount=amount, note=note.strip())
    _set_pledged(ask, ask.pledged + amount)
    name = user.profile.display_name
    shown = format_amount(ask, amount)
    url = asks_url(initiative)
    timeline.record(
        initiative=initiative,
        kind=TimelineEntry.Kind.PLEDGE,
        actor=user,
        # The timeline is public wherever the initiative is; who pledged is for the organisers' page only.
        message=gettext_noop("A neighbour pledged %(amount)s towards %(ask)s"),
        params={"amount": shown, "ask": ask.title},
        url=url,
    )
    notifications.record(
        event="initiative.pledge_received",
        category=Category.ORGANISING,
        subject=promise,
        actor=user,
        recipients=organisers(initiative).exclude(pk=user.pk),
        context={
            "name": name,
            "amount": shown,
            "ask": ask.title,
            "initiative": initiative.title,
            "pledged": format_amount(ask, ask.pledged),
            "target": format_amount(ask, ask.target),
        },
        url=url,
    )
    return promise


@transaction.atomic
def withdraw_pledge(*, user: User, pledge: Pledge) -> Ask:
    """Take back one's own pledge; the ask's total drops by its amount. Allowed until the initiative is completed
    or archived. Returns the ask with its new total."""
    ask = _lock(pledge.ask)
    # Re-read under the ask's lock: a second click may already have withdrawn it.
    current = Pledge.objects.filter(pk=pledge.pk, ask=ask).first()
    if current is None:
        raise DomainError(_("That pledge has already been withdrawn."))
    if current.user_id != user.pk:
        raise DomainError(_("You can only withdraw your own pledges."))
    if ask.initiative.status in FINISHED:
        raise DomainError(_("This initiative has finished, so its pledges are kept as they were."))
    current.delete()
    _set_pledged(ask, ask.pledged - current.amount)
    return ask
