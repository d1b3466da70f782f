"""Volunteering: the roles an initiative needs filling, signing up and withdrawing, organisers managing the roles,
and a calendar file for each dated role.

Everyone who may see the initiative sees its roles and how many places are left; only the lead and co-organisers see
who signed up. Initiatives of members-only groups are a 404 to anyone else (`get_initiative_context`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from neighbourhoods.views.base import attempt

from .. import calendars
from ..forms.volunteering import VolunteerRoleForm
from ..selectors import get_initiative_context
from ..selectors import volunteering as selectors
from ..services import volunteering as services


def _page(initiative) -> str:
    return services.volunteer_url(initiative)


def _organised(request, slug):
    """The initiative for its lead or a co-organiser; anyone else who may see it gets a 403."""
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    if not ctx.can_organise:
        raise PermissionDenied
    return ctx


@login_not_required
def volunteer(request, slug):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    page = selectors.volunteer_page(ctx=ctx, viewer=request.user)
    return render(
        request,
        "initiatives/volunteer.html",
        {"ctx": ctx, "initiative": ctx.initiative, "page": page},
    )


def role_create(request, slug):
    ctx = _organised(request, slug)
    form = VolunteerRoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_role(organiser=request.user, initiative=ctx.initiative, **form.details())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The role has been added. Members can now sign up."))
            return redirect(_page(ctx.initiative))
    return render(
        request,
        "initiatives/volunteer_role_form.html",
        {"ctx": ctx, "initiative": ctx.initiative, "form": form, "role": None},
    )


def role_edit(request, slug, role_id):
    ctx = _organised(request, slug)
    role = selectors.get_role(initiative=ctx.initiative, role_id=role_id)
    form = VolunteerRoleForm(request.POST or None, role=role)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_role(organiser=request.user, role=role, **form.details())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The role has been updated."))
            return redirect(_page(ctx.initiative))
    return render(
        request,
        "initiatives/volunteer_role_form.html",
        {"ctx": ctx, "initiative": ctx.initiative, "form": form, "role": role},
    )


def role_delete(request, slug, role_id):
    """GET asks "are you sure?"; POST removes the role and its sign-ups."""
    ctx = _organised(request, slug)
    role = selectors.get_role(initiative=ctx.initiative, role_id=role_id)
    if request.method == "POST":
        attempt(
            request,
            lambda: services.remove_role(organiser=request.user, role=role),
            success=_("The role “%(title)s” has been removed.") % {"title": role.title},
        )
        return redirect(_page(ctx.initiative))
    return render(
        request,
        "initiatives/volunteer_role_confirm_delete.html",
        {"ctx": ctx, "initiative": ctx.initiative, "role": role},
    )


@require_POST
def role_sign_up(request, slug, role_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    role = selectors.get_role(initiative=ctx.initiative, role_id=role_id)
    attempt(
        request,
        lambda: services.sign_up(user=request.user, role=role),
        success=_("Thank you! You have signed up as %(role)s. The organisers have been told.") % {"role": role.title},
    )
    return redirect(_page(ctx.initiative) + f"#role-{role.pk}")


@require_POST
def role_withdraw(request, slug, role_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    role = selectors.get_role(initiative=ctx.initiative, role_id=role_id)
    attempt(
        request,
        lambda: services.withdraw(user=request.user, role=role),
        success=_("You are no longer signed up as %(role)s. Your place is free for someone else.")
        % {"role": role.title},
    )
    return redirect(_page(ctx.initiative) + f"#role-{role.pk}")


@login_not_required
def role_ics(request, slug, role_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    role = selectors.get_role(initiative=ctx.initiative, role_id=role_id)
    if role.starts_at is None:
        raise Http404  # a role with no set time has nothing to put in a calendar
    response = HttpResponse(calendars.role_calendar(role), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{calendars.ics_filename(role)}"'
    group = ctx.initiative.group
    if group is not None and not group.is_public:
        # A members-only group's role: never kept by shared caches or proxies.
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
    return response


urlpatterns = [
    path("initiatives/<slug:slug>/volunteer/", volunteer, name="volunteer"),
    path("initiatives/<slug:slug>/volunteer/roles/new/", role_create, name="volunteer-role-create"),
    path("initiatives/<slug:slug>/volunteer/roles/<int:role_id>/edit/", role_edit, name="volunteer-role-edit"),
    path("initiatives/<slug:slug>/volunteer/roles/<int:role_id>/remove/", role_delete, name="volunteer-role-delete"),
    path("initiatives/<slug:slug>/volunteer/roles/<int:role_id>/sign-up/", role_sign_up, name="volunteer-sign-up"),
    path("initiatives/<slug:slug>/volunteer/roles/<int:role_id>/withdraw/", role_withdraw, name="volunteer-withdraw"),
    path("initiatives/<slug:slug>/volunteer/roles/<int:role_id>/role.ics", role_ics, name="role-ics"),
]
