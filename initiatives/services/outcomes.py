"""Outcomes: what a completed initiative achieved — people involved, volunteer hours, what changed. The figures
feed the councils' dashboards, so they are checked here as well as in the form."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import DurationField, ExpressionWrapper, F, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.exceptions import DomainError

from .. import timeline
from ..models import Initiative, InitiativeRole, Outcome, Support, TimelineEntry, VolunteerRole, VolunteerSignup
from .decisions import context_for, display_name

MAX_PEOPLE = 100_000
MAX_HOURS = Decimal("1000000")
WHAT_CHANGED_MAX_LENGTH = Outcome._meta.get_field("what_changed").max_length


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter volunteer hours as a number, for example 42.5.")) from None
    if not hours.is_finite():
        raise DomainError(_("Enter volunteer hours as a number, for example 42.5."))
    if hours < 0 or hours > MAX_HOURS:
        raise DomainError(_("Volunteer hours must be between 0 and 1,000,000."))
    if hours.as_tuple().exponent < -1 and hours != hours.quantize(Decimal("0.1")):
        raise DomainError(_("Give volunteer hours to one decimal place at most, for example 42.5."))
    return hours.quantize(Decimal("0.1"))


@transaction.atomic
def record_outcome(
    *, organiser: User, initiative: Initiative, people_involved: int, volunteer_hours, what_changed: str
) -> Outcome:
    """Record what the completed initiative achieved, or correct what was recorded before (the same row is updated).

    Only the lead and co-organisers may, and only once the initiative is completed. People involved: 0 to 100,000;
    volunteer hours: 0 to 1,000,000 to one decimal place. Adds an entry to the timeline.
    """
    # The initiative's row lock queues two organisers saving at once, so the second updates the first's outcome
    # instead of failing on the one-outcome-per-initiative rule.
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if not context_for(organiser, initiative).can_organise:
        raise DomainError(_("Only the lead and co-organisers can record the outcome."))
    if initiative.status != Initiative.Status.COMPLETED:
        raise DomainError(_("Outcomes are recorded once the initiative is completed. Mark it as completed first."))
    if isinstance(people_involved, bool) or not isinstance(people_involved, int):
        raise DomainError(_("Enter the number of people involved as a whole number."))
    if not 0 <= people_involved <= MAX_PEOPLE:
        raise DomainError(_("People involved must be between 0 and 100,000."))
    hours = _hours(volunteer_hours)
    what_changed = (what_changed or "").strip()
    if not what_changed:
        raise DomainError(_("Say what changed because of the initiative."))
    if len(what_changed) > WHAT_CHANGED_MAX_LENGTH:
        raise DomainError(_("What changed can be up to %(count)s characters.") % {"count": WHAT_CHANGED_MAX_LENGTH})

    outcome = Outcome.objects.filter(initiative=initiative).first()
    editing = outcome is not None
    if outcome is None:
        outcome = Outcome(initiative=initiative)
    outcome.people_involved = people_involved
    outcome.volunteer_hours = hours
    outcome.what_changed = what_changed
    outcome.recorded_by = organiser
    outcome.save()

    if editing:
        message = gettext_noop("%(name)s updated the outcome: %(people)s people involved, %(hours)s volunteer hours.")
    else:
        message = gettext_noop("%(name)s recorded the outcome: %(people)s people involved, %(hours)s volunteer hours.")
    timeline.record(
        initiative=initiative,
        kind=TimelineEntry.Kind.OUTCOME,
        actor=organiser,
        message=message,
        params={"name": display_name(organiser), "people": people_involved, "hours": str(hours)},
        url=reverse("initiatives:outcome", args=[initiative.slug]),
    )
    return outcome


@dataclass(frozen=True)
class Suggestion:
    people_involved: int
    volunteer_hours: Decimal | None  # None when no dated volunteer role has anyone signed up


def suggest_outcome(*, initiative: Initiative) -> Suggestion:
    """Starting figures for the outcome form, from what the platform saw (two queries).

    People involved: everyone who supported, volunteered or organised, each counted once. Volunteer hours: the
    length of each dated volunteer role times the people signed up to it — a floor, as most work is not dated.
    """
    supporters = Support.objects.filter(initiative=initiative).values("user_id")
    volunteers = VolunteerSignup.objects.filter(role__initiative=initiative).values("user_id")
    team = InitiativeRole.objects.filter(initiative=initiative, status=InitiativeRole.Status.ACTIVE).values("user_id")
    people = User.objects.filter(Q(pk__in=supporters) | Q(pk__in=volunteers) | Q(pk__in=team)).count()

    role_time = ExpressionWrapper((F("ends_at") - F("starts_at")) * F("filled"), output_field=DurationField())
    total = VolunteerRole.objects.filter(
        initiative=initiative, starts_at__isnull=False, ends_at__isnull=False, filled__gt=0
    ).aggregate(total=Sum(role_time))["total"]
    hours = None
    if total is not None:
        hours = (Decimal(total.total_seconds()) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        hours = min(hours, MAX_HOURS)
    return Suggestion(people_involved=people, volunteer_hours=hours)
