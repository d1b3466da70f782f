"""The initiative's timeline: every action that belongs on it calls `record` inside its own transaction.

Messages are stored as their English source (marked with `gettext_noop`) plus values, and translated when shown, so
each reader sees the timeline in their own language.
"""

from django.utils.translation import gettext

from accounts.models import User

from .models import Initiative, TimelineEntry


def record(
    *, initiative: Initiative, kind: str, actor: User | None, message: str, params: dict | None = None, url: str = ""
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        initiative=initiative, kind=kind, actor=actor, message=message, params=params or {}, url=url
    )


def render(entry: TimelineEntry) -> str:
    """The entry's line in the active language; values recorded with the entry fill its placeholders."""
    try:
        return gettext(entry.message) % entry.params
    except (KeyError, TypeError, ValueError):
        return gettext(entry.message)
