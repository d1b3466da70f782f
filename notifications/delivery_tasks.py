"""Celery entry points for immediate notification emails; the work is in `notifications.delivery`."""

from smtplib import SMTPException

from celery import shared_task

from . import delivery

__all__ = ["deliver_notifications", "requeue_undelivered"]


# A mail server that is down or says "try again later" (4xx) is retried with growing, jittered waits (about 1 s,
# 2 s, 4 s … up to 10 minutes) so a busy server is not hammered. After the last retry the beat sweep picks the rows
# up again, so a long outage delays the emails rather than losing them.
@shared_task(
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def deliver_notifications(notification_ids: list[int]) -> int:
    return delivery.deliver_notifications(notification_ids)


@shared_task
def requeue_undelivered() -> int:
    return delivery.requeue_undelivered()
