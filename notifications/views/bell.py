"""The bell: a person's notifications, newest first and grouped by day, and marking them read."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from .. import services
from ..models import Notification

PAGE_SIZE = 30


@dataclass(frozen=True)
class Day:
    label: str
    notifications: list[Notification]


def day_label(day: date, *, today: date) -> str:
    if day == today:
        return _("Today")
    if day == today - timedelta(days=1):
        return _("Yesterday")
    return formats.date_format(day, "l j F Y")


def group_by_day(notifications, *, today: date | None = None) -> list[Day]:
    """Consecutive notifications (newest first) under the local day each arrived on."""
    today = today or timezone.localdate()
    days: list[Day] = []
    current = None
    for notification in notifications:
        day = timezone.localdate(notification.created_at)
        if day != current:
            current = day
            days.append(Day(label=day_label(day, today=today), notifications=[]))
        days[-1].notifications.append(notification)
    return days


def _safe_url(request, url: str) -> str | None:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        return url
    return None


@require_GET
def notification_list(request):
    """Two queries whatever the number of notifications (the count for the pages, then one page of rows), besides
    the session and user; the header's unread count comes from the cache. Notifications about someone either of the
    two has blocked are left out."""
    notifications = services.list_shown(request.user).only("pk", "line", "url", "created_at", "read_at")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/notification_list.html",
        {"page": page, "days": group_by_day(page.object_list)},
    )


@require_POST
def notification_read(request, notification_id):
    """Mark one notification read, then go to what it is about (back to the list if it links nowhere)."""
    try:
        notification = services.mark_read(request.user, notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
    return redirect(_safe_url(request, notification.url) or "notifications:list")


@require_POST
def notification_read_all(request):
    count = services.mark_all_read(request.user)
    if count:
        messages.success(
            request,
            ngettext("%(count)s notification marked as read.", "%(count)s notifications marked as read.", count)
            % {"count": count},
        )
    else:
        messages.info(request, _("You had no unread notifications."))
    return redirect("notifications:list")


urlpatterns = [
    path("notifications/", notification_list, name="list"),
    path("notifications/<int:notification_id>/read/", notification_read, name="read"),
    path("notifications/read-all/", notification_read_all, name="read-all"),
]
