from allauth.account.signals import email_confirmed
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import preferences, services


@receiver(email_confirmed)
def start_emails_after_confirmation(sender, request, email_address, **kwargs):
    """A newly confirmed address (including a changed one, now primary) gets notification emails again."""
    preferences.clear_bounce(email_address.user)


@receiver(user_logged_in, dispatch_uid="notifications.warm_unread_count")
def warm_unread_count(sender, request, user, **kwargs):
    """Every page's header shows the unread count: count it at sign-in so the pages that follow find it cached."""
    services.unread_count(user)
