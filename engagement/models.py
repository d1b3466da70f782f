from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from neighbourhoods.models import CouncilMembership, new_token


class EngagementSnapshot(models.Model):
    """A neighbourhood's true engagement counts on one day, written nightly (and by `backfill_snapshots`).

    These are raw numbers: they reach a council only through `engagement.suppression`. One column per stored metric
    (see `engagement.metrics.STORED`), so trends are plain SQL sums.
    """

    neighbourhood = models.ForeignKey(
        "neighbourhoods.Neighbourhood", on_delete=models.CASCADE, related_name="engagement_snapshots"
    )
    date = models.DateField()
    households = models.PositiveIntegerField(null=True, blank=True)  # as known that day, for reach
    groups = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)
    verified_members = models.PositiveIntegerField(default=0)
    new_members = models.PositiveIntegerField(default=0)
    active_members = models.PositiveIntegerField(default=0)
    know_one = models.PositiveIntegerField(default=0)
    know_three = models.PositiveIntegerField(default=0)
    events_held = models.PositiveIntegerField(default=0)
    attendance = models.PositiveIntegerField(default=0)
    initiatives_idea = models.PositiveIntegerField(default=0)
    initiatives_planning = models.PositiveIntegerField(default=0)
    initiatives_active = models.PositiveIntegerField(default=0)
    initiatives_completed = models.PositiveIntegerField(default=0)
    initiatives_paused = models.PositiveIntegerField(default=0)
    initiatives_archived = models.PositiveIntegerField(default=0)
    volunteer_signups = models.PositiveIntegerField(default=0)
    volunteer_hours = models.PositiveIntegerField(default=0)
    offers_approved = models.PositiveIntegerField(default=0)
    offers_taken_up = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("engagement snapshot")
        verbose_name_plural = _("engagement snapshots")
        constraints = [
            models.UniqueConstraint(fields=["neighbourhood", "date"], name="engagement_snapshot_once_a_day"),
        ]
        indexes = [models.Index(fields=["date"], name="engagement_snapshot_date")]

    def __str__(self) -> str:
        return f"{self.neighbourhood_id} on {self.date}"


class OfficerInvite(TimeStampedModel):
    """An invitation from a council admin to join the council's team, accepted through a signed link by someone
    signed in with the invited (verified) email address."""

    council = models.ForeignKey("neighbourhoods.Council", on_delete=models.CASCADE, related_name="officer_invites")
    email = models.EmailField(_("email address"))
    role = models.CharField(
        _("role"), max_length=10, choices=CouncilMembership.Role, default=CouncilMembership.Role.OFFICER
    )
    token = models.CharField(max_length=40, default=new_token, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("officer invitation")
        verbose_name_plural = _("officer invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["council", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="officer_invite_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.council}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ApiToken(models.Model):
    """An officer's key to their council's read-only API, scoped to that one council.

    Only a SHA-256 digest of the token is stored (the token is long and random, so a fast hash is enough); the full
    token is shown once, when it is made. It stops working when revoked, when its owner stops being an officer of
    the council or turns off two-step sign-in, and when their account is deactivated (`engagement.api.authentication`).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    council = models.ForeignKey("neighbourhoods.Council", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=16, editable=False)  # the start of the token, to tell tokens apart
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "council"], name="api_token_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
