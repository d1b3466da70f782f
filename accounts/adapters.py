from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation

from . import services


class AccountAdapter(DefaultAccountAdapter):
    """Our hooks into allauth: a profile for every new account, made in the sign-up's language."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            services.create_profile(
                user=user,
                display_name=form.cleaned_data["display_name"],
                language=translation.get_language() or "en-gb",
            )
        return user
