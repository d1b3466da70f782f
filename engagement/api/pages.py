"""The officer's API tokens page: make a token (shown in full once), see their tokens by name and prefix, revoke.

Behind the council pages' one access check (`engagement.access`). Making a token redirects to the page (so reloading
it never makes another); the new token waits in the officer's session only until that page shows it, once, on a
response marked not to be cached. A lost token is revoked and replaced.
"""

from django import forms
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from neighbourhoods.views.base import attempt

from ..access import get_officer_access
from . import tokens

JUST_MADE = "api_token_just_made"  # session key: the new token, until the tokens page has shown it once


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=80,
        help_text=gettext_lazy("What will use it, so you can tell your tokens apart. For example: ward reports."),
        error_messages={
            "required": gettext_lazy("Give the token a name."),
            "max_length": gettext_lazy("Keep the name to 80 characters or fewer."),
        },
    )


def _page(request, access, *, form, new_token: str | None = None):
    return render(
        request,
        "engagement/api_tokens.html",
        {
            "council": access.council,
            "form": form,
            "tokens": list(tokens.list_api_tokens(user=request.user, council=access.council)),
            "new_token": new_token,
            "max_tokens": tokens.MAX_LIVE_TOKENS,
        },
    )


@never_cache
def api_tokens(request, council_slug):
    """The officer's tokens for this council, and the form to make one. A token just made is shown once; a mistake
    shows the form again with what was typed."""
    access = get_officer_access(request.user, council_slug)
    if request.method != "POST":
        just_made = request.session.pop(JUST_MADE, None)
        shown = just_made["token"] if just_made and just_made.get("council") == access.council.pk else None
        return _page(request, access, form=TokenForm(), new_token=shown)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            _api_token, token = tokens.create_api_token(
                officer=request.user, council=access.council, name=form.cleaned_data["name"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            request.session[JUST_MADE] = {"council": access.council.pk, "token": token}
            return redirect("api:tokens", council_slug=access.council.slug)
    return _page(request, access, form=form)


@require_POST
def revoke_api_token(request, council_slug, token_id):
    access = get_officer_access(request.user, council_slug)
    api_token = tokens.get_own_api_token(user=request.user, council=access.council, token_id=token_id)
    attempt(
        request,
        lambda: tokens.revoke_api_token(officer=request.user, api_token=api_token),
        success=_("The token %(name)s no longer works.") % {"name": api_token.name},
    )
    return redirect("api:tokens", council_slug=access.council.slug)


urlpatterns = [
    path("council/<slug:council_slug>/api-tokens/", api_tokens, name="tokens"),
    path("council/<slug:council_slug>/api-tokens/<int:token_id>/revoke/", revoke_api_token, name="token-revoke"),
]
