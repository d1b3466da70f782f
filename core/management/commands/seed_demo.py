from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import NoReverseMatch, reverse

from core import demo
from neighbourhoods.models import Council


class Command(BaseCommand):
    help = "Create demo people and data for trying Stronger Streets locally. Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even though DEBUG is off. Demo accounts share a published password: never on a real site.",
        )

    def handle(self, *args, allow_production: bool = False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "DEBUG is off, so this looks like a real site. Demo accounts share a published password; "
                "pass --allow-production if you really mean it."
            )
        results, groups_made, year_made = demo.seed()
        made = sum(created for _, created in results)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready ({made} new people, {len(results) - made} already there).")
        )
        if groups_made:
            self.stdout.write("Made Cardiff's demo street groups and initiatives.")
        if year_made:
            self.stdout.write("Made a year of activity across Cardiff and a snapshot for each of the past 52 weeks.")
        if not (made or groups_made or year_made):
            self.stdout.write("Nothing new: the demo data was already there.")
        self.stdout.write(f"Sign in at {settings.SITE_URL}/accounts/login/ with password “{demo.DEMO_PASSWORD}” as:")
        for person, _ in results:
            self.stdout.write(f"  {person.role:<16} {person.email}")
        self.stdout.write(
            f"The council officer also needs a code from an authenticator app: add the key {demo.DEMO_TOTP_SECRET}, "
            f"or run `python manage.py demo_code` for the current one. Their dashboards: {self.dashboard_url()}"
        )
        self.stdout.write("Try the postcode CF24 2AA (Splott) on the home page.")

    def dashboard_url(self) -> str:
        council = Council.objects.get(code=demo.CARDIFF_CODE)
        for name in ("engagement:dashboard", "engagement:trends"):
            try:
                return settings.SITE_URL + reverse(name, kwargs={"council_slug": council.slug})
            except NoReverseMatch:
                continue
        return f"{settings.SITE_URL}/council/{council.slug}/"
