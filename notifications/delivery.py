"""Immediate notification emails: queued when the change commits, swept up if the queue loses them, sent once.

The path (see STYLE.md, "From a change to an email and a digest line"): `record()` writes the outbox rows and, for
people who chose "email me straight away" for the category, calls `enqueue_immediate` so a worker runs
`deliver_notifications` once the transaction commits. Beat runs `requeue_undelivered` every few minutes for anything
a lost broker message or a dead worker left behind. Delivery locks its rows and stamps `delivered_at` in the same
transaction as the send, so running it twice, or two workers at once, sends each email once.

`delivered_at` means "the immediate email for this row is dealt with": either it was sent, or the person had paused
notification emails or their address bounced when it was due, so it will never be emailed on its own (it stays on
the site, in the bell), or the recipient and the notification's actor had been kept apart by a block by then, or the
recipient could no longer see what it links to (a hidden post, a group they left), so it is never sent. Without that
stamp the sweep would retry a paused person's rows for as long as they stay in its window and, on unpausing, send
them all at once. A row whose category the person has since moved to a digest or to the site only is left
unstamped: it belongs to the digest now.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from smtplib import SMTPDataError, SMTPException, SMTPRecipientsRefused

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import Case, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import preferences, unsubscribe
from .digests import BatchContext, Line, Period
from .models import DEFAULT_FREQUENCY, Frequency, Notification, Preference

logger = logging.getLogger(__name__)

# Ids per delivery task: one transaction and one SMTP connection each.
BATCH_SIZE = 500
# The sweep looks back this far and no further. An "immediate" email a day late is no longer worth sending (it is
# still on the site), and the bound keeps the sweep's scan small: rows for digests and the site only are never
# stamped delivered, so without it the sweep would read every one of them, every time, forever.
REQUEUE_WITHIN = timedelta(days=1)

SUBJECT_TEMPLATE = "notifications/emails/notification.subject.txt"
TEXT_TEMPLATE = "notifications/emails/notification.txt"
HTML_TEMPLATE = "notifications/emails/notification.html"


def immediate_recipient_ids(notifications: Iterable[Notification]) -> set[int]:
    """The recipients among `notifications` who want that category emailed straight away.

    For `record()`, right after it writes the rows. One query per category, however many recipients.
    """
    by_category: dict[str, set[int]] = defaultdict(set)
    for notification in notifications:
        by_category[notification.category].add(notification.recipient_id)
    return {
        user_id
        for category, user_ids in by_category.items()
        for user_id, frequency in preferences.frequencies_for(user_ids, category).items()
        if frequency == Frequency.IMMEDIATE
    }


def enqueue_immediate(notification_ids: Iterable[int]) -> int:
    """Queue delivery of these notifications once the current transaction commits (at once outside one).

    Queuing on commit means a worker never looks for rows it cannot see yet, and a rolled-back change sends nothing.
    If the broker cannot be reached, the error is logged rather than raised: the change is already committed, the
    person should not see an error page for it, and the sweep sends the emails late. Returns how many ids there were.
    """
    ids = sorted(set(notification_ids))
    for start in range(0, len(ids), BATCH_SIZE):
        transaction.on_commit(_queue_delivery(ids[start : start + BATCH_SIZE]), robust=True)
    return len(ids)


def _queue_delivery(ids: list[int]):
    from .delivery_tasks import deliver_notifications as deliver_task  # the tasks module imports this one

    def queue_delivery() -> None:
        deliver_task.delay(ids)

    return queue_delivery


def deliver_notifications(notification_ids: Iterable[int]) -> int:
    """Email each of these notifications that is still due, once, and stamp it delivered. Returns how many were sent.

    Safe to run twice or concurrently: rows are locked (`skip_locked`, so a second worker passes over them rather than
    waiting to send them again) and rows already stamped are skipped. Rows whose recipient paused notification emails
    or bounced, whose actor the recipient has blocked or been blocked by since, or whose object the recipient may no
    longer see (`_no_longer_visible`) are stamped without an email; rows the recipient now wants in a digest or on
    the site only are left alone. Every email is rendered before the SMTP connection opens, and each one is stamped
    only once the server has accepted it: if sending fails part-way, the emails already accepted are stamped, the
    rest stay due, and the error is raised after the stamps commit so the task retries only what is left. One email
    refused on its own (its address or its content) does not stop the others going out first. An address refused
    as a bad mailbox (`preferences.mailbox_refused`) is recorded as bounced and its row stamped dealt with.
    """
    ids = sorted(set(notification_ids))
    if not ids:
        return 0
    failure: Exception | None = None
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=ids, delivered_at__isnull=True, digested_at__isnull=True)
            .select_related("recipient__profile", "recipient__delivery_settings")
            .order_by("pk")
        )
        if not rows:
            return 0
        frequencies = _frequencies(rows)
        # Checked now, not when recorded: a block made since, or an object the reader may no longer see, keeps the
        # email from going.
        unseen = _no_longer_visible(rows)
        closed = {row.pk for row in rows if row.pk in unseen or not preferences.is_deliverable(row.recipient)}
        due = [
            row
            for row in rows
            if row.pk not in closed and frequencies[row.category].get(row.recipient_id) == Frequency.IMMEDIATE
        ]
        messages = [(row.pk, _message(row)) for row in due]
        sent: list[int] = []
        bounced: list[int] = []
        bad_addresses: set[str] = set()
        if messages:
            # An SMTP server that refuses the connection raises here, before anything is sent or stamped.
            connection = mail.get_connection(fail_silently=False)
            connection.open()
            try:
                for pk, message in messages:
                    if message.to[0] in bad_addresses:  # refused a moment ago in this batch: not offered again
                        bounced.append(pk)
                        continue
                    message.connection = connection
                    try:
                        message.send()
                    except (SMTPRecipientsRefused, SMTPDataError) as error:
                        # One email refused (the session is reset and goes on): the others still go out.
                        if preferences.mailbox_refused(error):
                            # A bad address: it bounced, so it is dealt with and its owner's mail stops.
                            preferences.record_bounce(message.to[0], preferences.refusal_reason(error))
                            logger.warning("Notification %s: the mail server refused its address: %s", pk, error)
                            bad_addresses.add(message.to[0])
                            bounced.append(pk)
                        else:  # about the server or the account: this one waits for the task's retry
                            failure = failure or error
                    except Exception as error:  # stamp what was accepted, then let the task decide whether to retry
                        failure = error
                        break
                    else:
                        sent.append(pk)
            finally:
                _close_quietly(connection)
        if sent or closed or bounced:
            Notification.objects.filter(pk__in=[*sent, *closed, *bounced]).update(delivered_at=timezone.now())
    if failure is not None:
        logger.warning("Sent %s of %s notification emails; the rest wait for a retry", len(sent), len(messages))
        raise failure
    return len(sent)


def requeue_undelivered(*, after_minutes: int | None = None) -> int:
    """Queue delivery again for immediate notifications still undelivered `after_minutes` after they were recorded.

    Catches what a lost broker message or a dead worker left behind: late, never lost. "Immediate" is judged by the
    recipient's choice now, so rows for digests and the site only are never queued. Ids go out in batches of
    `BATCH_SIZE`, one query per batch. Queuing a row that is already on its way is harmless: delivery skips rows
    that are locked or stamped. Returns how many ids were queued.
    """
    from .delivery_tasks import deliver_notifications as deliver_task  # the tasks module imports this one

    if after_minutes is None:
        after_minutes = settings.NOTIFICATIONS_REQUEUE_AFTER_MINUTES
    now = timezone.now()
    chosen = Preference.objects.filter(user=OuterRef("recipient"), category=OuterRef("category")).values("frequency")
    immediate_by_default = [str(c) for c, frequency in DEFAULT_FREQUENCY.items() if frequency == Frequency.IMMEDIATE]
    due = (
        Notification.objects.filter(
            delivered_at__isnull=True,
            digested_at__isnull=True,
            created_at__lte=now - timedelta(minutes=after_minutes),
            created_at__gte=now - REQUEUE_WITHIN,
        )
        .annotate(
            frequency=Coalesce(
                Subquery(chosen[:1]),
                Case(When(category__in=immediate_by_default, then=Value(Frequency.IMMEDIATE.value)), default=None),
            )
        )
        .filter(frequency=Frequency.IMMEDIATE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    queued = 0
    last = 0
    while ids := list(due.filter(pk__gt=last)[:BATCH_SIZE]):
        deliver_task.delay(ids)
        queued += len(ids)
        last = ids[-1]
    if queued:
        logger.info("Queued %s undelivered notification emails again", queued)
    return queued


def _frequencies(rows: list[Notification]) -> dict[str, dict[int, str]]:
    """Each row's category → recipient id → frequency now, one query per category in the batch."""
    by_category: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        by_category[row.category].add(row.recipient_id)
    return {category: preferences.frequencies_for(user_ids, category) for category, user_ids in by_category.items()}


def _no_longer_visible(rows: list[Notification]) -> set[int]:
    """The rows whose recipient may no longer see them, checked as a digest checks its lines (a fixed set of queries
    for the batch): the actor and the recipient kept apart by a block, a post or comment hidden or deleted, an event
    or decision deleted, a group left or removed or banned from, or a members-only group they are no longer an
    active member of."""
    lines = [Line(row.pk, row.recipient_id, row.category, row.url, row.line, row.actor_id) for row in rows]
    batch = BatchContext(sorted({row.recipient_id for row in rows}), lines, Period.DAILY, timezone.now(), live=False)
    return {line.pk for line in lines if batch.place_of(line) is None}


def _message(notification: Notification) -> mail.EmailMultiAlternatives:
    """The email for one notification, in its recipient's language, with the one-click unsubscribe headers."""
    user = notification.recipient
    profile = getattr(user, "profile", None)
    with translation.override(profile.language if profile is not None else settings.LANGUAGE_CODE):
        category = notification.get_category_display()
        context = {
            "notification": notification,
            "name": profile.display_name if profile is not None else "",
            # The line was rendered in the recipient's language when the notification was recorded.
            "line": notification.line or _("There is news for you about “%(category)s”.") % {"category": category},
            "category": category,
            "link": _absolute(notification.url or reverse("notifications:list")),
            "settings_url": _absolute(reverse("notifications:preferences")),
            "unsubscribe_url": unsubscribe.unsubscribe_url(user, notification.category),
        }
        # A header cannot hold a line break, wherever the line came from.
        subject = " ".join(render_to_string(SUBJECT_TEMPLATE, context).split())
        context["subject"] = subject
        text = render_to_string(TEXT_TEMPLATE, context)
        html = render_to_string(HTML_TEMPLATE, context)
    message = mail.EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[user.email],
        headers=unsubscribe.headers_for(user, notification.category),
    )
    message.attach_alternative(html, "text/html")
    return message


def _absolute(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else f"{settings.SITE_URL}{url}"


def _close_quietly(connection) -> None:
    """Close the SMTP connection; a failure to say goodbye must not undo stamps for emails already accepted."""
    try:
        connection.close()
    except (SMTPException, OSError):
        logger.warning("Could not close the SMTP connection cleanly", exc_info=True)
