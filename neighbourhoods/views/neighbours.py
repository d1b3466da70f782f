"""The neighbour directory, waves and connections: how neighbours get to know each other."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError

from .. import permissions, selectors
from ..forms.neighbours import DirectoryFilterForm, WaveForm
from ..models import Wave
from ..selectors import neighbours as neighbour_selectors
from ..services import neighbours as neighbour_services
from .base import attempt


def _directory_context(request, slug) -> selectors.GroupContext:
    """The directory and waves are for members: a members-only group is a 404 to anyone else (it reveals nothing),
    a public group's directory is a 403 to signed-in people who are not active members."""
    context = selectors.get_group_content_context(viewer=request.user, slug=slug)
    if not permissions.can_see_directory(context.membership):
        raise PermissionDenied
    return context


def directory(request, slug):
    context = _directory_context(request, slug)
    group = context.group
    interests, skills = neighbour_selectors.directory_tags(group=group)
    form = DirectoryFilterForm(request.GET or None, interests=interests, skills=skills)
    interest = skill = None
    if form.is_bound and form.is_valid():
        interest = form.cleaned_data["interest"] or None
        skill = form.cleaned_data["skill"] or None
    people = Paginator(
        neighbour_selectors.directory(group=group, viewer=request.user, interest=interest, skill=skill),
        neighbour_selectors.DIRECTORY_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "neighbourhoods/directory.html",
        {
            "ctx": context,
            "group": group,
            "form": form,
            "people": people,
            "filtered": bool(interest or skill),
            "can_vouch": permissions.can_vouch(context.membership),
        },
    )


def _send(request, form: WaveForm, *, recipient, group) -> bool:
    try:
        neighbour_services.send_wave(
            sender=request.user, recipient=recipient, group=group, message=form.cleaned_data["message"]
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return False
    return True


def wave_create(request, slug, membership_id):
    """Wave, by name, to someone listed in the group's directory."""
    context = _directory_context(request, slug)
    target = neighbour_selectors.get_wave_target(group=context.group, viewer=request.user, membership_id=membership_id)
    if target.user_id == request.user.pk:
        messages.error(request, _("You cannot wave to yourself."))
        return redirect("neighbourhoods:directory", slug=context.group.slug)
    form = WaveForm(request.POST or None)
    name = target.user.profile.display_name
    if (
        request.method == "POST"
        and form.is_valid()
        and _send(request, form, recipient=target.user, group=context.group)
    ):
        messages.success(
            request, _("You waved to %(name)s. If they wave back, you will be connected.") % {"name": name}
        )
        return redirect("neighbourhoods:directory", slug=context.group.slug)
    return render(
        request,
        "neighbourhoods/wave_form.html",
        {"ctx": context, "group": context.group, "form": form, "recipient_name": name, "suggestion": None},
    )


def suggestion_wave(request, slug, token):
    """Wave to a suggested neighbour who shares an interest. Their name is not shown here: it is revealed only if
    they wave back."""
    context = _directory_context(request, slug)
    suggestion = neighbour_selectors.get_suggestion(group=context.group, viewer=request.user, token=token)
    form = WaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        target = get_object_or_404(context.group.memberships.select_related("user"), pk=suggestion.membership_id)
        if _send(request, form, recipient=target.user, group=context.group):
            messages.success(
                request,
                _("Your wave is on its way. If they wave back, you will both see each other's names."),
            )
            return redirect(context.group)
    return render(
        request,
        "neighbourhoods/wave_form.html",
        {"ctx": context, "group": context.group, "form": form, "recipient_name": None, "suggestion": suggestion},
    )


def my_neighbours(request):
    found = neighbour_selectors.my_neighbours(user=request.user)
    connections = Paginator(found.connections, neighbour_selectors.CONNECTIONS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "neighbourhoods/neighbours.html",
        {"connections": connections, "waves_received": found.waves_received, "waves_sent": found.waves_sent},
    )


@require_POST
def wave_answer(request, wave_id):
    # Only the person waved at can reach their wave here; to anyone else it does not exist.
    wave = get_object_or_404(Wave.objects.select_related("sender__profile"), pk=wave_id, recipient=request.user)
    answer = request.POST.get("answer")
    if answer not in ("accept", "decline"):
        messages.error(request, _("Choose whether to wave back or decline."))
        return redirect("neighbourhoods:neighbours")
    accept = answer == "accept"
    name = wave.sender.profile.display_name
    attempt(
        request,
        lambda: neighbour_services.answer_wave(recipient=request.user, wave=wave, accept=accept),
        success=(
            _("You waved back. You and %(name)s are now connected.") % {"name": name}
            if accept
            else _("You declined the wave from %(name)s.") % {"name": name}
        ),
    )
    return redirect("neighbourhoods:neighbours")


@require_POST
def connection_remove(request, connection_id):
    connection = get_object_or_404(neighbour_selectors.list_connections(user=request.user), pk=connection_id)
    attempt(
        request,
        lambda: neighbour_services.remove_connection(user=request.user, connection=connection),
        success=_("You are no longer connected with %(name)s.") % {"name": connection.other_name},
    )
    return redirect("neighbourhoods:neighbours")


urlpatterns = [
    path("groups/<slug:slug>/neighbours/", directory, name="directory"),
    path("groups/<slug:slug>/neighbours/<int:membership_id>/wave/", wave_create, name="wave-create"),
    path("groups/<slug:slug>/suggestions/<str:token>/wave/", suggestion_wave, name="suggestion-wave"),
    path("neighbours/", my_neighbours, name="neighbours"),
    path("neighbours/waves/<int:wave_id>/answer/", wave_answer, name="wave-answer"),
    path("neighbours/connections/<int:connection_id>/remove/", connection_remove, name="connection-remove"),
]
