"""Waves and connections: how neighbours get to know each other.

A wave is a short hello from one member to another of a group they share. The person waved at can wave back
("we've met"), which makes a mutual `Connection`, or decline. There is only ever one open wave between two people,
whichever of them sent it.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import DomainError
from moderation.selectors import has_blocked_either_way
from notifications import services as notifications
from notifications.models import Category

from ..models import Connection, Group, Membership, Wave

MESSAGE_MAX_LENGTH = 280
WAVES_PER_DAY = 10
RATE_WINDOW = timedelta(hours=24)
# After someone declines your wave you cannot wave at them again for a while: a "no" should not become nagging.
DECLINE_COOL_OFF = timedelta(days=30)


def pair(a_id: int, b_id: int) -> tuple[int, int]:
    """Two user ids, smaller first: how waves and connections store a pair whichever way round it came."""
    return (a_id, b_id) if a_id < b_id else (b_id, a_id)


def _display_name(user: User) -> str:
    try:
        return user.profile.display_name
    except User.profile.RelatedObjectDoesNotExist:
        return _("A neighbour")


@transaction.atomic
def send_wave(*, sender: User, recipient: User, group: Group, message: str = "") -> Wave:
    """Wave from `sender` to `recipient`, both active members of `group`, with an optional short plain-text message.

    Refused: waving at yourself, at someone who is not a member of the group, at someone either of you has blocked
    (in the same words whoever made the block, so nobody learns that they were blocked), at someone you are already
    connected with, a second open wave between the same two people (either way round), more than `WAVES_PER_DAY`
    waves in 24 hours, and waving again within `DECLINE_COOL_OFF` at someone who declined you. The message is stored
    as typed (trimmed) and escaped wherever it is shown. The person waved at gets a "wave.received" notification.
    """
    if sender.pk == recipient.pk:
        raise DomainError(_("You cannot wave to yourself."))
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        raise DomainError(
            _("Keep your message to %(max)d characters or fewer. It has %(length)d.")
            % {"max": MESSAGE_MAX_LENGTH, "length": len(message)}
        )
    # Lock the sender's row: their waves are counted and created one at a time, so two quick clicks (or two tabs)
    # cannot both slip under the daily limit.
    User.objects.select_for_update().filter(pk=sender.pk).values_list("pk", flat=True).first()
    members = set(
        Membership.objects.active()
        .filter(group=group, user_id__in=[sender.pk, recipient.pk])
        .values_list("user_id", flat=True)
    )
    if sender.pk not in members:
        raise DomainError(_("Only members of this group can wave to its neighbours."))
    if recipient.pk not in members:
        raise DomainError(_("You can only wave to neighbours who are members of a group you are in."))
    if has_blocked_either_way(sender, recipient):
        raise DomainError(_("You can't wave at this neighbour."))
    low, high = pair(sender.pk, recipient.pk)
    if Connection.objects.filter(user_low_id=low, user_high_id=high).exists():
        raise DomainError(_("You are already connected with this neighbour."))
    open_wave = Wave.objects.filter(pair_low=low, pair_high=high, status=Wave.Status.OPEN).first()
    if open_wave is not None:
        if open_wave.sender_id == sender.pk:
            raise DomainError(_("You have already waved to this neighbour. They have not answered yet."))
        raise DomainError(
            _("This neighbour has already waved to you. Answer their wave on your “My neighbours” page instead.")
        )
    now = timezone.now()
    if Wave.objects.filter(sender=sender, created_at__gte=now - RATE_WINDOW).count() >= WAVES_PER_DAY:
        raise DomainError(
            _("You have sent %(max)d waves today, which is the most we allow. Please try again tomorrow.")
            % {"max": WAVES_PER_DAY}
        )
    if Wave.objects.filter(
        sender=sender, recipient=recipient, status=Wave.Status.DECLINED, answered_at__gte=now - DECLINE_COOL_OFF
    ).exists():
        raise DomainError(_("You waved to this neighbour recently. Please give it a few weeks before waving again."))
    try:
        with transaction.atomic():
            wave = Wave.objects.create(sender=sender, recipient=recipient, group=group, message=message)
    except IntegrityError as exc:  # they waved at the same moment: the "one open wave per pair" constraint held
        raise DomainError(
            _("This neighbour has already waved to you. Answer their wave on your “My neighbours” page instead.")
        ) from exc
    notifications.record(
        event="wave.received",
        category=Category.NEIGHBOURS,
        subject=wave,
        actor=sender,
        recipients=[recipient],
        context={"name": _display_name(sender), "group": group.name, "message": message},
        url=reverse("neighbourhoods:neighbours"),
    )
    return wave


@transaction.atomic
def answer_wave(*, recipient: User, wave: Wave, accept: bool) -> Connection | None:
    """The person waved at waves back ("we've met"), which connects the two of them, or declines.

    Only the recipient may answer, and only an open wave. Accepting a wave that is already accepted is harmless: it
    returns the existing connection (if still there) and creates nothing. Returns the connection, or None when
    declining. A new connection records a "connection.made" notification for the neighbour who waved.
    """
    wave = Wave.objects.select_for_update().get(pk=wave.pk)
    if wave.recipient_id != recipient.pk:
        raise DomainError(_("Only the neighbour who was waved at can answer this wave."))
    low, high = pair(wave.sender_id, wave.recipient_id)
    if wave.status == Wave.Status.ACCEPTED and accept:
        # A repeated "wave back" (a double click, a resubmitted form) changes nothing, and never brings back a
        # connection that one of them has since removed.
        return Connection.objects.filter(user_low_id=low, user_high_id=high).first()
    if wave.status != Wave.Status.OPEN:
        raise DomainError(_("You have already answered this wave."))
    wave.status = Wave.Status.ACCEPTED if accept else Wave.Status.DECLINED
    wave.answered_at = timezone.now()
    wave.save(update_fields=["status", "answered_at", "updated_at"])
    if not accept:
        return None
    # get_or_create: a connection may already exist (made through another group's wave); never a second one.
    connection, created = Connection.objects.get_or_create(
        user_low_id=low, user_high_id=high, defaults={"group": wave.group}
    )
    if created:
        notifications.record(
            event="connection.made",
            category=Category.NEIGHBOURS,
            subject=connection,
            actor=recipient,
            recipients=User.objects.filter(pk=wave.sender_id),
            context={"name": _display_name(recipient)},
            url=reverse("neighbourhoods:neighbours"),
        )
    return connection


@transaction.atomic
def remove_connection(*, user: User, connection: Connection) -> None:
    """Either of the two neighbours ends a connection. Either may wave again later."""
    connection = Connection.objects.select_for_update().filter(pk=connection.pk).first()
    if connection is None:
        raise DomainError(_("You are no longer connected with this neighbour."))
    if user.pk not in (connection.user_low_id, connection.user_high_id):
        raise DomainError(_("You can only remove your own connections."))
    connection.delete()


def withdraw_open_waves_between(a: User, b: User) -> int:
    """Take back any wave between `a` and `b` still waiting for an answer, whoever sent it, as if it was never sent
    (so no decline cool-off follows it). Runs inside the caller's transaction; returns how many there were.

    For blocking: neither person should find a wave from the other waiting on their "My neighbours" page.
    """
    low, high = pair(a.pk, b.pk)
    deleted, _by_model = Wave.objects.filter(pair_low=low, pair_high=high, status=Wave.Status.OPEN).delete()
    return deleted
