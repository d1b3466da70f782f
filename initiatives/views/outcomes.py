"""The outcome of an initiative: what it achieved, for everyone who can see it; organisers record it once the
initiative is completed, and may correct it later."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from core.exceptions import DomainError

from ..forms.outcomes import OutcomeForm
from ..models import Initiative, Outcome
from ..selectors import get_initiative_context
from ..services import outcomes as services


@login_not_required
def outcome(request, slug):
    """GET shows the outcome (and, to organisers of a completed initiative, the form); POST records it."""
    ctx = get_initiative_context(viewer=request.user, slug=slug)
    initiative = ctx.initiative
    if request.method == "POST" and not ctx.can_organise:
        raise PermissionDenied
    current = Outcome.objects.filter(initiative=initiative).select_related("recorded_by__profile").first()
    completed = initiative.status == Initiative.Status.COMPLETED
    form = None
    if ctx.can_organise and completed:
        suggestion = services.suggest_outcome(initiative=initiative)
        form = OutcomeForm(request.POST or None, outcome=current, suggestion=suggestion)
        if request.method == "POST" and form.is_valid():
            try:
                services.record_outcome(organiser=request.user, initiative=initiative, **form.details())
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                if current is None:
                    messages.success(request, _("The outcome is recorded. Thank you for everything you did."))
                else:
                    messages.success(request, _("The outcome has been updated."))
                return redirect("initiatives:outcome", slug=initiative.slug)
    elif request.method == "POST":
        messages.error(
            request, _("Outcomes are recorded once the initiative is completed. Mark it as completed first.")
        )
        return redirect("initiatives:outcome", slug=initiative.slug)
    return render(
        request,
        "initiatives/outcome.html",
        {"ctx": ctx, "initiative": initiative, "outcome": current, "completed": completed, "form": form},
    )


urlpatterns = [
    path("initiatives/<slug:slug>/outcome/", outcome, name="outcome"),
]
