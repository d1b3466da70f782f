"""The year of made-up activity behind the demo and the dashboard benchmark: honest history (nothing dated in the
future, every kept count in step with its rows), snapshots from the real metrics, and the benchmark's own seeding
and measuring, run at a tiny size so they cannot quietly break."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count, Max, Q
from django.utils import timezone

from bench import dashboard
from bench import search as search_bench
from engagement import demo
from engagement.metrics import STORED, live_metrics
from engagement.models import EngagementSnapshot
from engagement.services.snapshots import moment_of
from initiatives.models import Initiative, Support, VolunteerRole
from neighbourhoods.models import RSVP, Comment, Connection, Event, Group, Membership, Post
from tests.factories import CouncilFactory, NeighbourhoodFactory

pytestmark = pytest.mark.django_db


def test_a_seeded_year_is_history_that_holds_together():
    council = CouncilFactory()
    busy = NeighbourhoodFactory(council=council, name="Busy", imd_decile=8)
    quiet = NeighbourhoodFactory(council=council, name="Quiet", imd_decile=1)
    plans = [
        demo.AreaPlan(busy, residents=80, groups=2, connections=2.0, initiatives=tuple(demo.PATHS)),
        demo.AreaPlan(quiet, residents=6, groups=1, pace=2.0, connections=0.3),
    ]
    before = timezone.now()
    written = demo.seed_year(council=council, plans=plans, prefix="t")
    after = timezone.now()

    assert written["User"] == 86
    assert Membership.objects.filter(group__neighbourhood=busy, status="active").count() == 80
    # Dated over the past year, never in the future (bar events still to come), and kept counts match their rows.
    for model in (Group, Membership, Post, Comment, Connection, RSVP, Initiative, Support):
        assert model.objects.aggregate(latest=Max("created_at"))["latest"] <= after, model
    assert Membership.objects.filter(joined_at__lt=before - demo.YEAR).count() == 0
    assert all(low < high for low, high in Connection.objects.values_list("user_low", "user_high"))
    for event in Event.objects.annotate(going=Count("rsvps", filter=Q(rsvps__status="going"))):
        assert event.going_count == event.going
    for role in VolunteerRole.objects.annotate(taken=Count("signups")):
        assert role.filled == role.taken <= role.slots
    for initiative in Initiative.objects.annotate(supporters=Count("supports")).prefetch_related("status_changes"):
        assert initiative.support_count == initiative.supporters
        assert [change.to_status for change in initiative.status_changes.all()][-1] == initiative.status
    assert Event.objects.filter(starts_at__gt=after).exists()  # one still to come in each group
    # created_at fills itself in again once the seed is done.
    assert Group._meta.get_field("created_at").auto_now_add is True

    # Snapshots for a past week count that week as the metrics do.
    demo.seed_snapshots(council=council, weeks=4)
    four_weeks_ago = EngagementSnapshot.objects.order_by("date").first().date
    stored = EngagementSnapshot.objects.get(neighbourhood=busy, date=four_weeks_ago)
    counted = live_metrics(council, as_of=moment_of(four_weeks_ago))[busy.pk]
    assert {key: getattr(stored, key) for key in STORED} == counted
    latest = live_metrics(council)
    assert latest[busy.pk]["members"] == 80
    assert latest[quiet.pk]["members"] == 6
    assert EngagementSnapshot.objects.values("date").distinct().count() == 5


def test_the_same_seed_gives_the_same_year():
    council = CouncilFactory()

    def shape(prefix):
        area = NeighbourhoodFactory(council=council)
        plan = demo.AreaPlan(area, residents=30, groups=3, initiatives=("active", "completed"))
        demo.seed_year(council=council, plans=[plan], prefix=prefix, seed=11)
        mine = {"group__neighbourhood": area}
        return (
            sorted(
                Membership.objects.filter(**mine).values("group").annotate(n=Count("pk")).values_list("n", flat=True)
            ),
            Counter(Post.objects.filter(**mine).values_list("kind", flat=True)),
            Connection.objects.filter(**mine).count(),
            sorted(Initiative.objects.filter(neighbourhood=area).values_list("support_count", flat=True)),
        )

    assert shape("one") == shape("two")


def test_the_benchmark_builds_and_measures_a_tiny_council():
    council, officer, written = dashboard.build_council(5, 200, prefix="tiny")
    assert council.neighbourhoods.count() == 5
    assert written["User"] == 200
    assert council.neighbourhoods.filter(boundary__isnull=True).count() == 0
    assert set(council.neighbourhoods.values_list("ward", flat=True)) == {"Ward 01"}

    counted, copied = dashboard.take_year_of_snapshots(council)
    assert counted == 5 * 53
    assert copied == 5 * 52 * 6
    snapshots = EngagementSnapshot.objects.filter(neighbourhood__council=council)
    assert snapshots.values("date").distinct().count() == 365
    # A copied day reads exactly as the counted week before it.
    first = snapshots.order_by("date").first()
    next_day = snapshots.get(neighbourhood=first.neighbourhood, date=first.date + timedelta(days=1))
    assert [getattr(next_day, key) for key in STORED] == [getattr(first, key) for key in STORED]

    results = dashboard.measure(council, officer, runs=1)
    assert list(results) == ["overview", "trends", "map"]
    lines = dashboard.report(results)
    for line, (page, result) in zip(lines, results.items(), strict=True):
        if isinstance(result, str):
            assert re.fullmatch(rf"{page}: not available \(.+\)", line)
        else:
            assert re.fullmatch(rf"{page}: \d+\.\d ms, \d+ queries", line)
            assert 0 < result[1] < 40
    assert any(not isinstance(result, str) for result in results.values())


def test_the_search_benchmark_seeds_and_measures_a_few_initiatives():
    terms = search_bench.seed(120, prefix="tiny")
    assert Initiative.objects.filter(slug__startswith="tiny-initiative-").count() == 120
    results = search_bench.measure(terms, runs=1)
    assert [words for words, *_ in results] == list(terms.values())
    found = {words: count for words, count, _, _ in results}
    assert found[terms["common"]] > 0
    assert found[terms["unused"]] == 0
    for line in search_bench.report(results):
        assert re.fullmatch(r".+ \(\d+ found\): \d+\.\d ms, \d+ queries", line), line
    assert all(queries <= 3 for *_, queries in results)
