from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.exceptions import DomainError

from .models import Profile, Tag, User

TAG_MAX_LENGTH = 60
TAGS_PER_KIND = 15


@transaction.atomic
def create_profile(*, user: User, display_name: str, language: str) -> Profile:
    """Give a newly signed-up person their profile (or update the one their account was created with)."""
    try:
        profile = user.profile  # the one every account is given, which `user` already holds
    except Profile.DoesNotExist:
        profile = Profile(user=user)
    profile.display_name, profile.language = display_name.strip(), language
    profile.save()
    return profile


def tag_names(items: list[str] | str) -> list[str]:
    """Clean a person's interests or skills: trimmed, empty ones dropped, one per slug ("Gardening" = "gardening").

    Accepts a list or comma-separated text. Raises DomainError for an item that is too long or has no letters or
    digits, or for more than `TAGS_PER_KIND` items.
    """
    if isinstance(items, str):
        items = items.split(",")
    names: dict[str, str] = {}
    for item in items:
        name = " ".join(item.split())
        if not name:
            continue
        if len(name) > TAG_MAX_LENGTH:
            raise DomainError(
                _("Keep each one to %(max)d characters or fewer: “%(name)s…” is too long.")
                % {"max": TAG_MAX_LENGTH, "name": name[:20]}
            )
        slug = slugify(name, allow_unicode=True)
        if not slug:
            raise DomainError(_("“%(name)s” needs at least one letter or number.") % {"name": name})
        # Some characters grow when normalised, so a short name can still make a long address.
        if len(slug) > Tag._meta.get_field("slug").max_length:
            raise DomainError(
                _("Keep each one to %(max)d characters or fewer: “%(name)s…” is too long.")
                % {"max": TAG_MAX_LENGTH, "name": name[:20]}
            )
        names.setdefault(slug, name)
    if len(names) > TAGS_PER_KIND:
        raise DomainError(_("Choose up to %(max)d, separated by commas.") % {"max": TAGS_PER_KIND})
    return list(names.values())


def _tags(kind: str, names: list[str]) -> list[Tag]:
    # get_or_create copes with two people adding the same new tag at once: the unique (kind, slug) constraint
    # makes the loser fetch the winner's row.
    return [
        Tag.objects.get_or_create(kind=kind, slug=slugify(name, allow_unicode=True), defaults={"name": name})[0]
        for name in tag_names(names)
    ]


@transaction.atomic
def update_profile(
    *,
    user: User,
    display_name: str,
    bio: str,
    language: str,
    interests: list[str] | None = None,
    skills: list[str] | None = None,
    in_directory: bool | None = None,
) -> Profile:
    """Save what a person tells their neighbours about themselves.

    `interests` and `skills` are names; existing tags are reused by slug and new ones created. Leaving any of the
    last three arguments out keeps what the profile already has.
    """
    profile = Profile.objects.select_for_update().get(user=user)
    profile.display_name = display_name.strip()
    profile.bio = bio.strip()
    profile.language = language
    fields = ["display_name", "bio", "language", "updated_at"]
    if in_directory is not None:
        profile.in_directory = in_directory
        fields.append("in_directory")
    profile.save(update_fields=fields)
    if interests is not None:
        profile.interests.set(_tags(Tag.Kind.INTEREST, interests))
    if skills is not None:
        profile.skills.set(_tags(Tag.Kind.SKILL, skills))
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
