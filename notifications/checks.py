"""Deployment checks for email links (`python manage.py check --deploy`)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_https(app_configs, **kwargs) -> list[Warning]:
    """One-click unsubscribe (RFC 8058) needs an https link, and so does every link a person follows from an email."""
    if urlsplit(settings.SITE_URL).scheme == "https":
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL!r}: links in emails, and the one-click unsubscribe link that mail "
            "providers require to be https (RFC 8058), will not be secure.",
            hint="Set SITE_URL to the site's public https:// address.",
            id="notifications.W001",
        )
    ]
