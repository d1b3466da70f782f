"""Who may do what in a street group. Each predicate takes the viewer's membership (or None), loaded once per
request by `selectors.get_group_context`, so checking costs no further queries."""

from .models import Event, Group, Membership, Post


def is_member(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active


def is_organiser(membership: Membership | None) -> bool:
    return membership is not None and membership.is_organiser


def can_see_content(group: Group, membership: Membership | None) -> bool:
    """Board, events, counts and member lists: everyone for a public group, active members for a members-only one."""
    return group.is_public or is_member(membership)


def can_see_directory(membership: Membership | None) -> bool:
    return is_member(membership)


def can_post(group: Group, membership: Membership | None) -> bool:
    if not is_member(membership):
        return False
    return group.unverified_can_post or membership.is_verified or membership.is_organiser


def can_comment(group: Group, membership: Membership | None) -> bool:
    return can_post(group, membership)


def can_edit_post(user, post: Post) -> bool:
    return user.is_authenticated and post.author_id == user.pk


def can_hide(membership: Membership | None) -> bool:
    return is_organiser(membership)


def can_create_event(group: Group, membership: Membership | None) -> bool:
    if is_organiser(membership):
        return True
    return group.events_by == Group.EventsBy.MEMBERS and can_post(group, membership)


def can_edit_event(user, event: Event, membership: Membership | None) -> bool:
    return is_organiser(membership) or (is_member(membership) and event.created_by_id == user.pk)


def can_rsvp(group: Group, membership: Membership | None) -> bool:
    return is_member(membership)


def can_manage_group(membership: Membership | None) -> bool:
    return is_organiser(membership)


def can_vouch(membership: Membership | None) -> bool:
    return is_member(membership) and membership.is_verified
