from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .forms import PostcodeForm


@login_not_required
@require_GET
def find(request):
    """Look up a postcode. A bad one is explained; street groups are shown once areas are loaded."""
    form = PostcodeForm(request.GET or None)
    postcode = form.cleaned_data["postcode"] if form.is_valid() else None
    return render(request, "neighbourhoods/find.html", {"form": form, "postcode": postcode})
