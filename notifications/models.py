from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """What a notification is about; people choose per category how they hear about it."""

    MEMBERSHIP = "membership", _("Joining and membership")
    POSTS = "posts", _("New posts in my groups")
    REPLIES = "replies", _("Comments and thanks on my posts")
    NEIGHBOURS = "neighbours", _("Waves and connections")
    EVENTS = "events", _("Events")
    INITIATIVES = "initiatives", _("Initiatives I support or help with")
    DECISIONS = "decisions", _("Decisions")
    COUNCIL = "council", _("Council support")


class Notification(models.Model):
    """The outbox: one row per recipient per thing that happened, written in the same transaction as the change.

    Delivery (in-app, email, digests) reads from here; `dedupe_key` makes recording the same event twice harmless.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=60)  # noun.verb_past, e.g. "initiative.update_posted"
    category = models.CharField(max_length=20, choices=Category)
    dedupe_key = models.CharField(max_length=200, unique=True)
    context = models.JSONField(default=dict, blank=True)  # a snapshot of what the message needs, at the time
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.event} for {self.recipient_id}"
