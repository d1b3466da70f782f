"""iCalendar (RFC 5545) files for events: one event to download, or a group's feed that calendar apps subscribe to.

Times are written in Europe/London with a VTIMEZONE, so a 7pm event in July and one in December both show at 7pm
local time whichever side of the clock change they fall. Each entry links back to its page on the site.
"""

from collections.abc import Iterable
from datetime import date
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from .models import Event, Group
from .selectors.events import access_features

PRODUCT_ID = "-//Stronger Streets//Events//EN"


def _site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "stronger-streets.local"


def event_uid(event: Event) -> str:
    """The same for every download and feed of this event, so calendar apps update it rather than add another."""
    return f"event-{event.pk}@{_site_host()}"


def event_url(event: Event) -> str:
    return settings.SITE_URL + event.get_absolute_url()


def _sequence(event: Event) -> int:
    # A revision number that only grows: whole seconds between creation and the last edit. Replies do not touch
    # `updated_at` (see services.events), so only edits and cancelling make calendar apps refresh the entry.
    return max(int((event.updated_at - event.created_at).total_seconds()), 0)


def _plain_text(event: Event) -> str:
    # The description as written: light Markdown reads fine as plain text, and nothing in it is HTML to run.
    parts = [event.description.strip()]
    if event.cost:
        parts.append(_("Cost: %(cost)s") % {"cost": event.cost})
    access = access_features(event)
    if access:
        parts.append(_("Access: %(features)s") % {"features": ", ".join(access)})
    if event.access_notes:
        parts.append(event.access_notes)
    parts.append(event_url(event))
    return "\n\n".join(part for part in parts if part)


def _vevent(event: Event, zone: ZoneInfo) -> CalendarEvent:
    entry = CalendarEvent()
    entry.add("uid", event_uid(event))
    # Without a METHOD, DTSTAMP is when the entry was last revised in our store (RFC 5545, 3.8.7.2).
    entry.add("dtstamp", event.updated_at)
    entry.add("created", event.created_at)
    entry.add("last-modified", event.updated_at)
    entry.add("sequence", _sequence(event))
    entry.add("dtstart", event.starts_at.astimezone(zone))
    entry.add("dtend", event.ends_at.astimezone(zone))
    entry.add("summary", event.title)
    entry.add("description", _plain_text(event))
    entry.add("location", event.place)
    entry.add("url", event_url(event))
    entry.add("status", "CANCELLED" if event.is_cancelled else "CONFIRMED")
    return entry


def build_calendar(events: Iterable[Event], *, name: str) -> bytes:
    """An iCalendar file holding `events` (each needs its group loaded), with the Europe/London VTIMEZONE."""
    zone = ZoneInfo(settings.TIME_ZONE)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    years = []
    for event in events:
        calendar.add_component(_vevent(event, zone))
        years += [event.starts_at.astimezone(zone).year, event.ends_at.astimezone(zone).year]
    if years:
        # The time zone's rules for just the years these events cover: a short file that still describes every
        # clock change between them.
        calendar.add_missing_timezones(
            first_date=date(min(years), 1, 1), last_date=date(min(max(years) + 1, 9999), 1, 1)
        )
    return calendar.to_ical()


def event_calendar(event: Event) -> bytes:
    return build_calendar([event], name=event.title)


def group_calendar(group: Group, events: Iterable[Event]) -> bytes:
    return build_calendar(events, name=_("%(group)s events") % {"group": group.name})


def ics_filename(event: Event) -> str:
    return f"event-{event.pk}.ics"
