"""Initiatives: proposing them, editing them, moving them through their lifecycle, and the team that runs them.

Every write that touches an initiative's state locks its row first (`select_for_update`), so two organisers acting
at the same moment are handled one after the other. That lock is what makes three guarantees hold:

- an edit made from an older version is refused, never silently written over someone else's change;
- the status only moves along `Initiative.TRANSITIONS`, each move recorded with who made it;
- there is always exactly one lead: the database allows at most one (`initiative_one_lead`), and no action here
  leaves none (a lead can only step aside by handing over to an active co-organiser).
"""

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.adapters import user_display
from accounts.models import User
from core.exceptions import DomainError
from core.text import render_markdown
from neighbourhoods.models import Group, Membership, Neighbourhood
from notifications import services as notifications
from notifications.models import Category

from .. import selectors, timeline
from ..models import Initiative, InitiativeRole, StatusChange, TimelineEntry

EDITABLE_FIELDS = ("title", "summary", "description", "category", "place")
# Addresses the initiative pages themselves use: an initiative called "New" must not hide the "propose" page.
RESERVED_SLUGS = {"new"}
SLUG_LENGTH = 120

# One message per destination, so each line translates whole ("moved to Planning" reads right in Welsh too).
STATUS_MESSAGES = {
    Initiative.Status.IDEA: gettext_noop("%(name)s moved this initiative back to an idea."),
    Initiative.Status.PLANNING: gettext_noop("%(name)s moved this initiative to planning."),
    Initiative.Status.ACTIVE: gettext_noop("%(name)s marked this initiative as active."),
    Initiative.Status.COMPLETED: gettext_noop("%(name)s marked this initiative as completed."),
    Initiative.Status.PAUSED: gettext_noop("%(name)s paused this initiative."),
    Initiative.Status.ARCHIVED: gettext_noop("%(name)s archived this initiative."),
}
PROPOSED_MESSAGE = gettext_noop("%(name)s proposed this initiative.")


display_name = user_display  # one rule for naming people, shared with allauth's pages and emails


def _active_memberships(user: User):
    return Membership.objects.filter(user=user, status=Membership.Status.ACTIVE)


def may_participate(user: User, initiative: Initiative) -> bool:
    """Members of the initiative's group, or for a neighbourhood-wide one, of any street group in its area."""
    if user is None or not user.is_authenticated:
        return False
    if initiative.group_id is not None:
        return _active_memberships(user).filter(group_id=initiative.group_id).exists()
    return _active_memberships(user).filter(group__neighbourhood_id=initiative.neighbourhood_id).exists()


def participants(initiative: Initiative):
    """Everyone who may take part (see `may_participate`), as one query."""
    return User.objects.filter(Exists(selectors.active_memberships_for(initiative, OuterRef("pk")))).only("pk")


def lock(initiative: Initiative) -> Initiative:
    """The initiative's row, locked until the transaction ends, with its group and area loaded."""
    return (
        Initiative.objects.select_for_update(of=("self",))
        .select_related("group", "neighbourhood")
        .get(pk=initiative.pk)
    )


def _role(initiative: Initiative, user: User) -> InitiativeRole | None:
    return InitiativeRole.objects.filter(initiative=initiative, user=user).first()


def is_organiser(user: User, initiative: Initiative) -> bool:
    return selectors.is_organiser(user, initiative)


def _require_organiser(user: User, initiative: Initiative, message: str) -> None:
    if not user.is_authenticated or not is_organiser(user, initiative):
        raise DomainError(message)


def _require_lead(user: User, initiative: Initiative) -> InitiativeRole:
    role = _role(initiative, user) if user.is_authenticated else None
    if role is None or role.role != InitiativeRole.Role.LEAD or role.status != InitiativeRole.Status.ACTIVE:
        raise DomainError(_("Only the lead of this initiative can do that."))
    return role


def _require_not_archived(initiative: Initiative) -> None:
    if initiative.status == Initiative.Status.ARCHIVED:
        raise DomainError(_("This initiative has been archived, so it cannot be changed."))


def _clean_fields(fields: dict) -> dict:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    cleaned = {name: (value.strip() if isinstance(value, str) else value) for name, value in fields.items()}
    if "title" in cleaned and not cleaned["title"]:
        raise DomainError(_("Give the initiative a title."))
    if "summary" in cleaned and not cleaned["summary"]:
        raise DomainError(_("Say in a sentence or two what the initiative is about."))
    if "category" in cleaned and cleaned["category"] not in Initiative.Category.values:
        raise DomainError(_("Choose one of the categories."))
    return cleaned


def _base_slug(title: str) -> str:
    base = slugify(title)[:SLUG_LENGTH].strip("-") or "initiative"
    return f"{base}-initiative" if base in RESERVED_SLUGS else base


def _free_slug(base: str) -> str:
    """`base`, or `base-2`, `base-3`, … : the first not yet taken (one query)."""
    taken = set(Initiative.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _create_with_unique_slug(**values) -> Initiative:
    base = _base_slug(values["title"])
    for attempt in range(5):
        slug = _free_slug(base)
        try:
            # A savepoint: someone proposing an initiative with the same title at the same moment may take the
            # address between our check and our insert; then we look again rather than fail.
            with transaction.atomic():
                return Initiative.objects.create(slug=slug, **values)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def propose_initiative(
    *,
    proposer: User,
    title: str,
    summary: str,
    group: Group | None = None,
    neighbourhood: Neighbourhood | None = None,
    description: str = "",
    category: str = Initiative.Category.OTHER,
    place: str = "",
) -> Initiative:
    """Propose an initiative in a street group (any active member may), or for a whole neighbourhood (any active
    member of a street group there may; pass `neighbourhood` and no `group`).

    The proposer becomes its lead. It starts as an idea: the move "" → idea is recorded, the timeline opens with it,
    and the other members who may take part are notified ("initiative.proposed"). Its web address is made from the
    title and never changes afterwards, so links keep working.
    """
    if group is not None:
        neighbourhood = group.neighbourhood
        allowed = _active_memberships(proposer).filter(group=group).exists()
        if not allowed:
            raise DomainError(_("Only members of %(group)s can propose initiatives there.") % {"group": group.name})
    elif neighbourhood is not None:
        allowed = _active_memberships(proposer).filter(group__neighbourhood=neighbourhood).exists()
        if not allowed:
            raise DomainError(
                _("Only members of a street group in %(area)s can propose initiatives for it.")
                % {"area": neighbourhood.name}
            )
    else:
        raise DomainError(_("Choose a street group or a neighbourhood for the initiative."))
    fields = _clean_fields(
        {"title": title, "summary": summary, "description": description, "category": category, "place": place}
    )
    initiative = _create_with_unique_slug(
        group=group,
        neighbourhood=neighbourhood,
        description_html=render_markdown(fields["description"]),
        status=Initiative.Status.IDEA,
        created_by=proposer,
        **fields,
    )
    InitiativeRole.objects.create(
        initiative=initiative, user=proposer, role=InitiativeRole.Role.LEAD, status=InitiativeRole.Status.ACTIVE
    )
    StatusChange.objects.create(
        initiative=initiative, from_status="", to_status=Initiative.Status.IDEA, changed_by=proposer
    )
    name = display_name(proposer)
    timeline.record(
        initiative=initiative,
        kind=TimelineEntry.Kind.CREATED,
        actor=proposer,
        message=PROPOSED_MESSAGE,
        params={"name": name},
    )
    notifications.record(
        event="initiative.proposed",
        category=Category.INITIATIVES,
        subject=initiative,
        actor=proposer,
        recipients=participants(initiative).exclude(pk=proposer.pk),
        context={
            "name": name,
            "title": initiative.title,
            "summary": initiative.summary,
            "where": group.name if group is not None else neighbourhood.name,
        },
        url=initiative.get_absolute_url(),
    )
    return initiative


class EditConflict(DomainError):
    """The initiative changed after the editor opened it: show them the latest version to start again from."""


STALE_VERSION = gettext_noop(
    "Someone else changed this initiative while you were editing. "
    "Here is the latest version: check it and make your changes again."
)


@transaction.atomic
def edit_initiative(*, editor: User, initiative: Initiative, expected_version: int, **fields) -> Initiative:
    """Change the title, summary, description, category or place: the lead and active co-organisers may.

    `expected_version` is the version the editor started from. If anyone saved in the meantime the edit is refused
    (with a message saying so) rather than overwriting their change; otherwise the version goes up by one.
    """
    initiative = lock(initiative)
    _require_organiser(editor, initiative, _("Only the lead and co-organisers can change this initiative."))
    _require_not_archived(initiative)
    if initiative.version != expected_version:
        raise EditConflict(_(STALE_VERSION))
    changes = _clean_fields(fields)
    if "description" in changes:
        changes["description_html"] = render_markdown(changes["description"])
    for name, value in changes.items():
        setattr(initiative, name, value)
    initiative.version += 1
    # Only the fields edited here: support_count and status belong to their own actions and must not be undone.
    initiative.save(update_fields=[*changes, "version", "updated_at"])
    return initiative


def _allowed_next(status: str) -> str:
    labels = [str(Initiative.Status(value).label) for value in Initiative.Status.values if value in _next(status)]
    return ", ".join(labels)


def _next(status: str) -> set[str]:
    return Initiative.TRANSITIONS.get(status, set())


@transaction.atomic
def change_status(*, by: User, initiative: Initiative, to_status: str, note: str = "") -> Initiative:
    """Move the initiative along its lifecycle (see `Initiative.TRANSITIONS`): the lead and co-organisers may.

    Any other move is refused with a message naming the steps that are possible from here. The move is recorded
    (`StatusChange`, with who, when and an optional note) and put on the timeline.
    """
    initiative = lock(initiative)
    _require_organiser(by, initiative, _("Only the lead and co-organisers can change the status of this initiative."))
    if to_status not in Initiative.Status.values:
        raise DomainError(_("Choose one of the statuses offered."))
    current = initiative.status
    if not initiative.can_move_to(to_status):
        allowed = _allowed_next(current)
        values = {"status": initiative.get_status_display(), "to": Initiative.Status(to_status).label}
        if not allowed:
            raise DomainError(_("This initiative is “%(status)s”, and its status cannot change any more.") % values)
        values["allowed"] = allowed
        if to_status == current:
            raise DomainError(
                _("This initiative is already at “%(status)s”. From here it can move to: %(allowed)s.") % values
            )
        raise DomainError(
            _("An initiative at “%(status)s” cannot move to “%(to)s”. From here it can move to: %(allowed)s.") % values
        )
    note = (note or "").strip()[:280]
    initiative.status = to_status
    initiative.save(update_fields=["status", "updated_at"])
    StatusChange.objects.create(
        initiative=initiative, from_status=current, to_status=to_status, changed_by=by, note=note
    )
    timeline.record(
        initiative=initiative,
        kind=TimelineEntry.Kind.STATUS,
        actor=by,
        message=STATUS_MESSAGES[to_status],
        params={"name": display_name(by), "from": current, "to": to_status, "note": note},
    )
    return initiative


# --- The team -----------------------------------------------------------------------------------------------------


@transaction.atomic
def invite_co_organiser(*, lead: User, initiative: Initiative, invitee: User) -> InitiativeRole:
    """The lead invites someone who may take part to become a co-organiser; they are notified
    ("initiative.invited") and become one when they accept.

    Someone already leading, co-organising or invited cannot be invited again; someone who declined or stepped down
    can be, and gets a fresh invitation (and notification).
    """
    initiative = lock(initiative)
    _require_lead(lead, initiative)
    _require_not_archived(initiative)
    if invitee.pk == lead.pk:
        raise DomainError(_("You already lead this initiative."))
    if not may_participate(invitee, initiative):
        raise DomainError(
            _("%(name)s is not a member here, so they cannot help run this initiative.")
            % {"name": display_name(invitee)}
        )
    existing = _role(initiative, invitee)
    if existing is not None:
        if existing.status == InitiativeRole.Status.INVITED:
            raise DomainError(_("%(name)s has already been invited.") % {"name": display_name(invitee)})
        if existing.status == InitiativeRole.Status.ACTIVE:
            raise DomainError(_("%(name)s already helps run this initiative.") % {"name": display_name(invitee)})
        # They declined or stepped down before. A new row (not the old one reused) makes this a new invitation,
        # so its notification is not mistaken for a repeat of the first one.
        existing.delete()
    role = InitiativeRole.objects.create(
        initiative=initiative,
        user=invitee,
        role=InitiativeRole.Role.CO_ORGANISER,
        status=InitiativeRole.Status.INVITED,
        invited_by=lead,
    )
    notifications.record(
        event="initiative.invited",
        category=Category.ORGANISING,
        subject=role,
        actor=lead,
        recipients=[invitee],
        context={"name": display_name(lead), "title": initiative.title},
        url=initiative.get_absolute_url(),
    )
    return role


def _invitation(initiative: Initiative, invitee: User) -> InitiativeRole:
    role = _role(initiative, invitee) if invitee.is_authenticated else None
    if role is None or role.status != InitiativeRole.Status.INVITED:
        raise DomainError(_("There is no invitation waiting for you on this initiative."))
    return role


@transaction.atomic
def accept_invitation(*, invitee: User, initiative: Initiative) -> InitiativeRole:
    """The invitee becomes an active co-organiser, as long as they may still take part."""
    initiative = lock(initiative)
    role = _invitation(initiative, invitee)
    _require_not_archived(initiative)
    if not may_participate(invitee, initiative):
        raise DomainError(_("You are no longer a member here, so you cannot help run this initiative."))
    role.status = InitiativeRole.Status.ACTIVE
    role.save(update_fields=["status", "updated_at"])
    return role


@transaction.atomic
def decline_invitation(*, invitee: User, initiative: Initiative) -> InitiativeRole:
    """The invitee says no, thank you. The lead may invite them again later."""
    initiative = lock(initiative)
    role = _invitation(initiative, invitee)
    role.status = InitiativeRole.Status.DECLINED
    role.save(update_fields=["status", "updated_at"])
    return role


@transaction.atomic
def step_down(*, co_organiser: User, initiative: Initiative) -> InitiativeRole:
    """A co-organiser stops helping run the initiative. The lead cannot: they hand over the lead first."""
    initiative = lock(initiative)
    role = _role(initiative, co_organiser) if co_organiser.is_authenticated else None
    if role is None or role.status != InitiativeRole.Status.ACTIVE:
        raise DomainError(_("You do not help run this initiative."))
    if role.role == InitiativeRole.Role.LEAD:
        raise DomainError(
            _("An initiative always needs a lead. Hand over the lead to a co-organiser before you step down.")
        )
    role.status = InitiativeRole.Status.LEFT
    role.save(update_fields=["status", "updated_at"])
    return role


@transaction.atomic
def hand_over_lead(*, lead: User, initiative: Initiative, to_user: User) -> InitiativeRole:
    """The lead passes the lead to an active co-organiser and becomes a co-organiser. Returns the new lead's role.

    Both changes happen under the initiative's lock in one transaction: at no moment are there two leads or none.
    """
    initiative = lock(initiative)
    current = _require_lead(lead, initiative)
    if to_user.pk == lead.pk:
        raise DomainError(_("You already lead this initiative."))
    successor = _role(initiative, to_user)
    if (
        successor is None
        or successor.status != InitiativeRole.Status.ACTIVE
        or successor.role != InitiativeRole.Role.CO_ORGANISER
    ):
        raise DomainError(_("You can hand over the lead only to a co-organiser who has accepted their invitation."))
    if not may_participate(to_user, initiative):
        raise DomainError(
            _("%(name)s is no longer a member here, so they cannot lead this initiative.")
            % {"name": display_name(to_user)}
        )
    # Demote first: the database allows one active lead at a time, checked row by row.
    current.role = InitiativeRole.Role.CO_ORGANISER
    current.save(update_fields=["role", "updated_at"])
    successor.role = InitiativeRole.Role.LEAD
    successor.save(update_fields=["role", "updated_at"])
    return successor
