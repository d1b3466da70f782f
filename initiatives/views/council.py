"""Council partnership: an initiative's council page, the officers' offers and requests, and the public ledger.

Officer pages live under /council/<council>/offers/ and /council/<council>/requests/, beside the council's
dashboards. They share the dashboards' access check: anyone signed in who is not an officer or admin of that council
gets the same 404 as for an unknown council, and an officer without two-step sign-in is asked to turn it on. The
ledger is public: it lists what the council handed to which initiative, and never a resident's name.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from engagement.access import get_officer_access
from neighbourhoods.views.base import attempt

from ..forms.council import BackingDecisionForm, OfferForm, OfferRequestForm
from ..selectors import council as selectors
from ..selectors import get_initiative_context
from ..services import council as services

PER_PAGE = 20
LEDGER_PER_PAGE = 25


# --- The initiative's council page ---------------------------------------------------------------------------------


def _request_form(offer_id: int, data=None) -> OfferRequestForm:
    return OfferRequestForm(data, prefix=f"offer{offer_id}")


def _council_support_page(request, ctx, *, failed: tuple[int, OfferRequestForm] | None = None):
    support = selectors.council_support(initiative=ctx.initiative)
    forms = {}
    if ctx.can_organise:
        for item in support.offers:
            if item.unlocked and item.live is None:
                if failed is not None and failed[0] == item.offer.pk:
                    forms[item.offer.pk] = failed[1]
                else:
                    forms[item.offer.pk] = _request_form(item.offer.pk)
    if failed is not None and failed[0] not in forms:
        # The offer can no longer be asked for (locked, closed, already asked): say why at the top of the page.
        for errors in failed[1].errors.values():
            for error in errors:
                messages.error(request, error)
    offers = [(item, forms.get(item.offer.pk)) for item in support.offers]
    return render(
        request,
        "initiatives/council_support.html",
        {
            "ctx": ctx,
            "initiative": ctx.initiative,
            "support": support,
            "offers": offers,
            "has_errors": failed is not None,
        },
    )


@login_not_required
def council_support(request, slug):
    """The offers this initiative can ask its council for, the request form for its organisers, and what came of
    its requests. Anyone who may see the initiative may see the offers and the council's support."""
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    return _council_support_page(request, ctx)


@require_POST
def council_request(request, slug, offer_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    if not ctx.can_organise:
        raise PermissionDenied
    offer = selectors.get_offer_for_initiative(initiative=ctx.initiative, offer_id=offer_id)
    form = _request_form(offer.pk, request.POST)
    if form.is_valid():
        try:
            services.request_offer(
                by=request.user, initiative=ctx.initiative, offer=offer, note=form.cleaned_data["note"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Your request has gone to %(council)s. You will hear when they answer.")
                % {"council": offer.council.name},
            )
            return redirect("initiatives:council-support", slug=ctx.initiative.slug)
    # Shown again with what was typed.
    return _council_support_page(request, ctx, failed=(offer.pk, form))


@require_POST
def council_withdraw(request, slug, backing_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    if not ctx.can_organise:
        raise PermissionDenied
    backing = selectors.get_initiative_backing(initiative=ctx.initiative, backing_id=backing_id)
    attempt(
        request,
        lambda: services.withdraw_request(by=request.user, backing=backing),
        success=_("Your request has been withdrawn."),
    )
    return redirect("initiatives:council-support", slug=ctx.initiative.slug)


@require_POST
def council_taken_up(request, slug, backing_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    if not ctx.can_organise:
        raise PermissionDenied
    backing = selectors.get_initiative_backing(initiative=ctx.initiative, backing_id=backing_id)
    attempt(
        request,
        lambda: services.mark_taken_up(by=request.user, backing=backing),
        success=_("Thanks. The council's ledger now shows this support as taken up."),
    )
    return redirect("initiatives:council-support", slug=ctx.initiative.slug)


# --- Officer pages -------------------------------------------------------------------------------------------------


def _officer_council(request, council_slug):
    """The council at `council_slug`, for its officers and admins with two-step sign-in only: the council pages'
    one access check (`engagement.access`): 404 for anyone else and for an unknown council alike."""
    return get_officer_access(request.user, council_slug).council


def offers(request, council_slug):
    council = _officer_council(request, council_slug)
    page = Paginator(selectors.list_council_offers(council=council), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "initiatives/council_offers.html", {"council": council, "page": page})


def offer_create(request, council_slug):
    council = _officer_council(request, council_slug)
    form = OfferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.publish_offer(officer=request.user, council=council, **form.details())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your offer is published. Initiatives in your area can now ask for it."))
            return redirect("initiatives:offers", council_slug=council.slug)
    return render(request, "initiatives/council_offer_form.html", {"council": council, "form": form, "offer": None})


def offer_edit(request, council_slug, offer_id):
    council = _officer_council(request, council_slug)
    offer = selectors.get_council_offer(council=council, offer_id=offer_id)
    form = OfferForm(request.POST or None, offer=offer)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_offer(officer=request.user, offer=offer, **form.details())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The offer has been updated."))
            return redirect("initiatives:offers", council_slug=council.slug)
    return render(request, "initiatives/council_offer_form.html", {"council": council, "form": form, "offer": offer})


@require_POST
def offer_close(request, council_slug, offer_id):
    council = _officer_council(request, council_slug)
    offer = selectors.get_council_offer(council=council, offer_id=offer_id)
    attempt(
        request,
        lambda: services.close_offer(officer=request.user, offer=offer),
        success=_("The offer is closed to new requests. Requests already made can still be answered."),
    )
    return redirect("initiatives:offers", council_slug=council.slug)


@require_POST
def offer_reopen(request, council_slug, offer_id):
    council = _officer_council(request, council_slug)
    offer = selectors.get_council_offer(council=council, offer_id=offer_id)
    attempt(
        request,
        lambda: services.reopen_offer(officer=request.user, offer=offer),
        success=_("The offer is open for requests again."),
    )
    return redirect("initiatives:offers", council_slug=council.slug)


def _decision_form(backing_id: int, data=None) -> BackingDecisionForm:
    return BackingDecisionForm(data, prefix=f"request{backing_id}")


def _requests_page(request, council, *, failed: tuple[int, BackingDecisionForm] | None = None):
    page = Paginator(selectors.list_waiting_requests(council=council), PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for backing in page:
        form = failed[1] if failed is not None and failed[0] == backing.pk else _decision_form(backing.pk)
        rows.append((backing, form, selectors.is_public_initiative(backing.initiative)))
    if failed is not None and failed[0] not in {backing.pk for backing in page}:
        # Answered or withdrawn in the meantime: it has left the list, so its message goes at the top.
        for errors in failed[1].errors.values():
            for error in errors:
                messages.error(request, error)
    follow_up = [
        (backing, selectors.is_public_initiative(backing.initiative))
        for backing in selectors.list_not_taken_up(council=council)[:PER_PAGE]
    ]
    return render(
        request,
        "initiatives/council_requests.html",
        {"council": council, "page": page, "rows": rows, "follow_up": follow_up, "has_errors": failed is not None},
    )


def request_list(request, council_slug):
    council = _officer_council(request, council_slug)
    return _requests_page(request, council)


@require_POST
def backing_decide(request, council_slug, backing_id):
    council = _officer_council(request, council_slug)
    backing = selectors.get_council_backing(council=council, backing_id=backing_id)
    form = _decision_form(backing.pk, request.POST)
    if form.is_valid():
        message = form.cleaned_data["message"]
        try:
            if form.cleaned_data["decision"] == BackingDecisionForm.APPROVE:
                services.approve_backing(officer=request.user, backing=backing, message=message)
                done = _("You approved the request. %(title)s now shows it is backed by %(council)s.")
            else:
                services.decline_backing(officer=request.user, backing=backing, message=message)
                done = _("You declined the request. The initiative's organisers have your message.")
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, done % {"title": backing.initiative.title, "council": council.name})
            return redirect("initiatives:requests", council_slug=council.slug)
    # Shown again with the message as typed.
    return _requests_page(request, council, failed=(backing.pk, form))


@require_POST
def backing_taken_up(request, council_slug, backing_id):
    council = _officer_council(request, council_slug)
    backing = selectors.get_council_backing(council=council, backing_id=backing_id)
    attempt(
        request,
        lambda: services.mark_taken_up(by=request.user, backing=backing),
        success=_("Marked as taken up. The ledger shows it."),
    )
    return redirect("initiatives:requests", council_slug=council.slug)


# --- The public ledger ----------------------------------------------------------------------------------------------


@login_not_required
def ledger(request, council_slug):
    """The community-power ledger: what the council has handed to which community initiative, and what came of it."""
    council = selectors.get_council(slug=council_slug)
    page = Paginator(selectors.list_ledger(council=council), LEDGER_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(backing, selectors.is_public_initiative(backing.initiative)) for backing in page]
    return render(
        request,
        "initiatives/ledger.html",
        {
            "council": council,
            "page": page,
            "rows": rows,
            "totals": selectors.ledger_totals(council=council),
            "is_officer": services.is_council_officer(request.user, council),
        },
    )


urlpatterns = [
    path("initiatives/<slug:slug>/council/", council_support, name="council-support"),
    path("initiatives/<slug:slug>/council/<int:offer_id>/request/", council_request, name="council-request"),
    path(
        "initiatives/<slug:slug>/council/requests/<int:backing_id>/withdraw/", council_withdraw, name="council-withdraw"
    ),
    path(
        "initiatives/<slug:slug>/council/requests/<int:backing_id>/taken-up/", council_taken_up, name="council-taken-up"
    ),
    path("council/<slug:council_slug>/offers/", offers, name="offers"),
    path("council/<slug:council_slug>/offers/new/", offer_create, name="offer-create"),
    path("council/<slug:council_slug>/offers/<int:offer_id>/edit/", offer_edit, name="offer-edit"),
    path("council/<slug:council_slug>/offers/<int:offer_id>/close/", offer_close, name="offer-close"),
    path("council/<slug:council_slug>/offers/<int:offer_id>/reopen/", offer_reopen, name="offer-reopen"),
    path("council/<slug:council_slug>/requests/", request_list, name="requests"),
    path("council/<slug:council_slug>/requests/<int:backing_id>/decide/", backing_decide, name="backing-decide"),
    path("council/<slug:council_slug>/requests/<int:backing_id>/taken-up/", backing_taken_up, name="backing-taken-up"),
    path("ledger/<slug:council_slug>/", ledger, name="ledger"),
]
