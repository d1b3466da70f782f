from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from neighbourhoods.areas import AreaImportError, import_areas


class Command(BaseCommand):
    help = (
        "Load councils, neighbourhoods and postcodes from a CSV file (one row per postcode), and optionally "
        "neighbourhood boundaries from a GeoJSON FeatureCollection. Running it again updates in place; a file with "
        "any problem changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "csv_file",
            help="CSV with the columns council_code,council_name,nation,neighbourhood_code,neighbourhood_name,"
            "households,imd_decile,postcode and optionally ward",
        )
        parser.add_argument(
            "--boundaries",
            metavar="FILE.geojson",
            help="GeoJSON FeatureCollection whose features carry properties.neighbourhood_code",
        )

    def handle(self, *args, csv_file: str, boundaries: str | None = None, **options):
        for path in filter(None, [csv_file, boundaries]):
            if not Path(path).is_file():
                raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            summary = import_areas(csv_file, boundaries)
        except AreaImportError as error:
            for line in error.lines():
                self.stderr.write(line)
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(_("Imported %(path)s.") % {"path": csv_file}))
        for line in summary.lines():
            self.stdout.write(f"  {line}")
