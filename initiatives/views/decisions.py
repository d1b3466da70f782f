"""Decisions: the list with results, opening one, the decision page with the vote form, voting and closing early.

Everyone who can see the initiative sees its decisions and their results; members who may take part vote; the lead
and co-organisers open and close decisions. Members-only groups' initiatives are a 404 to everyone else.
"""

from datetime import time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from neighbourhoods.views.base import attempt

from ..forms.decisions import DecisionForm, VoteForm
from ..models import Decision
from ..selectors import decisions as selectors
from ..selectors import get_initiative_context
from ..services import decisions as services

PER_PAGE = 20


@login_not_required
def decisions(request, slug):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    page = Paginator(selectors.list_decisions(initiative=ctx.initiative, viewer=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    items = selectors.attach_results(page.object_list)
    return render(
        request,
        "initiatives/decisions.html",
        {
            "ctx": ctx,
            "initiative": ctx.initiative,
            "page": page,
            "open_decisions": [d for d in items if d.status == Decision.Status.OPEN],
            "closed_decisions": [d for d in items if d.status == Decision.Status.CLOSED],
        },
    )


def decision_create(request, slug):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    if not ctx.can_organise:
        raise PermissionDenied
    in_a_week = timezone.localdate() + timedelta(days=7)
    form = DecisionForm(
        request.POST or None, initial={"kind": Decision.Kind.PROPOSAL, "closes_on": in_a_week, "closes_time": time(20)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            decision = services.open_decision(organiser=request.user, initiative=ctx.initiative, **form.details())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your decision is open. Members have been told they can vote."))
            return redirect("initiatives:decision-detail", slug=ctx.initiative.slug, decision_id=decision.pk)
    return render(request, "initiatives/decision_form.html", {"ctx": ctx, "initiative": ctx.initiative, "form": form})


def _detail_page(request, ctx, decision_id, *, form=None, status=200):
    detail = selectors.decision_detail(
        initiative=ctx.initiative,
        viewer=request.user,
        decision_id=decision_id,
        show_reasons=ctx.can_participate or ctx.can_organise,
    )
    if form is None and ctx.can_participate and detail.decision.is_open:
        form = VoteForm(decision=detail.decision, initial=VoteForm.initial_for(detail.my_vote), auto_id="vote_%s")
    return render(
        request,
        "initiatives/decision_detail.html",
        {
            "ctx": ctx,
            "initiative": ctx.initiative,
            "decision": detail.decision,
            "detail": detail,
            "vote_form": form,
        },
        status=status,
    )


@login_not_required
def decision_detail(request, slug, decision_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    return _detail_page(request, ctx, decision_id)


@require_POST
def vote(request, slug, decision_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    decision = selectors.get_decision(initiative=ctx.initiative, decision_id=decision_id)
    if not ctx.can_participate:
        messages.error(
            request, _("Only members of the group can vote on its initiatives' decisions. Join the group first.")
        )
        return redirect("initiatives:decision-detail", slug=ctx.initiative.slug, decision_id=decision.pk)
    if not decision.is_open:
        messages.error(request, services.voting_closed_message(decision))
        return redirect("initiatives:decision-detail", slug=ctx.initiative.slug, decision_id=decision.pk)
    form = VoteForm(request.POST, decision=decision, auto_id="vote_%s")
    if not form.is_valid():
        # Shown again with what they typed, and the problem next to it.
        return _detail_page(request, ctx, decision.pk, form=form)
    result = attempt(request, lambda: services.vote(user=request.user, decision=decision, **form.details()))
    if result is not None:
        messages.success(
            request,
            _("Thanks, your vote is counted. You can change it until voting closes on %(when)s.")
            % {"when": services.format_when(decision.closes_at)},
        )
    return redirect("initiatives:decision-detail", slug=ctx.initiative.slug, decision_id=decision.pk)


@require_POST
def decision_close(request, slug, decision_id):
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    if not ctx.can_organise:
        raise PermissionDenied
    decision = selectors.get_decision(initiative=ctx.initiative, decision_id=decision_id)
    if decision.status == Decision.Status.CLOSED:
        messages.info(request, _("This decision was already closed."))
    else:
        attempt(
            request,
            lambda: services.close_decision(decision=decision, by=request.user),
            success=_("Voting has closed and the outcome is on the timeline."),
        )
    return redirect("initiatives:decision-detail", slug=ctx.initiative.slug, decision_id=decision.pk)


urlpatterns = [
    path("initiatives/<slug:slug>/decisions/", decisions, name="decisions"),
    path("initiatives/<slug:slug>/decisions/new/", decision_create, name="decision-create"),
    path("initiatives/<slug:slug>/decisions/<int:decision_id>/", decision_detail, name="decision-detail"),
    path("initiatives/<slug:slug>/decisions/<int:decision_id>/vote/", vote, name="vote"),
    path("initiatives/<slug:slug>/decisions/<int:decision_id>/close/", decision_close, name="decision-close"),
]
