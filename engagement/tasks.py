from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from .services import snapshots


@shared_task
def take_snapshots(on: str | None = None) -> int:
    """Write every neighbourhood's snapshot for `on` (ISO date; default yesterday, now that it is complete).

    Nightly from beat. Running it twice for a day rewrites the same rows. Returns the number of rows written."""
    day = date.fromisoformat(on) if on else timezone.localdate() - timedelta(days=1)
    return snapshots.take_snapshots(on=day)
