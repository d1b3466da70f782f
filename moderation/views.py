"""Blocking a person, and the list of people you have blocked (in your account settings)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.adapters import user_display
from core.exceptions import DomainError

from . import selectors, services
from .forms import BlockForm
from .models import Block


def _safe_next(request, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        return url
    return None


@require_http_methods(["GET", "POST"])
def block_person(request, membership_id):
    """GET explains what blocking does and asks to confirm; POST blocks. People are named by a membership in a group
    the viewer belongs to, and only people the viewer already knows by name (see `get_block_target`): anyone else
    is a 404. Nothing is sent to the person blocked."""
    target = selectors.get_block_target(viewer=request.user, membership_id=membership_id)
    person = target.user
    name = user_display(person)
    is_self = person.pk == request.user.pk
    # Your own membership is answered with the form's error, on the first look as on sending.
    data = request.POST if request.method == "POST" else ({} if is_self else None)
    form = BlockForm(
        data, initial={"next": request.GET.get("next", "")}, blocker_id=request.user.pk, blocked_id=person.pk
    )
    back = _safe_next(request, request.POST.get("next") or request.GET.get("next")) or reverse(
        "neighbourhoods:neighbours"
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.block(blocker=request.user, blocked=person)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("You have blocked %(name)s. You can unblock them from “People you have blocked” in your account.")
                % {"name": name},
            )
            return redirect(back)
    already = not is_self and Block.objects.filter(blocker=request.user, blocked=person).exists()
    return render(
        request,
        "moderation/block_confirm.html",
        {"form": form, "name": name, "target": target, "already": already, "is_self": is_self, "back": back},
    )


def blocked_list(request):
    """The people the viewer has blocked, newest first: two queries (the count and a page) whatever their number."""
    blocks = Paginator(selectors.list_blocked(user=request.user), selectors.BLOCKED_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "moderation/blocked_list.html", {"blocks": blocks})


@require_POST
def unblock_person(request, block_id):
    """Lift one of your own blocks; anyone else's block is a 404."""
    block = selectors.get_own_block(user=request.user, block_id=block_id)
    services.unblock(blocker=request.user, blocked=block.blocked)
    messages.success(request, _("You have unblocked %(name)s.") % {"name": user_display(block.blocked)})
    return redirect("moderation:blocked")
