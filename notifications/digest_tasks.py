"""Celery entry points for daily and weekly digests; the work is in `notifications.digests`."""

from datetime import datetime
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from . import digests

__all__ = ["queue_digests", "send_digests"]


@shared_task
def queue_digests(now: str | None = None) -> int:
    """Queue a `send_digests` task per batch of people whose daily or weekly digest is due this hour.

    Hourly from beat. Queuing someone twice (a slow run overlapping the next, a catch-up hour) is harmless: sending
    skips digests already stamped. `now` (ISO 8601) is for running it by hand for another moment. Returns how many
    people were queued.
    """
    moment = datetime.fromisoformat(now) if now else timezone.now()
    start = digests.period_start_for(moment).isoformat()
    queued = 0
    for period in digests.Period.values:
        for batch in digests.due_users(period, moment):
            send_digests.delay(batch, period, start)
            queued += len(batch)
    return queued


# A mail server that is down or says "try again later" (4xx) is retried with growing, jittered waits (about 1 s,
# 2 s, 4 s … up to 10 minutes). Digests stamped before the failure are skipped on the retry; anyone still unsent
# after the last retry is queued again by the next hourly run within the catch-up hours.
@shared_task(
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_digests(user_ids: list[int], period: str, period_start: str) -> int:
    return digests.send_digests(user_ids, period, period_start)
