"""Reads for the heart of initiatives: discovering them, the initiative page, its team and its updates.

Everything here returns only what the viewer may see. Initiatives of a members-only street group never reach
anyone who is not an active member of it: not in the list, not in search results, not in counts.
"""

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from neighbourhoods.models import Group, Membership

from ..models import Initiative, InitiativeRole, Support, TimelineEntry, Update
from ..search import search
from . import InitiativeContext, initiatives_with_badge

PER_PAGE = 20
TIMELINE_PER_PAGE = 30
LATEST_UPDATES = 3
# Beyond this, the page names the first supporters and says how many more there are.
SUPPORTERS_SHOWN = 50
SEARCH_LENGTH = 100

SCOPE_NEAR_ME = "near"
SCOPE_EVERYWHERE = "all"


def visible_initiatives(*, viewer) -> QuerySet:
    """Initiatives `viewer` may see, each with `backed`, its group and its area (see `initiatives_with_badge`):
    neighbourhood-wide ones and public groups' ones for everyone, members-only groups' ones for their members."""
    open_to_all = Q(group__isnull=True) | Q(group__visibility=Group.Visibility.PUBLIC)
    initiatives = initiatives_with_badge()
    if viewer is None or not viewer.is_authenticated:
        return initiatives.filter(open_to_all)
    # Exists rather than a join, so an initiative is never listed twice and the count stays right.
    member = Membership.objects.filter(group=OuterRef("group"), user=viewer, status=Membership.Status.ACTIVE)
    return initiatives.filter(open_to_all | Q(Exists(member)))


def _near(initiatives: QuerySet, viewer) -> QuerySet:
    """Those in the neighbourhoods of the viewer's street groups: their groups' own and the rest of their area's."""
    mine = Membership.objects.filter(
        user=viewer, status=Membership.Status.ACTIVE, group__neighbourhood=OuterRef("neighbourhood")
    )
    return initiatives.filter(Exists(mine))


def list_initiatives(
    *, viewer, scope: str = SCOPE_EVERYWHERE, category: str = "", status: str = "", text: str = ""
) -> QuerySet:
    """The discover list: visible initiatives, newest first (best match first when searching).

    `scope` "near" keeps those in the viewer's neighbourhoods. With no status chosen, archived initiatives are
    left out: they are there to look back on, not to join.
    """
    initiatives = visible_initiatives(viewer=viewer)
    if scope == SCOPE_NEAR_ME and viewer is not None and viewer.is_authenticated:
        initiatives = _near(initiatives, viewer)
    if category:
        initiatives = initiatives.filter(category=category)
    if status:
        initiatives = initiatives.filter(status=status)
    else:
        initiatives = initiatives.exclude(status=Initiative.Status.ARCHIVED)
    initiatives = initiatives.order_by("-created_at", "-pk")
    text = (text or "").strip()[:SEARCH_LENGTH]
    if text:
        initiatives = search(initiatives, text)
    return initiatives


def page_of_initiatives(initiatives: QuerySet, page_number) -> Page:
    """A page of 20: one query for the count and one for the page, however many there are."""
    return Paginator(initiatives, PER_PAGE).get_page(page_number)


def group_initiatives(*, group: Group) -> QuerySet:
    """A street group's current initiatives for its home page, newest first (slice it: one query). The caller has
    checked the viewer may see the group's content."""
    return (
        initiatives_with_badge()
        .filter(group=group)
        .exclude(status=Initiative.Status.ARCHIVED)
        .order_by("-created_at", "-pk")
    )


# --- The initiative page -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InitiativeDetail:
    initiative: Initiative
    team: list[InitiativeRole]  # the lead first, then co-organisers
    invited: list[InitiativeRole]  # shown to organisers only
    my_support: Support | None
    supporters: list[Support]  # names for members only; empty for everyone else
    latest_updates: list[Update]
    timeline: Page
    allowed_statuses: list[tuple[str, str]] = field(default_factory=list)  # for organisers

    @property
    def more_supporters(self) -> int:
        return max(self.initiative.support_count - len(self.supporters), 0) if self.supporters else 0


def list_team(*, initiative: Initiative) -> list[InitiativeRole]:
    """Active and invited roles with each person's profile, the lead first (one query)."""
    roles = (
        InitiativeRole.objects.filter(
            initiative=initiative, status__in=[InitiativeRole.Status.ACTIVE, InitiativeRole.Status.INVITED]
        )
        .select_related("user__profile")
        .order_by("-role", "created_at", "pk")  # "lead" sorts after "co_organiser", so descending puts it first
    )
    return list(roles)


def list_supporters(*, initiative: Initiative):
    return Support.objects.filter(initiative=initiative).select_related("user__profile").order_by("created_at", "pk")


def list_timeline(*, initiative: Initiative) -> QuerySet:
    return TimelineEntry.objects.filter(initiative=initiative).order_by("-created_at", "-pk")


def list_updates(*, initiative: Initiative) -> QuerySet:
    return Update.objects.filter(initiative=initiative).select_related("author__profile").order_by("-created_at", "-pk")


def allowed_statuses(initiative: Initiative) -> list[tuple[str, str]]:
    """The statuses it may move to next, in lifecycle order, with their labels."""
    following = Initiative.TRANSITIONS.get(initiative.status, set())
    return [(value, label) for value, label in Initiative.Status.choices if value in following]


def initiative_detail(*, ctx: InitiativeContext, viewer, timeline_page=None) -> InitiativeDetail:
    """The initiative page for this viewer, in six queries at most on top of the context's, whatever the numbers
    of supporters, updates and timeline entries: their own support, supporters' names (members only), the team,
    the latest updates, and one page of the timeline (a count and the page)."""
    initiative = ctx.initiative
    my_support = None
    if viewer.is_authenticated:
        my_support = Support.objects.filter(initiative=initiative, user=viewer).first()
    supporters = list(list_supporters(initiative=initiative)[:SUPPORTERS_SHOWN]) if ctx.is_member else []
    roles = list_team(initiative=initiative)
    team = [role for role in roles if role.status == InitiativeRole.Status.ACTIVE]
    invited = [role for role in roles if role.status == InitiativeRole.Status.INVITED] if ctx.can_organise else []
    return InitiativeDetail(
        initiative=initiative,
        team=team,
        invited=invited,
        my_support=my_support,
        supporters=supporters,
        latest_updates=list(list_updates(initiative=initiative)[:LATEST_UPDATES]),
        timeline=Paginator(list_timeline(initiative=initiative), TIMELINE_PER_PAGE).get_page(timeline_page),
        allowed_statuses=allowed_statuses(initiative) if ctx.can_organise else [],
    )


# --- The team page -------------------------------------------------------------------------------------------------


def invite_candidates(*, initiative: Initiative, lead) -> QuerySet:
    """People the lead may invite as co-organisers: those who may take part and are not already leading,
    co-organising or invited, by display name (one query).

    For a neighbourhood-wide initiative that is the members of the area's public groups and of the lead's own groups:
    a members-only group's member list is never shown to someone outside it.
    """
    members = Membership.objects.filter(user=OuterRef("pk"), status=Membership.Status.ACTIVE)
    if initiative.group_id is not None:
        members = members.filter(group_id=initiative.group_id)
    else:
        leads_groups = Membership.objects.filter(user=lead, status=Membership.Status.ACTIVE).values("group_id")
        members = members.filter(group__neighbourhood_id=initiative.neighbourhood_id).filter(
            Q(group__visibility=Group.Visibility.PUBLIC) | Q(group_id__in=leads_groups)
        )
    involved = InitiativeRole.objects.filter(
        initiative=initiative,
        user=OuterRef("pk"),
        status__in=[InitiativeRole.Status.ACTIVE, InitiativeRole.Status.INVITED],
    )
    return (
        User.objects.filter(Exists(members))
        .exclude(Exists(involved))
        .select_related("profile")
        .order_by("profile__display_name", "pk")
    )
