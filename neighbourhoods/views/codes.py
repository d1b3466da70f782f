"""Join codes and the printable door-drop flyer, for neighbours who are not online yet."""

from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError

from .. import flyers, permissions, selectors, services
from ..forms import NewJoinCodeForm
from .base import attempt


def _organiser_context(request, slug):
    context = selectors.get_group_context(viewer=request.user, slug=slug)
    if not permissions.can_manage_group(context.membership):
        raise PermissionDenied
    return context


def code_list(request, slug):
    context = _organiser_context(request, slug)
    form = NewJoinCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        expires_on = form.cleaned_data["expires_on"]
        expires_at = (
            timezone.make_aware(datetime.combine(expires_on, time(23, 59, 59))) if expires_on is not None else None
        )
        try:
            code = services.create_join_code(
                organiser=request.user,
                group=context.group,
                label=form.cleaned_data["label"],
                expires_at=expires_at,
                max_uses=form.cleaned_data["max_uses"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("New code %(code)s is ready to print.") % {"code": code.code})
            return redirect("neighbourhoods:code-list", slug=context.group.slug)
    codes = context.group.join_codes.order_by("-created_at")
    return render(
        request, "neighbourhoods/code_list.html", {"ctx": context, "group": context.group, "codes": codes, "form": form}
    )


def flyer(request, slug, code_id):
    context = _organiser_context(request, slug)
    join_code = get_object_or_404(context.group.join_codes, pk=code_id)
    url = flyers.short_url(join_code)
    size = "a4" if request.GET.get("size") == "a4" else "a5"
    return render(
        request,
        "neighbourhoods/flyer.html",
        {
            "ctx": context,
            "group": context.group,
            "join_code": join_code,
            "url": url,
            "size": size,
            "qr": flyers.qr_svg(url, label=_("QR code that opens %(url)s") % {"url": url}),
        },
    )


@require_POST
def code_revoke(request, slug, code_id):
    context = _organiser_context(request, slug)
    join_code = get_object_or_404(context.group.join_codes, pk=code_id)
    attempt(
        request,
        lambda: services.revoke_join_code(organiser=request.user, join_code=join_code),
        success=_("Code %(code)s no longer works.") % {"code": join_code.code},
    )
    return redirect("neighbourhoods:code-list", slug=context.group.slug)
