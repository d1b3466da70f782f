"""How each person hears about each category, when their digests arrive, and whether email reaches them at all.

Writes and the reads delivery needs, in one place: `frequencies_for` and `deliverable_filter` are built for batches
(one query however many people), `frequency_for` and `is_deliverable` for a single person.
"""

import re
from collections.abc import Iterable
from smtplib import SMTPRecipientsRefused

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import services as account_services
from accounts.models import Profile, User
from core.exceptions import DomainError

from .models import DEFAULT_FREQUENCY, Category, DeliverySettings, Frequency, Preference

BOUNCE_REASON_MAX_LENGTH = DeliverySettings._meta.get_field("bounce_reason").max_length


def _check_category(category: str) -> None:
    if category not in Category.values:
        raise DomainError(_("There is no kind of notification called “%(category)s”.") % {"category": category})


def _check_frequency(frequency: str) -> None:
    if frequency not in Frequency.values:
        raise DomainError(_("Choose how often to hear about it from the options given."))


# --- Reads ----------------------------------------------------------------------------------------------------


def frequency_for(user: User, category: str) -> str:
    """How `user` wants to hear about `category`: their own choice, or the category's default."""
    _check_category(category)
    chosen = Preference.objects.filter(user=user, category=category).values_list("frequency", flat=True).first()
    return chosen or str(DEFAULT_FREQUENCY[category])


def frequencies_for(users: Iterable[User | int], category: str) -> dict[int, str]:
    """Each person's frequency for `category`, keyed by user id, in one query however many people are asked about.

    Accepts users or user ids. Anyone without a row gets the category's default.
    """
    _check_category(category)
    ids = {user if isinstance(user, int) else user.pk for user in users}
    if not ids:
        return {}
    frequencies = dict.fromkeys(ids, str(DEFAULT_FREQUENCY[category]))
    frequencies.update(
        Preference.objects.filter(user_id__in=ids, category=category).values_list("user_id", "frequency")
    )
    return frequencies


def frequencies_of(user: User) -> dict[str, str]:
    """Every category's frequency for one person (for their preferences page), in one query."""
    frequencies = {str(category): str(frequency) for category, frequency in DEFAULT_FREQUENCY.items()}
    # A row for a category since retired is ignored.
    frequencies.update(
        Preference.objects.filter(user=user, category__in=Category.values).values_list("category", "frequency")
    )
    return frequencies


def delivery_settings_for(user: User) -> DeliverySettings:
    """A person's delivery settings; an unsaved row with the defaults if they never changed them."""
    return DeliverySettings.objects.filter(user=user).first() or DeliverySettings(user=user)


def is_deliverable(user: User) -> bool:
    """Whether a non-transactional email (a notification or a digest) may go to `user`: an active account, not
    paused, not bounced.

    Emails about the account itself (sign-in, verification, password) ignore this. Free when the caller loaded the
    user with `select_related("delivery_settings")`; one query otherwise.
    """
    if not user.is_active:
        return False
    try:
        delivery = user.delivery_settings
    except DeliverySettings.DoesNotExist:
        return True
    return not delivery.paused and delivery.bounced_at is None


def deliverable_filter(prefix: str = "") -> Q:
    """A filter for people who may receive non-transactional email, for use in batch queries.

    `User.objects.filter(deliverable_filter())`, or `Notification.objects.filter(deliverable_filter("recipient__"))`.
    Deactivated accounts are not; people who never saved delivery settings have no row and are deliverable.
    """
    field = f"{prefix}delivery_settings"
    settings_allow = Q(**{f"{field}__isnull": True}) | Q(
        **{f"{field}__paused": False, f"{field}__bounced_at__isnull": True}
    )
    return Q(**{f"{prefix}is_active": True}) & settings_allow


def deliverable_ids(user_ids: Iterable[int]) -> set[int]:
    """The subset of `user_ids` who may receive non-transactional email, in one query."""
    ids = set(user_ids)
    if not ids:
        return set()
    return set(User.objects.filter(deliverable_filter(), pk__in=ids).values_list("pk", flat=True))


# --- Writes ---------------------------------------------------------------------------------------------------


def set_frequencies(user: User, frequencies: dict[str, str]) -> None:
    """Store how `user` wants to hear about each given category, in one statement.

    Categories left out keep what they had, so a person who never touched a category keeps following its default.
    """
    for category, frequency in frequencies.items():
        _check_category(category)
        _check_frequency(frequency)
    if not frequencies:
        return
    Preference.objects.bulk_create(
        [Preference(user=user, category=category, frequency=frequency) for category, frequency in frequencies.items()],
        update_conflicts=True,
        unique_fields=["user", "category"],
        update_fields=["frequency"],
    )


def set_frequency(user: User, category: str, frequency: str) -> None:
    """Store how `user` wants to hear about `category` (immediately, daily, weekly or only on the site)."""
    set_frequencies(user, {category: frequency})


@transaction.atomic
def set_delivery_settings(user: User, paused: bool, digest_hour: int, digest_weekday: int, language: str) -> None:
    """Store when digests arrive, whether notification emails are paused, and the language of emails.

    The language is the profile's: it is the language of the site as well, so changing it here changes both.
    A bounce is left as it is: only a new or re-confirmed address clears it.
    """
    if not 0 <= digest_hour <= 23:
        raise DomainError(_("Choose a time between 00:00 and 23:00."))
    if digest_weekday not in DeliverySettings.Weekday.values:
        raise DomainError(_("Choose a day of the week."))
    if language not in dict(settings.LANGUAGES):
        raise DomainError(_("Choose one of the languages offered."))
    DeliverySettings.objects.update_or_create(
        user=user, defaults={"paused": paused, "digest_hour": digest_hour, "digest_weekday": digest_weekday}
    )
    # Profile.language is also read by every signed-in page, so only write it when it changes.
    if not Profile.objects.filter(user=user, language=language).exists():
        account_services.set_preferred_language(user=user, language=language)


@transaction.atomic
def save_preferences(
    *,
    user: User,
    frequencies: dict[str, str],
    paused: bool,
    digest_hour: int,
    digest_weekday: int,
    language: str,
) -> None:
    """Save the whole preferences page at once: a failure in any part leaves everything as it was.

    Only categories whose frequency changed get a row, so untouched ones keep following their default.
    """
    current = frequencies_of(user)
    set_frequencies(user, {category: value for category, value in frequencies.items() if current[category] != value})
    set_delivery_settings(user, paused, digest_hour, digest_weekday, language)


def unsubscribe(user_id: int, category: str) -> bool:
    """Stop emails about `category` for the person with `user_id`: they will see it on the site only.

    For one-click links, so it takes an id, not a signed-in user. Running it twice is harmless. Returns False when
    there is no such person (an account deleted since the email was sent).
    """
    _check_category(category)
    if not User.objects.filter(pk=user_id).exists():
        return False
    Preference.objects.bulk_create(
        [Preference(user_id=user_id, category=category, frequency=Frequency.IN_APP)],
        update_conflicts=True,
        unique_fields=["user", "category"],
        update_fields=["frequency"],
    )
    return True


@transaction.atomic
def unsubscribe_digest(user_id: int, period: str) -> bool:
    """Stop the person's daily or weekly digest email: every category that goes into it is shown on the site only.

    For the one-click link in a digest, which stands for the whole email rather than one of its categories. Running
    it twice is harmless. Returns False when there is no such person.
    """
    if period not in (Frequency.DAILY, Frequency.WEEKLY):
        raise ValueError(f"Unknown digest period {period!r}")
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return False
    chosen = [category for category, frequency in frequencies_of(user).items() if frequency == period]
    set_frequencies(user, dict.fromkeys(chosen, Frequency.IN_APP))
    return True


@transaction.atomic
def record_bounce(email: str, reason: str = "") -> User | None:
    """Record that mail to `email` hard-bounced: notification emails and digests to its owner stop.

    Emails about the account itself still go, so the person can still sign in and change their address. Returns
    the owner, or None (and stores nothing) when no account has that address.
    """
    email = email.strip()
    # No address holds a NUL character (and PostgreSQL text cannot hold one to compare with).
    user = User.objects.filter(email__iexact=email).first() if email and "\x00" not in email else None
    if user is None:
        return None
    DeliverySettings.objects.update_or_create(
        user=user,
        # PostgreSQL text cannot hold NUL characters, whatever a provider puts in its report.
        defaults={
            "bounced_at": timezone.now(),
            "bounce_reason": " ".join(reason.replace("\x00", " ").split())[:BOUNCE_REASON_MAX_LENGTH],
        },
    )
    return user


# An enhanced status code (RFC 3463) at the start of a reply: class, subject, detail.
_ENHANCED_STATUS = re.compile(rb"\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


def mailbox_refused(error: Exception) -> bool:
    """Whether the mail server refused every recipient of an email because the mailbox or address is bad, for good.

    That is a 5xx to RCPT whose enhanced status says so (5.1.x: bad address or mailbox; 5.2.1: mailbox disabled) or,
    without one, a bare 550, 551 or 553. Such an address is recorded as bounced (`record_bounce`). Anything else
    (a 4xx, a refused sender or relay, a policy, a quota or a full mailbox, an error after DATA) is about the server
    or the sending account rather than the address: worth trying again, and never a reason to stop someone's mail.
    """
    if not isinstance(error, SMTPRecipientsRefused) or not error.recipients:
        return False
    return all(_bad_mailbox(code, reply) for code, reply in error.recipients.values())


def _bad_mailbox(code: int, reply: bytes | str) -> bool:
    if code < 500:
        return False
    match = _ENHANCED_STATUS.match(reply.encode() if isinstance(reply, str) else reply)
    if match is None:
        return code in (550, 551, 553)
    _class, subject, detail = match.groups()
    return subject == b"1" or (subject, detail) == (b"2", b"1")


def refusal_reason(error: SMTPRecipientsRefused) -> str:
    """The server's words, for the preferences page ("550 5.1.1 No such user")."""
    code, reply = next(iter(error.recipients.values()))
    return f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"


def clear_bounce(user: User) -> bool:
    """Start sending notification emails again after a bounce: the person changed or re-confirmed their address.

    Returns whether there was a bounce to clear.
    """
    return bool(
        DeliverySettings.objects.filter(user=user, bounced_at__isnull=False).update(bounced_at=None, bounce_reason="")
    )
