"""Raw metrics per neighbourhood (true counts, in a fixed number of queries), snapshots written idempotently per
date, the nightly task and the backfill command."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from engagement import tasks
from engagement.metrics import STORED, live_metrics
from engagement.models import EngagementSnapshot
from engagement.services import snapshots
from initiatives.models import Backing, Initiative, Outcome, StatusChange
from neighbourhoods.models import Connection, Group, Membership
from tests.factories import (
    CommentFactory,
    CouncilFactory,
    CouncilOfferFactory,
    EventFactory,
    GroupFactory,
    InitiativeFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    PostFactory,
    RSVPFactory,
    UserFactory,
    VolunteerRoleFactory,
)

pytestmark = pytest.mark.django_db


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def connect(a, b, *, when=None):
    low, high = sorted([a, b], key=lambda user: user.pk)
    connection = Connection.objects.create(user_low=low, user_high=high)
    if when is not None:
        Connection.objects.filter(pk=connection.pk).update(created_at=when)


def member(group, *, joined=None, verified=True, **kwargs):
    joined = joined or ago(days=100)
    return MembershipFactory(group=group, joined_at=joined, verified_at=joined if verified else None, **kwargs).user


def test_live_metrics_count_each_measure_per_neighbourhood():
    council = CouncilFactory()
    splott = NeighbourhoodFactory(council=council, name="Splott")
    empty = NeighbourhoodFactory(council=council, name="Empty")
    NeighbourhoodFactory(name="Elsewhere")  # another council's: never counted
    public = GroupFactory(neighbourhood=splott)
    private = GroupFactory(neighbourhood=splott, visibility=Group.Visibility.MEMBERS)
    a, b, c, d = (member(public) for _ in range(4))
    member(private, user=a)  # in two groups of the neighbourhood: one member
    member(private, joined=ago(days=3), verified=False)
    MembershipFactory(group=public, status=Membership.Status.LEFT)
    MembershipFactory(group=public, status=Membership.Status.PENDING, joined_at=None, verified_at=None)
    for other in (b, c, d):
        connect(a, other)
    connect(b, c)
    PostFactory(group=public, author=b)  # active: posted
    CommentFactory(post=PostFactory(group=private, author=UserFactory(), created_at=ago(days=90)), author=c)
    past = EventFactory(group=public, starts_at=ago(days=3), ends_at=ago(days=3) + timedelta(hours=2))
    RSVPFactory(event=past, user=d, status="going")
    RSVPFactory(event=past, user=c, status="not_going")
    EventFactory(group=public)  # still to come
    cancelled = EventFactory(group=public, starts_at=ago(days=5), ends_at=ago(days=5) + timedelta(hours=1))
    cancelled.cancelled_at = ago(days=6)
    cancelled.save()
    garden = InitiativeFactory(group=public, status=Initiative.Status.COMPLETED)
    InitiativeFactory(group=private, status=Initiative.Status.ACTIVE)
    InitiativeFactory(group=None, neighbourhood=splott, status=Initiative.Status.ACTIVE)
    role = VolunteerRoleFactory(initiative=garden)
    role.signups.create(user=a)
    role.signups.create(user=b)
    Outcome.objects.create(initiative=garden, people_involved=5, volunteer_hours=Decimal("12.5"), what_changed="Beds")
    offer = CouncilOfferFactory(council=council)
    Backing.objects.create(
        offer=offer, initiative=garden, status=Backing.Status.APPROVED, decided_at=ago(days=1), taken_up_at=ago(hours=1)
    )

    metrics = live_metrics(council)
    assert set(metrics) == {splott.pk, empty.pk}
    assert metrics[empty.pk] == dict.fromkeys(STORED, 0)
    got = metrics[splott.pk]
    assert got["groups"] == 2
    assert (got["members"], got["verified_members"], got["new_members"]) == (5, 4, 1)
    assert (got["know_one"], got["know_three"]) == (4, 1)
    assert got["active_members"] == 4  # a volunteered, b posted, c commented, d said they were going
    assert (got["events_held"], got["attendance"]) == (1, 1)
    assert (got["initiatives_completed"], got["initiatives_active"], got["initiatives_idea"]) == (1, 2, 0)
    assert (got["volunteer_signups"], got["volunteer_hours"]) == (2, 13)
    assert (got["offers_approved"], got["offers_taken_up"]) == (1, 1)


def test_as_of_counts_the_world_as_it_stood_then():
    area = NeighbourhoodFactory()
    group = GroupFactory(neighbourhood=area)
    Group.objects.filter(pk=group.pk).update(created_at=ago(days=200))
    early, late = member(group, joined=ago(days=60)), member(group, joined=ago(days=5))
    connect(early, late, when=ago(days=2))
    initiative = InitiativeFactory(group=group, status=Initiative.Status.ACTIVE)
    Initiative.objects.filter(pk=initiative.pk).update(created_at=ago(days=90))
    StatusChange.objects.create(initiative=initiative, to_status="idea", created_at=ago(days=90))
    StatusChange.objects.create(initiative=initiative, from_status="idea", to_status="active", created_at=ago(days=3))

    then = live_metrics(area.council, as_of=ago(days=10))[area.pk]
    assert (then["groups"], then["members"], then["new_members"], then["know_one"]) == (1, 1, 0, 0)
    assert (then["initiatives_idea"], then["initiatives_active"]) == (1, 0)
    now = live_metrics(area.council)[area.pk]
    assert (now["members"], now["new_members"], now["know_one"], now["initiatives_active"]) == (2, 1, 2, 1)


def build(council, areas):
    for _index in range(areas):
        group = GroupFactory(neighbourhood=NeighbourhoodFactory(council=council))
        people = [member(group) for _ in range(2)]
        connect(*people)
        PostFactory(group=group, author=people[0])
        InitiativeFactory(group=group)


@pytest.mark.parametrize("areas", [2, 12])
def test_live_metrics_run_a_fixed_number_of_queries(django_assert_num_queries, areas):
    council = CouncilFactory()
    build(council, areas)
    with django_assert_num_queries(10):
        metrics = live_metrics(council)
    assert sum(values["members"] for values in metrics.values()) == 2 * areas


def test_snapshots_are_written_once_per_neighbourhood_and_date_whatever_the_reruns():
    council = CouncilFactory()
    build(council, 3)
    build(CouncilFactory(), 2)
    today = timezone.localdate()
    assert snapshots.take_snapshots(on=today) == 5
    first = list(EngagementSnapshot.objects.order_by("pk").values("pk", "neighbourhood", "date", "members"))
    assert snapshots.take_snapshots(on=today) == 5
    again = list(EngagementSnapshot.objects.order_by("pk").values("pk", "neighbourhood", "date", "members"))
    assert again == first
    assert EngagementSnapshot.objects.count() == 5

    # A later change is picked up when the same date is taken again: the row is rewritten, not duplicated.
    group = Group.objects.filter(neighbourhood__council=council).first()
    member(group, joined=ago(minutes=1))
    snapshots.take_snapshots(on=today)
    assert EngagementSnapshot.objects.count() == 5
    assert EngagementSnapshot.objects.get(neighbourhood=group.neighbourhood, date=today).members == 3


def test_the_nightly_task_records_yesterday():
    council = CouncilFactory()
    build(council, 2)
    assert tasks.take_snapshots() == 2
    assert tasks.take_snapshots() == 2
    assert set(EngagementSnapshot.objects.values_list("date", flat=True)) == {timezone.localdate() - timedelta(days=1)}
    assert tasks.take_snapshots(on="2026-01-05") == 2


def test_the_nightly_task_is_on_the_beat_schedule():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["engagement.take_snapshots"]
    assert entry["task"] == "engagement.tasks.take_snapshots"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {30})


def test_backfill_writes_a_snapshot_a_week_honestly_dated(capsys):
    council = CouncilFactory(slug="cardiff")
    area = NeighbourhoodFactory(council=council)
    group = GroupFactory(neighbourhood=area)
    Group.objects.filter(pk=group.pk).update(created_at=ago(days=400))
    member(group, joined=ago(days=20))
    other = CouncilFactory()
    NeighbourhoodFactory(council=other)

    call_command("backfill_snapshots", "--weeks", "8", "--council", "cardiff")
    assert "9 dates" in capsys.readouterr().out
    rows = list(EngagementSnapshot.objects.order_by("date").values_list("date", "members"))
    assert len(rows) == 9
    assert {day.weekday() for day, _members in rows} == {timezone.localdate().weekday()}
    assert [members for _day, members in rows] == [0] * 6 + [1] * 3
    call_command("backfill_snapshots", "--weeks", "8", "--council", "cardiff")
    assert EngagementSnapshot.objects.count() == 9
    call_command("backfill_snapshots", "--weeks", "1")
    assert EngagementSnapshot.objects.filter(neighbourhood__council=other).count() == 2


def test_backfill_explains_an_unknown_council():
    CouncilFactory(slug="cardiff")
    with pytest.raises(CommandError, match=r"There is no council nowhere\. Known councils: cardiff"):
        call_command("backfill_snapshots", "--council", "nowhere")
    with pytest.raises(CommandError, match="--weeks"):
        call_command("backfill_snapshots", "--weeks", "-1")
