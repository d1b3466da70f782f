from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils import translation

from . import services

SITE_NAME = "Stronger Streets"


def user_display(user) -> str:
    """How allauth names a person in its pages and emails: their display name, never their email address."""
    profile = getattr(user, "profile", None)
    return profile.display_name if profile is not None else ""


class AccountAdapter(DefaultAccountAdapter):
    """Our hooks into allauth: a profile for every new account, and emails that speak as the site."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            services.create_profile(
                user=user,
                display_name=form.cleaned_data["display_name"],
                language=translation.get_language() or settings.LANGUAGE_CODE,
            )
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Send an account email named for the site (not the request's host), in the recipient's own language."""
        site = SimpleNamespace(name=SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)
        user = context.get("user")
        profile = getattr(user, "profile", None) if user is not None else None
        language = profile.language if profile is not None else translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, {"current_site": site, **context})
