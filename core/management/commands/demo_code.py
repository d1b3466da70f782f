import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from core import demo


class Command(BaseCommand):
    help = (
        "Print the current two-step sign-in code of the demo council officer (officer@example.org), whose "
        "authenticator key is published for local demos, and how long it stays valid."
    )

    def handle(self, *args, **options):
        now = time.time()
        counter = int(now) // app_settings.TOTP_PERIOD
        code = format_hotp_value(hotp_value(demo.DEMO_TOTP_SECRET, counter))
        left = app_settings.TOTP_PERIOD - int(now) % app_settings.TOTP_PERIOD
        self.stdout.write(f"{code}  (for officer@example.org; a new code in {left} s)")
