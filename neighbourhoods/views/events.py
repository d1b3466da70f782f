"""Events: the list and archive, planning and changing them, replies, and calendar files and feeds.

Members-only groups' events, files and feeds are a 404 to anyone who is not a member, like a missing page. The
secret calendar feed is the one page that works without signing in, because calendar apps cannot sign in: the
address itself is the key, and it stops working when it is reset or the membership ends.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import DomainError

from .. import calendars, permissions, selectors
from ..forms.events import EventForm, RSVPForm
from ..models import RSVP
from ..selectors import events as event_selectors
from ..services import events as event_services
from .base import attempt

PER_PAGE = 20


def _ics_response(content: bytes, *, filename: str, private: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if private:
        # A member's own feed: never kept by shared caches or proxies.
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
    return response


def _editable_event(request, slug, event_id):
    context = selectors.get_group_content_context(viewer=request.user, slug=slug)
    event = get_object_or_404(context.group.events.select_related("group"), pk=event_id)
    if not permissions.can_edit_event(request.user, event, context.membership):
        raise PermissionDenied
    return context, event


def _feed_links(context) -> dict:
    """The calendar address this viewer may subscribe to: the group's own if it is public, otherwise their own
    secret one (members only)."""
    group = context.group
    if group.is_public:
        return {"feed_url": settings.SITE_URL + reverse("neighbourhoods:group-calendar", args=[group.slug])}
    if context.is_member:
        token = context.membership.calendar_token
        return {
            "feed_url": settings.SITE_URL + reverse("neighbourhoods:member-calendar", args=[token]),
            "feed_is_secret": True,
        }
    return {}


@login_not_required
def event_list(request, slug):
    context = selectors.get_group_content_context(viewer=request.user, slug=slug)
    events = event_selectors.list_upcoming_events(group=context.group, viewer=request.user)
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "neighbourhoods/event_list.html",
        {
            "ctx": context,
            "group": context.group,
            "page": page,
            "can_create": permissions.can_create_event(context.group, context.membership),
            **_feed_links(context),
        },
    )


@login_not_required
def event_archive(request, slug):
    context = selectors.get_group_content_context(viewer=request.user, slug=slug)
    events = event_selectors.list_past_events(group=context.group, viewer=request.user)
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "neighbourhoods/event_archive.html", {"ctx": context, "group": context.group, "page": page})


def event_create(request, slug):
    context = selectors.get_group_content_context(viewer=request.user, slug=slug)
    if not permissions.can_create_event(context.group, context.membership):
        raise PermissionDenied
    form = EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = event_services.create_event(creator=request.user, group=context.group, **form.details())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your event is on the calendar."))
            return redirect(event)
    return render(
        request, "neighbourhoods/event_form.html", {"ctx": context, "group": context.group, "form": form, "event": None}
    )


@login_not_required
def event_detail(request, slug, event_id):
    context = selectors.get_group_content_context(viewer=request.user, slug=slug)
    detail = event_selectors.event_detail(context=context, viewer=request.user, event_id=event_id)
    current = detail.my_reply.status if detail.my_reply is not None else None
    if current == RSVP.Status.WAITLISTED:
        current = RSVP.Status.GOING
    return render(
        request,
        "neighbourhoods/event_detail.html",
        {
            "ctx": context,
            "group": context.group,
            "event": detail.event,
            "detail": detail,
            "rsvp_form": RSVPForm(initial={"status": current}, auto_id="rsvp_%s"),
        },
    )


def event_edit(request, slug, event_id):
    context, event = _editable_event(request, slug, event_id)
    if event.is_cancelled or event.is_past:
        messages.error(request, _("This event has finished or been cancelled, so it cannot be changed."))
        return redirect(event)
    form = EventForm(request.POST or None, event=event)
    if request.method == "POST" and form.is_valid():
        try:
            event = event_services.edit_event(editor=request.user, event=event, **form.details())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The event has been updated."))
            return redirect(event)
    return render(
        request,
        "neighbourhoods/event_form.html",
        {"ctx": context, "group": context.group, "form": form, "event": event},
    )


def event_cancel(request, slug, event_id):
    """GET asks "are you sure?"; POST calls the event off."""
    context, event = _editable_event(request, slug, event_id)
    if request.method == "POST":
        attempt(
            request,
            lambda: event_services.cancel_event(editor=request.user, event=event),
            success=_("The event has been cancelled. It stays listed so people know it is off."),
        )
        return redirect(event)
    return render(
        request, "neighbourhoods/event_confirm_cancel.html", {"ctx": context, "group": context.group, "event": event}
    )


RSVP_MESSAGES = {
    RSVP.Status.GOING: gettext_lazy("You are going. See you there!"),
    RSVP.Status.MAYBE: gettext_lazy("Thanks. We have put you down as a maybe."),
    RSVP.Status.NOT_GOING: gettext_lazy("Thanks for letting us know you are not going."),
}


@require_POST
def event_rsvp(request, slug, event_id):
    context = selectors.get_group_content_context(viewer=request.user, slug=slug)
    event = get_object_or_404(context.group.events.select_related("group"), pk=event_id)
    form = RSVPForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["status"][0])
        return redirect(event)
    reply = attempt(
        request, lambda: event_services.rsvp(user=request.user, event=event, status=form.cleaned_data["status"])
    )
    if reply is not None:
        if reply.status == RSVP.Status.WAITLISTED:
            messages.success(
                request,
                _("The event is full, so you are on the waiting list. If a place comes free, it is yours."),
            )
        else:
            messages.success(request, str(RSVP_MESSAGES[reply.status]))
    return redirect(event)


@login_not_required
def event_ics(request, slug, event_id):
    context = selectors.get_group_content_context(viewer=request.user, slug=slug)
    event = get_object_or_404(context.group.events.select_related("group"), pk=event_id)
    return _ics_response(
        calendars.event_calendar(event), filename=calendars.ics_filename(event), private=not context.group.is_public
    )


@login_not_required
def group_calendar(request, slug):
    """A public group's feed. Members-only groups have none: each member has a secret feed of their own."""
    context = selectors.get_group_context(viewer=request.user, slug=slug)
    if not context.group.is_public:
        raise Http404
    events = event_selectors.calendar_events(group=context.group)
    return _ics_response(calendars.group_calendar(context.group, events), filename=f"{context.group.slug}.ics")


@login_not_required
def member_calendar(request, token):
    membership = event_selectors.get_calendar_membership(token=token)
    events = event_selectors.calendar_events(group=membership.group)
    return _ics_response(
        calendars.group_calendar(membership.group, events), filename=f"{membership.group.slug}.ics", private=True
    )


@require_POST
def calendar_reset(request, slug):
    context = selectors.get_group_content_context(viewer=request.user, slug=slug)
    attempt(
        request,
        lambda: event_services.reset_calendar_token(member=request.user, group=context.group),
        success=_("Your calendar address has changed. Add the new one to your calendar app; the old one has stopped."),
    )
    return redirect("neighbourhoods:event-list", slug=context.group.slug)


urlpatterns = [
    path("groups/<slug:slug>/events/", event_list, name="event-list"),
    path("groups/<slug:slug>/events/past/", event_archive, name="event-archive"),
    path("groups/<slug:slug>/events/new/", event_create, name="event-create"),
    path("groups/<slug:slug>/events/<int:event_id>/", event_detail, name="event-detail"),
    path("groups/<slug:slug>/events/<int:event_id>/edit/", event_edit, name="event-edit"),
    path("groups/<slug:slug>/events/<int:event_id>/cancel/", event_cancel, name="event-cancel"),
    path("groups/<slug:slug>/events/<int:event_id>/reply/", event_rsvp, name="event-rsvp"),
    path("groups/<slug:slug>/events/<int:event_id>/event.ics", event_ics, name="event-ics"),
    path("groups/<slug:slug>/calendar.ics", group_calendar, name="group-calendar"),
    path("groups/<slug:slug>/calendar/reset/", calendar_reset, name="calendar-reset"),
    path("calendar/<str:token>.ics", member_calendar, name="member-calendar"),
]
