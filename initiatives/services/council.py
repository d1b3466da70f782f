"""Council partnership: councils publish offers of support, initiatives ask for them, officers answer.

Who may do what:
- Offers are published, changed, closed and reopened by that council's officers and council admins only.
- An initiative asks for an offer through its lead or co-organisers, only for an open offer of its own council, only
  once it has as many supporters as the offer asks for, and never twice while a request is waiting or approved (the
  `backing_one_live_request_per_offer` constraint decides races). Archived initiatives cannot ask.
- Requests are approved or declined once, by an officer of the offer's council. Approval puts a line on the
  initiative's timeline and is what the public ledger lists; both answers notify the lead and co-organisers.
- Closing an offer stops new requests; requests already waiting can still be answered.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from accounts.models import User
from core.exceptions import DomainError
from neighbourhoods.models import Council, CouncilMembership
from notifications import services as notifications
from notifications.models import Category

from .. import selectors, timeline
from ..models import Backing, CouncilOffer, Initiative, TimelineEntry

MAX_AMOUNT = Decimal("1000000")
MAX_UNLOCK_SUPPORTERS = 10_000
MAX_NOTE = 2000
LIVE = (Backing.Status.REQUESTED, Backing.Status.APPROVED)


# --- Who is who --------------------------------------------------------------------------------------------------


def is_council_officer(user: User | None, council: Council | int) -> bool:
    """Officers and council admins of `council` (one query). Staff are not officers unless given a membership."""
    if user is None or not user.is_authenticated:
        return False
    council_id = council.pk if isinstance(council, Council) else council
    return CouncilMembership.objects.filter(user=user, council_id=council_id).exists()


def _is_organiser(user: User, initiative: Initiative) -> bool:
    return selectors.is_organiser(user, initiative)


def _officers(council_id: int) -> list[User]:
    return list(User.objects.filter(council_memberships__council_id=council_id).distinct())


def _require_officer(user: User, council: Council) -> None:
    if not is_council_officer(user, council):
        raise DomainError(
            _("Only officers of %(council)s can manage its offers and answer its requests.") % {"council": council.name}
        )


# --- Offers ------------------------------------------------------------------------------------------------------


def _clean_offer(
    *, kind: str, title: str, description: str, amount: Decimal | None, unlock_supporters: int | None
) -> tuple[str, str]:
    if kind not in CouncilOffer.Kind.values:
        raise DomainError(_("Choose what kind of support this is."))
    title, description = (title or "").strip(), (description or "").strip()
    if not title:
        raise DomainError(_("Give the offer a title."))
    if not description:
        raise DomainError(_("Describe what the offer is."))
    if amount is not None and not (Decimal("0") <= amount <= MAX_AMOUNT):
        raise DomainError(_("The value must be between £0 and £1,000,000, or leave it empty."))
    if unlock_supporters is not None and not (1 <= unlock_supporters <= MAX_UNLOCK_SUPPORTERS):
        raise DomainError(_("The number of supporters needed must be between 1 and 10,000, or leave it empty."))
    return title, description


def _lock_offer(offer: CouncilOffer) -> CouncilOffer:
    return CouncilOffer.objects.select_for_update(of=("self",)).select_related("council").get(pk=offer.pk)


@transaction.atomic
def publish_offer(
    *,
    officer: User,
    council: Council,
    kind: str,
    title: str,
    description: str,
    eligibility: str = "",
    amount: Decimal | None = None,
    unlock_supporters: int | None = None,
) -> CouncilOffer:
    """Publish an offer of support from `council`, open for requests straight away. Officers and council admins of
    that council only. `amount` (£) is optional, from £0 to £1,000,000; `unlock_supporters` is optional, from 1 to
    10,000."""
    _require_officer(officer, council)
    title, description = _clean_offer(
        kind=kind, title=title, description=description, amount=amount, unlock_supporters=unlock_supporters
    )
    return CouncilOffer.objects.create(
        council=council,
        kind=kind,
        title=title,
        description=description,
        eligibility=(eligibility or "").strip(),
        amount=amount,
        unlock_supporters=unlock_supporters,
        is_open=True,
        created_by=officer,
    )


@transaction.atomic
def edit_offer(
    *,
    officer: User,
    offer: CouncilOffer,
    kind: str,
    title: str,
    description: str,
    eligibility: str = "",
    amount: Decimal | None = None,
    unlock_supporters: int | None = None,
) -> CouncilOffer:
    """Change an offer's details (officers and council admins of its council). Once the council has backed an
    initiative with the offer, its value is fixed: the ledger reports the value handed over, so a different value is
    a new offer. Raising or removing the threshold does not affect requests already made."""
    offer = _lock_offer(offer)
    _require_officer(officer, offer.council)
    title, description = _clean_offer(
        kind=kind, title=title, description=description, amount=amount, unlock_supporters=unlock_supporters
    )
    if amount != offer.amount and offer.backings.filter(status=Backing.Status.APPROVED).exists():
        raise DomainError(
            _(
                "The council has already backed initiatives with this offer, so its value cannot change. "
                "Close it and publish a new offer instead."
            )
        )
    offer.kind = kind
    offer.title = title
    offer.description = description
    offer.eligibility = (eligibility or "").strip()
    offer.amount = amount
    offer.unlock_supporters = unlock_supporters
    offer.save()
    return offer


@transaction.atomic
def close_offer(*, officer: User, offer: CouncilOffer) -> CouncilOffer:
    """Stop new requests for an offer. Requests already waiting stay, and can still be answered."""
    offer = _lock_offer(offer)
    _require_officer(officer, offer.council)
    if not offer.is_open:
        raise DomainError(_("This offer is already closed."))
    offer.is_open = False
    offer.save(update_fields=["is_open", "updated_at"])
    return offer


@transaction.atomic
def reopen_offer(*, officer: User, offer: CouncilOffer) -> CouncilOffer:
    """Open a closed offer for requests again."""
    offer = _lock_offer(offer)
    _require_officer(officer, offer.council)
    if offer.is_open:
        raise DomainError(_("This offer is already open."))
    offer.is_open = True
    offer.save(update_fields=["is_open", "updated_at"])
    return offer


# --- Requests ----------------------------------------------------------------------------------------------------


def threshold_message(*, needed: int, count: int) -> str:
    return ngettext(
        "This offer unlocks once %(needed)s neighbour supports the initiative. It has %(count)s so far.",
        "This offer unlocks once %(needed)s neighbours support the initiative. It has %(count)s so far.",
        needed,
    ) % {"needed": needed, "count": count}


@transaction.atomic
def request_offer(*, by: User, initiative: Initiative, offer: CouncilOffer, note: str = "") -> Backing:
    """Ask the initiative's council for `offer`, on behalf of the initiative (its lead or co-organisers only).

    The initiative's row is locked while the supporter threshold is checked, so the count read is the latest one and
    cannot fall (a withdrawn support waits for us). A second request while one is waiting or approved is refused;
    when two arrive at once, the database's unique constraint refuses the second. Officers of the council are
    notified (category COUNCIL)."""
    initiative = (
        Initiative.objects.select_for_update(of=("self",))
        .select_related("neighbourhood__council")
        .get(pk=initiative.pk)
    )
    if not _is_organiser(by, initiative):
        raise DomainError(_("Only the initiative's lead and co-organisers can ask the council for support."))
    if initiative.status == Initiative.Status.ARCHIVED:
        raise DomainError(_("This initiative has been archived, so it cannot ask for council support."))
    offer = CouncilOffer.objects.select_related("council").get(pk=offer.pk)
    council = initiative.neighbourhood.council
    if offer.council_id != council.pk:
        raise DomainError(
            _("This offer is from another council. You can ask %(council)s for its own offers.")
            % {"council": council.name}
        )
    if not offer.is_open:
        raise DomainError(_("This offer is closed to new requests."))
    if offer.unlock_supporters and initiative.support_count < offer.unlock_supporters:
        raise DomainError(threshold_message(needed=offer.unlock_supporters, count=initiative.support_count))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(_("Keep your note to 2,000 characters."))
    try:
        with transaction.atomic():
            backing = Backing.objects.create(offer=offer, initiative=initiative, request_note=note, requested_by=by)
    except IntegrityError:
        existing = Backing.objects.filter(offer=offer, initiative=initiative, status__in=LIVE).first()
        if existing is not None and existing.status == Backing.Status.APPROVED:
            raise DomainError(_("The council already backs this initiative with this offer.")) from None
        waiting = _("This initiative has already asked for this offer. Wait for the council's answer.")
        raise DomainError(waiting) from None
    notifications.record(
        event="council.offer_requested",
        category=Category.COUNCIL,
        # No actor: this passes between an initiative and its council, whoever asks or answers for them, so a
        # block between two people never stops it.
        subject=backing,
        recipients=_officers(council.pk),
        context={"initiative": initiative.title, "offer": offer.title, "council": council.name},
        url=reverse("initiatives:requests", args=[council.slug]),
    )
    return backing


def _lock_backing(backing: Backing) -> Backing:
    return (
        Backing.objects.select_for_update(of=("self",))
        .select_related("offer__council", "initiative__neighbourhood")
        .get(pk=backing.pk)
    )


@transaction.atomic
def withdraw_request(*, by: User, backing: Backing) -> Backing:
    """Take back a request the council has not answered yet (the initiative's lead or co-organisers). The offer can
    be asked for again later."""
    backing = _lock_backing(backing)
    if not _is_organiser(by, backing.initiative):
        raise DomainError(_("Only the initiative's lead and co-organisers can withdraw its requests."))
    if backing.status != Backing.Status.REQUESTED:
        raise DomainError(_("Only a request still waiting for an answer can be withdrawn."))
    backing.status = Backing.Status.WITHDRAWN
    backing.save(update_fields=["status", "updated_at"])
    return backing


def _answerable(officer: User, backing: Backing) -> Backing:
    backing = _lock_backing(backing)
    _require_officer(officer, backing.offer.council)
    if backing.status == Backing.Status.WITHDRAWN:
        raise DomainError(_("The initiative withdrew this request, so there is nothing to answer."))
    if backing.status != Backing.Status.REQUESTED:
        raise DomainError(_("This request has already been answered."))
    return backing


def _decide(*, officer: User, backing: Backing, status: str, message: str) -> Backing:
    backing.status = status
    backing.response = message
    backing.decided_by = officer
    backing.decided_at = timezone.now()
    backing.save(update_fields=["status", "response", "decided_by", "decided_at", "updated_at"])
    return backing


def _clean_message(message: str) -> str:
    message = (message or "").strip()
    if len(message) > MAX_NOTE:
        raise DomainError(_("Keep your message to 2,000 characters."))
    return message


@transaction.atomic
def approve_backing(*, officer: User, backing: Backing, message: str = "") -> Backing:
    """Say yes to a waiting request (an officer of the offer's council, once). The initiative's timeline records
    that the council backs it, the public ledger lists it, and the lead and co-organisers are notified."""
    backing = _answerable(officer, backing)
    message = _clean_message(message)
    initiative, offer, council = backing.initiative, backing.offer, backing.offer.council
    if initiative.status == Initiative.Status.ARCHIVED:
        raise DomainError(_("This initiative has been archived, so it can no longer be backed. Decline the request."))
    _decide(officer=officer, backing=backing, status=Backing.Status.APPROVED, message=message)
    timeline.record(
        initiative=initiative,
        kind=TimelineEntry.Kind.COUNCIL,
        actor=officer,
        message=gettext_noop("%(council)s backed this initiative: %(offer)s"),
        params={"council": council.name, "offer": offer.title},
        url=reverse("initiatives:ledger", args=[council.slug]),
    )
    notifications.record(
        event="council.offer_approved",
        category=Category.COUNCIL,
        # No actor: this passes between an initiative and its council, whoever asks or answers for them, so a
        # block between two people never stops it.
        subject=backing,
        recipients=selectors.organisers(initiative),
        context={"council": council.name, "offer": offer.title, "initiative": initiative.title, "message": message},
        url=reverse("initiatives:council-support", args=[initiative.slug]),
    )
    return backing


@transaction.atomic
def decline_backing(*, officer: User, backing: Backing, message: str) -> Backing:
    """Say no to a waiting request (an officer of the offer's council, once), with a message saying why: the
    initiative deserves a reason. The lead and co-organisers are notified; the offer may be asked for again."""
    backing = _answerable(officer, backing)
    message = _clean_message(message)
    if not message:
        raise DomainError(_("Tell the initiative why the council is saying no."))
    initiative, offer, council = backing.initiative, backing.offer, backing.offer.council
    _decide(officer=officer, backing=backing, status=Backing.Status.DECLINED, message=message)
    notifications.record(
        event="council.offer_declined",
        category=Category.COUNCIL,
        # No actor: this passes between an initiative and its council, whoever asks or answers for them, so a
        # block between two people never stops it.
        subject=backing,
        recipients=selectors.organisers(initiative),
        context={"council": council.name, "offer": offer.title, "initiative": initiative.title, "message": message},
        url=reverse("initiatives:council-support", args=[initiative.slug]),
    )
    return backing


@transaction.atomic
def mark_taken_up(*, by: User, backing: Backing) -> Backing:
    """Record that an approved offer has actually been used (the grant paid, the skip delivered): the ledger's
    "what came of it". The initiative's lead or co-organisers, or an officer of the offer's council; once."""
    backing = _lock_backing(backing)
    if not (_is_organiser(by, backing.initiative) or is_council_officer(by, backing.offer.council_id)):
        raise DomainError(_("Only the initiative's organisers or the council's officers can record this."))
    if backing.status != Backing.Status.APPROVED:
        raise DomainError(_("Only support the council has approved can be marked as taken up."))
    if backing.taken_up_at is not None:
        raise DomainError(_("This support is already marked as taken up."))
    backing.taken_up_at = timezone.now()
    backing.save(update_fields=["taken_up_at", "updated_at"])
    return backing
