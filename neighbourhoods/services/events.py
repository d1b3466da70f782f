"""Events: planning them, replying to them, and the waiting list that fills a place whenever one comes free.

Every change to who is going happens with the event's row locked (`select_for_update`), and `going_count` is
updated under that same lock, so replies arriving at the same moment queue up one after another: the event is
never overbooked, and the database's `event_never_overbooked` constraint backs that up.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import DomainError
from core.text import render_markdown
from notifications import services as notifications
from notifications.models import Category, Notification

from .. import permissions
from ..models import RSVP, Event, Group, Membership, new_token

REPLIES = (RSVP.Status.GOING, RSVP.Status.MAYBE, RSVP.Status.NOT_GOING)
# Who hears that an event changed or was called off: everyone still planning to come, or hoping to.
INTERESTED = (RSVP.Status.GOING, RSVP.Status.MAYBE, RSVP.Status.WAITLISTED)
# How long before an event starts the people going are reminded of it.
REMINDER_AHEAD = timedelta(hours=24)


def _membership(user: User, group: Group | int) -> Membership | None:
    group_id = group.pk if isinstance(group, Group) else group
    return Membership.objects.filter(group_id=group_id, user=user).first()


def _display_name(user: User) -> str:
    try:
        return user.profile.display_name
    except User.profile.RelatedObjectDoesNotExist:
        return _("A neighbour")


def _event_url(event: Event) -> str:
    return reverse("neighbourhoods:event-detail", args=[event.group.slug, event.pk])


def _event_context(event: Event) -> dict:
    # `starts_at` stays a datetime here: each line template formats it in its reader's language.
    return {"title": event.title, "group": event.group.name, "starts_at": event.starts_at, "place": event.place}


def _active_members(group_id: int):
    """People who are active members of the group now: whoever left, was removed or banned hears nothing more."""
    return User.objects.filter(memberships__group_id=group_id, memberships__status=Membership.Status.ACTIVE)


def _replied(event: Event, statuses) -> QuerySet[User]:
    """Active members of the event's group whose reply to it is one of `statuses`."""
    return _active_members(event.group_id).filter(rsvps__event=event, rsvps__status__in=statuses)


def _lock(event: Event) -> Event:
    return Event.objects.select_for_update(of=("self",)).select_related("group").get(pk=event.pk)


# How far ahead an event may be planned, and how long it may last: beyond these it is a typo, not a street party.
MAX_DAYS_AHEAD = 2 * 365
MAX_LENGTH = timedelta(days=14)


def _check_times(starts_at: datetime, ends_at: datetime, *, original_start: datetime | None = None) -> None:
    if ends_at <= starts_at:
        raise DomainError(_("The event must end after it starts."))
    if starts_at > timezone.now() + timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(_("Events can be planned up to two years ahead. Check the year."))
    if ends_at - starts_at > MAX_LENGTH:
        raise DomainError(_("An event can last up to two weeks. Check the end date."))
    # An event already under way may still be edited (a new room, a correction) as long as its start stays put.
    if starts_at <= timezone.now() and starts_at != original_start:
        raise DomainError(_("The start time is in the past. Choose a time that is still to come."))


def _check_capacity(capacity: int | None) -> None:
    if capacity is not None and capacity < 1:
        raise DomainError(_("An event needs at least one place, or leave the number of places empty for no limit."))


def _set_going_count(event: Event, going_count: int) -> None:
    # A queryset update leaves `updated_at` alone: it marks edits to the event itself, which calendars
    # use as the entry's revision (SEQUENCE), and a new reply is not a new revision of the event.
    Event.objects.filter(pk=event.pk).update(going_count=going_count)
    event.going_count = going_count


def _waitlist(event: Event):
    # Order of arrival on the list: a waiting reply is not saved again until it leaves the list, so its
    # `updated_at` is the moment it joined.
    return RSVP.objects.filter(event=event, status=RSVP.Status.WAITLISTED).order_by("updated_at", "pk")


def _promote_from_waitlist(event: Event, *, actor: User | None = None) -> list[RSVP]:
    """Fill any free places from the front of the waiting list. The caller holds the event's lock.

    Each person moved up gets an "event.promoted" notification (unless they made the place themselves).
    """
    if event.capacity is None:
        promoted = list(_waitlist(event))
    else:
        free = event.capacity - event.going_count
        promoted = list(_waitlist(event)[:free]) if free > 0 else []
    for reply in promoted:
        reply.status = RSVP.Status.GOING
        reply.save(update_fields=["status", "updated_at"])
    if promoted:
        _set_going_count(event, event.going_count + len(promoted))
        recipients = _active_members(event.group_id).filter(pk__in=[reply.user_id for reply in promoted])
        if actor is not None:
            recipients = recipients.exclude(pk=actor.pk)
        notifications.record(
            event="event.promoted",
            category=Category.MY_EVENTS,
            subject=event,
            # No actor: whoever freed the place did nothing towards the person moved up, so a block between them
            # must not cost that person the news that they now have a place.
            # Someone may drop back to the list and be moved up again later: each move up is news.
            key=notifications.occurrence_key(event, timezone.now()),
            recipients=recipients,
            context=_event_context(event),
            url=_event_url(event),
        )
    return promoted


@transaction.atomic
def create_event(
    *,
    creator: User,
    group: Group,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    description: str = "",
    capacity: int | None = None,
    cost: str = "",
    step_free: bool = False,
    hearing_loop: bool = False,
    bsl: bool = False,
    quiet_space: bool = False,
    child_friendly: bool = False,
    access_notes: str = "",
) -> Event:
    """Plan an event for the group. Who may depends on the group's setting: its organisers only, or any member
    who may post. Times are aware datetimes (stored in UTC); the description is rendered through the safe
    Markdown subset. Every other active member gets an "event.created" notification."""
    if not permissions.can_create_event(group, _membership(creator, group)):
        if group.events_by == Group.EventsBy.ORGANISERS:
            raise DomainError(_("In this group, only the organisers can plan events."))
        raise DomainError(_("Only members of the group can plan events."))
    _check_times(starts_at, ends_at)
    _check_capacity(capacity)
    event = Event.objects.create(
        group=group,
        created_by=creator,
        title=title.strip(),
        description=description,
        description_html=render_markdown(description),
        starts_at=starts_at,
        ends_at=ends_at,
        place=place.strip(),
        capacity=capacity,
        cost=cost.strip(),
        step_free=step_free,
        hearing_loop=hearing_loop,
        bsl=bsl,
        quiet_space=quiet_space,
        child_friendly=child_friendly,
        access_notes=access_notes.strip(),
    )
    notifications.record(
        event="event.created",
        category=Category.EVENTS,
        subject=event,
        actor=creator,
        recipients=_active_members(group.pk).exclude(pk=creator.pk),
        context={"name": _display_name(creator), **_event_context(event)},
        url=_event_url(event),
    )
    return event


@transaction.atomic
def edit_event(
    *,
    editor: User,
    event: Event,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    description: str = "",
    capacity: int | None = None,
    cost: str = "",
    step_free: bool = False,
    hearing_loop: bool = False,
    bsl: bool = False,
    quiet_space: bool = False,
    child_friendly: bool = False,
    access_notes: str = "",
) -> Event:
    """Change an event's details: its creator (while still a member) or any organiser may.

    Places cannot drop below the number already going; more places (or no limit) move people up from the
    front of the waiting list straight away. When anything changed, everyone going, maybe going or waiting (still
    members, besides the editor) gets an "event.changed" notification.
    """
    event = _lock(event)
    if not permissions.can_edit_event(editor, event, _membership(editor, event.group_id)):
        raise DomainError(_("Only the person who planned this event or an organiser can change it."))
    if event.is_cancelled:
        raise DomainError(_("This event has been cancelled, so it cannot be changed."))
    if event.is_past:
        raise DomainError(_("This event has already happened, so it cannot be changed."))
    _check_times(starts_at, ends_at, original_start=event.starts_at)
    _check_capacity(capacity)
    if capacity is not None and capacity < event.going_count:
        raise DomainError(
            _(
                "%(count)s people are already going, so there must be at least %(count)s places. "
                "Ask people to change their reply first if you need fewer."
            )
            % {"count": event.going_count}
        )
    changes = {
        "title": title.strip(),
        "description": description,
        "description_html": render_markdown(description),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "place": place.strip(),
        "capacity": capacity,
        "cost": cost.strip(),
        "step_free": step_free,
        "hearing_loop": hearing_loop,
        "bsl": bsl,
        "quiet_space": quiet_space,
        "child_friendly": child_friendly,
        "access_notes": access_notes.strip(),
    }
    changed = any(getattr(event, name) != value for name, value in changes.items())
    for name, value in changes.items():
        setattr(event, name, value)
    # going_count is owned by the reply functions; leaving it out means this save can never undo one.
    event.save(update_fields=[*changes, "updated_at"])
    if changed:
        notifications.record(
            event="event.changed",
            category=Category.MY_EVENTS,
            subject=event,
            # No actor: someone going to an event must hear that it moved even if they keep apart from its editor.
            key=notifications.occurrence_key(event, event.updated_at),  # every edit is news
            recipients=_replied(event, INTERESTED).exclude(pk=editor.pk),
            context=_event_context(event),
            url=_event_url(event),
        )
    _promote_from_waitlist(event, actor=editor)
    return event


@transaction.atomic
def cancel_event(*, editor: User, event: Event) -> Event:
    """Call the event off. It stays listed (marked cancelled, and STATUS:CANCELLED in calendars) so people who
    planned to come find out; replies are kept but no new ones are taken. Everyone going, maybe going or waiting
    (still members, besides the editor) gets an "event.cancelled" notification."""
    event = _lock(event)
    if not permissions.can_edit_event(editor, event, _membership(editor, event.group_id)):
        raise DomainError(_("Only the person who planned this event or an organiser can cancel it."))
    if event.is_cancelled:
        raise DomainError(_("This event has already been cancelled."))
    if event.is_past:
        raise DomainError(_("This event has already happened, so it cannot be cancelled."))
    event.cancelled_at = timezone.now()
    event.save(update_fields=["cancelled_at", "updated_at"])
    notifications.record(
        event="event.cancelled",
        category=Category.MY_EVENTS,
        subject=event,
        # No actor: someone going must hear it was called off, even if they keep apart from whoever cancelled it.
        recipients=_replied(event, INTERESTED).exclude(pk=editor.pk),
        context=_event_context(event),
        url=_event_url(event),
    )
    return event


@transaction.atomic
def rsvp(*, user: User, event: Event, status: str) -> RSVP:
    """Reply going, maybe or not going. Only members may reply, and only to events still to come.

    "Going" to a full event puts the person on the waiting list, behind everyone already on it. When someone
    who was going changes their reply, the first person waiting takes the place. The event row is locked for
    the whole reply, so simultaneous replies are handled one by one and never overbook the event.
    """
    if status not in REPLIES:
        raise DomainError(_("Choose going, maybe or not going."))
    event = _lock(event)
    if not permissions.can_rsvp(event.group, _membership(user, event.group_id)):
        raise DomainError(_("Only members of the group can reply to its events. Join the group first."))
    if event.is_cancelled:
        raise DomainError(_("This event has been cancelled."))
    if event.is_past:
        raise DomainError(_("This event has already happened."))

    reply = RSVP.objects.filter(event=event, user=user).first()
    was = reply.status if reply is not None else None
    if status == RSVP.Status.GOING:
        if was == RSVP.Status.GOING:
            return reply
        has_place = event.capacity is None or event.going_count < event.capacity
        if was == RSVP.Status.WAITLISTED and not has_place:
            return reply  # asking again keeps their place in the queue
        new_status = RSVP.Status.GOING if has_place else RSVP.Status.WAITLISTED
    else:
        new_status = status

    if reply is None:
        reply = RSVP.objects.create(event=event, user=user, status=new_status)
    elif new_status != was:
        reply.status = new_status
        reply.save(update_fields=["status", "updated_at"])

    if new_status == RSVP.Status.GOING and was != RSVP.Status.GOING:
        _set_going_count(event, event.going_count + 1)
    elif was == RSVP.Status.GOING and new_status != RSVP.Status.GOING:
        _set_going_count(event, event.going_count - 1)
        _promote_from_waitlist(event, actor=user)
    return reply


@transaction.atomic
def reset_calendar_token(*, member: User, group: Group) -> Membership:
    """Give the member a new secret calendar address; the old one stops working at once."""
    membership = Membership.objects.select_for_update().filter(group=group, user=member).first()
    if membership is None or not membership.is_active:
        raise DomainError(_("Only members of the group have a calendar address."))
    membership.calendar_token = new_token()
    membership.save(update_fields=["calendar_token", "updated_at"])
    return membership


@transaction.atomic
def release_places(*, user: User, group: Group) -> int:
    """Withdraw someone's replies to the group's events still to come, when they leave or are removed or banned.

    A place they held goes to the first person waiting. Returns how many replies were withdrawn.
    """
    event_ids = RSVP.objects.filter(event__group=group, user=user, event__ends_at__gt=timezone.now()).values("event_id")
    # Lock the events first, always in the same order, then read each reply under its event's lock: a reply read
    # before the lock could change meanwhile (promoted from the waiting list, say) and leave a phantom place.
    events = list(
        Event.objects.select_for_update(of=("self",)).select_related("group").filter(pk__in=event_ids).order_by("pk")
    )
    withdrawn = 0
    for event in events:
        reply = RSVP.objects.filter(event=event, user=user).first()
        if reply is None:
            continue
        was_going = reply.status == RSVP.Status.GOING
        reply.delete()
        withdrawn += 1
        if was_going:
            _set_going_count(event, event.going_count - 1)
            _promote_from_waitlist(event, actor=user)
    return withdrawn


def _reminder_key(event: Event) -> str:
    # The start time is part of the key, so an event moved to another day is reminded of again.
    return f"{event.pk}@{event.starts_at:%Y%m%dT%H%M}"


def send_event_reminders(*, now: datetime | None = None) -> int:
    """Remind everyone going to an event that starts within the next 24 hours ("event.reminder"), once per event
    and start time. Cancelled events are skipped, and so is anyone no longer an active member.

    Beat runs this every few minutes. Each event's reminders are written by one statement of their own (no long
    transaction over the whole run), and the recipients query leaves out whoever already has this reminder, so a
    rerun (or two runs at once: the outbox key holds) records nothing twice and costs one query per event.
    Returns how many reminders were recorded.
    """
    now = now or timezone.now()
    events = list(
        Event.objects.filter(cancelled_at__isnull=True, starts_at__gt=now, starts_at__lte=now + REMINDER_AHEAD)
        .select_related("group")
        .order_by("starts_at", "pk")
    )
    recorded = 0
    for event in events:
        key = _reminder_key(event)
        reminded = Notification.objects.filter(
            recipient=OuterRef("pk"), event="event.reminder", dedupe_key__startswith=f"event.reminder:{key}:"
        )
        recorded += notifications.record(
            event="event.reminder",
            category=Category.MY_EVENTS,
            subject=event,
            key=key,
            recipients=_replied(event, [RSVP.Status.GOING]).exclude(Exists(reminded)),
            context=_event_context(event),
            url=_event_url(event),
        )
    return recorded
