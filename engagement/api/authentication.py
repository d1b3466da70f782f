"""Signing API requests in with an officer's token: `Authorization: Bearer <token>` (or `Token <token>`)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .tokens import find_live_token, note_use

KEYWORDS = (b"bearer", b"token")
INVALID = _("The token is not valid, or no longer works.")


class ApiTokenAuthentication(BaseAuthentication):
    """The request's user is the token's officer and `request.auth` the `ApiToken`, which names the one council it
    may read. Every way a token can fail (unknown, revoked, owner no longer an officer, deactivated, two-step sign-in
    off) gets the same 401, so a response never says which."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as: Authorization: Bearer <token>."))
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(INVALID) from None
        api_token = find_live_token(raw)
        if api_token is None:
            raise exceptions.AuthenticationFailed(INVALID)
        note_use(api_token)
        return api_token.user, api_token

    def authenticate_header(self, request) -> str:
        # Makes a missing or bad token a 401 (with this challenge) rather than a 403.
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the schema describes the token: an HTTP bearer token."""

    target_class = "engagement.api.authentication.ApiTokenAuthentication"
    name = "officerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(
                _(
                    "A council officer's API token, made on the council's API tokens page. It reads that one "
                    "council's figures only."
                )
            ),
        }
