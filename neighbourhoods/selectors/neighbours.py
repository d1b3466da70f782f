"""Reads for the neighbour directory, waves, connections and suggestions.

Privacy rules these reads keep:
- the directory lists only active members who opted in (`Profile.in_directory`), and loads nothing about them but
  their display name, interests, skills and whether they are verified: never an email or an address;
- a suggestion carries no name, only the membership to wave to and the interest shared: names are revealed through
  waves (the sender's at once, the recipient's when they wave back);
- the waves someone has sent show no recipient names for the same reason: a wave may have gone to a suggestion;
- two people kept apart by a block (whoever made it) never find each other in the directory or suggestions.
"""

from dataclasses import dataclass

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import Profile, Tag, User
from moderation.selectors import blocked_either_way, shared_membership_id

from ..models import Connection, Group, Membership, Vouch, Wave
from ..services.neighbours import DECLINE_COOL_OFF

DIRECTORY_PAGE_SIZE = 24
CONNECTIONS_PAGE_SIZE = 50


def _connected_to(viewer: User, other: str = "user_id") -> Exists:
    """True where the row's person (`other`, an outer reference) and `viewer` are connected."""
    return Exists(
        Connection.objects.filter(
            Q(user_low=viewer, user_high=OuterRef(other)) | Q(user_low=OuterRef(other), user_high=viewer)
        )
    )


def directory(*, group: Group, viewer: User, interest: str | None = None, skill: str | None = None) -> QuerySet:
    """The group's neighbour directory: active members who chose to be listed, by name, optionally filtered by an
    interest or skill slug. Paginate it; each page costs three queries (people, interests, skills) plus the count.

    Each membership carries `connected` (to the viewer) and `vouched` (by the viewer) for the person's card.
    """
    people = (
        Membership.objects.active()
        .filter(group=group, user__profile__in_directory=True)
        .exclude(blocked_either_way(viewer, OuterRef("user_id")))
        .select_related("user__profile")
        .prefetch_related("user__profile__interests", "user__profile__skills")
        .annotate(
            connected=_connected_to(viewer),
            vouched=Exists(Vouch.objects.filter(membership=OuterRef("pk"), voucher=viewer)),
        )
        .order_by("user__profile__display_name", "pk")
    )
    # Each filter is one join on a (kind, slug) pair that is unique, so nobody appears twice.
    if interest:
        people = people.filter(
            user__profile__interests__slug=interest, user__profile__interests__kind=Tag.Kind.INTEREST
        )
    if skill:
        people = people.filter(user__profile__skills__slug=skill, user__profile__skills__kind=Tag.Kind.SKILL)
    return people


def directory_tags(*, group: Group) -> tuple[list[Tag], list[Tag]]:
    """The interests and the skills that someone listed in the group's directory has: the filter's choices (one
    query)."""
    listed = Profile.objects.filter(
        in_directory=True,
        user__memberships__group=group,
        user__memberships__status=Membership.Status.ACTIVE,
    )
    interest_ids = Profile.interests.through.objects.filter(profile__in=listed).values("tag_id")
    skill_ids = Profile.skills.through.objects.filter(profile__in=listed).values("tag_id")
    tags = Tag.objects.filter(
        Q(pk__in=interest_ids, kind=Tag.Kind.INTEREST) | Q(pk__in=skill_ids, kind=Tag.Kind.SKILL)
    ).order_by("name", "pk")
    interests: list[Tag] = []
    skills: list[Tag] = []
    for tag in tags:
        (interests if tag.kind == Tag.Kind.INTEREST else skills).append(tag)
    return interests, skills


def get_wave_target(*, group: Group, viewer: User, membership_id: int) -> Membership:
    """A person listed in the group's directory, to wave to by name: 404 for anyone else, so membership ids cannot
    be used to look up people who chose not to be listed. Someone kept apart from the viewer by a block is a 404 too,
    as they are missing from the directory."""
    target = (
        Membership.objects.active()
        .filter(group=group, pk=membership_id, user__profile__in_directory=True)
        .exclude(blocked_either_way(viewer, OuterRef("user_id")))
        .select_related("user__profile")
        .first()
    )
    if target is None:
        raise Http404
    return target


@dataclass(frozen=True)
class Suggestion:
    """Someone the viewer might like to meet, without their name: just where to wave and what they share.

    Pages refer to a suggestion by `token`, never by the membership id: the directory's wave page takes ids and
    shows names, so an id in a suggestion's address would give the name away.
    """

    membership_id: int
    interest: str
    token: str


def suggestion_token(*, group: Group, viewer: User, membership_id: int) -> str:
    """An opaque name for a suggestion, good only for this viewer in this group. It is a keyed hash, so it can be
    neither read back into a membership id nor made up for someone who was not suggested."""
    return salted_hmac(f"neighbourhoods.suggestion:{group.pk}:{viewer.pk}", str(membership_id)).hexdigest()[:24]


def _suggestion_candidates(*, group: Group, viewer: User):
    viewer_interests = Profile.interests.through.objects.filter(profile__user=viewer).values("tag_id")
    shared = Profile.interests.through.objects.filter(profile__user=OuterRef("user_id"), tag_id__in=viewer_interests)
    recent_waves = Wave.objects.filter(
        Q(sender=viewer, recipient=OuterRef("user_id")) | Q(sender=OuterRef("user_id"), recipient=viewer)
    ).filter(
        Q(status=Wave.Status.OPEN) | Q(status=Wave.Status.DECLINED, answered_at__gte=timezone.now() - DECLINE_COOL_OFF)
    )
    return (
        Membership.objects.active()
        .filter(group=group, user__profile__in_directory=True)
        .exclude(user=viewer)
        # The viewer must be an active member themselves; checked inside the same query.
        .filter(Exists(Membership.objects.active().filter(group=group, user=viewer)))
        .filter(Exists(shared))
        .exclude(_connected_to(viewer))
        .exclude(Exists(recent_waves))
        .exclude(blocked_either_way(viewer, OuterRef("user_id")))
        .annotate(
            interest=Subquery(shared.order_by("tag__name").values("tag__name")[:1]),
            shared_count=Subquery(shared.order_by().values("profile_id").annotate(n=Count("pk")).values("n")[:1]),
        )
    )


def suggestions(*, group: Group, viewer: User, limit: int = 3) -> list[Suggestion]:
    """Up to `limit` members of `group` the viewer might like to meet (one query).

    Double opt-in: only people listed in the directory are suggested, only to an active member who shares at least
    one interest with them, and never anyone the viewer is connected with, has an open wave with, or who has
    declined a wave between them lately, nor anyone kept apart from the viewer by a block. No names: the viewer
    learns who it is only if they wave and are waved back.
    """
    if not viewer.is_authenticated:
        return []
    rows = (
        _suggestion_candidates(group=group, viewer=viewer)
        .order_by("-shared_count", "-joined_at", "pk")
        .values_list("pk", "interest")[:limit]
    )
    return [
        Suggestion(
            membership_id=pk,
            interest=interest,
            token=suggestion_token(group=group, viewer=viewer, membership_id=pk),
        )
        for pk, interest in rows
    ]


def get_suggestion(*, group: Group, viewer: User, token: str) -> Suggestion:
    """One suggestion, to wave to without a name: 404 unless the token is this viewer's and the person could still
    be suggested to them."""
    # One query over the group's possible suggestions; the token is matched here, in Python.
    for membership_id, interest in _suggestion_candidates(group=group, viewer=viewer).values_list("pk", "interest"):
        if constant_time_compare(suggestion_token(group=group, viewer=viewer, membership_id=membership_id), token):
            return Suggestion(membership_id=membership_id, interest=interest, token=token)
    raise Http404


@dataclass(frozen=True)
class MyNeighbours:
    connections: QuerySet  # paginate it
    waves_received: list[Wave]
    waves_sent: list[Wave]


def list_connections(*, user: User) -> QuerySet:
    """The people `user` is connected with, newest first. Each row carries `other_id` and `other_name` (the other
    person's display name), and `block_membership_id` (the other person's membership in a group `user` is in, to
    block them by; None if they share no group now), worked out in the query rather than per row."""
    is_low = Q(user_low=user)
    return (
        Connection.objects.filter(is_low | Q(user_high=user))
        .select_related("group")
        .annotate(
            other_id=Case(When(is_low, then=F("user_high_id")), default=F("user_low_id")),
            other_name=Case(
                When(is_low, then=F("user_high__profile__display_name")),
                default=F("user_low__profile__display_name"),
            ),
        )
        .annotate(block_membership_id=Subquery(shared_membership_id(user, OuterRef("other_id"))))
        .order_by("-created_at", "-pk")
    )


WAVES_SHOWN = 50  # the newest open waves each way; answering them brings older ones up


def my_neighbours(*, user: User) -> MyNeighbours:
    """Everything on a person's "My neighbours" page: connections (a QuerySet to paginate), the open waves they
    have received, with who sent them (a wave reveals its sender) and the membership to block them by, and the open
    waves they have sent (two queries plus the connections page)."""
    received = list(
        Wave.objects.filter(recipient=user, status=Wave.Status.OPEN)
        .select_related("sender__profile", "group")
        .annotate(block_membership_id=Subquery(shared_membership_id(user, OuterRef("sender_id"))))
        .order_by("-created_at", "-pk")[:WAVES_SHOWN]
    )
    # Sending is limited to a few a day, so this list stays short; the cap only bounds the page.
    sent = list(
        Wave.objects.filter(sender=user, status=Wave.Status.OPEN)
        .select_related("group")
        .order_by("-created_at", "-pk")[:WAVES_SHOWN]
    )
    return MyNeighbours(connections=list_connections(user=user), waves_received=received, waves_sent=sent)
