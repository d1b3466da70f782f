"""Volunteer roles: organisers set them up with a number of places; members sign up and withdraw.

Every change to who has signed up happens with the role's row locked (`select_for_update`), and `filled` is updated
under that same lock, so sign-ups arriving at the same moment queue up one after another: a role is never
overbooked, and the database's `volunteer_role_never_overbooked` constraint backs that up.

Which stage of its life an initiative must be in:
- sign-ups are open while it is an idea, being planned or active. A paused initiative takes no new volunteers
  (it may not restart), and a completed or archived one is finished;
- withdrawing is allowed up to and including a pause (people's plans change, and a paused initiative should not hold
  anyone to a promise), but not once it is completed or archived, when the list of who helped is its record;
- organisers may add, change and remove roles until it is completed or archived (planning a restart while paused is
  fine).
A role whose time has passed takes no new volunteers and keeps its list of who came.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.adapters import user_display
from accounts.models import User
from core.exceptions import DomainError
from notifications import services as notifications
from notifications.models import Category

from .. import timeline
from ..models import Initiative, TimelineEntry, VolunteerRole, VolunteerSignup
from ..selectors import active_memberships_for, is_neighbourhood_member, organisers
from ..selectors.volunteering import FINISHED, OPEN_FOR_SIGN_UPS, has_ended, is_organiser

MAX_SLOTS = 500
# Like events: further ahead than this is a typo in the year, and longer than this is not one stint of help.
MAX_DAYS_AHEAD = 2 * 365
MAX_LENGTH = timedelta(days=14)


def volunteer_url(initiative: Initiative) -> str:
    return reverse("initiatives:volunteer", args=[initiative.slug])


_display_name = user_display


def _check_organiser(user: User, initiative: Initiative) -> None:
    if not is_organiser(user, initiative):
        raise DomainError(_("Only the initiative's lead and co-organisers can manage volunteer roles."))
    if initiative.status in FINISHED:
        raise DomainError(_("This initiative has finished, so its volunteer roles can no longer be changed."))


def _check_slots(slots: int, *, filled: int = 0) -> None:
    if slots < 1:
        raise DomainError(_("A role needs at least 1 place."))
    if slots > MAX_SLOTS:
        raise DomainError(_("A role can have up to %(max)s places.") % {"max": MAX_SLOTS})
    if slots < filled:
        raise DomainError(
            _(
                "%(count)s people have already signed up, so there must be at least %(count)s places. "
                "Ask people to withdraw first if you need fewer."
            )
            % {"count": filled}
        )


def _check_times(
    starts_at: datetime | None, ends_at: datetime | None, *, original_start: datetime | None = None
) -> None:
    if starts_at is None:
        if ends_at is not None:
            raise DomainError(_("Give the start time too, or leave both empty for a role with no set time."))
        return
    if ends_at is not None:
        if ends_at <= starts_at:
            raise DomainError(_("The role must end after it starts."))
        if ends_at - starts_at > MAX_LENGTH:
            raise DomainError(_("A role can last up to two weeks. Check the end date."))
    if starts_at > timezone.now() + timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(_("Roles can be planned up to two years ahead. Check the year."))
    # A role already under way may still be edited (a new description, more places) as long as its start stays put.
    if starts_at <= timezone.now() and starts_at != original_start:
        raise DomainError(_("The start time is in the past. Choose a time that is still to come."))


def _lock(role: VolunteerRole) -> VolunteerRole:
    """The role, re-read under its row lock, with its initiative (not locked: only the role's counter is shared)."""
    return VolunteerRole.objects.select_for_update(of=("self",)).select_related("initiative").get(pk=role.pk)


def _set_filled(role: VolunteerRole, filled: int) -> None:
    # A queryset update leaves `updated_at` alone: it marks edits to the role itself, which calendar files use as
    # the entry's revision, and a new volunteer is not a new revision of the role.
    VolunteerRole.objects.filter(pk=role.pk).update(filled=filled)
    role.filled = filled


@transaction.atomic
def add_role(
    *,
    organiser: User,
    initiative: Initiative,
    title: str,
    slots: int,
    description: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> VolunteerRole:
    """Add a volunteer role with `slots` places (1 to 500) and, optionally, a time (aware datetimes, stored in UTC;
    an end needs a start, ends after it, lasts up to two weeks and starts up to two years ahead)."""
    _check_organiser(organiser, initiative)
    _check_slots(slots)
    _check_times(starts_at, ends_at)
    if not title.strip():
        raise DomainError(_("Give the role a title."))
    return VolunteerRole.objects.create(
        initiative=initiative,
        title=title.strip(),
        description=description.strip(),
        slots=slots,
        starts_at=starts_at,
        ends_at=ends_at,
    )


@transaction.atomic
def edit_role(
    *,
    organiser: User,
    role: VolunteerRole,
    title: str,
    slots: int,
    description: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> VolunteerRole:
    """Change a role. Places cannot drop below the number already signed up: the role is locked while that is
    checked, so a sign-up arriving at the same moment is counted first."""
    role = _lock(role)
    _check_organiser(organiser, role.initiative)
    _check_slots(slots, filled=role.filled)
    _check_times(starts_at, ends_at, original_start=role.starts_at)
    if not title.strip():
        raise DomainError(_("Give the role a title."))
    changes = {
        "title": title.strip(),
        "description": description.strip(),
        "slots": slots,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    for name, value in changes.items():
        setattr(role, name, value)
    # `filled` is owned by sign_up/withdraw; leaving it out means this save can never undo one.
    role.save(update_fields=[*changes, "updated_at"])
    return role


@transaction.atomic
def remove_role(*, organiser: User, role: VolunteerRole) -> int:
    """Delete a role and its sign-ups. Everyone who had signed up and is still a member where the initiative lives
    is told (event "initiative.volunteer_role_removed"). Returns how many people had signed up."""
    role = _lock(role)
    initiative = role.initiative
    _check_organiser(organiser, initiative)
    volunteers = list(role.signups.values_list("user_id", flat=True))
    notifications.record(
        event="initiative.volunteer_role_removed",
        category=Category.INITIATIVES,
        subject=role,
        actor=organiser,
        # Someone who has left a members-only group hears nothing more of it.
        recipients=User.objects.filter(pk__in=volunteers)
        .filter(Exists(active_memberships_for(initiative, OuterRef("pk"))))
        .exclude(pk=organiser.pk),
        context={"role": role.title, "initiative": initiative.title},
        url=volunteer_url(initiative),
    )
    role.delete()
    return len(volunteers)


@transaction.atomic
def sign_up(*, user: User, role: VolunteerRole) -> VolunteerSignup:
    """Take one of the role's places. Only members of the initiative's group (or neighbourhood, for a
    neighbourhood-wide initiative) may, while sign-ups are open, once each, and only while a place is free.

    The role's row is locked for the whole sign-up, so simultaneous sign-ups are handled one by one and the last
    place goes to exactly one person. Records a timeline entry and notifies the lead and co-organisers
    (event "initiative.volunteer_signed_up").
    """
    role = _lock(role)
    initiative = role.initiative
    if not is_neighbourhood_member(user=user, initiative=initiative):
        raise DomainError(_("Only members of the group can volunteer. Join the group first."))
    if initiative.status == Initiative.Status.PAUSED:
        raise DomainError(_("This initiative is paused, so it is not taking new volunteers just now."))
    if initiative.status not in OPEN_FOR_SIGN_UPS:
        raise DomainError(_("This initiative has finished, so it is not taking new volunteers."))
    if has_ended(role):
        raise DomainError(_("This role has already happened, so it is not taking new volunteers."))
    if VolunteerSignup.objects.filter(role=role, user=user).exists():
        raise DomainError(_("You have already signed up for this role."))
    if role.filled >= role.slots:
        raise DomainError(_("All places for this role are taken."))

    signup = VolunteerSignup.objects.create(role=role, user=user)
    _set_filled(role, role.filled + 1)
    name = _display_name(user)
    url = volunteer_url(initiative)
    timeline.record(
        initiative=initiative,
        kind=TimelineEntry.Kind.VOLUNTEER,
        actor=user,
        # The timeline is public wherever the initiative is; who volunteered is for the organisers' page only.
        message=gettext_noop("A neighbour volunteered as %(role)s"),
        params={"role": role.title},
        url=url,
    )
    notifications.record(
        event="initiative.volunteer_signed_up",
        category=Category.ORGANISING,
        subject=signup,
        actor=user,
        recipients=organisers(initiative).exclude(pk=user.pk),
        context={"name": name, "role": role.title, "initiative": initiative.title, "places_left": role.places_left},
        url=url,
    )
    return signup


@transaction.atomic
def withdraw(*, user: User, role: VolunteerRole) -> None:
    """Give up one's place on a role, which frees it for someone else. Allowed until the initiative is completed or
    archived and until the role has happened; the organisers are told (event "initiative.volunteer_withdrew")."""
    role = _lock(role)
    initiative = role.initiative
    signup = VolunteerSignup.objects.filter(role=role, user=user).first()
    if signup is None:
        raise DomainError(_("You are not signed up for this role."))
    if initiative.status in FINISHED:
        raise DomainError(_("This initiative has finished, so its list of volunteers is kept as it was."))
    if has_ended(role):
        raise DomainError(_("This role has already happened, so its list of volunteers is kept as it was."))
    signup_pk = signup.pk
    signup.delete()
    _set_filled(role, role.filled - 1)
    signup.pk = signup_pk  # the outbox key names the sign-up that ended
    notifications.record(
        event="initiative.volunteer_withdrew",
        category=Category.ORGANISING,
        subject=signup,
        actor=user,
        recipients=organisers(initiative).exclude(pk=user.pk),
        context={"name": _display_name(user), "role": role.title, "initiative": initiative.title},
        url=volunteer_url(initiative),
    )
