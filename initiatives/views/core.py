"""The heart of initiatives: discover them, propose one, its page, editing, status, the team, support and updates.

An initiative of a members-only street group is a 404 to anyone who is not a member, on every page here, like a
page that does not exist (`get_initiative_context`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError
from neighbourhoods.models import Membership
from neighbourhoods.views.base import attempt

from ..forms.initiatives import (
    EditForm,
    FilterForm,
    HandOverForm,
    InviteForm,
    ProposeForm,
    StatusForm,
    SupportForm,
    UpdateForm,
)
from ..models import Initiative, InitiativeRole
from ..selectors import get_initiative_context
from ..selectors import initiatives as selectors
from ..services import initiatives as services
from ..services import support as support_services
from ..services import updates as update_services

UPDATES_PER_PAGE = 20


def _organiser_context(request, slug):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    if not ctx.can_organise:
        raise PermissionDenied
    return ctx


# --- Discover -----------------------------------------------------------------------------------------------------


@login_not_required
@require_GET
def initiative_list(request):
    signed_in = request.user.is_authenticated
    form = FilterForm(request.GET, signed_in=signed_in)
    filters = form.filters()
    initiatives = selectors.list_initiatives(viewer=request.user, **filters)
    page = selectors.page_of_initiatives(initiatives, request.GET.get("page"))
    filtered = bool(filters["text"] or filters["category"] or filters["status"])
    return render(
        request,
        "initiatives/initiative_list.html",
        {"form": form, "page": page, "filters": filters, "filtered": filtered},
    )


def initiative_create(request):
    """Propose an initiative. `?group=<slug>` (or `?area=<slug>`) picks where it belongs; the person chooses from
    their own street groups and the neighbourhoods those are in."""
    memberships = list(
        Membership.objects.filter(user=request.user, status=Membership.Status.ACTIVE)
        .select_related("group__neighbourhood")
        .order_by("group__name")
    )
    if not memberships:
        return render(request, "initiatives/initiative_form.html", {"form": None, "initiative": None})
    initial = {}
    if request.GET.get("group"):
        initial["where"] = f"group:{request.GET['group']}"
    elif request.GET.get("area"):
        initial["where"] = f"area:{request.GET['area']}"
    elif len(memberships) == 1:
        initial["where"] = f"group:{memberships[0].group.slug}"
    form = ProposeForm(request.POST or None, memberships=memberships, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            initiative = services.propose_initiative(proposer=request.user, **form.place_details(), **form.details())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your initiative is up. Invite neighbours to help run it and support it."))
            return redirect(initiative)
    return render(request, "initiatives/initiative_form.html", {"form": form, "initiative": None})


# --- The initiative page ------------------------------------------------------------------------------------------


@login_not_required
@require_GET
def initiative_detail(request, slug):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    detail = selectors.initiative_detail(ctx=ctx, viewer=request.user, timeline_page=request.GET.get("timeline"))
    my_note = detail.my_support.note if detail.my_support is not None else ""
    return render(
        request,
        "initiatives/initiative_detail.html",
        {
            "ctx": ctx,
            "initiative": ctx.initiative,
            "detail": detail,
            "support_form": SupportForm(initial={"note": my_note}, auto_id="support_%s"),
            "status_form": StatusForm(auto_id="status_%s"),
            "open_to_support": support_services.is_open_to_support(ctx.initiative),
        },
    )


def initiative_edit(request, slug):
    """Change the initiative. The form carries the version it was opened at: if someone saved in between, the form
    comes back with their latest version and a message, and what this person typed is listed beside it, unsaved."""
    ctx = _organiser_context(request, slug)
    initiative = ctx.initiative
    if initiative.status == Initiative.Status.ARCHIVED:
        messages.error(request, _("This initiative has been archived, so it cannot be changed."))
        return redirect(initiative)
    form = EditForm(request.POST or None, initiative=initiative)
    unsaved = []
    if request.method == "POST" and form.is_valid():
        try:
            initiative = services.edit_initiative(
                editor=request.user,
                initiative=initiative,
                expected_version=form.cleaned_data["version"],
                **form.details(),
            )
        except services.EditConflict as conflict:
            latest = Initiative.objects.get(pk=initiative.pk)
            typed = form.details()
            typed["category"] = Initiative.Category(typed["category"]).label
            current = {**EditForm.initial_for(latest), "category": latest.get_category_display()}
            unsaved = [
                (form.fields[name].label, typed[name])
                for name in EditForm.FIELDS
                if str(typed[name]) != str(current[name])
            ]
            form = EditForm({**EditForm.initial_for(latest), "version": latest.version}, initiative=latest)
            form.is_valid()
            form.add_error(None, conflict.message)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your changes are saved."))
            return redirect(initiative)
    return render(
        request,
        "initiatives/initiative_form.html",
        {"ctx": ctx, "form": form, "initiative": initiative, "unsaved": unsaved},
    )


@require_POST
def initiative_status(request, slug):
    ctx = _organiser_context(request, slug)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, next(iter(form.errors.values()))[0])
        return redirect(ctx.initiative)
    initiative = attempt(
        request,
        lambda: services.change_status(
            by=request.user,
            initiative=ctx.initiative,
            to_status=form.cleaned_data["to_status"],
            note=form.cleaned_data["note"],
        ),
    )
    if initiative is not None:
        messages.success(
            request, _("The initiative is now “%(status)s”.") % {"status": initiative.get_status_display()}
        )
    return redirect(ctx.initiative)


# --- The team -----------------------------------------------------------------------------------------------------


def _team_page(request, ctx, *, invite_form=None, hand_over_form=None, status=200):
    initiative = ctx.initiative
    roles = selectors.list_team(initiative=initiative)
    team = [role for role in roles if role.status == InitiativeRole.Status.ACTIVE]
    invited = [role for role in roles if role.status == InitiativeRole.Status.INVITED]
    if not ctx.can_organise:
        invited = [role for role in invited if role.user_id == request.user.pk]
    co_organisers = [role for role in team if role.role == InitiativeRole.Role.CO_ORGANISER]
    if ctx.is_lead:
        if invite_form is None:
            invite_form = InviteForm(
                candidates=selectors.invite_candidates(initiative=initiative, lead=request.user), auto_id="invite_%s"
            )
        if hand_over_form is None and co_organisers:
            hand_over_form = HandOverForm(co_organisers=co_organisers, auto_id="lead_%s")
    return render(
        request,
        "initiatives/team.html",
        {
            "ctx": ctx,
            "initiative": initiative,
            "team": team,
            "invited": invited,
            "invite_form": invite_form if ctx.is_lead else None,
            "hand_over_form": hand_over_form if ctx.is_lead else None,
        },
        status=status,
    )


TEAM_ACTIONS = {"invite", "accept", "decline", "step_down", "hand_over"}


def initiative_team(request, slug):
    """Who runs the initiative. The lead invites co-organisers (from the members who may take part) and can hand
    over the lead; invitees accept or decline; co-organisers can step down."""
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    if request.method != "POST":
        return _team_page(request, ctx)
    action = request.POST.get("action")
    if action not in TEAM_ACTIONS:
        messages.error(request, _("Choose one of the buttons on the page."))
        return redirect("initiatives:team", slug=slug)
    initiative = ctx.initiative
    if action in ("invite", "hand_over") and not ctx.is_lead:
        raise PermissionDenied
    if action == "invite":
        form = InviteForm(
            request.POST,
            candidates=selectors.invite_candidates(initiative=initiative, lead=request.user),
            auto_id="invite_%s",
        )
        if not form.is_valid():
            return _team_page(request, ctx, invite_form=form)
        invitee = form.cleaned_data["invitee"]
        try:
            services.invite_co_organiser(lead=request.user, initiative=initiative, invitee=invitee)
        except DomainError as error:
            form.add_error(None, error.message)
            return _team_page(request, ctx, invite_form=form)
        messages.success(
            request,
            _("We have invited %(name)s. They join the team when they accept.")
            % {"name": invitee.profile.display_name},
        )
    elif action == "hand_over":
        co_organisers = [
            role
            for role in selectors.list_team(initiative=initiative)
            if role.status == InitiativeRole.Status.ACTIVE and role.role == InitiativeRole.Role.CO_ORGANISER
        ]
        form = HandOverForm(request.POST, co_organisers=co_organisers, auto_id="lead_%s")
        if not form.is_valid():
            return _team_page(request, ctx, hand_over_form=form)
        successor = next(role.user for role in co_organisers if role.user_id == form.cleaned_data["to_user"])
        try:
            services.hand_over_lead(lead=request.user, initiative=initiative, to_user=successor)
        except DomainError as error:
            form.add_error(None, error.message)
            return _team_page(request, ctx, hand_over_form=form)
        messages.success(
            request,
            _("%(name)s now leads this initiative. You are a co-organiser.") % {"name": successor.profile.display_name},
        )
    elif action == "accept":
        attempt(
            request,
            lambda: services.accept_invitation(invitee=request.user, initiative=initiative),
            success=_("Welcome to the team! You can now edit the initiative and post updates."),
        )
    elif action == "decline":
        attempt(
            request,
            lambda: services.decline_invitation(invitee=request.user, initiative=initiative),
            success=_("You have declined the invitation."),
        )
    else:
        attempt(
            request,
            lambda: services.step_down(co_organiser=request.user, initiative=initiative),
            success=_("You have stepped down as a co-organiser."),
        )
    return redirect("initiatives:team", slug=slug)


# --- Support ------------------------------------------------------------------------------------------------------


@require_POST
def initiative_support(request, slug):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    initiative = ctx.initiative
    destination = reverse("initiatives:detail", args=[slug]) + "#support-heading"
    if request.POST.get("action") == "withdraw":
        attempt(
            request,
            lambda: support_services.withdraw_support(supporter=request.user, initiative=initiative),
            success=_("You no longer support this initiative."),
        )
        return redirect(destination)
    form = SupportForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["note"][0])
        return redirect(destination)
    attempt(
        request,
        lambda: support_services.support(supporter=request.user, initiative=initiative, note=form.cleaned_data["note"]),
        success=_("Thank you for supporting this initiative!"),
    )
    return redirect(destination)


# --- Updates ------------------------------------------------------------------------------------------------------


@login_not_required
@require_GET
def update_list(request, slug):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    updates = selectors.list_updates(initiative=ctx.initiative)
    page = Paginator(updates, UPDATES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "initiatives/updates.html", {"ctx": ctx, "initiative": ctx.initiative, "page": page})


def update_create(request, slug):
    ctx = _organiser_context(request, slug)
    form = UpdateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            update_services.post_update(author=request.user, initiative=ctx.initiative, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your update is posted. Supporters and volunteers will hear about it."))
            return redirect("initiatives:updates", slug=slug)
    return render(request, "initiatives/update_form.html", {"ctx": ctx, "initiative": ctx.initiative, "form": form})


urlpatterns = [
    path("initiatives/", initiative_list, name="list"),
    path("initiatives/new/", initiative_create, name="create"),
    path("initiatives/<slug:slug>/", initiative_detail, name="detail"),
    path("initiatives/<slug:slug>/edit/", initiative_edit, name="edit"),
    path("initiatives/<slug:slug>/status/", initiative_status, name="status"),
    path("initiatives/<slug:slug>/team/", initiative_team, name="team"),
    path("initiatives/<slug:slug>/support/", initiative_support, name="support"),
    path("initiatives/<slug:slug>/updates/", update_list, name="updates"),
    path("initiatives/<slug:slug>/updates/new/", update_create, name="update-create"),
]
