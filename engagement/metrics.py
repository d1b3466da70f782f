"""Raw engagement metrics for a council's neighbourhoods: true counts, for the suppression module and snapshots only.

`live_metrics(council)` runs the same fixed number of queries whatever the number of neighbourhoods, groups or
residents: each query aggregates one kind of activity with GROUP BY neighbourhood. Members-only groups count like any
other (a count never reveals what a group said), but nothing leaves this module except numbers per neighbourhood:
no names, no ids of people, no content. Publish them only through `engagement.suppression`.

`as_of` counts the world as it stood at that moment, from the timestamps rows carry (when a group was made, when a
member joined, when a connection was confirmed, an initiative's status history). What no row remembers cannot be
reconstructed: people who since left a group or deleted their account, groups since deleted, and verification of
members who were later removed are counted as they are now.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from initiatives.models import Backing, Initiative, Outcome, StatusChange, Support, VolunteerSignup
from neighbourhoods.models import RSVP, Comment, Connection, Council, Event, Group, Membership, Post

from .suppression import Column, Kind, whole_hours

RECENT_DAYS = 30  # "new" and "active" members look back this far

# The metrics in the order dashboards show them. Counts and hours are stored in snapshots; percentages are worked
# out from stored counts (and households) when published.
METRICS: tuple[Column, ...] = (
    Column("groups", _("Street groups"), Kind.COUNT, description=_("Street groups in the neighbourhood.")),
    Column("members", _("Members"), Kind.COUNT, description=_("People who are active members of a group here.")),
    Column(
        "verified_members",
        _("Verified members"),
        Kind.COUNT,
        description=_("Members verified by a join code, an organiser or two neighbours."),
    ),
    Column(
        "reach",
        _("Reach"),
        Kind.PERCENT,
        numerator="members",
        denominator="households",
        description=_("Members as a share of the neighbourhood's households."),
    ),
    Column("new_members", _("New members (30 days)"), Kind.COUNT, description=_("Members who joined in 30 days.")),
    Column(
        "active_members",
        _("Active members (30 days)"),
        Kind.COUNT,
        description=_("Members who posted, commented, replied to an event, supported or volunteered in 30 days."),
    ),
    Column(
        "know_one",
        _("Know 1+ neighbours"),
        Kind.COUNT,
        description=_("Members with at least one confirmed connection."),
    ),
    Column(
        "know_three",
        _("Know 3+ neighbours"),
        Kind.COUNT,
        description=_("Members with at least three confirmed connections."),
    ),
    Column(
        "connection_rate",
        _("Connection rate"),
        Kind.PERCENT,
        numerator="know_one",
        denominator="members",
        description=_("Members who know at least one neighbour, as a share of members."),
    ),
    Column("events_held", _("Events held"), Kind.COUNT, description=_("Events that have taken place.")),
    Column("attendance", _("Attendance"), Kind.COUNT, description=_("Places taken at events that have taken place.")),
    Column("initiatives_idea", _("Initiatives: ideas"), Kind.COUNT),
    Column("initiatives_planning", _("Initiatives: planning"), Kind.COUNT),
    Column("initiatives_active", _("Initiatives: active"), Kind.COUNT),
    Column("initiatives_completed", _("Initiatives: completed"), Kind.COUNT),
    Column("initiatives_paused", _("Initiatives: paused"), Kind.COUNT),
    Column("initiatives_archived", _("Initiatives: archived"), Kind.COUNT),
    Column("volunteer_signups", _("Volunteer sign-ups"), Kind.COUNT),
    Column(
        "volunteer_hours",
        _("Volunteer hours"),
        Kind.HOURS,
        description=_("Hours recorded in the outcomes of completed initiatives."),
    ),
    Column("offers_approved", _("Council offers approved"), Kind.COUNT),
    Column("offers_taken_up", _("Council offers taken up"), Kind.COUNT),
)

METRICS_BY_KEY = {metric.key: metric for metric in METRICS}
# The true values a snapshot stores: every count and hours metric.
STORED: tuple[str, ...] = tuple(metric.key for metric in METRICS if metric.is_count)
INITIATIVE_STATUSES = ("idea", "planning", "active", "completed", "paused", "archived")


def empty() -> dict[str, int]:
    return dict.fromkeys(STORED, 0)


def _grouped(rows: Iterable[dict], into: dict[int, dict[str, int]], keys: Iterable[str]) -> None:
    keys = list(keys)
    for row in rows:
        target = into.get(row["area"])
        if target is None:
            continue
        for key in keys:
            target[key] = int(row[key] or 0)


def live_metrics(council: Council, *, as_of: datetime | None = None) -> dict[int, dict[str, int]]:
    """Every neighbourhood of `council` (id → metric → true count), as things stood at `as_of` (default: now).

    Ten queries, whatever the council's size.
    """
    now = timezone.now()
    at = now if as_of is None or as_of > now else as_of
    since = at - timedelta(days=RECENT_DAYS)
    area_ids = list(council.neighbourhoods.values_list("pk", flat=True))
    result = {area_id: empty() for area_id in area_ids}
    if not area_ids:
        return result
    in_council = {"group__neighbourhood__council": council}

    # Street groups.
    _grouped(
        Group.objects.filter(neighbourhood__council=council, created_at__lte=at)
        .values(area=F("neighbourhood_id"))
        .annotate(groups=Count("pk")),
        result,
        ["groups"],
    )

    # Members, verified, new, and how many neighbours they know: one pass over memberships.
    def connections_of(side: str):
        return Coalesce(
            Subquery(
                Connection.objects.filter(**{side: OuterRef("user_id")}, created_at__lte=at)
                .order_by()
                .values(side)
                .annotate(n=Count("pk"))
                .values("n")[:1],
                output_field=IntegerField(),
            ),
            Value(0),
        )

    joined = Coalesce("joined_at", "created_at")
    memberships = (
        Membership.objects.filter(**in_council, status=Membership.Status.ACTIVE)
        .annotate(joined=joined, known=connections_of("user_low") + connections_of("user_high"))
        .filter(joined__lte=at)
        .values(area=F("group__neighbourhood_id"))
        .annotate(
            members=Count("user", distinct=True),
            verified_members=Count("user", distinct=True, filter=Q(verified_at__lte=at)),
            new_members=Count("user", distinct=True, filter=Q(joined__gt=since)),
            know_one=Count("user", distinct=True, filter=Q(known__gte=1)),
            know_three=Count("user", distinct=True, filter=Q(known__gte=3)),
        )
    )
    _grouped(memberships, result, ["members", "verified_members", "new_members", "know_one", "know_three"])

    # Active members: did something in their own neighbourhood in the last 30 days.
    person, area = OuterRef("user_id"), OuterRef("group__neighbourhood_id")
    window = {"created_at__gt": since, "created_at__lte": at}
    did_something = (
        Exists(Post.objects.filter(author=person, group__neighbourhood=area, **window))
        | Exists(Comment.objects.filter(author=person, post__group__neighbourhood=area, **window))
        | Exists(RSVP.objects.filter(user=person, event__group__neighbourhood=area, **window))
        | Exists(Support.objects.filter(user=person, initiative__neighbourhood=area, **window))
        | Exists(VolunteerSignup.objects.filter(user=person, role__initiative__neighbourhood=area, **window))
    )
    _grouped(
        Membership.objects.filter(**in_council, status=Membership.Status.ACTIVE)
        .annotate(joined=joined)
        .filter(joined__lte=at)
        .filter(did_something)
        .values(area=F("group__neighbourhood_id"))
        .annotate(active_members=Count("user", distinct=True)),
        result,
        ["active_members"],
    )

    # Events that have taken place (not cancelled before they began), and the places taken at them.
    def took_place(prefix: str = "") -> Q:
        return Q(**{f"{prefix}ends_at__lte": at}) & (
            Q(**{f"{prefix}cancelled_at__isnull": True}) | Q(**{f"{prefix}cancelled_at__gt": F(f"{prefix}starts_at")})
        )

    _grouped(
        Event.objects.filter(**in_council)
        .filter(took_place())
        .values(area=F("group__neighbourhood_id"))
        .annotate(events_held=Count("pk")),
        result,
        ["events_held"],
    )
    _grouped(
        RSVP.objects.filter(
            took_place("event__"), event__group__neighbourhood__council=council, status=RSVP.Status.GOING
        )
        .values(area=F("event__group__neighbourhood_id"))
        .annotate(attendance=Count("pk")),
        result,
        ["attendance"],
    )

    # Initiatives by status: now, or as their history had it at `as_of`.
    initiatives = Initiative.objects.filter(neighbourhood__council=council, created_at__lte=at)
    if as_of is None:
        status = F("status")
    else:
        status = Coalesce(
            Subquery(
                StatusChange.objects.filter(initiative=OuterRef("pk"), created_at__lte=at)
                .order_by("-created_at", "-pk")
                .values("to_status")[:1]
            ),
            Value(Initiative.Status.IDEA),
        )
    _grouped(
        initiatives.annotate(status_then=status)
        .values(area=F("neighbourhood_id"))
        .annotate(**{f"initiatives_{name}": Count("pk", filter=Q(status_then=name)) for name in INITIATIVE_STATUSES}),
        result,
        [f"initiatives_{name}" for name in INITIATIVE_STATUSES],
    )

    _grouped(
        VolunteerSignup.objects.filter(role__initiative__neighbourhood__council=council, created_at__lte=at)
        .values(area=F("role__initiative__neighbourhood_id"))
        .annotate(volunteer_signups=Count("pk")),
        result,
        ["volunteer_signups"],
    )
    hours = (
        Outcome.objects.filter(initiative__neighbourhood__council=council, created_at__lte=at)
        .values(area=F("initiative__neighbourhood_id"))
        .annotate(hours=Sum("volunteer_hours"))
    )
    for row in hours:
        if row["area"] in result:
            result[row["area"]]["volunteer_hours"] = whole_hours(row["hours"])

    # Council offers: approved (whether or not since taken up), and taken up.
    _grouped(
        Backing.objects.filter(initiative__neighbourhood__council=council, offer__council=council)
        .values(area=F("initiative__neighbourhood_id"))
        .annotate(
            offers_approved=Count(
                "pk",
                filter=Q(status=Backing.Status.APPROVED, decided_at__lte=at),
            ),
            offers_taken_up=Count("pk", filter=Q(status=Backing.Status.APPROVED, taken_up_at__lte=at)),
        ),
        result,
        ["offers_approved", "offers_taken_up"],
    )
    return result
