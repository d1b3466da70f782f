from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """What a notification is about; people choose per category how they hear about it."""

    MEMBERSHIP = "membership", _("Joining and membership")
    POSTS = "posts", _("New posts in my groups")
    REPLIES = "replies", _("Comments and thanks on my posts")
    NEIGHBOURS = "neighbours", _("Waves and connections")
    EVENTS = "events", _("New events in my groups")
    MY_EVENTS = "my_events", _("Events I am going to or interested in")
    INITIATIVES = "initiatives", _("Initiatives I support or help with")
    ORGANISING = "organising", _("Initiatives I help run")
    DECISIONS = "decisions", _("Decisions")
    COUNCIL = "council", _("Council support")


class Notification(models.Model):
    """The outbox: one row per recipient per thing that happened, written in the same transaction as the change.

    Delivery (in-app, email, digests) reads from here; `dedupe_key` makes recording the same event twice harmless.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # The person whose action this reports (the author, the waver, the volunteer…); none for what the platform does
    # itself, such as reminders. While either has blocked the other, the notification is never shown or sent.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event = models.CharField(max_length=60)  # noun.verb_past, e.g. "initiative.update_posted"
    category = models.CharField(max_length=20, choices=Category)
    dedupe_key = models.CharField(max_length=200, unique=True)
    context = models.JSONField(default=dict, blank=True)  # a snapshot of what the message needs, at the time
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    digested_at = models.DateTimeField(null=True, blank=True)
    # The notification's line for digests and the bell, rendered once when recorded, in the recipient's language.
    line = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.event} for {self.recipient_id}"


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", _("Email me straight away")
    DAILY = "daily", _("In a daily email")
    WEEKLY = "weekly", _("In a weekly email")
    IN_APP = "in_app", _("Only on the site")


# Direct things arrive straight away; group activity waits for the weekly email (people can change either).
DEFAULT_FREQUENCY: dict[str, str] = {
    Category.MEMBERSHIP: Frequency.IMMEDIATE,
    Category.POSTS: Frequency.WEEKLY,
    Category.REPLIES: Frequency.IMMEDIATE,
    Category.NEIGHBOURS: Frequency.IMMEDIATE,
    Category.EVENTS: Frequency.WEEKLY,
    Category.MY_EVENTS: Frequency.IMMEDIATE,
    Category.INITIATIVES: Frequency.WEEKLY,
    Category.ORGANISING: Frequency.IMMEDIATE,
    Category.DECISIONS: Frequency.DAILY,
    Category.COUNCIL: Frequency.IMMEDIATE,
}


class Preference(models.Model):
    """How one person hears about one category. No row means the category's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    category = models.CharField(max_length=20, choices=Category)
    frequency = models.CharField(max_length=10, choices=Frequency)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="preference_once_per_category")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.category} → {self.frequency}"


class DeliverySettings(models.Model):
    """A person's settings for all their notification emails."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delivery_settings")
    paused = models.BooleanField(_("pause all notification emails"), default=False)
    digest_hour = models.PositiveSmallIntegerField(_("time of day for daily and weekly emails"), default=8)
    digest_weekday = models.PositiveSmallIntegerField(
        _("day for the weekly email"), choices=Weekday, default=Weekday.SATURDAY
    )
    # A hard bounce stops every email that is not about the account itself; shown on the preferences page.
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(digest_hour__lte=23), name="delivery_digest_hour_valid"),
            models.CheckConstraint(condition=models.Q(digest_weekday__lte=6), name="delivery_digest_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"Delivery settings for {self.user_id}"


class DigestDelivery(models.Model):
    """One digest email for one person and period, claimed before sending and stamped after: never sent twice."""

    class Period(models.TextChoices):
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_deliveries")
    period = models.CharField(max_length=10, choices=Period)
    period_start = models.DateField()
    claimed_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    notification_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "period", "period_start"], name="digest_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.period} digest {self.period_start} for {self.user_id}"
