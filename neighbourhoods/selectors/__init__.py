"""Reads for street groups. Each returns only what the viewer may see and loads what the page needs up front.

Feature-specific reads live beside this module: `selectors.board`, `selectors.events`, `selectors.neighbours`.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .. import permissions
from ..models import Event, Group, Membership, Neighbourhood, Post, Postcode
from .neighbours import Suggestion
from .neighbours import suggestions as neighbour_suggestions

ACTIVE = Q(memberships__status=Membership.Status.ACTIVE)


@dataclass(frozen=True)
class GroupContext:
    """A group as one viewer sees it: the group, the viewer's membership (if any) and what they may do."""

    group: Group
    membership: Membership | None

    @property
    def is_member(self) -> bool:
        return permissions.is_member(self.membership)

    @property
    def is_organiser(self) -> bool:
        return permissions.is_organiser(self.membership)

    @property
    def can_see_content(self) -> bool:
        return permissions.can_see_content(self.group, self.membership)


def get_group_context(*, viewer, slug: str) -> GroupContext:
    """The group at `slug` with its area and active member count, and the viewer's membership: two queries."""
    group = get_object_or_404(
        Group.objects.select_related("neighbourhood__council").annotate(
            member_count=Count("memberships", filter=ACTIVE)
        ),
        slug=slug,
    )
    membership = None
    if viewer.is_authenticated:
        membership = Membership.objects.filter(group=group, user=viewer).first()
    return GroupContext(group=group, membership=membership)


def get_group_content_context(*, viewer, slug: str) -> GroupContext:
    """As `get_group_context`, but a members-only group's content is a 404 to non-members: it does not exist."""
    context = get_group_context(viewer=viewer, slug=slug)
    if not context.can_see_content:
        raise Http404
    return context


@dataclass(frozen=True)
class PostcodeResult:
    postcode: str
    neighbourhood: Neighbourhood | None
    groups: list[Group]


def find_groups_for_postcode(*, viewer, postcode: str) -> PostcodeResult:
    """The neighbourhood a normalised postcode lies in and the street groups covering it (two queries).

    Members-only groups are listed by name and area only: their member counts are left out for non-members.
    """
    found = Postcode.objects.select_related("neighbourhood__council").filter(code=postcode).first()
    if found is None:
        return PostcodeResult(postcode=postcode, neighbourhood=None, groups=[])
    groups = list(
        Group.objects.filter(Q(postcodes=found) | Q(neighbourhood=found.neighbourhood, postcodes__isnull=True))
        .annotate(member_count=Count("memberships", filter=ACTIVE, distinct=True))
        .order_by("name")
        .distinct()
    )
    return PostcodeResult(postcode=postcode, neighbourhood=found.neighbourhood, groups=groups)


@dataclass(frozen=True)
class GroupHome:
    latest_posts: list
    upcoming_events: list
    pending_count: int
    suggestions: list[Suggestion] = field(default_factory=list)
    initiatives: list = field(default_factory=list)


def latest_posts(group: Group):
    """The board's newest visible posts, with author, for the group's home page."""
    return (
        Post.objects.filter(group=group, hidden_at__isnull=True)
        .select_related("author__profile", "group")
        .order_by("-created_at", "-pk")
    )


def upcoming_events(group: Group):
    return (
        Event.objects.filter(group=group, ends_at__gt=timezone.now())
        .select_related("group")
        .order_by("starts_at", "pk")
    )


def group_home(*, context: GroupContext, viewer) -> GroupHome:
    """What the group's home page shows this viewer: nothing of the content if they may not see it (≤3 queries)."""
    from initiatives.selectors.initiatives import group_initiatives  # initiatives builds on this app, not back

    from .board import kept_apart_from  # the board's reads build on this module

    if not context.can_see_content:
        return GroupHome(latest_posts=[], upcoming_events=[], pending_count=0)
    pending = 0
    if context.is_organiser:
        pending = Membership.objects.filter(group=context.group, status=Membership.Status.PENDING).count()
    posts = latest_posts(context.group)
    kept_apart = kept_apart_from(context, viewer)
    if kept_apart is not None:
        posts = posts.exclude(kept_apart)  # as on the board: not by someone kept apart from the viewer by a block
    return GroupHome(
        latest_posts=list(posts[:5]),
        upcoming_events=list(upcoming_events(context.group).filter(cancelled_at__isnull=True)[:3]),
        pending_count=pending,
        # Members only, one query: neighbours who share an interest with the viewer, without their names.
        suggestions=neighbour_suggestions(group=context.group, viewer=viewer) if context.is_member else [],
        initiatives=list(group_initiatives(group=context.group)[:3]),
    )


def list_my_memberships(*, user):
    return (
        Membership.objects.filter(user=user, status__in=[Membership.Status.ACTIVE, Membership.Status.PENDING])
        .select_related("group__neighbourhood")
        .order_by("group__name")
    )


def list_memberships(*, group: Group, status: str):
    """A group's memberships in one state, with each person's profile and vouch count (one query)."""
    return (
        Membership.objects.filter(group=group, status=status)
        .select_related("user__profile")
        .annotate(vouch_count=Count("vouches"))
        .order_by(
            *(
                ("created_at", "pk")
                if status == Membership.Status.PENDING
                else ("-role", "user__profile__display_name", "pk")
            )
        )
    )
