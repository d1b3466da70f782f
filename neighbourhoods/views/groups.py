from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError

from .. import permissions, selectors, services
from ..forms import GroupForm, JoinCodeForm
from ..models import Group, Membership
from .base import attempt


def group_create(request):
    """A resident starts a street group for their street(s) and becomes its organiser."""
    initial = {"postcodes": request.GET.get("postcode", "")}
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            group = services.create_group(
                founder=request.user,
                neighbourhood=form.neighbourhood,
                name=data["name"],
                postcodes=data["postcodes"],
                about=data["about"],
                streets=data["streets"],
                join_policy=data["join_policy"],
                visibility=data["visibility"],
                unverified_can_post=data["unverified_can_post"],
                events_by=data["events_by"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your group is ready. Invite neighbours with a join code and a flyer."))
            return redirect(group)
    return render(request, "neighbourhoods/group_form.html", {"form": form, "creating": True})


def group_edit(request, slug):
    context = selectors.get_group_context(viewer=request.user, slug=slug)
    if not permissions.can_manage_group(context.membership):
        raise PermissionDenied
    group = context.group
    initial = {
        "name": group.name,
        "postcodes": ", ".join(p.code for p in group.postcodes.all()),
        "streets": group.streets,
        "about": group.about,
        "join_policy": group.join_policy,
        "visibility": group.visibility,
        "unverified_can_post": group.unverified_can_post,
        "events_by": group.events_by,
    }
    form = GroupForm(request.POST or None, initial=initial, neighbourhood=group.neighbourhood)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        chosen = data.pop("postcodes")
        try:
            services.update_group(organiser=request.user, group=group, postcodes=chosen, **data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The group's details have been saved."))
            return redirect(group)
    return render(
        request, "neighbourhoods/group_form.html", {"ctx": context, "form": form, "group": group, "creating": False}
    )


@login_not_required
def group_detail(request, slug):
    """The group's home: about, member count, latest posts, upcoming events, and the viewer's own status."""
    context = selectors.get_group_context(viewer=request.user, slug=slug)
    home = selectors.group_home(context=context, viewer=request.user)
    return render(
        request,
        "neighbourhoods/group_detail.html",
        {"ctx": context, "group": context.group, "home": home, "code_form": JoinCodeForm()},
    )


@require_POST
def group_join(request, slug):
    context = selectors.get_group_context(viewer=request.user, slug=slug)
    group = context.group
    if group.join_policy == Group.JoinPolicy.CODE:
        form = JoinCodeForm(request.POST)
        if not form.is_valid():
            messages.error(request, form.errors["code"][0])
            return redirect(group)
        membership = attempt(
            request,
            lambda: services.join_with_code(user=request.user, code=form.cleaned_data["code"], group=group),
        )
    else:
        membership = attempt(request, lambda: services.join_group(user=request.user, group=group))
    if membership is not None:
        if membership.status == Membership.Status.PENDING:
            messages.success(request, _("Thanks! An organiser will look at your request soon."))
        else:
            messages.success(request, _("Welcome to %(group)s!") % {"group": group.name})
    return redirect(group)


def join_with_code(request, code=""):
    """The short address on a flyer (/j/CODE): a form with the code filled in, which joins and verifies."""
    form = JoinCodeForm(request.POST or None, initial={"code": code})
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.join_with_code(user=request.user, code=form.cleaned_data["code"])
        except DomainError as error:
            form.add_error("code", error.message)
        else:
            messages.success(
                request, _("Welcome to %(group)s! You are a verified member.") % {"group": membership.group.name}
            )
            return redirect(membership.group)
    return render(request, "neighbourhoods/join_code.html", {"form": form})


@require_POST
def group_leave(request, slug):
    context = selectors.get_group_context(viewer=request.user, slug=slug)
    left = attempt(
        request,
        lambda: services.leave_group(member=request.user, group=context.group),
        success=_("You have left %(group)s.") % {"group": context.group.name},
    )
    return redirect(context.group if left is None else "neighbourhoods:my-groups")


def my_groups(request):
    return render(
        request, "neighbourhoods/my_groups.html", {"memberships": selectors.list_my_memberships(user=request.user)}
    )
