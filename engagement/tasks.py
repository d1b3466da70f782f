from datetime import date, timedelta
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from .services import snapshots, team


@shared_task
def take_snapshots(on: str | None = None) -> int:
    """Write every neighbourhood's snapshot for `on` (ISO date; default yesterday, now that it is complete).

    Nightly from beat. Running it twice for a day rewrites the same rows. Returns the number of rows written."""
    day = date.fromisoformat(on) if on else timezone.localdate() - timedelta(days=1)
    return snapshots.take_snapshots(on=day)


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_officer_invite(invite_id: int) -> bool:
    return team.send_officer_invite(invite_id=invite_id)
