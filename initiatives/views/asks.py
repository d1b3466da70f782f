"""What an initiative needs: its asks with progress towards each target, pledging and withdrawing pledges, and
organisers adding, changing and removing asks.

Everyone who may see the initiative sees how far each ask has got; members pledge; only the lead and co-organisers
see who pledged what. A pledge the form or the rules refuse re-shows the page with the message beside that ask's
form and what was typed still in it.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from neighbourhoods.views.base import attempt

from ..forms.asks import AskForm, PledgeForm
from ..selectors import asks as selectors
from ..selectors import get_initiative_context
from ..services import asks as services


def _organised(request, slug):
    """The initiative for its lead or a co-organiser; anyone else who may see it gets a 403."""
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    if not ctx.can_organise:
        raise PermissionDenied
    return ctx


def _render_asks(request, ctx, *, bound: PledgeForm | None = None):
    page = selectors.asks_page(ctx=ctx, viewer=request.user)
    offer_forms = page.can_participate and page.pledges_open
    rows = []
    for row in page.asks:
        form = None
        if bound is not None and bound.ask.pk == row.ask.pk:
            form = bound
        elif offer_forms:
            form = PledgeForm(ask=row.ask)
        rows.append((row, form))
    return render(
        request,
        "initiatives/asks.html",
        {"ctx": ctx, "initiative": ctx.initiative, "page": page, "rows": rows, "has_errors": bound is not None},
    )


@login_not_required
def asks(request, slug):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    return _render_asks(request, ctx)


def ask_create(request, slug):
    ctx = _organised(request, slug)
    form = AskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_ask(organiser=request.user, initiative=ctx.initiative, **form.details())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Added. Members can now pledge towards it."))
            return redirect(services.asks_url(ctx.initiative))
    return render(
        request, "initiatives/ask_form.html", {"ctx": ctx, "initiative": ctx.initiative, "form": form, "ask": None}
    )


def ask_edit(request, slug, ask_id):
    ctx = _organised(request, slug)
    ask = selectors.get_ask(initiative=ctx.initiative, ask_id=ask_id)
    form = AskForm(request.POST or None, ask=ask)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_ask(organiser=request.user, ask=ask, **form.details())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your changes have been saved."))
            return redirect(services.asks_url(ctx.initiative))
    return render(
        request, "initiatives/ask_form.html", {"ctx": ctx, "initiative": ctx.initiative, "form": form, "ask": ask}
    )


def ask_delete(request, slug, ask_id):
    """GET asks "are you sure?"; POST removes the ask and its pledges."""
    ctx = _organised(request, slug)
    ask = selectors.get_ask(initiative=ctx.initiative, ask_id=ask_id)
    if request.method == "POST":
        attempt(
            request,
            lambda: services.remove_ask(organiser=request.user, ask=ask),
            success=_("“%(title)s” has been removed.") % {"title": ask.title},
        )
        return redirect(services.asks_url(ctx.initiative))
    return render(
        request,
        "initiatives/ask_confirm_delete.html",
        {"ctx": ctx, "initiative": ctx.initiative, "ask": ask, "pledge_count": ask.pledges.count()},
    )


@require_POST
def pledge(request, slug, ask_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    ask = selectors.get_ask(initiative=ctx.initiative, ask_id=ask_id)
    if not ctx.can_participate:
        messages.error(request, _("Only members of the group can pledge. Join the group first."))
        return redirect(services.asks_url(ctx.initiative))
    form = PledgeForm(request.POST, ask=ask)
    if form.is_valid():
        try:
            promise = services.pledge(
                user=request.user, ask=ask, amount=form.cleaned_data["amount"], note=form.cleaned_data["note"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Thank you! You pledged %(amount)s towards %(ask)s. The organisers have been told.")
                % {"amount": selectors.format_amount(ask, promise.amount), "ask": ask.title},
            )
            return redirect(services.asks_url(ctx.initiative) + f"#ask-{ask.pk}")
    # Shown again with the message by this ask's form and what was typed kept.
    return _render_asks(request, ctx, bound=form)


@require_POST
def pledge_withdraw(request, slug, pledge_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    promise = selectors.get_pledge(initiative=ctx.initiative, pledge_id=pledge_id)
    attempt(
        request,
        lambda: services.withdraw_pledge(user=request.user, pledge=promise),
        success=_("Your pledge towards %(ask)s has been withdrawn.") % {"ask": promise.ask.title},
    )
    return redirect(services.asks_url(ctx.initiative) + f"#ask-{promise.ask_id}")


urlpatterns = [
    path("initiatives/<slug:slug>/needs/", asks, name="asks"),
    path("initiatives/<slug:slug>/needs/new/", ask_create, name="ask-create"),
    path("initiatives/<slug:slug>/needs/<int:ask_id>/edit/", ask_edit, name="ask-edit"),
    path("initiatives/<slug:slug>/needs/<int:ask_id>/remove/", ask_delete, name="ask-delete"),
    path("initiatives/<slug:slug>/needs/<int:ask_id>/pledge/", pledge, name="pledge"),
    path("initiatives/<slug:slug>/needs/pledges/<int:pledge_id>/withdraw/", pledge_withdraw, name="pledge-withdraw"),
]
