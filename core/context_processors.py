from django.conf import settings

# Each language is offered in its own name, so a reader finds theirs whatever the page's language.
LANGUAGE_AUTONYMS = [("en-gb", "English"), ("cy", "Cymraeg")]


def site(request):
    """What every page's layout needs."""
    return {"SITE_URL": settings.SITE_URL, "LANGUAGE_AUTONYMS": LANGUAGE_AUTONYMS}
