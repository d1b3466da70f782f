"""Nightly engagement snapshots: one row per neighbourhood per day, so dashboards and trends read a few hundred rows
instead of the raw activity tables."""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from neighbourhoods.models import Council

from ..metrics import STORED, live_metrics
from ..models import EngagementSnapshot

BATCH_SIZE = 1000


def end_of(day: date) -> datetime:
    """The moment a day ends in the site's time zone (midnight that starts the next day)."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def moment_of(day: date) -> datetime:
    """What a snapshot dated `day` counts up to: the end of that day, or now if the day is not over."""
    return min(end_of(day), timezone.now())


@transaction.atomic
def take_council_snapshots(*, council: Council, on: date) -> int:
    """Write `council`'s snapshot for `on` — one row per neighbourhood, counted as things stood at the end of that
    day (or now, for today). Running it again for the same day rewrites the same rows: never a duplicate.
    Returns the number of rows written."""
    metrics = live_metrics(council, as_of=moment_of(on))
    households = dict(council.neighbourhoods.values_list("pk", "households"))
    now = timezone.now()
    rows = [
        EngagementSnapshot(
            neighbourhood_id=area_id, date=on, households=households.get(area_id), created_at=now, **values
        )
        for area_id, values in metrics.items()
    ]
    EngagementSnapshot.objects.bulk_create(
        rows,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["neighbourhood", "date"],
        update_fields=["households", *STORED, "created_at"],
    )
    return len(rows)


def take_snapshots(*, on: date, councils=None) -> int:
    """Write the snapshot for `on` for every council (or those in `councils`), one transaction per council so a
    large run holds no lock for long. Idempotent per date. Returns the number of rows written."""
    queryset = Council.objects.all() if councils is None else councils
    return sum(take_council_snapshots(council=council, on=on) for council in queryset.order_by("pk"))


def backfill_dates(*, weeks: int, today: date | None = None) -> list[date]:
    """Today and the same weekday in each of the `weeks` weeks before it, oldest first."""
    today = today or timezone.localdate()
    return [today - timedelta(weeks=back) for back in range(weeks, -1, -1)]
