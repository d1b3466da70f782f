"""Reads for events. Callers have already checked the viewer may see the group's content
(`get_group_content_context`); each function loads what its page needs in a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .. import permissions
from ..models import RSVP, Event, Group, Membership
from . import GroupContext

ACCESS_FIELDS = ("step_free", "hearing_loop", "bsl", "quiet_space", "child_friendly")
# How far back a calendar feed reaches, so an event that has just finished does not vanish from people's calendars.
FEED_HISTORY = timedelta(days=90)
FEED_LIMIT = 500


def access_features(event: Event) -> list[str]:
    """The access an event offers, as words (not icons): "step-free access", "hearing loop", …"""
    return [str(Event._meta.get_field(name).verbose_name) for name in ACCESS_FIELDS if getattr(event, name)]


def _with_viewer_reply(events: QuerySet, viewer) -> QuerySet:
    """Each event carries `my_status`: the viewer's reply, or None. A subquery, so a list stays one query."""
    if viewer is None or not viewer.is_authenticated:
        return events
    mine = RSVP.objects.filter(event=OuterRef("pk"), user=viewer).values("status")[:1]
    return events.annotate(my_status=Subquery(mine))


def list_upcoming_events(*, group: Group, viewer) -> QuerySet:
    """Events still to come or under way, soonest first; cancelled ones stay so people see they are off."""
    events = Event.objects.filter(group=group, ends_at__gt=timezone.now()).select_related("group")
    return _with_viewer_reply(events, viewer).order_by("starts_at", "pk")


def list_past_events(*, group: Group, viewer) -> QuerySet:
    """The archive: events that have finished, most recent first."""
    events = Event.objects.filter(group=group, ends_at__lte=timezone.now()).select_related("group")
    return _with_viewer_reply(events, viewer).order_by("-starts_at", "-pk")


def waitlist_position(reply: RSVP) -> int:
    """1 for the person at the front of the waiting list. Order of arrival, as the waitlist is filled."""
    ahead = RSVP.objects.filter(event_id=reply.event_id, status=RSVP.Status.WAITLISTED).filter(
        Q(updated_at__lt=reply.updated_at) | Q(updated_at=reply.updated_at, pk__lt=reply.pk)
    )
    return ahead.count() + 1


def list_going(*, event: Event) -> QuerySet:
    """The people going, by display name, with their profiles loaded (one query)."""
    return (
        RSVP.objects.filter(event=event, status=RSVP.Status.GOING)
        .select_related("user__profile")
        .order_by("user__profile__display_name", "pk")
    )


@dataclass(frozen=True)
class EventDetail:
    event: Event
    my_reply: RSVP | None
    waitlist_position: int | None
    can_edit: bool
    can_rsvp: bool
    going: list = field(default_factory=list)  # only for those who run the event

    @property
    def access(self) -> list[str]:
        return access_features(self.event)


def get_event(*, context: GroupContext, event_id: int) -> Event:
    """One of the group's events, with counts of replies by status (one query), or a 404."""
    counts = {
        f"{status}_count": Count("rsvps", filter=Q(rsvps__status=status))
        for status in (RSVP.Status.MAYBE, RSVP.Status.NOT_GOING, RSVP.Status.WAITLISTED)
    }
    return get_object_or_404(
        Event.objects.filter(group=context.group).select_related("group", "created_by__profile").annotate(**counts),
        pk=event_id,
    )


def event_detail(*, context: GroupContext, viewer, event_id: int) -> EventDetail:
    """The event page for this viewer: the event and its counts, their own reply and place in the waiting list,
    and — for its creator and the group's organisers — who is going. At most four queries."""
    event = get_event(context=context, event_id=event_id)
    reply = None
    if viewer.is_authenticated:
        reply = RSVP.objects.filter(event=event, user=viewer).first()
    position = waitlist_position(reply) if reply is not None and reply.status == RSVP.Status.WAITLISTED else None
    can_edit = viewer.is_authenticated and permissions.can_edit_event(viewer, event, context.membership)
    return EventDetail(
        event=event,
        my_reply=reply,
        waitlist_position=position,
        can_edit=can_edit,
        can_rsvp=permissions.can_rsvp(context.group, context.membership),
        going=list(list_going(event=event)) if can_edit else [],
    )


def calendar_events(*, group: Group) -> QuerySet:
    """What a group's calendar feed holds: everything still to come and what finished in the last few months."""
    since = timezone.now() - FEED_HISTORY
    return (
        Event.objects.filter(group=group, ends_at__gte=since)
        .select_related("group")
        .order_by("starts_at", "pk")[:FEED_LIMIT]
    )


def get_calendar_membership(*, token: str) -> Membership:
    """The active membership a secret calendar address belongs to. A reset token, or a membership that has
    ended, is a 404 like any unknown address."""
    membership = Membership.objects.select_related("group").filter(calendar_token=token).first()
    if membership is None or not membership.is_active:
        raise Http404
    return membership
