from django.utils.functional import SimpleLazyObject

from . import services


def unread(request):
    """`unread_notifications`: the signed-in person's unread count for the header's bell.

    Lazy, so a page that does not show it (or a visitor's page) never asks for it; when it is asked for, it comes
    from the cache, costing a query only when the cache has lost it.
    """

    def count() -> int:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return 0
        return services.unread_count(user)

    return {"unread_notifications": SimpleLazyObject(count)}
