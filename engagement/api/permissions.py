from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from ..models import ApiToken


class OwnCouncilOnly(BasePermission):
    """A token reads its own council only. Any other council slug — another council's, or one that does not exist —
    is the same 404, so the API never confirms that a council it may not read exists."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        if token.council.slug != view.kwargs.get("council_slug"):
            raise NotFound()
        return True
