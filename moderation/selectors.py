"""Reads about blocks: who is kept apart from whom, and whom a person may block.

A block works both ways: whoever made it, neither person sees the other in directories or suggestions, can wave at
the other, or hears about what the other does. So every check here asks about the pair in both orders.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from accounts.models import User
from neighbourhoods.models import Connection, Membership, Wave

from .models import Block

BLOCKED_PAGE_SIZE = 50


def _ref(person):
    """A user, a user id or an expression (`OuterRef("actor")`), as a value to compare a user column with."""
    return person.pk if isinstance(person, User) else person


def blocked_either_way(a, b) -> Exists:
    """True where `a` and `b` (users, user ids or `OuterRef`s to user columns) blocked one another, either way.

    For `filter`/`exclude`/`annotate`. Where one side is NULL (a notification without an actor) it is False.
    """
    a, b = _ref(a), _ref(b)
    return Exists(Block.objects.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a)))


def blocked_ids(user: User) -> set[int]:
    """Everyone kept apart from `user`: the people they blocked and the people who blocked them (one query)."""
    if not user.is_authenticated:
        return set()
    pairs = Block.objects.filter(Q(blocker=user) | Q(blocked=user)).values_list("blocker_id", "blocked_id")
    return {blocked if blocker == user.pk else blocker for blocker, blocked in pairs}


def has_blocked_either_way(a: User, b: User) -> bool:
    return Block.objects.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a)).exists()


def list_blocked(*, user: User) -> QuerySet:
    """The people `user` has blocked, newest first, with their display names (paginate it: one query a page)."""
    return Block.objects.filter(blocker=user).select_related("blocked__profile").order_by("-created_at", "-pk")


def get_own_block(*, user: User, block_id: int) -> Block:
    """One of `user`'s own blocks, or 404: a block someone else made is never reachable, not even to its target."""
    block = list_blocked(user=user).filter(pk=block_id).first()
    if block is None:
        raise Http404
    return block


def shared_membership_id(viewer: User, other) -> QuerySet:
    """A subquery: the membership of `other` (an `OuterRef` to a user column) in a group where `viewer` is an active
    member too. Pages name people to block by it, so nobody can be reached by their user id."""
    groups = Membership.objects.active().filter(user=viewer).values("group_id")
    return Membership.objects.active().filter(user=other, group_id__in=groups).order_by("pk").values("pk")[:1]


def get_block_target(*, viewer: User, membership_id: int) -> Membership:
    """The person behind an active membership in a group the viewer is an active member of, whom the viewer knows by
    name: listed in that group's directory, connected with the viewer, waiting for an answer to a wave they sent
    the viewer, or already blocked by the viewer. Anyone else is a 404, exactly as for a membership that does not
    exist, so membership ids cannot be used to look people up. Someone who has blocked the viewer is missing from
    the viewer's directory, so they are a 404 here too, as on the directory's wave page: the two pages answer alike
    and neither tells the viewer they were blocked. One query."""
    knows = (
        (Q(user__profile__in_directory=True) & ~blocked_either_way(viewer, OuterRef("user_id")))
        | Exists(Block.objects.filter(blocker=viewer, blocked=OuterRef("user_id")))
        | Exists(
            Connection.objects.filter(
                Q(user_low=viewer, user_high=OuterRef("user_id")) | Q(user_low=OuterRef("user_id"), user_high=viewer)
            )
        )
        | Exists(Wave.objects.filter(sender=OuterRef("user_id"), recipient=viewer, status=Wave.Status.OPEN))
        | Q(user=viewer)  # refused with a message rather than a 404
    )
    target = (
        Membership.objects.active()
        .filter(pk=membership_id)
        .filter(Exists(Membership.objects.active().filter(group=OuterRef("group_id"), user=viewer)))
        .filter(knows)
        .select_related("user__profile", "group")
        .first()
    )
    if target is None:
        raise Http404
    return target
