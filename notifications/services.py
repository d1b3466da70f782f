"""Recording notifications (the outbox) and the in-app side of them: each one's line, the unread count, reading.

A notification's `line` is rendered once, when it is recorded, in its recipient's language, from
`templates/notifications/lines/<event>.txt`; the bell page and the digests reuse it instead of rendering again.
The unread count in every page's header is kept in the cache per person and forgotten whenever it may change.
"""

import json
import logging
import re
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import OuterRef, QuerySet
from django.template import Context, TemplateDoesNotExist, TemplateSyntaxError, engines
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext

from accounts.models import Profile, User
from moderation.selectors import blocked_either_way

from . import delivery
from .models import Notification

logger = logging.getLogger(__name__)

LINE_MAX_LENGTH = Notification._meta.get_field("line").max_length
# An event name is `noun.verb_past`; anything else never reaches the template loader.
EVENT_NAME = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
# A cached count is forgotten whenever it changes; the expiry only bounds how long a count computed while a
# notification was being committed (the one race forgetting cannot close) can stay one behind.
UNREAD_TIMEOUT = 15 * 60


# --- Lines ----------------------------------------------------------------------------------------------------


def line_template_name(event: str) -> str:
    return f"notifications/lines/{event}.txt"


def render_line(*, event: str, context: dict, language: str) -> str:
    """The event's one-line summary in `language`, as plain text (escaped wherever it is shown).

    An event without a line template (or with a broken one) gets a generic line rather than an error: recording a
    notification must never fail the action that records it.
    """
    with translation.override(language):
        text = None
        if EVENT_NAME.match(event):
            try:
                template = engines["django"].engine.get_template(line_template_name(event))
                text = template.render(Context(context, autoescape=False))
            except TemplateDoesNotExist:
                logger.warning("No line template for the notification event %r", event)
            except TemplateSyntaxError:
                logger.exception("The line template for the notification event %r is broken", event)
        text = " ".join((text or "").split()) or gettext("There is something new for you on Stronger Streets.")
    return Truncator(text).chars(LINE_MAX_LENGTH)


# --- Recording ------------------------------------------------------------------------------------------------


def _people_with_languages(recipients: Iterable[User] | QuerySet, actor: User | None) -> list[tuple[int, str]]:
    """(user id, language) for each recipient once, leaving out anyone who has blocked `actor` or whom `actor` has
    blocked, in one query."""
    if isinstance(recipients, QuerySet):
        if actor is not None:
            recipients = recipients.exclude(blocked_either_way(OuterRef("pk"), actor))
        people = dict(recipients.order_by().values_list("pk", "profile__language"))
    else:
        ids = list(dict.fromkeys(recipient.pk for recipient in recipients))
        if not ids:
            return []
        if actor is not None:
            # Whoever is kept apart from the actor is left out of the same query that reads the languages.
            people = dict(
                User.objects.filter(pk__in=ids)
                .exclude(blocked_either_way(OuterRef("pk"), actor))
                .values_list("pk", "profile__language")
            )
            people = {pk: people[pk] for pk in ids if pk in people}
        else:
            people = dict.fromkeys(ids, None)
            people.update(Profile.objects.filter(user_id__in=ids).values_list("user_id", "language"))
    return [(pk, language or settings.LANGUAGE_CODE) for pk, language in people.items()]


def occurrence_key(subject, moment: datetime) -> str:
    """A `key` for `record` when the same subject can make the same event again later: the subject and the time."""
    return f"{subject.pk}@{moment.timestamp():.6f}"


def record(
    *,
    event: str,
    category: str,
    subject,
    recipients: Iterable[User] | QuerySet,
    actor: User | None = None,
    context: dict | None = None,
    url: str = "",
    key: str | None = None,
) -> int:
    """Write one notification per recipient, inside the caller's transaction (so a rollback takes them too).

    `actor` is the person whose action this reports (the author, the waver, the volunteer…), None for what the
    platform does by itself (reminders). Recipients who have blocked the actor, or whom the actor has blocked, get
    nothing; the rows keep the actor, so the bell, emails and digests can leave them out if a block comes later.

    The key `event:subject:recipient` makes recording the same thing twice harmless; `key` replaces the subject's
    pk in it when one subject can make the same event more than once (an event edited twice, a second request to
    join). Each row gets its line, rendered once per language among the recipients (one query finds them).
    `context` may hold dates and times: the line templates format them in each language, and the stored snapshot
    keeps them as ISO 8601 text. Each recipient's cached unread count is forgotten. Returns how many rows were
    offered for writing (conflicts with existing keys are skipped silently).
    """
    context = context or {}
    people = _people_with_languages(recipients, actor)
    if not people:
        return 0
    snapshot = json.loads(json.dumps(context, cls=DjangoJSONEncoder))
    languages = {language for _, language in people}
    lines = {language: render_line(event=event, context=context, language=language) for language in languages}
    distinct = subject.pk if key is None else key
    rows = [
        Notification(
            recipient_id=pk,
            actor_id=actor.pk if actor is not None else None,
            event=event,
            category=category,
            dedupe_key=f"{event}:{distinct}:{pk}",
            context=snapshot,
            url=url,
            line=lines[language],
        )
        for pk, language in people
    ]
    Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    forget_unread_counts([pk for pk, _ in people])
    # Those who chose "straight away" get an email once this transaction commits. PostgreSQL does not return the
    # ids of rows inserted with ignore_conflicts, so they are read back by key (a row that already existed and is
    # still unsent may be queued again: delivery skips anything already stamped).
    if immediate := delivery.immediate_recipient_ids(rows):
        keys = [row.dedupe_key for row in rows if row.recipient_id in immediate]
        delivery.enqueue_immediate(
            Notification.objects.filter(dedupe_key__in=keys, delivered_at__isnull=True).values_list("pk", flat=True)
        )
    return len(rows)


# --- Unread count ---------------------------------------------------------------------------------------------


def list_shown(user: User) -> QuerySet:
    """`user`'s notifications as the bell shows and counts them: all but those whose actor either of the two has
    blocked (the check is part of the same query)."""
    return Notification.objects.filter(recipient=user).exclude(blocked_either_way(user, OuterRef("actor_id")))


def unread_cache_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def unread_count(user: User) -> int:
    """How many of `user`'s notifications are unread: from the cache, or one COUNT that is then cached."""
    key = unread_cache_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = list_shown(user).filter(read_at__isnull=True).count()
        cache.set(key, count, UNREAD_TIMEOUT)
    return count


def forget_unread_counts(user_ids: Iterable[int]) -> None:
    """Drop cached unread counts now and again once the transaction commits: a page rendered in between could
    have cached the count from before the commit."""
    keys = [unread_cache_key(pk) for pk in user_ids]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


# --- Reading --------------------------------------------------------------------------------------------------


@transaction.atomic
def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of `user`'s own notifications as read (reading it again changes nothing) and return it.

    Raises `Notification.DoesNotExist` for a notification that is not theirs, exactly as for one that does not exist.
    """
    notification = Notification.objects.select_for_update().get(pk=notification_id, recipient=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        forget_unread_counts([user.pk])
    return notification


@transaction.atomic
def mark_all_read(user: User) -> int:
    """Mark every unread notification the bell shows `user` as read; returns how many there were.

    Those a block keeps out of the bell are neither counted nor touched: counting them would tell someone blocked
    that notifications they cannot see exist, and they come back as they were if the block is lifted.
    """
    count = list_shown(user).filter(read_at__isnull=True).update(read_at=timezone.now())
    if count:
        forget_unread_counts([user.pk])
    return count
