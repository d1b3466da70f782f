"""Waves and connections: the rules of saying hello to a neighbour."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from core.exceptions import DomainError
from neighbourhoods.models import Connection, Wave
from neighbourhoods.services.neighbours import (
    DECLINE_COOL_OFF,
    WAVES_PER_DAY,
    answer_wave,
    remove_connection,
    send_wave,
)
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return GroupFactory()


@pytest.fixture
def sam(group):
    return MembershipFactory(group=group).user


@pytest.fixture
def alex(group):
    return MembershipFactory(group=group).user


def test_a_member_waves_to_another_member_with_a_trimmed_message(group, sam, alex):
    wave = send_wave(sender=sam, recipient=alex, group=group, message="  Hello from number 14!  ")
    assert wave.status == Wave.Status.OPEN
    assert wave.message == "Hello from number 14!"
    assert (wave.pair_low, wave.pair_high) == tuple(sorted([sam.pk, alex.pk]))
    assert wave.group == group


def test_html_in_a_message_is_kept_as_plain_text(group, sam, alex):
    wave = send_wave(sender=sam, recipient=alex, group=group, message="<script>alert(1)</script>")
    assert wave.message == "<script>alert(1)</script>"  # stored as typed; templates escape it


def test_a_message_over_280_characters_is_refused(group, sam, alex):
    with pytest.raises(DomainError, match="280 characters"):
        send_wave(sender=sam, recipient=alex, group=group, message="x" * 281)
    assert not Wave.objects.exists()
    send_wave(sender=sam, recipient=alex, group=group, message="x" * 280)


def test_you_cannot_wave_to_yourself(group, sam):
    with pytest.raises(DomainError, match="yourself"):
        send_wave(sender=sam, recipient=sam, group=group)
    assert not Wave.objects.exists()


def test_the_database_refuses_a_wave_to_yourself_too(group, sam):
    with pytest.raises(IntegrityError):
        Wave.objects.create(sender=sam, recipient=sam, group=group)


@pytest.mark.parametrize("status", ["pending", "left", "removed", "banned"])
def test_you_cannot_wave_to_someone_who_is_not_an_active_member(group, sam, status):
    other = MembershipFactory(group=group, status=status).user
    with pytest.raises(DomainError, match="members of a group you are in"):
        send_wave(sender=sam, recipient=other, group=group)
    assert not Wave.objects.exists()


@pytest.mark.parametrize("status", ["pending", "left", "removed", "banned"])
def test_only_active_members_can_wave(group, alex, status):
    other = MembershipFactory(group=group, status=status).user
    with pytest.raises(DomainError, match="Only members"):
        send_wave(sender=other, recipient=alex, group=group)


def test_you_cannot_wave_to_a_member_of_a_group_you_do_not_share(group, sam):
    stranger = MembershipFactory(group=GroupFactory()).user
    with pytest.raises(DomainError, match="members of a group you are in"):
        send_wave(sender=sam, recipient=stranger, group=group)
    # Naming the stranger's own group does not help either: the sender is not a member there.
    with pytest.raises(DomainError, match="Only members"):
        send_wave(sender=sam, recipient=stranger, group=stranger.memberships.get().group)


def test_a_resident_with_no_group_cannot_wave(group, alex):
    with pytest.raises(DomainError, match="Only members"):
        send_wave(sender=UserFactory(), recipient=alex, group=group)


def test_only_one_open_wave_per_pair(group, sam, alex):
    send_wave(sender=sam, recipient=alex, group=group)
    with pytest.raises(DomainError, match="already waved to this neighbour"):
        send_wave(sender=sam, recipient=alex, group=group)
    assert Wave.objects.count() == 1


def test_if_they_already_waved_at_you_you_are_told_to_answer_it(group, sam, alex):
    send_wave(sender=sam, recipient=alex, group=group)
    with pytest.raises(DomainError, match="Answer their wave"):
        send_wave(sender=alex, recipient=sam, group=group)
    assert Wave.objects.count() == 1


def test_one_open_wave_per_pair_holds_across_groups(group, sam, alex):
    second = GroupFactory()
    MembershipFactory(group=second, user=sam)
    MembershipFactory(group=second, user=alex)
    send_wave(sender=sam, recipient=alex, group=group)
    with pytest.raises(DomainError, match="Answer their wave"):
        send_wave(sender=alex, recipient=sam, group=second)


def test_the_database_holds_one_open_wave_per_pair_either_way_round(group, sam, alex):
    Wave.objects.create(sender=sam, recipient=alex, group=group)
    with pytest.raises(IntegrityError):
        Wave.objects.create(sender=alex, recipient=sam, group=group)


def test_after_an_answer_a_new_wave_is_possible(group, sam, alex):
    wave = send_wave(sender=sam, recipient=alex, group=group)
    answer_wave(recipient=alex, wave=wave, accept=True)
    connection = Connection.objects.get()
    remove_connection(user=sam, connection=connection)
    again = send_wave(sender=alex, recipient=sam, group=group)
    assert again.status == Wave.Status.OPEN


def test_waves_are_rate_limited_per_sender(group, sam):
    neighbours = [MembershipFactory(group=group).user for _ in range(WAVES_PER_DAY + 1)]
    for neighbour in neighbours[:WAVES_PER_DAY]:
        send_wave(sender=sam, recipient=neighbour, group=group)
    with pytest.raises(DomainError, match="try again tomorrow"):
        send_wave(sender=sam, recipient=neighbours[-1], group=group)
    assert Wave.objects.filter(sender=sam).count() == WAVES_PER_DAY
    # Someone else is not affected by Sam's limit.
    send_wave(sender=neighbours[0], recipient=neighbours[-1], group=group)


def test_answered_waves_still_count_towards_the_limit(group, sam):
    neighbours = [MembershipFactory(group=group).user for _ in range(WAVES_PER_DAY + 1)]
    for neighbour in neighbours[:WAVES_PER_DAY]:
        answer_wave(recipient=neighbour, wave=send_wave(sender=sam, recipient=neighbour, group=group), accept=False)
    with pytest.raises(DomainError, match="try again tomorrow"):
        send_wave(sender=sam, recipient=neighbours[-1], group=group)


def test_the_rate_limit_is_a_rolling_24_hours(group, sam):
    neighbours = [MembershipFactory(group=group).user for _ in range(WAVES_PER_DAY + 1)]
    for neighbour in neighbours[:WAVES_PER_DAY]:
        send_wave(sender=sam, recipient=neighbour, group=group)
    Wave.objects.filter(sender=sam).update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    send_wave(sender=sam, recipient=neighbours[-1], group=group)


def test_after_a_decline_you_cannot_wave_again_for_a_while(group, sam, alex):
    wave = send_wave(sender=sam, recipient=alex, group=group)
    assert answer_wave(recipient=alex, wave=wave, accept=False) is None
    wave.refresh_from_db()
    assert wave.status == Wave.Status.DECLINED
    assert wave.answered_at is not None
    with pytest.raises(DomainError, match="recently"):
        send_wave(sender=sam, recipient=alex, group=group)
    # The one who declined may still wave first themselves.
    send_wave(sender=alex, recipient=sam, group=group)


def test_the_decline_cool_off_ends(group, sam, alex):
    wave = send_wave(sender=sam, recipient=alex, group=group)
    answer_wave(recipient=alex, wave=wave, accept=False)
    Wave.objects.filter(pk=wave.pk).update(answered_at=timezone.now() - DECLINE_COOL_OFF - timedelta(minutes=1))
    assert send_wave(sender=sam, recipient=alex, group=group).status == Wave.Status.OPEN


def test_accepting_creates_one_ordered_connection(group, sam, alex):
    wave = send_wave(sender=alex, recipient=sam, group=group)
    connection = answer_wave(recipient=sam, wave=wave, accept=True)
    wave.refresh_from_db()
    assert wave.status == Wave.Status.ACCEPTED
    assert wave.answered_at is not None
    assert Connection.objects.count() == 1
    assert (connection.user_low_id, connection.user_high_id) == tuple(sorted([sam.pk, alex.pk]))
    assert connection.group == group


def test_accepting_twice_is_harmless(group, sam, alex):
    wave = send_wave(sender=sam, recipient=alex, group=group)
    first = answer_wave(recipient=alex, wave=wave, accept=True)
    second = answer_wave(recipient=alex, wave=wave, accept=True)
    assert first == second
    assert Connection.objects.count() == 1


def test_accepting_again_does_not_bring_back_a_removed_connection(group, sam, alex):
    wave = send_wave(sender=sam, recipient=alex, group=group)
    connection = answer_wave(recipient=alex, wave=wave, accept=True)
    remove_connection(user=alex, connection=connection)
    assert answer_wave(recipient=alex, wave=wave, accept=True) is None
    assert not Connection.objects.exists()


def test_you_cannot_wave_at_someone_you_are_connected_with(group, sam, alex):
    answer_wave(recipient=alex, wave=send_wave(sender=sam, recipient=alex, group=group), accept=True)
    with pytest.raises(DomainError, match="already connected"):
        send_wave(sender=alex, recipient=sam, group=group)


def test_an_existing_connection_is_reused_not_duplicated(group, sam, alex):
    low, high = sorted([sam, alex], key=lambda u: u.pk)
    existing = Connection.objects.create(user_low=low, user_high=high, group=None)
    wave = Wave.objects.create(sender=sam, recipient=alex, group=group)
    assert answer_wave(recipient=alex, wave=wave, accept=True) == existing
    assert Connection.objects.count() == 1


def test_the_database_keeps_connections_ordered_and_unique(group, sam, alex):
    low, high = sorted([sam, alex], key=lambda u: u.pk)
    Connection.objects.create(user_low=low, user_high=high)
    with pytest.raises(IntegrityError):
        Connection.objects.create(user_low=high, user_high=low)


def test_only_the_recipient_may_answer(group, sam, alex):
    wave = send_wave(sender=sam, recipient=alex, group=group)
    for someone in (sam, MembershipFactory(group=group).user):
        with pytest.raises(DomainError, match="Only the neighbour who was waved at"):
            answer_wave(recipient=someone, wave=wave, accept=True)
    wave.refresh_from_db()
    assert wave.status == Wave.Status.OPEN
    assert not Connection.objects.exists()


@pytest.mark.parametrize(("first", "then"), [(False, True), (False, False), (True, False)])
def test_only_open_waves_can_be_answered(group, sam, alex, first, then):
    wave = send_wave(sender=sam, recipient=alex, group=group)
    answer_wave(recipient=alex, wave=wave, accept=first)
    with pytest.raises(DomainError, match="already answered"):
        answer_wave(recipient=alex, wave=wave, accept=then)
    wave.refresh_from_db()
    assert wave.status == (Wave.Status.ACCEPTED if first else Wave.Status.DECLINED)
    assert Connection.objects.count() == (1 if first else 0)


@pytest.mark.parametrize("who", ["sender", "recipient"])
def test_either_person_can_remove_a_connection(group, sam, alex, who):
    connection = answer_wave(recipient=alex, wave=send_wave(sender=sam, recipient=alex, group=group), accept=True)
    remove_connection(user=sam if who == "sender" else alex, connection=connection)
    assert not Connection.objects.exists()


def test_nobody_else_can_remove_a_connection(group, sam, alex):
    connection = answer_wave(recipient=alex, wave=send_wave(sender=sam, recipient=alex, group=group), accept=True)
    with pytest.raises(DomainError, match="your own connections"):
        remove_connection(user=MembershipFactory(group=group).user, connection=connection)
    assert Connection.objects.count() == 1


def test_removing_a_connection_twice_is_a_clear_message(group, sam, alex):
    connection = answer_wave(recipient=alex, wave=send_wave(sender=sam, recipient=alex, group=group), accept=True)
    remove_connection(user=sam, connection=connection)
    with pytest.raises(DomainError, match="no longer connected"):
        remove_connection(user=alex, connection=connection)
