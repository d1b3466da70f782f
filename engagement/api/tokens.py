"""API tokens: making, listing and revoking an officer's tokens, and finding the live token behind a request.

A token is `ssk_` and 43 random URL-safe characters (256 bits). Only its SHA-256 digest is stored — a slow password
hash buys nothing for a random secret that long — with its first characters as a prefix so an officer can tell their
tokens apart. The full token exists only in the response that created it.
"""

import hashlib
import secrets
from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from neighbourhoods.models import Council, CouncilMembership

from ..models import ApiToken

TOKEN_PREFIX = "ssk_"  # noqa: S105 - a label at the start of every token, not a secret
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8  # what the token page shows: "ssk_" and the first eight random characters
MAX_TOKEN_LENGTH = 100  # anything longer is not one of ours; refused before hashing
MAX_LIVE_TOKENS = 10  # per officer and council: enough for a few systems, few enough to keep track of
TOUCH_EVERY = timedelta(minutes=1)  # `last_used_at` is written at most this often per token


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def list_api_tokens(*, user, council: Council) -> QuerySet[ApiToken]:
    """The officer's own tokens for `council`: live ones first, newest first (one query)."""
    return ApiToken.objects.filter(user=user, council=council).order_by("-revoked_at", "-created_at", "-pk")


@transaction.atomic
def create_api_token(*, officer, council: Council, name: str) -> tuple[ApiToken, str]:
    """Make a token for `officer` to read `council`'s API; returns it with the full token, which is never stored.

    The caller has checked that `officer` may reach the council's pages (`engagement.access`). The officer's row is
    locked so two quick requests cannot both slip under the limit of live tokens."""
    CouncilMembership.objects.select_for_update().filter(user=officer, council=council).first()
    live = ApiToken.objects.filter(user=officer, council=council, revoked_at__isnull=True).count()
    if live >= MAX_LIVE_TOKENS:
        raise DomainError(
            _("You already have %(count)d tokens for this council. Revoke one you no longer use first.")
            % {"count": MAX_LIVE_TOKENS}
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    api_token = ApiToken.objects.create(
        user=officer, council=council, name=name.strip(), prefix=token[:PREFIX_LENGTH], digest=digest_of(token)
    )
    return api_token, token


def get_own_api_token(*, user, council: Council, token_id: int) -> ApiToken:
    """One of the officer's own tokens for `council`, or a 404 (someone else's token is as unknown as none)."""
    return get_object_or_404(ApiToken, user=user, council=council, pk=token_id)


@transaction.atomic
def revoke_api_token(*, officer, api_token: ApiToken) -> ApiToken:
    """Stop `api_token` working from now on. Revoking a revoked token changes nothing."""
    if api_token.user_id != officer.pk:
        raise DomainError(_("You can only revoke your own tokens."))
    ApiToken.objects.filter(pk=api_token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_token.refresh_from_db(fields=["revoked_at"])
    return api_token


def find_live_token(token: str) -> ApiToken | None:
    """The token's row if it still works (one query): not revoked, its owner active, still an officer or admin of
    its council, and still using two-step sign-in, as the council's pages require. None otherwise.

    The officer's membership must be older than the token: someone removed from the team and later invited back
    gets a new membership, and the tokens they had before stay dead."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    officer = CouncilMembership.objects.filter(
        user=OuterRef("user_id"), council=OuterRef("council_id"), created_at__lte=OuterRef("created_at")
    )
    two_step = Authenticator.objects.filter(user=OuterRef("user_id"))
    return (
        ApiToken.objects.select_related("user", "council")
        .filter(digest=digest_of(token), revoked_at__isnull=True, user__is_active=True)
        .filter(Exists(officer), Exists(two_step))
        .first()
    )


def note_use(api_token: ApiToken) -> None:
    """Record when the token was last used, at most once a minute, so a busy client does not write on every call."""
    now = timezone.now()
    if api_token.last_used_at is not None and now - api_token.last_used_at < TOUCH_EVERY:
        return
    ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    api_token.last_used_at = now
