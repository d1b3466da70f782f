from django.core.management.base import BaseCommand, CommandError

from notifications.preferences import record_bounce


class Command(BaseCommand):
    help = (
        "Record that mail to an address hard-bounced: notification emails and digests to its owner stop until they "
        "change or confirm their address. Emails about the account itself still go."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="The address that bounced.")
        parser.add_argument("--reason", default="", help="What the mail server said, kept with the bounce.")

    def handle(self, *args, email: str, reason: str, **options):
        user = record_bounce(email, reason)
        if user is None:
            raise CommandError(f"No account has the address {email!r}; nothing was recorded.")
        self.stdout.write(self.style.SUCCESS(f"Recorded a hard bounce for {user.email}: notification emails stopped."))
