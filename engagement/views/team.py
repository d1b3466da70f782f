"""The council's team: admins invite officers by email, withdraw invitations and remove officers; the invited person
accepts through the emailed link."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from neighbourhoods.models import CouncilMembership
from neighbourhoods.views.base import attempt

from ..access import get_officer_access
from ..forms import InviteForm
from ..models import OfficerInvite
from ..services import team as services


def _admin_access(request, council_slug):
    access = get_officer_access(request.user, council_slug)
    if not access.is_admin:
        raise PermissionDenied
    return access


def _team_page(request, access, form):
    council = access.council
    members = list(
        CouncilMembership.objects.filter(council=council)
        .select_related("user__profile")
        .order_by("-role", "user__email")
    )
    admins = sum(1 for membership in members if membership.role == CouncilMembership.Role.ADMIN)
    invites = list(
        OfficerInvite.objects.filter(council=council, accepted_at__isnull=True, revoked_at__isnull=True)
        .filter(Q(expires_at__gt=timezone.now()))
        .order_by("email")
    )
    return render(
        request,
        "engagement/team.html",
        {
            "council": council,
            "access": access,
            "can_manage": access.is_admin,
            "members": [
                {"membership": membership, "removable": not (membership.role == "admin" and admins == 1)}
                for membership in members
            ],
            "invites": invites,
            "form": form,
        },
    )


def team(request, council_slug):
    """The team and open invitations, for every officer to see; council admins also invite someone here."""
    access = (
        _admin_access(request, council_slug)
        if request.method == "POST"
        else get_officer_access(request.user, council_slug)
    )
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invite = services.invite_officer(
                admin=request.user,
                council=access.council,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invite.email})
            return redirect("engagement:team", council_slug=access.council.slug)
    return _team_page(request, access, form)


@require_POST
def invite_revoke(request, council_slug, invite_id):
    access = _admin_access(request, council_slug)
    invite = get_object_or_404(OfficerInvite.objects.select_related("council"), pk=invite_id, council=access.council)
    attempt(
        request,
        lambda: services.revoke_invite(admin=request.user, invite=invite),
        success=_("The invitation to %(email)s was withdrawn; its link no longer works.") % {"email": invite.email},
    )
    return redirect("engagement:team", council_slug=access.council.slug)


@require_POST
def officer_remove(request, council_slug, membership_id):
    access = _admin_access(request, council_slug)
    membership = get_object_or_404(
        CouncilMembership.objects.select_related("council", "user"), pk=membership_id, council=access.council
    )
    done = attempt(
        request,
        lambda: services.remove_officer(admin=request.user, membership=membership) or True,
        success=_("%(email)s is no longer on the team.") % {"email": membership.user.email},
    )
    if done and membership.user_id == request.user.pk:
        return redirect("core:home")
    return redirect("engagement:team", council_slug=access.council.slug)


@login_not_required
def invite_accept(request, signed):
    """The emailed link. Anyone holding it sees what it is for; only the invited address, signed in, accepts."""
    invite = services.invite_from_link(signed)
    if invite is None:
        return render(request, "engagement/invite_invalid.html", status=404)
    context = {"invite": invite, "next": reverse("engagement:invite-accept", args=[signed]), "reason": None}
    problem = services.invite_problem(invite)
    if problem:
        return render(request, "engagement/invite_accept.html", {**context, "problem": problem}, status=410)
    if request.user.is_authenticated:
        context["reason"] = services.why_cannot_accept(user=request.user, invite=invite)
        if request.method == "POST" and context["reason"] is None:
            try:
                services.accept_invite(user=request.user, invite=invite)
            except DomainError as error:
                context["reason"] = error.message
            else:
                messages.success(request, _("Welcome to %(council)s's team.") % {"council": invite.council.name})
                return redirect("engagement:dashboard", council_slug=invite.council.slug)
    return render(request, "engagement/invite_accept.html", context)


urlpatterns = [
    path("council/<slug:council_slug>/team/", team, name="team"),
    path("council/<slug:council_slug>/team/invites/<int:invite_id>/withdraw/", invite_revoke, name="invite-revoke"),
    path("council/<slug:council_slug>/team/<int:membership_id>/remove/", officer_remove, name="officer-remove"),
    path("council-invites/<str:signed>/", invite_accept, name="invite-accept"),
]
