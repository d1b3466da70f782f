"""Supporting initiatives, and the updates their organisers post to supporters and volunteers."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Profile, User
from core.exceptions import DomainError
from initiatives.models import Initiative, Support, TimelineEntry, Update, VolunteerSignup
from initiatives.services import support as support_services
from initiatives.services import updates as update_services
from neighbourhoods.models import Membership
from notifications.models import Notification
from tests.factories import (
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    UserFactory,
    VolunteerRoleFactory,
)

pytestmark = pytest.mark.django_db


def led(*, status="idea", group=None):
    group = group or GroupFactory()
    initiative = InitiativeFactory(group=group, status=status)
    lead = MembershipFactory(group=group).user
    InitiativeRoleFactory(initiative=initiative, user=lead, role="lead", status="active")
    return initiative, lead


def count_of(initiative) -> int:
    return Initiative.objects.get(pk=initiative.pk).support_count


# --- Support --------------------------------------------------------------------------------------------------------


def test_a_member_supports_with_a_note_and_the_count_follows():
    initiative, _lead = led()
    member = MembershipFactory(group=initiative.group).user
    created = support_services.support(supporter=member, initiative=initiative, note="  I can bring a spade ")
    assert created.note == "I can bring a spade"
    assert count_of(initiative) == 1
    other = MembershipFactory(group=initiative.group).user
    support_services.support(supporter=other, initiative=initiative)
    assert count_of(initiative) == 2


def test_supporting_twice_keeps_one_support_and_changes_the_note():
    initiative, _lead = led()
    member = MembershipFactory(group=initiative.group).user
    support_services.support(supporter=member, initiative=initiative, note="First")
    support_services.support(supporter=member, initiative=initiative, note="Second thoughts")
    assert list(Support.objects.filter(initiative=initiative).values_list("note", flat=True)) == ["Second thoughts"]
    assert count_of(initiative) == 1


def test_withdrawing_takes_the_support_and_the_count_back():
    initiative, _lead = led()
    member = MembershipFactory(group=initiative.group).user
    support_services.support(supporter=member, initiative=initiative)
    support_services.withdraw_support(supporter=member, initiative=initiative)
    assert not Support.objects.exists()
    assert count_of(initiative) == 0
    with pytest.raises(DomainError, match="not supporting"):
        support_services.withdraw_support(supporter=member, initiative=initiative)
    assert count_of(initiative) == 0


@pytest.mark.parametrize("status", ["pending", "left", "removed", "banned"])
def test_only_active_members_support(status):
    initiative, _lead = led()
    person = MembershipFactory(group=initiative.group, status=status).user
    for someone in (person, UserFactory(), MembershipFactory().user):
        with pytest.raises(DomainError, match="Only members"):
            support_services.support(supporter=someone, initiative=initiative)
    assert count_of(initiative) == 0
    assert not Support.objects.exists()


def test_a_neighbourhood_wide_initiative_is_supported_by_members_of_any_group_there():
    area = NeighbourhoodFactory()
    initiative = InitiativeFactory(group=None, neighbourhood=area)
    support_services.support(
        supporter=MembershipFactory(group=GroupFactory(neighbourhood=area)).user, initiative=initiative
    )
    with pytest.raises(DomainError):
        support_services.support(supporter=MembershipFactory().user, initiative=initiative)
    assert count_of(initiative) == 1


@pytest.mark.parametrize(
    ("status", "open_"),
    [("idea", True), ("planning", True), ("active", True), ("paused", True), ("completed", False), ("archived", False)],
)
def test_support_is_taken_until_the_initiative_is_finished_and_can_always_be_withdrawn(status, open_):
    initiative, _lead = led(status=status)
    early = MembershipFactory(group=initiative.group).user
    Support.objects.create(initiative=initiative, user=early)
    Initiative.objects.filter(pk=initiative.pk).update(support_count=1)
    member = MembershipFactory(group=initiative.group).user
    if open_:
        support_services.support(supporter=member, initiative=initiative)
        assert count_of(initiative) == 2
    else:
        with pytest.raises(DomainError, match="no longer taking support"):
            support_services.support(supporter=member, initiative=initiative)
        assert count_of(initiative) == 1
    support_services.withdraw_support(supporter=early, initiative=initiative)
    assert count_of(initiative) == (1 if open_ else 0)


def test_an_overlong_note_is_refused_and_nothing_is_written():
    initiative, _lead = led()
    member = MembershipFactory(group=initiative.group).user
    with pytest.raises(DomainError, match="280"):
        support_services.support(supporter=member, initiative=initiative, note="x" * 281)
    assert count_of(initiative) == 0


def test_supporting_does_not_make_an_organisers_edit_stale():
    initiative, _lead = led()
    support_services.support(supporter=MembershipFactory(group=initiative.group).user, initiative=initiative)
    assert Initiative.objects.get(pk=initiative.pk).version == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_supports_and_withdrawals_keep_the_count_equal_to_the_rows():
    initiative, _lead = led()
    people = User.objects.bulk_create([User(email=f"backer{n}@example.org", password="!") for n in range(40)])
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Backer {n}") for n, u in enumerate(people)])
    Membership.objects.bulk_create(
        [Membership(group=initiative.group, user=u, status="active", joined_at=timezone.now()) for u in people]
    )
    # The first ten support beforehand and withdraw during the rush.
    for person in people[:10]:
        support_services.support(supporter=person, initiative=initiative)
    threads = 10
    start = Barrier(threads)

    def act(batch):
        try:
            start.wait(timeout=30)
            for person in batch:
                if person in people[:10]:
                    support_services.withdraw_support(supporter=person, initiative=initiative)
                else:
                    support_services.support(supporter=person, initiative=initiative)
                    support_services.support(supporter=person, initiative=initiative, note="again")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(act, [people[i::threads] for i in range(threads)]))
    assert Support.objects.filter(initiative=initiative).count() == 30
    assert count_of(initiative) == 30


# --- Updates --------------------------------------------------------------------------------------------------------


def volunteer(initiative, user=None, role=None):
    role = role or VolunteerRoleFactory(initiative=initiative)
    user = user or MembershipFactory(group=initiative.group).user
    VolunteerSignup.objects.create(role=role, user=user)
    return user


def test_an_organiser_posts_an_update_that_reaches_supporters_and_volunteers_once_each():
    initiative, lead = led()
    helper = MembershipFactory(group=initiative.group).user
    InitiativeRoleFactory(initiative=initiative, user=helper, role="co_organiser", status="active")
    supporter = MembershipFactory(group=initiative.group).user
    Support.objects.create(initiative=initiative, user=supporter)
    digger = volunteer(initiative)
    both = MembershipFactory(group=initiative.group).user
    Support.objects.create(initiative=initiative, user=both)
    first_role, second_role = VolunteerRoleFactory(initiative=initiative), VolunteerRoleFactory(initiative=initiative)
    volunteer(initiative, both, first_role)
    volunteer(initiative, both, second_role)
    Support.objects.create(initiative=initiative, user=helper)  # the author is never told about their own update
    MembershipFactory(group=initiative.group)  # a member who neither supports nor volunteers
    elsewhere = InitiativeFactory(group=initiative.group)
    Support.objects.create(initiative=elsewhere, user=MembershipFactory(group=initiative.group).user)
    volunteer(elsewhere)

    update = update_services.post_update(
        author=helper, initiative=initiative, title="  Beds dug ", body="All **six** beds. <img src=x onerror=alert(1)>"
    )

    assert update.title == "Beds dug"
    assert update.author == helper
    assert "<strong>six</strong>" in update.body_html
    assert "<img" not in update.body_html
    notified = Notification.objects.filter(event="initiative.update_posted")
    assert sorted(notified.values_list("recipient_id", flat=True)) == sorted([supporter.pk, digger.pk, both.pk])
    assert set(notified.values_list("category", flat=True)) == {"initiatives"}
    assert notified.first().url.endswith(f"#update-{update.pk}")
    entry = TimelineEntry.objects.get(initiative=initiative, kind="update")
    assert entry.params == {"name": helper.profile.display_name, "title": "Beds dug"}
    assert entry.url.endswith(f"#update-{update.pk}")
    assert lead.pk not in notified.values_list("recipient_id", flat=True)


@pytest.mark.parametrize("size", [5, 100])
def test_the_recipients_are_computed_in_one_query(django_assert_num_queries, size):
    initiative, lead = led()
    people = User.objects.bulk_create([User(email=f"fan{n}@example.org", password="!") for n in range(size)])
    Support.objects.bulk_create([Support(initiative=initiative, user=u) for u in people[::2]])
    role = VolunteerRoleFactory(initiative=initiative, slots=size)
    VolunteerSignup.objects.bulk_create([VolunteerSignup(role=role, user=u) for u in people[1::2]])
    Membership.objects.bulk_create(
        [Membership(group=initiative.group, user=u, status="active", joined_at=timezone.now()) for u in people]
    )
    with django_assert_num_queries(1):
        recipients = list(update_services.update_recipients(initiative=initiative, exclude=lead))
    assert len(recipients) == size


@pytest.mark.parametrize("who", ["member", "invited", "stranger", "supporter"])
def test_only_organisers_post_updates(who):
    initiative, _lead = led()
    user = UserFactory() if who == "stranger" else MembershipFactory(group=initiative.group).user
    if who == "invited":
        InitiativeRoleFactory(initiative=initiative, user=user, role="co_organiser", status="invited")
    if who == "supporter":
        Support.objects.create(initiative=initiative, user=user)
    with pytest.raises(DomainError, match="Only the lead and co-organisers"):
        update_services.post_update(author=user, initiative=initiative, title="Hello", body="News")
    assert not Update.objects.exists()
    assert not Notification.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_an_update_needs_a_title_and_a_body_and_an_initiative_that_is_not_archived():
    initiative, lead = led()
    with pytest.raises(DomainError, match="title"):
        update_services.post_update(author=lead, initiative=initiative, title=" ", body="News")
    with pytest.raises(DomainError, match="Write what"):
        update_services.post_update(author=lead, initiative=initiative, title="News", body="   ")
    with pytest.raises(DomainError, match="Keep the title"):
        update_services.post_update(author=lead, initiative=initiative, title="News", body="x" * 5001)
    archived, archived_lead = led(status="archived")
    with pytest.raises(DomainError, match="archived"):
        update_services.post_update(author=archived_lead, initiative=archived, title="News", body="More")
    assert not Update.objects.exists()


@pytest.mark.parametrize("status", ["idea", "planning", "active", "paused", "completed"])
def test_updates_may_be_posted_in_every_state_but_archived(status):
    initiative, lead = led(status=status)
    update_services.post_update(author=lead, initiative=initiative, title="News", body="Something happened.")
    assert Update.objects.filter(initiative=initiative).count() == 1
