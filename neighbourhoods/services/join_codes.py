import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import DomainError

from ..models import Group, JoinCode, Membership

# No 0/O, 1/I/L or 5/S: codes are read off paper and typed in by hand.
CODE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXYZ2346789"
CODE_LENGTH = 8


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@transaction.atomic
def create_join_code(
    *, organiser: User, group: Group, label: str = "", expires_at: datetime | None = None, max_uses: int | None = None
) -> JoinCode:
    """Make a new code for the group's flyers. Codes may expire and may be limited to a number of uses."""
    if not Membership.objects.organisers().filter(group=group, user=organiser).exists():
        raise DomainError(_("Only the group's organisers can make join codes."))
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(_("Choose an expiry date in the future."))
    if max_uses is not None and max_uses < 1:
        raise DomainError(_("A code must allow at least one use."))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return JoinCode.objects.create(
                    group=group,
                    code=_new_code(),
                    label=label.strip(),
                    expires_at=expires_at,
                    max_uses=max_uses,
                    created_by=organiser,
                )
        except IntegrityError:  # the same random code already exists: draw again
            continue
    raise DomainError(_("Could not make a new code just now. Please try again."))


@transaction.atomic
def revoke_join_code(*, organiser: User, join_code: JoinCode) -> JoinCode:
    """Stop a code working, for example when a flyer went to the wrong street."""
    if not Membership.objects.organisers().filter(group=join_code.group, user=organiser).exists():
        raise DomainError(_("Only the group's organisers can withdraw join codes."))
    if join_code.revoked_at is None:
        join_code.revoked_at = timezone.now()
        join_code.save(update_fields=["revoked_at", "updated_at"])
    return join_code
