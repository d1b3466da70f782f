from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from core.i18n import set_language_cookie

from . import services
from .forms import ProfileForm


def profile_edit(request):
    """A person edits their own profile; nobody else's is reachable here."""
    profile = request.user.profile
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.update_profile(
            user=request.user,
            display_name=form.cleaned_data["display_name"],
            bio=form.cleaned_data["bio"],
            language=form.cleaned_data["language"],
            interests=form.cleaned_data["interests"],
            skills=form.cleaned_data["skills"],
            in_directory=form.cleaned_data["in_directory"],
        )
        translation.activate(form.cleaned_data["language"])
        messages.success(request, _("Your profile has been saved."))
        response = redirect("accounts:profile")
        set_language_cookie(response, form.cleaned_data["language"])
        return response
    return render(request, "accounts/profile_edit.html", {"form": form})
