"""iCalendar (RFC 5545) files for dated volunteer roles, so a volunteer can put their stint in their own calendar.

As with events (neighbourhoods/calendars.py), times are written in Europe/London with a VTIMEZONE, so a 10am
litter pick shows at 10am local time on either side of the clock change, and each entry links back to the
initiative's volunteer page.
"""

from datetime import date
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from .models import VolunteerRole

PRODUCT_ID = "-//Stronger Streets//Initiatives//EN"


def _site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "stronger-streets.local"


def role_uid(role: VolunteerRole) -> str:
    """The same for every download of this role, so calendar apps update the entry rather than add another."""
    return f"volunteer-role-{role.pk}@{_site_host()}"


def role_url(role: VolunteerRole) -> str:
    return settings.SITE_URL + reverse("initiatives:volunteer", args=[role.initiative.slug]) + f"#role-{role.pk}"


def _sequence(role: VolunteerRole) -> int:
    # A revision number that only grows: whole seconds between creation and the last edit. Sign-ups do not touch
    # `updated_at` (see services.volunteering), so only edits to the role make calendar apps refresh the entry.
    return max(int((role.updated_at - role.created_at).total_seconds()), 0)


def _plain_text(role: VolunteerRole) -> str:
    parts = [
        role.description.strip(),
        _("Volunteering for %(initiative)s") % {"initiative": role.initiative.title},
        role_url(role),
    ]
    return "\n\n".join(part for part in parts if part)


def role_calendar(role: VolunteerRole) -> bytes:
    """An iCalendar file holding the role (which must have a start time; its initiative loaded), with the
    Europe/London VTIMEZONE. A role with no end time is written without DTEND: RFC 5545 reads that as a moment."""
    if role.starts_at is None:
        raise ValueError("Only a dated role has a calendar entry.")
    zone = ZoneInfo(settings.TIME_ZONE)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", role.title)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)

    entry = CalendarEvent()
    entry.add("uid", role_uid(role))
    # Without a METHOD, DTSTAMP is when the entry was last revised in our store (RFC 5545, 3.8.7.2).
    entry.add("dtstamp", role.updated_at)
    entry.add("created", role.created_at)
    entry.add("last-modified", role.updated_at)
    entry.add("sequence", _sequence(role))
    entry.add("dtstart", role.starts_at.astimezone(zone))
    if role.ends_at is not None:
        entry.add("dtend", role.ends_at.astimezone(zone))
    entry.add("summary", _("%(role)s (%(initiative)s)") % {"role": role.title, "initiative": role.initiative.title})
    entry.add("description", _plain_text(role))
    if role.initiative.place:
        entry.add("location", role.initiative.place)
    entry.add("url", role_url(role))
    entry.add("status", "CONFIRMED")
    calendar.add_component(entry)

    last = role.ends_at or role.starts_at
    first_year, last_year = role.starts_at.astimezone(zone).year, last.astimezone(zone).year
    # The time zone's rules for just the years the role covers: a short file that still describes the clock change.
    calendar.add_missing_timezones(first_date=date(first_year, 1, 1), last_date=date(min(last_year + 1, 9999), 1, 1))
    return calendar.to_ical()


def ics_filename(role: VolunteerRole) -> str:
    return f"volunteer-role-{role.pk}.ics"
