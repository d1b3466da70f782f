import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


def new_token() -> str:
    return secrets.token_urlsafe(24)


# --- Areas ------------------------------------------------------------------------------------------------------


class Council(TimeStampedModel):
    class Nation(models.TextChoices):
        ENGLAND = "England", _("England")
        WALES = "Wales", _("Wales")
        SCOTLAND = "Scotland", _("Scotland")
        NORTHERN_IRELAND = "Northern Ireland", _("Northern Ireland")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    code = models.CharField(_("ONS code"), max_length=12, unique=True)
    nation = models.CharField(_("nation"), max_length=20, choices=Nation)

    class Meta:
        ordering = ["name"]
        verbose_name = _("council")
        verbose_name_plural = _("councils")

    def __str__(self) -> str:
        return self.name


class Neighbourhood(TimeStampedModel):
    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="neighbourhoods")
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    code = models.CharField(_("area code"), max_length=12, unique=True)
    households = models.PositiveIntegerField(_("households"), null=True, blank=True)
    imd_decile = models.PositiveSmallIntegerField(
        _("deprivation decile"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("1 is the most deprived tenth of areas, 10 the least."),
    )
    # The electoral ward it lies in, as the council names it: councils filter their dashboards by ward.
    ward = models.CharField(_("ward"), max_length=120, blank=True)
    # A GeoJSON geometry (Polygon or MultiPolygon, WGS84 longitude/latitude).
    boundary = models.JSONField(_("boundary"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("neighbourhood")
        verbose_name_plural = _("neighbourhoods")
        constraints = [
            models.CheckConstraint(
                condition=Q(imd_decile__isnull=True) | Q(imd_decile__gte=1, imd_decile__lte=10),
                name="neighbourhood_imd_decile_1_to_10",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Postcode(models.Model):
    code = models.CharField(_("postcode"), max_length=8, unique=True)  # normalised: "CF10 1EP"
    neighbourhood = models.ForeignKey(Neighbourhood, on_delete=models.CASCADE, related_name="postcodes")

    class Meta:
        ordering = ["code"]
        verbose_name = _("postcode")
        verbose_name_plural = _("postcodes")

    def __str__(self) -> str:
        return self.code


# --- Groups and membership --------------------------------------------------------------------------------------


class GroupQuerySet(models.QuerySet):
    def visible_to(self, user) -> "GroupQuerySet":
        """Groups whose page `user` may open: public ones, and members-only ones they belong to (not banned)."""
        public = Q(visibility=Group.Visibility.PUBLIC)
        if user is None or not user.is_authenticated:
            return self.filter(public)
        member = Q(memberships__user=user, memberships__status=Membership.Status.ACTIVE)
        return self.filter(public | member).distinct()


class Group(TimeStampedModel):
    class JoinPolicy(models.TextChoices):
        OPEN = "open", _("Anyone living here can join")
        APPROVAL = "approval", _("An organiser approves each request")
        CODE = "code", _("Join with a code from a flyer")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public: anyone can see the group, its board and its events")
        MEMBERS = "members", _("Members only: others see just the name and area")

    class EventsBy(models.TextChoices):
        ORGANISERS = "organisers", _("Organisers only")
        MEMBERS = "members", _("Any member")

    neighbourhood = models.ForeignKey(Neighbourhood, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("web address"), max_length=140, unique=True)
    about = models.TextField(_("about the group"), max_length=2000, blank=True)
    streets = models.CharField(
        _("streets covered"), max_length=300, blank=True, help_text=_("For example: Clifton Street, Moira Terrace")
    )
    postcodes = models.ManyToManyField(Postcode, related_name="groups", blank=True, verbose_name=_("postcodes"))
    join_policy = models.CharField(_("who can join"), max_length=10, choices=JoinPolicy, default=JoinPolicy.APPROVAL)
    visibility = models.CharField(_("who can see it"), max_length=10, choices=Visibility, default=Visibility.PUBLIC)
    unverified_can_post = models.BooleanField(
        _("unverified members may post"),
        default=True,
        help_text=_("Members become verified with a join code, an organiser's approval or two neighbours vouching."),
    )
    events_by = models.CharField(_("who can create events"), max_length=10, choices=EventsBy, default=EventsBy.MEMBERS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("street group")
        verbose_name_plural = _("street groups")
        constraints = [
            models.UniqueConstraint(fields=["neighbourhood", "name"], name="group_unique_name_in_neighbourhood"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("neighbourhoods:group-detail", args=[self.slug])

    @property
    def is_public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC


class MembershipQuerySet(models.QuerySet):
    def active(self) -> "MembershipQuerySet":
        return self.filter(status=Membership.Status.ACTIVE)

    def organisers(self) -> "MembershipQuerySet":
        return self.active().filter(role=Membership.Role.ORGANISER)


class Membership(TimeStampedModel):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ORGANISER = "organiser", _("Organiser")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        ACTIVE = "active", _("Member")
        LEFT = "left", _("Left")
        REMOVED = "removed", _("Removed")
        BANNED = "banned", _("Banned")

    class VerifiedBy(models.TextChoices):
        CODE = "code", _("a join code")
        APPROVAL = "approval", _("an organiser")
        VOUCHES = "vouches", _("two neighbours vouching")
        FOUNDER = "founder", _("starting the group")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role, default=Role.MEMBER)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_by = models.CharField(_("verified by"), max_length=10, choices=VerifiedBy, blank=True)
    joined_at = models.DateTimeField(_("joined"), null=True, blank=True)
    # A secret address for this member's calendar feed of a members-only group; reset to revoke it.
    calendar_token = models.CharField(max_length=40, default=new_token, unique=True, editable=False)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="membership_unique_person")]
        indexes = [models.Index(fields=["group", "status", "role"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_organiser(self) -> bool:
        return self.is_active and self.role == self.Role.ORGANISER

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class Vouch(models.Model):
    """A verified member says they know `membership`'s person lives here. Two make a membership verified."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="vouches")
    voucher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["membership", "voucher"], name="vouch_once")]

    def __str__(self) -> str:
        return f"{self.voucher} vouches for {self.membership}"


class JoinCode(TimeStampedModel):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="join_codes")
    code = models.CharField(_("code"), max_length=12, unique=True)
    label = models.CharField(
        _("label"), max_length=80, blank=True, help_text=_("Just for organisers, e.g. “Flyers for Moira Terrace”")
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("number of uses"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("times used"), default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("join code")
        verbose_name_plural = _("join codes")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=F("max_uses")), name="join_code_uses_within_limit"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return False
        return self.max_uses is None or self.uses < self.max_uses


# --- Waves and connections --------------------------------------------------------------------------------------


class Wave(TimeStampedModel):
    """A hello from one member to another of a shared group. Answered, it becomes a `Connection`."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for a reply")
        ACCEPTED = "accepted", _("Waved back")
        DECLINED = "declined", _("Declined")

    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waves_sent")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waves_received")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="waves")
    message = models.CharField(_("message"), max_length=280, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    answered_at = models.DateTimeField(null=True, blank=True)
    # The pair, smaller user id first, so "one open wave per pair" holds whichever way round it was sent.
    pair_low = models.BigIntegerField(editable=False)
    pair_high = models.BigIntegerField(editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(sender=F("recipient")), name="wave_not_to_self"),
            models.UniqueConstraint(
                fields=["pair_low", "pair_high"], condition=Q(status="open"), name="wave_one_open_per_pair"
            ),
        ]

    def save(self, *args, **kwargs):
        self.pair_low, self.pair_high = sorted([self.sender_id, self.recipient_id])
        super().save(*args, **kwargs)


class Connection(models.Model):
    """Two neighbours who both say they have met: the platform's core measure of knowing your neighbours."""

    user_low = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    user_high = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.SET_NULL, null=True, related_name="connections")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_low", "user_high"], name="connection_unique_pair"),
            models.CheckConstraint(condition=Q(user_low__lt=F("user_high")), name="connection_ordered_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.user_low} and {self.user_high}"


# --- Notice board -----------------------------------------------------------------------------------------------


class Post(TimeStampedModel):
    class Kind(models.TextChoices):
        HELLO = "hello", _("Hello / introduction")
        OFFER = "offer", _("Offer")
        REQUEST = "request", _("Request")
        NOTICE = "notice", _("Notice")
        QUESTION = "question", _("Question")
        RECOMMENDATION = "recommendation", _("Recommendation")
        LOST_FOUND = "lost_found", _("Lost and found")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    kind = models.CharField(_("kind of post"), max_length=16, choices=Kind, default=Kind.NOTICE)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("message"), max_length=5000)
    body_html = models.TextField(editable=False)  # sanitised rendering of `body`
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["group", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("neighbourhoods:post-detail", args=[self.group.slug, self.pk])

    @property
    def can_be_fulfilled(self) -> bool:
        return self.kind in (self.Kind.OFFER, self.Kind.REQUEST)


class Comment(TimeStampedModel):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField(_("comment"), max_length=2000)
    body_html = models.TextField(editable=False)
    hidden_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]


class Thanks(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="thanks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="thanks_once_per_person")]

    def __str__(self) -> str:
        return f"{self.user} thanks {self.post}"


# --- Events -----------------------------------------------------------------------------------------------------


class Event(TimeStampedModel):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="events")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    description_html = models.TextField(editable=False, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=200)
    capacity = models.PositiveIntegerField(
        _("places"), null=True, blank=True, help_text=_("Leave empty if there is no limit.")
    )
    cost = models.CharField(_("cost"), max_length=80, blank=True, help_text=_("For example: Free, or £3 for lunch"))
    step_free = models.BooleanField(_("step-free access"), default=False)
    hearing_loop = models.BooleanField(_("hearing loop"), default=False)
    bsl = models.BooleanField(_("British Sign Language interpreter"), default=False)
    quiet_space = models.BooleanField(_("quiet space"), default=False)
    child_friendly = models.BooleanField(_("child-friendly"), default=False)
    access_notes = models.CharField(_("other access information"), max_length=300, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    going_count = models.PositiveIntegerField(default=0, editable=False)  # kept in step with RSVPs under lock

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["group", "starts_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(going_count__lte=F("capacity")), name="event_never_overbooked"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("neighbourhoods:event-detail", args=[self.group.slug, self.pk])

    @property
    def is_past(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.going_count, 0)


class RSVP(TimeStampedModel):
    class Status(models.TextChoices):
        GOING = "going", _("Going")
        MAYBE = "maybe", _("Maybe")
        NOT_GOING = "not_going", _("Not going")
        WAITLISTED = "waitlisted", _("On the waiting list")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rsvps")
    status = models.CharField(max_length=10, choices=Status)

    class Meta:
        verbose_name = "RSVP"
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="rsvp_once_per_person")]
        indexes = [models.Index(fields=["event", "status", "created_at"])]


class CouncilMembership(TimeStampedModel):
    """A council officer's link to their council: what lets them see its dashboards and publish its offers.

    Managed by staff in the admin; council admins may also invite officers.
    """

    class Role(models.TextChoices):
        OFFICER = "officer", _("Officer")
        ADMIN = "admin", _("Council admin")

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="council_memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role, default=Role.OFFICER)

    class Meta:
        verbose_name = _("council membership")
        verbose_name_plural = _("council memberships")
        constraints = [models.UniqueConstraint(fields=["council", "user"], name="council_membership_once")]

    def __str__(self) -> str:
        return f"{self.user} at {self.council}"
