from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import Profile, User


@transaction.atomic
def create_profile(*, user: User, display_name: str, language: str) -> Profile:
    """Give a newly signed-up person their profile (or update the one their account was created with)."""
    profile, _ = Profile.objects.update_or_create(
        user=user, defaults={"display_name": display_name.strip(), "language": language}
    )
    return profile


@transaction.atomic
def update_profile(*, user: User, display_name: str, bio: str, language: str) -> Profile:
    """Save what a person tells their neighbours about themselves."""
    profile = Profile.objects.select_for_update().get(user=user)
    profile.display_name = display_name.strip()
    profile.bio = bio.strip()
    profile.language = language
    profile.save(update_fields=["display_name", "bio", "language", "updated_at"])
    return profile


def set_preferred_language(*, user: User, language: str) -> None:
    """Remember the language a signed-in person picked, for the site and their emails."""
    Profile.objects.filter(user=user).update(language=language, updated_at=timezone.now())


def purge_unverified_accounts(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Delete accounts whose email was never confirmed within `older_than` of signing up.

    Nobody can sign in to such an account, so keeping its personal data serves no one. Staff accounts are never
    touched. Returns how many accounts were deleted; running it twice deletes nothing more.
    """
    cutoff = timezone.now() - older_than
    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    stale = User.objects.filter(date_joined__lt=cutoff, is_staff=False, is_superuser=False).exclude(Exists(verified))
    deleted = 0
    # Small batches keep each delete's locks short on a busy database.
    while ids := list(stale.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            User.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted
