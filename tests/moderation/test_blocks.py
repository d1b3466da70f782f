"""Blocking someone: what it changes between the two people (both ways, whoever made it) and what it leaves alone."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.db.models import OuterRef
from django.http import Http404
from django.utils import timezone

from accounts.models import Tag, User
from core.exceptions import DomainError
from moderation import selectors, services
from moderation.models import Block
from neighbourhoods.models import Connection, Wave
from neighbourhoods.selectors import neighbours as neighbour_selectors
from neighbourhoods.services import neighbours as neighbour_services
from notifications import services as notifications
from notifications.models import Notification
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def listed(group, name: str, interests=("Gardening",)):
    membership = MembershipFactory(group=group, user=UserFactory(profile__display_name=name))
    profile = membership.user.profile
    profile.in_directory = True
    profile.save()
    profile.interests.set(
        [Tag.objects.get_or_create(kind=Tag.Kind.INTEREST, slug=i.lower(), defaults={"name": i})[0] for i in interests]
    )
    return membership


@pytest.fixture
def street():
    group = GroupFactory()
    return group, listed(group, "Ann").user, listed(group, "Ben").user


def connect(a, b, group):
    low, high = sorted([a, b], key=lambda u: u.pk)
    return Connection.objects.create(user_low=low, user_high=high, group=group)


# --- Making and lifting a block -------------------------------------------------------------------------------


def test_blocking_twice_is_one_block(street):
    _, ann, ben = street
    first = services.block(blocker=ann, blocked=ben)
    again = services.block(blocker=ann, blocked=ben)
    assert first.pk == again.pk
    assert Block.objects.count() == 1


def test_nobody_can_block_themselves(street):
    _, ann, _ = street
    with pytest.raises(DomainError, match="You cannot block yourself"):
        services.block(blocker=ann, blocked=ann)
    assert not Block.objects.exists()


def test_the_database_refuses_a_block_on_yourself(street):
    _, ann, ben = street
    Block.objects.create(blocker=ann, blocked=ben)
    with pytest.raises(IntegrityError):
        Block.objects.create(blocker=ann, blocked=ann)


def test_the_database_refuses_the_same_block_twice(street):
    _, ann, ben = street
    Block.objects.create(blocker=ann, blocked=ben)
    with pytest.raises(IntegrityError):
        Block.objects.create(blocker=ann, blocked=ben)


def test_each_person_may_block_the_other_and_only_the_blocker_can_lift_theirs(street):
    _, ann, ben = street
    services.block(blocker=ann, blocked=ben)
    services.block(blocker=ben, blocked=ann)
    assert services.unblock(blocker=ben, blocked=ann) is True
    assert services.unblock(blocker=ben, blocked=ann) is False  # nothing left of Ben's
    assert list(Block.objects.values_list("blocker_id", "blocked_id")) == [(ann.pk, ben.pk)]


def test_blocking_tells_nobody(street, mailoutbox):
    _, ann, ben = street
    services.block(blocker=ann, blocked=ben)
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_blocking_takes_back_waves_waiting_either_way_and_leaves_answered_ones(street):
    group, ann, ben = street
    other_group = GroupFactory()
    MembershipFactory(group=other_group, user=ann)
    MembershipFactory(group=other_group, user=ben)
    answered = Wave.objects.create(sender=ann, recipient=ben, group=other_group, status=Wave.Status.DECLINED)
    waiting = neighbour_services.send_wave(sender=ben, recipient=ann, group=group)
    bystander = listed(group, "Cai").user
    theirs = neighbour_services.send_wave(sender=bystander, recipient=ann, group=group)
    services.block(blocker=ann, blocked=ben)
    assert not Wave.objects.filter(pk=waiting.pk).exists()
    assert set(Wave.objects.values_list("pk", flat=True)) == {answered.pk, theirs.pk}


def test_blocking_ends_a_connection_and_no_other(street):
    group, ann, ben = street
    cai = listed(group, "Cai").user
    connect(ann, ben, group)
    kept = connect(ann, cai, group)
    services.block(blocker=ben, blocked=ann)
    assert list(Connection.objects.values_list("pk", flat=True)) == [kept.pk]


def test_after_unblocking_they_may_wave_again_at_once(street):
    group, ann, ben = street
    neighbour_services.send_wave(sender=ann, recipient=ben, group=group)
    services.block(blocker=ben, blocked=ann)
    services.unblock(blocker=ben, blocked=ann)
    # The wave that blocking took back does not count as declined, so no cooling-off period follows.
    wave = neighbour_services.send_wave(sender=ann, recipient=ben, group=group)
    assert wave.status == Wave.Status.OPEN
    assert not Connection.objects.exists()  # and nothing taken away comes back by itself


def test_blocking_forgets_both_cached_unread_counts(street):
    group, ann, ben = street
    neighbour_services.send_wave(sender=ben, recipient=ann, group=group)
    assert notifications.unread_count(ann) == 1
    services.block(blocker=ben, blocked=ann)
    assert notifications.unread_count(ann) == 0


# --- Reads ----------------------------------------------------------------------------------------------------


def test_blocked_ids_are_both_ways_in_one_query(street, django_assert_num_queries):
    group, ann, ben = street
    cai, dee, eve = (listed(group, n).user for n in ("Cai", "Dee", "Eve"))
    services.block(blocker=ann, blocked=ben)
    services.block(blocker=cai, blocked=ann)
    services.block(blocker=dee, blocked=eve)
    with django_assert_num_queries(1):
        assert selectors.blocked_ids(ann) == {ben.pk, cai.pk}
    assert selectors.blocked_ids(ben) == {ann.pk}
    assert selectors.blocked_ids(eve) == {dee.pk}


def test_the_exists_expression_answers_for_the_pair_either_way(street):
    group, ann, ben = street
    cai = listed(group, "Cai").user
    services.block(blocker=ann, blocked=ben)
    people = User.objects.filter(pk__in=[ann.pk, ben.pk, cai.pk])
    for viewer, kept_apart in [(ann, {ben.pk}), (ben, {ann.pk}), (cai, set())]:
        rows = people.annotate(apart=selectors.blocked_either_way(viewer, OuterRef("pk")))
        assert {u.pk for u in rows if u.apart} == kept_apart
    # A missing side (a notification without an actor) is never kept apart.
    assert not people.filter(selectors.blocked_either_way(OuterRef("pk"), None)).exists()


# --- Kept apart: waves, the directory, suggestions -------------------------------------------------------------


@pytest.mark.parametrize("blocker_is_sender", [True, False])
def test_no_waves_either_way_and_the_refusal_does_not_say_who_blocked(street, blocker_is_sender):
    group, ann, ben = street
    if blocker_is_sender:
        services.block(blocker=ann, blocked=ben)
    else:
        services.block(blocker=ben, blocked=ann)
    with pytest.raises(DomainError) as refused:
        neighbour_services.send_wave(sender=ann, recipient=ben, group=group)
    assert refused.value.message == "You can't wave at this neighbour."
    assert not Wave.objects.exists()


@pytest.mark.parametrize("who", ["ann", "ben"])
def test_the_directory_hides_each_from_the_other_and_from_nobody_else(street, who):
    group, ann, ben = street
    cai = listed(group, "Cai").user
    services.block(blocker=ann if who == "ann" else ben, blocked=ben if who == "ann" else ann)

    def names(viewer):
        return {m.user.profile.display_name for m in neighbour_selectors.directory(group=group, viewer=viewer)}

    assert names(ann) == {"Ann", "Cai"}
    assert names(ben) == {"Ben", "Cai"}
    assert names(cai) == {"Ann", "Ben", "Cai"}


@pytest.mark.parametrize("who", ["ann", "ben"])
def test_neither_can_open_a_wave_to_the_other_by_address(street, who):
    group, ann, ben = street
    services.block(blocker=ann if who == "ann" else ben, blocked=ben if who == "ann" else ann)
    ben_membership = ben.memberships.get(group=group)
    ann_membership = ann.memberships.get(group=group)
    with pytest.raises(Http404):
        neighbour_selectors.get_wave_target(group=group, viewer=ann, membership_id=ben_membership.pk)
    with pytest.raises(Http404):
        neighbour_selectors.get_wave_target(group=group, viewer=ben, membership_id=ann_membership.pk)


@pytest.mark.parametrize("who", ["ann", "ben"])
def test_suggestions_leave_out_people_kept_apart(street, who):
    group, ann, ben = street
    cai = listed(group, "Cai").user
    ann_membership, ben_membership = ann.memberships.get(group=group), ben.memberships.get(group=group)
    cai_membership = cai.memberships.get(group=group)
    before = {s.membership_id for s in neighbour_selectors.suggestions(group=group, viewer=ann)}
    assert before == {ben_membership.pk, cai_membership.pk}
    services.block(blocker=ann if who == "ann" else ben, blocked=ben if who == "ann" else ann)
    assert {s.membership_id for s in neighbour_selectors.suggestions(group=group, viewer=ann)} == {cai_membership.pk}
    assert {s.membership_id for s in neighbour_selectors.suggestions(group=group, viewer=ben)} == {cai_membership.pk}
    # A suggestion's address, kept from before the block, leads nowhere now.
    token = neighbour_selectors.suggestion_token(group=group, viewer=ann, membership_id=ben_membership.pk)
    with pytest.raises(Http404):
        neighbour_selectors.get_suggestion(group=group, viewer=ann, token=token)
    assert {s.membership_id for s in neighbour_selectors.suggestions(group=group, viewer=cai)} == {
        ann_membership.pk,
        ben_membership.pk,
    }


def test_a_wave_and_a_block_at_the_same_moment_leave_no_wave_behind(street):
    """The wave is sent under the sender's row lock, which blocking takes too: whichever comes first, the other sees
    it. Here the wave is in first, so the block takes it back."""
    group, ann, ben = street
    neighbour_services.send_wave(sender=ann, recipient=ben, group=group)
    services.block(blocker=ben, blocked=ann)
    assert not Wave.objects.filter(status=Wave.Status.OPEN).exists()


def test_a_recent_decline_still_counts_after_a_block_is_lifted(street):
    group, ann, ben = street
    wave = neighbour_services.send_wave(sender=ann, recipient=ben, group=group)
    neighbour_services.answer_wave(recipient=ben, wave=wave, accept=False)
    Wave.objects.filter(pk=wave.pk).update(answered_at=timezone.now() - timedelta(days=1))
    services.block(blocker=ben, blocked=ann)
    services.unblock(blocker=ben, blocked=ann)
    with pytest.raises(DomainError, match="give it a few weeks"):
        neighbour_services.send_wave(sender=ann, recipient=ben, group=group)
