from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from neighbourhoods.models import Council

from ...services import snapshots


class Command(BaseCommand):
    help = (
        "Write one engagement snapshot a week, going back --weeks weeks from today, for every council or one. "
        "Each is counted from the dates rows carry: when groups were made, members joined, connections were "
        "confirmed, events ended, initiatives changed status. What no row remembers cannot be reconstructed: "
        "people who have since left a group, deleted their account or were removed are counted as they are now "
        "(not at all), and groups since deleted are missing from the past. Re-running rewrites the same rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("--weeks", type=int, default=52, help="How many weeks back to go (default 52).")
        parser.add_argument("--council", metavar="SLUG", help="Only this council (its web address, e.g. cardiff).")

    def handle(self, *args, weeks: int, council: str | None = None, **options):
        if weeks < 0 or weeks > 520:
            raise CommandError(_("--weeks should be a whole number from 0 to 520."))
        councils = Council.objects.all()
        if council is not None:
            councils = councils.filter(slug=council)
            if not councils.exists():
                raise CommandError(
                    _("There is no council %(slug)s. Known councils: %(known)s")
                    % {
                        "slug": council,
                        "known": ", ".join(Council.objects.order_by("slug").values_list("slug", flat=True))
                        or _("none yet"),
                    }
                )
        days = snapshots.backfill_dates(weeks=weeks)
        written = 0
        for day in days:
            written += snapshots.take_snapshots(on=day, councils=councils)
        self.stdout.write(
            self.style.SUCCESS(
                _("Wrote %(rows)d snapshot rows for %(days)d dates, %(first)s to %(last)s.")
                % {"rows": written, "days": len(days), "first": days[0], "last": days[-1]}
            )
        )
