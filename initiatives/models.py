from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel

from .search import PostgresOnly, SearchVectorField, document


class Initiative(TimeStampedModel):
    """A local project neighbours build together: a community garden, a lunch club, a street party."""

    class Category(models.TextChoices):
        GREEN_SPACES = "green_spaces", _("Green spaces")
        FOOD = "food", _("Food")
        OLDER_NEIGHBOURS = "older_neighbours", _("Older neighbours")
        YOUNG_PEOPLE = "young_people", _("Young people")
        SAFETY = "safety", _("Safety")
        STREETS = "streets", _("Streets and transport")
        ARTS = "arts", _("Arts and culture")
        MUTUAL_AID = "mutual_aid", _("Mutual aid")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        IDEA = "idea", _("Idea")
        PLANNING = "planning", _("Planning")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        PAUSED = "paused", _("Paused")
        ARCHIVED = "archived", _("Archived")

    # The lifecycle: which status may follow which. Anything else is refused.
    TRANSITIONS: dict[str, set[str]] = {
        "idea": {"planning", "paused", "archived"},
        "planning": {"active", "paused", "archived"},
        "active": {"completed", "paused", "archived"},
        "paused": {"idea", "planning", "active", "archived"},
        "completed": {"archived"},
        "archived": set(),
    }

    # Either a street group's initiative, or one for the whole neighbourhood (then `group` is empty).
    group = models.ForeignKey(
        "neighbourhoods.Group", on_delete=models.CASCADE, null=True, blank=True, related_name="initiatives"
    )
    neighbourhood = models.ForeignKey(
        "neighbourhoods.Neighbourhood", on_delete=models.PROTECT, related_name="initiatives"
    )
    title = models.CharField(_("title"), max_length=120)
    slug = models.SlugField(_("web address"), max_length=140, unique=True)
    summary = models.CharField(_("summary"), max_length=280)
    description = models.TextField(_("description"), max_length=10000, blank=True)
    description_html = models.TextField(editable=False, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category, default=Category.OTHER)
    place = models.CharField(_("place"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.IDEA)
    # Bumped on every edit; an edit made from an older version is refused instead of silently overwriting.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    support_count = models.PositiveIntegerField(default=0, editable=False)  # kept in step by the support actions
    # Kept by the database from the three fields above, for search (see initiatives/search.py); empty on SQLite.
    search_document = models.GeneratedField(
        expression=PostgresOnly(document()), output_field=SearchVectorField(), db_persist=True
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")
        indexes = [models.Index(fields=["neighbourhood", "status"]), models.Index(fields=["group", "status"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("initiatives:detail", args=[self.slug])

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, set())


class InitiativeRole(TimeStampedModel):
    """Who runs an initiative: exactly one lead, and co-organisers the lead invited (who accepted)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        CO_ORGANISER = "co_organiser", _("Co-organiser")

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        DECLINED = "declined", _("Declined")
        LEFT = "left", _("Stepped down")

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="initiative_roles")
    role = models.CharField(max_length=15, choices=Role)
    status = models.CharField(max_length=10, choices=Status, default=Status.INVITED)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["initiative", "user"], name="initiative_role_once_per_person"),
            models.UniqueConstraint(
                fields=["initiative"], condition=Q(role="lead", status="active"), name="initiative_one_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) of {self.initiative}"


class StatusChange(models.Model):
    """Every move through the lifecycle, with who made it and when."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=Initiative.Status, blank=True)
    to_status = models.CharField(max_length=10, choices=Initiative.Status)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.CharField(max_length=280, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.initiative}: {self.from_status} → {self.to_status}"


class Support(models.Model):
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supports")
    note = models.CharField(_("note"), max_length=280, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["initiative", "user"], name="support_once_per_person")]

    def __str__(self) -> str:
        return f"{self.user} supports {self.initiative}"


class VolunteerRole(TimeStampedModel):
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="volunteer_roles")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    slots = models.PositiveIntegerField(_("places"), validators=[MinValueValidator(1)])
    filled = models.PositiveIntegerField(default=0, editable=False)  # kept in step under the role's row lock

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(filled__lte=F("slots")), name="volunteer_role_never_overbooked"),
            models.CheckConstraint(condition=Q(slots__gte=1), name="volunteer_role_has_a_place"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="volunteer_role_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def places_left(self) -> int:
        return max(self.slots - self.filled, 0)


class VolunteerSignup(models.Model):
    role = models.ForeignKey(VolunteerRole, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer_signups")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["role", "user"], name="volunteer_signup_once_per_person")]

    def __str__(self) -> str:
        return f"{self.user} volunteers as {self.role}"


class Ask(TimeStampedModel):
    """Something the initiative needs, with a target: £500, 20 bags of compost, a room on Tuesdays."""

    class Kind(models.TextChoices):
        MONEY = "money", _("Money")
        MATERIALS = "materials", _("Materials")
        SKILLS = "skills", _("Skills")
        SPACE = "space", _("Space")
        PERMISSION = "permission", _("Permission")

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="asks")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    title = models.CharField(_("what is needed"), max_length=120)
    description = models.CharField(_("details"), max_length=500, blank=True)
    target = models.DecimalField(
        _("target"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit = models.CharField(_("unit"), max_length=30, blank=True, help_text=_("For money, leave empty: it is in £."))
    pledged = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"), editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(target__gt=0), name="ask_target_positive")]

    def __str__(self) -> str:
        return self.title


class Pledge(models.Model):
    """A promise of part of an ask. No money changes hands on the platform."""

    ask = models.ForeignKey(Ask, on_delete=models.CASCADE, related_name="pledges")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pledges")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    note = models.CharField(_("note"), max_length=280, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="pledge_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} towards {self.ask}"


class Update(TimeStampedModel):
    """A progress update from the organisers; supporters and volunteers are notified."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("update"), max_length=5000)
    body_html = models.TextField(editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class Decision(TimeStampedModel):
    """A question put to the initiative's people: a proposal (agree / abstain / disagree / block) or a poll."""

    class Kind(models.TextChoices):
        PROPOSAL = "proposal", _("Proposal")
        POLL = "poll", _("Poll")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    question = models.CharField(_("question"), max_length=200)
    description = models.TextField(_("background"), max_length=5000, blank=True)
    description_html = models.TextField(editable=False, blank=True)
    closes_at = models.DateTimeField(_("closes"))
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    outcome = models.CharField(max_length=300, blank=True)  # written when it closes, in the site's language
    # The same outcome as its message key and values, so each reader sees it in their own language.
    outcome_key = models.CharField(max_length=20, blank=True)
    outcome_params = models.JSONField(default=dict, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "closes_at"])]

    def __str__(self) -> str:
        return self.question

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN and self.closes_at > timezone.now()

    @property
    def outcome_text(self) -> str:
        """The outcome in the active language (the stored text if it was recorded without its key)."""
        from .services.decisions import OUTCOMES  # the messages live with the rule that picks them

        message = OUTCOMES.get(self.outcome_key, (None,))[0]
        if message is None:
            return self.outcome
        try:
            return gettext(message) % self.outcome_params
        except (KeyError, TypeError, ValueError):
            return self.outcome


class DecisionOption(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("option"), max_length=120)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label


class Vote(TimeStampedModel):
    class Position(models.TextChoices):
        AGREE = "agree", _("Agree")
        ABSTAIN = "abstain", _("Abstain")
        DISAGREE = "disagree", _("Disagree")
        BLOCK = "block", _("Block")

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes")
    position = models.CharField(max_length=10, choices=Position, blank=True)  # proposals
    option = models.ForeignKey(DecisionOption, on_delete=models.CASCADE, null=True, blank=True, related_name="votes")
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["decision", "user"], name="vote_once_per_person"),
            models.CheckConstraint(
                condition=(Q(position="") & Q(option__isnull=False)) | (~Q(position="") & Q(option__isnull=True)),
                name="vote_is_a_position_or_an_option",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.decision}"


class Outcome(TimeStampedModel):
    """What a completed initiative achieved. These figures feed the councils' dashboards."""

    initiative = models.OneToOneField(Initiative, on_delete=models.CASCADE, related_name="outcome")
    people_involved = models.PositiveIntegerField(_("people involved"))
    volunteer_hours = models.DecimalField(
        _("volunteer hours"), max_digits=9, decimal_places=1, validators=[MinValueValidator(Decimal("0"))]
    )
    what_changed = models.TextField(_("what changed"), max_length=5000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    def __str__(self) -> str:
        return f"Outcome of {self.initiative}"


class TimelineEntry(models.Model):
    """One line on an initiative's timeline, written by the action that made it happen, so the page reads one
    table in one query. `text` is a snapshot rendered when recorded; `url` links to the thing itself."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status change")
        UPDATE = "update", _("Update")
        DECISION_OPENED = "decision_opened", _("Decision opened")
        DECISION_CLOSED = "decision_closed", _("Decision closed")
        PLEDGE = "pledge", _("Pledge")
        VOLUNTEER = "volunteer", _("New volunteer")
        COUNCIL = "council", _("Council support")
        OUTCOME = "outcome", _("Outcome")
        CREATED = "created", _("Proposed")

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=20, choices=Kind)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # Message id and values, translated when shown: the timeline reads in the viewer's language.
    message = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["initiative", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.initiative}: {self.kind}"


class CouncilOffer(TimeStampedModel):
    """Support a council publishes for community initiatives, optionally unlocked by a number of supporters."""

    class Kind(models.TextChoices):
        GRANT = "grant", _("Small grant")
        EQUIPMENT = "equipment", _("Equipment loan")
        VENUE = "venue", _("Venue")
        SKIP = "skip", _("Skip")
        ADVICE = "advice", _("Advice")

    council = models.ForeignKey("neighbourhoods.Council", on_delete=models.CASCADE, related_name="offers")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=3000)
    eligibility = models.TextField(_("who can ask for it"), max_length=2000, blank=True)
    amount = models.DecimalField(_("value (£)"), max_digits=10, decimal_places=2, null=True, blank=True)
    unlock_supporters = models.PositiveIntegerField(
        _("supporters needed"),
        null=True,
        blank=True,
        help_text=_("An initiative can ask for this once it has this many supporters. Leave empty for no threshold."),
    )
    is_open = models.BooleanField(_("open for requests"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Backing(TimeStampedModel):
    """An initiative's request for a council offer, and the council's answer. Approved backings make the ledger."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    offer = models.ForeignKey(CouncilOffer, on_delete=models.PROTECT, related_name="backings")
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="backings")
    status = models.CharField(max_length=10, choices=Status, default=Status.REQUESTED)
    request_note = models.TextField(_("why you are asking"), max_length=2000, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    response = models.TextField(_("message to the initiative"), max_length=2000, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    taken_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "initiative"],
                condition=Q(status__in=["requested", "approved"]),
                name="backing_one_live_request_per_offer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer} for {self.initiative}"
