"""Organisers run the membership: answer requests, remove, ban, and share the organising."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .. import permissions, selectors, services
from .base import attempt

ACTIONS = {
    "approve": (services.approve_membership, gettext_lazy("%(name)s is now a member.")),
    "decline": (services.decline_membership, gettext_lazy("You turned down %(name)s's request.")),
    "remove": (services.remove_member, gettext_lazy("%(name)s was removed from the group.")),
    "ban": (services.ban_member, gettext_lazy("%(name)s was banned from the group.")),
    "promote": (services.promote_to_organiser, gettext_lazy("%(name)s is now an organiser.")),
    "demote": (services.demote_organiser, gettext_lazy("%(name)s is no longer an organiser.")),
}


SHORT_LIST = 50


def member_list(request, slug):
    context = selectors.get_group_context(viewer=request.user, slug=slug)
    if not permissions.can_manage_group(context.membership):
        raise PermissionDenied
    # Requests (oldest first) and bans are shown a screenful at a time: answering requests brings up the next ones.
    pending = list(selectors.list_memberships(group=context.group, status="pending")[: SHORT_LIST + 1])
    members = Paginator(selectors.list_memberships(group=context.group, status="active"), 50).get_page(
        request.GET.get("page")
    )
    banned = list(selectors.list_memberships(group=context.group, status="banned")[: SHORT_LIST + 1])
    return render(
        request,
        "neighbourhoods/member_list.html",
        {
            "ctx": context,
            "group": context.group,
            "pending": pending[:SHORT_LIST],
            "more_pending": len(pending) > SHORT_LIST,
            "members": members,
            "banned": banned[:SHORT_LIST],
            "more_banned": len(banned) > SHORT_LIST,
            "pending_actions": [("approve", _("Approve")), ("decline", _("Decline")), ("ban", _("Ban"))],
            "member_actions": [("promote", _("Make organiser")), ("remove", _("Remove")), ("ban", _("Ban"))],
            "organiser_actions": [("demote", _("Make ordinary member")), ("remove", _("Remove")), ("ban", _("Ban"))],
        },
    )


@require_POST
def member_action(request, slug, membership_id, action):
    context = selectors.get_group_context(viewer=request.user, slug=slug)
    if action not in ACTIONS:
        raise PermissionDenied
    if not permissions.can_manage_group(context.membership):
        raise PermissionDenied
    membership = get_object_or_404(context.group.memberships.select_related("user__profile", "group"), pk=membership_id)
    service, message = ACTIONS[action]
    attempt(
        request,
        lambda: service(organiser=request.user, membership=membership),
        success=message % {"name": membership.user.profile.display_name},
    )
    return redirect("neighbourhoods:member-list", slug=context.group.slug)


@require_POST
def vouch(request, slug, membership_id):
    context = selectors.get_group_content_context(viewer=request.user, slug=slug)
    if not permissions.can_vouch(context.membership):
        raise PermissionDenied
    membership = get_object_or_404(context.group.memberships.select_related("user__profile", "group"), pk=membership_id)
    attempt(
        request,
        lambda: services.vouch_for(voucher=request.user, membership=membership),
        success=_("Thank you for vouching for %(name)s.") % {"name": membership.user.profile.display_name},
    )
    return redirect("neighbourhoods:directory", slug=context.group.slug)
