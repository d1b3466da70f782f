"""Joining, leaving and running a group's membership. A group always keeps at least one organiser."""

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import DomainError
from notifications import services as notifications
from notifications.models import Category

from ..models import Group, JoinCode, Membership, Vouch, new_token
from .events import release_places

VOUCHES_NEEDED = 2


def _require_organiser(organiser: User, group: Group) -> None:
    if not Membership.objects.organisers().filter(group=group, user=organiser).exists():
        raise DomainError(_("Only the group's organisers can do that."))


def _lock(membership: Membership) -> Membership:
    return Membership.objects.select_for_update().get(pk=membership.pk)


def _lock_group(group: Group) -> None:
    # Every change to who organises a group takes the group's row lock first, so two organisers stepping down at
    # once queue up one behind the other instead of deadlocking on each other's membership rows.
    Group.objects.select_for_update().filter(pk=group.pk).first()


def _other_organisers_exist(group: Group, *, besides: Membership) -> bool:
    # Lock every organiser row so two organisers stepping down at once cannot leave the group with none.
    organisers = list(Membership.objects.organisers().filter(group=group).select_for_update())
    return any(m.pk != besides.pk for m in organisers)


def _existing(user: User, group: Group) -> Membership | None:
    return Membership.objects.select_for_update().filter(user=user, group=group).first()


def _display_name(user: User) -> str:
    try:
        return user.profile.display_name
    except User.profile.RelatedObjectDoesNotExist:
        return _("A neighbour")


def _record_join_request(membership: Membership, *, user: User, group: Group, when) -> None:
    notifications.record(
        event="membership.requested",
        category=Category.MEMBERSHIP,
        subject=membership,
        actor=user,
        # A request withdrawn and made again reuses the row: each request is news to the organisers.
        key=notifications.occurrence_key(membership, when),
        recipients=User.objects.filter(memberships__in=Membership.objects.organisers().filter(group=group)).exclude(
            pk=user.pk
        ),
        context={"name": _display_name(user), "group": group.name},
        url=reverse("neighbourhoods:member-list", args=[group.slug]),
    )


def _refuse_if_cannot_join(membership: Membership | None) -> None:
    if membership is None:
        return
    if membership.status == Membership.Status.BANNED:
        raise DomainError(_("You cannot join this group."))
    if membership.status == Membership.Status.ACTIVE:
        raise DomainError(_("You are already a member of this group."))


@transaction.atomic
def join_group(*, user: User, group: Group) -> Membership:
    """Join an open group straight away, or ask to join one where an organiser approves each request.

    Groups that need a join code refuse here: the code goes through `join_with_code`. A request to join records a
    "membership.requested" notification for the group's organisers.
    """
    membership = _existing(user, group)
    _refuse_if_cannot_join(membership)
    if membership is not None and membership.status == Membership.Status.PENDING:
        raise DomainError(_("You have already asked to join. An organiser will look at your request soon."))
    if group.join_policy == Group.JoinPolicy.CODE:
        raise DomainError(_("This group asks for a join code. You will find it on the group's flyer."))
    now = timezone.now()
    status = Membership.Status.ACTIVE if group.join_policy == Group.JoinPolicy.OPEN else Membership.Status.PENDING
    if membership is None:
        try:
            with transaction.atomic():
                membership = Membership.objects.create(group=group, user=user, status=status)
        except IntegrityError as exc:  # the same person pressed "Join" twice at once
            raise DomainError(_("You have already asked to join.")) from exc
    else:
        membership.status = status
        membership.role = Membership.Role.MEMBER
    membership.joined_at = now if status == Membership.Status.ACTIVE else None
    membership.save()
    if status == Membership.Status.PENDING:
        _record_join_request(membership, user=user, group=group, when=now)
    return membership


@transaction.atomic
def join_with_code(*, user: User, code: str, group: Group | None = None) -> Membership:
    """Join (or verify an existing membership) with a code from a flyer: the person is verified as living here.

    The code row is locked, so a code with a limited number of uses is never used more often than that. Given a
    `group`, a code for any other group is refused before anything is written.
    """
    join_code = JoinCode.objects.select_for_update().select_related("group").filter(code=code.strip().upper()).first()
    if join_code is None:
        raise DomainError(_("That code is not right. Check it against your flyer and try again."))
    if group is not None and join_code.group_id != group.pk:
        raise DomainError(_("That code is for a different group. Check it against your flyer."))
    if not join_code.is_usable:
        raise DomainError(_("That code has expired or has been used up. Ask an organiser for a new one."))
    group = join_code.group
    membership = _existing(user, group)
    if membership is not None and membership.status == Membership.Status.BANNED:
        raise DomainError(_("You cannot join this group."))
    if membership is not None and membership.is_active and membership.is_verified:
        raise DomainError(_("You are already a verified member of this group."))
    now = timezone.now()
    if membership is None:
        membership = Membership(group=group, user=user)
    if not membership.is_active:
        membership.role = Membership.Role.MEMBER
        membership.joined_at = now
    membership.status = Membership.Status.ACTIVE
    membership.verified_at = now
    membership.verified_by = Membership.VerifiedBy.CODE
    membership.save()
    join_code.uses += 1
    join_code.save(update_fields=["uses", "updated_at"])
    return membership


@transaction.atomic
def approve_membership(*, organiser: User, membership: Membership) -> Membership:
    """Let a pending person in. An organiser's approval also verifies them, and they get a "membership.approved"
    notification."""
    _require_organiser(organiser, membership.group)
    membership = _lock(membership)
    if membership.status != Membership.Status.PENDING:
        raise DomainError(_("That request has already been answered."))
    now = timezone.now()
    membership.status = Membership.Status.ACTIVE
    membership.joined_at = now
    membership.verified_at = membership.verified_at or now
    membership.verified_by = membership.verified_by or Membership.VerifiedBy.APPROVAL
    membership.save()
    group = membership.group
    notifications.record(
        event="membership.approved",
        category=Category.MEMBERSHIP,
        subject=membership,
        # No actor: news of your own membership reaches you whoever approved it (the line names no one).
        key=notifications.occurrence_key(membership, now),  # someone may leave, ask again and be let in again
        recipients=[membership.user],
        context={"group": group.name},
        url=group.get_absolute_url(),
    )
    return membership


@transaction.atomic
def decline_membership(*, organiser: User, membership: Membership) -> None:
    """Turn down a request to join. The person may ask again later."""
    _require_organiser(organiser, membership.group)
    membership = _lock(membership)
    if membership.status != Membership.Status.PENDING:
        raise DomainError(_("That request has already been answered."))
    membership.delete()


def _end_membership(*, organiser: User, membership: Membership, status: str) -> Membership:
    _require_organiser(organiser, membership.group)
    _lock_group(membership.group)
    membership = _lock(membership)
    if membership.user_id == organiser.pk:
        raise DomainError(_("You cannot do that to yourself. To step back, leave the group instead."))
    if membership.is_organiser and not _other_organisers_exist(membership.group, besides=membership):
        raise DomainError(_("A group must keep at least one organiser."))
    membership.status = status
    membership.role = Membership.Role.MEMBER
    membership.calendar_token = new_token()  # the old secret feed address must not work again if they come back
    membership.save()
    release_places(user=membership.user, group=membership.group)
    return membership


@transaction.atomic
def remove_member(*, organiser: User, membership: Membership) -> Membership:
    """Take someone out of the group, and out of its coming events. They may ask to join again."""
    if membership.status not in (Membership.Status.ACTIVE, Membership.Status.PENDING):
        raise DomainError(_("That person is not a member."))
    return _end_membership(organiser=organiser, membership=membership, status=Membership.Status.REMOVED)


@transaction.atomic
def ban_member(*, organiser: User, membership: Membership) -> Membership:
    """Take someone out of the group for good: they cannot ask to join again or use a join code."""
    if membership.status == Membership.Status.BANNED:
        raise DomainError(_("That person is already banned."))
    return _end_membership(organiser=organiser, membership=membership, status=Membership.Status.BANNED)


@transaction.atomic
def promote_to_organiser(*, organiser: User, membership: Membership) -> Membership:
    """Make an active member a co-organiser."""
    _require_organiser(organiser, membership.group)
    membership = _lock(membership)
    if not membership.is_active:
        raise DomainError(_("Only members can become organisers."))
    if membership.role == Membership.Role.ORGANISER:
        raise DomainError(_("They are already an organiser."))
    membership.role = Membership.Role.ORGANISER
    membership.save()
    return membership


@transaction.atomic
def demote_organiser(*, organiser: User, membership: Membership) -> Membership:
    """Make a co-organiser an ordinary member again, as long as another organiser remains."""
    _require_organiser(organiser, membership.group)
    _lock_group(membership.group)
    membership = _lock(membership)
    if not membership.is_organiser:
        raise DomainError(_("They are not an organiser."))
    if not _other_organisers_exist(membership.group, besides=membership):
        raise DomainError(_("A group must keep at least one organiser."))
    membership.role = Membership.Role.MEMBER
    membership.save()
    return membership


@transaction.atomic
def leave_group(*, member: User, group: Group) -> Membership:
    """Leave a group (or withdraw a request to join), giving up any places at its events. The last organiser must
    hand over first."""
    _lock_group(group)
    membership = _existing(member, group)
    if membership is None or membership.status not in (Membership.Status.ACTIVE, Membership.Status.PENDING):
        raise DomainError(_("You are not a member of this group."))
    if membership.is_organiser and not _other_organisers_exist(group, besides=membership):
        raise DomainError(_("You are the group's only organiser. Make another member an organiser before you leave."))
    membership.status = Membership.Status.LEFT
    membership.role = Membership.Role.MEMBER
    membership.calendar_token = new_token()  # the old secret feed address must not work again if they come back
    membership.save()
    release_places(user=member, group=group)
    return membership


@transaction.atomic
def vouch_for(*, voucher: User, membership: Membership) -> Membership:
    """A verified member vouches that a neighbour lives here. Two vouches from verified members verify them."""
    membership = _lock(membership)
    group = membership.group
    own = Membership.objects.filter(group=group, user=voucher).first()
    if own is None or not own.is_active or not own.is_verified:
        raise DomainError(_("Only verified members can vouch for a neighbour."))
    if membership.user_id == voucher.pk:
        raise DomainError(_("You cannot vouch for yourself."))
    if not membership.is_active:
        raise DomainError(_("You can only vouch for members of the group."))
    if membership.is_verified:
        raise DomainError(_("They are already verified."))
    _vouch, created = Vouch.objects.get_or_create(membership=membership, voucher=voucher)
    if not created:
        raise DomainError(_("You have already vouched for them."))
    if membership.vouches.count() >= VOUCHES_NEEDED:
        membership.verified_at = timezone.now()
        membership.verified_by = Membership.VerifiedBy.VOUCHES
        membership.save()
    return membership
