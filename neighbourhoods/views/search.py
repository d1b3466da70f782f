from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import selectors
from ..forms import PostcodeForm


@login_not_required
@require_GET
def find(request):
    """Look up a postcode: its neighbourhood and the street groups covering it, or a kind word if we do not cover it."""
    form = PostcodeForm(request.GET or None)
    result = None
    if form.is_valid():
        result = selectors.find_groups_for_postcode(viewer=request.user, postcode=form.cleaned_data["postcode"])
    return render(request, "neighbourhoods/find.html", {"form": form, "result": result})
