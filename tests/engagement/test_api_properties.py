"""What the API publishes, over generated councils: no count from 1 to 9 and every count a multiple of 5, no column
with a lone hidden cell beside a published total, no filtered total that lets a small rest of the council be worked
out; and never a resident's name, email or id, nor anything of a members-only group, in any response."""

import json
import random
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement.metrics import METRICS, STORED
from engagement.models import EngagementSnapshot
from engagement.services import snapshots
from initiatives.models import Backing, Outcome, Support
from neighbourhoods.models import Group
from tests.engagement.api_support import WARDS, bearer, keys_in, make_token, published_cells
from tests.factories import (
    CouncilFactory,
    CouncilOfferFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    PostFactory,
    UserFactory,
    VolunteerRoleFactory,
)

pytestmark = pytest.mark.django_db

COUNT_KEYS = [metric.key for metric in METRICS if metric.is_count]
PERCENTS = [metric for metric in METRICS if not metric.is_count]

counts = st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 14), st.integers(0, 400))
areas = st.fixed_dictionaries(
    {
        "figures": st.fixed_dictionaries(dict.fromkeys(STORED, counts)),
        "decile": st.integers(1, 4),
        "ward": st.sampled_from(WARDS),
        "households": st.one_of(st.none(), st.integers(1, 3000)),
    }
)


def build(drawn: list[dict]):
    council = CouncilFactory()
    today = timezone.localdate()
    rows = []
    for spec in drawn:
        area = NeighbourhoodFactory(
            council=council, imd_decile=spec["decile"], ward=spec["ward"], households=spec["households"]
        )
        figures = dict(spec["figures"])
        figures["know_one"] = min(figures["know_one"], figures["members"])
        figures["know_three"] = min(figures["know_three"], figures["know_one"])
        spec["figures"] = figures
        spec["code"] = area.code
        rows.append(EngagementSnapshot(neighbourhood=area, date=today, households=spec["households"], **figures))
    EngagementSnapshot.objects.bulk_create(rows)
    return council


def get(client, token, name, council, **query):
    response = client.get(reverse(f"api:{name}", args=[council.slug]), query, **bearer(token))
    assert response.status_code == 200, response.content
    return response.json()


def assert_count_publishable(cell):
    if cell["suppressed"]:
        assert cell["value"] is None
        assert cell["display"] == "<10"
    else:
        value = cell["value"]
        assert value is None or value == 0 or (value >= 10 and value % 5 == 0), cell


def assert_table_publishable(rows: list[dict], totals: dict):
    for row in [*rows, totals]:
        for key in COUNT_KEYS:
            assert_count_publishable(row[key])
        for metric in PERCENTS:
            # A percentage of a hidden count is hidden too.
            if row[metric.numerator]["suppressed"] or (
                metric.denominator in row and row[metric.denominator]["suppressed"]
            ):
                assert row[metric.key]["suppressed"], metric.key
    for key in COUNT_KEYS:
        hidden = sum(1 for row in rows if row[key]["suppressed"])
        # One hidden cell beside a published total could be worked out by subtraction.
        assert hidden != 1 or totals[key]["suppressed"], key


@given(drawn=st.lists(areas, min_size=1, max_size=10), pick=st.integers(0, 9))
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_figure_the_api_publishes_is_safe(client, drawn, pick):
    council = build(drawn)
    token = make_token(council)
    threshold = 10

    whole = get(client, token, "metrics", council, page_size=100)
    assert whole["count"] == len(drawn)
    assert_table_publishable([row["metrics"] for row in whole["results"]], whole["totals"]["metrics"])

    deciles = get(client, token, "metrics-deciles", council)
    filled = [row["metrics"] for row in deciles["results"] if row["neighbourhoods"]]
    assert_table_publishable(filled, deciles["totals"]["metrics"])

    # A filtered view: one decile or ward, or both, chosen from those drawn.
    chosen = drawn[pick % len(drawn)]
    queries = [{"decile": chosen["decile"]}]
    if chosen["ward"]:
        queries += [{"ward": chosen["ward"]}, {"decile": chosen["decile"], "ward": chosen["ward"]}]
    for query in queries:
        filtered = get(client, token, "metrics", council, page_size=100, **query)
        shown = [row["metrics"] for row in filtered["results"]]
        assert_table_publishable(shown, filtered["totals"]["metrics"])
        picked = [
            spec
            for spec in drawn
            if spec["decile"] == query.get("decile", spec["decile"]) and spec["ward"] == query.get("ward", spec["ward"])
        ]
        assert {row["code"] for row in filtered["results"]} == {spec["code"] for spec in picked}
        for key in COUNT_KEYS:
            total = filtered["totals"]["metrics"][key]
            council_total = whole["totals"]["metrics"][key]
            if total["suppressed"] or council_total["suppressed"]:
                continue
            rest = sum(spec["figures"][key] for spec in drawn) - sum(spec["figures"][key] for spec in picked)
            # Both totals published: the rest of the council they reveal is never a small number.
            assert rest == 0 or rest >= threshold, (key, query, rest)

    series = get(client, token, "timeseries", council, metric=random.Random(pick).choice(COUNT_KEYS), weeks=2)
    for point in series["points"]:
        assert_count_publishable(point)


def _resident(name: str):
    return UserFactory(email=f"{name.lower().replace(' ', '.')}@example.org", profile__display_name=name)


def test_no_resident_or_members_only_content_reaches_any_response(client):
    council = CouncilFactory()
    area = NeighbourhoodFactory(council=council, name="Splott")
    public = GroupFactory(neighbourhood=area, name="Railway Street")
    private = GroupFactory(neighbourhood=area, name="Quiet Close", visibility=Group.Visibility.MEMBERS)
    people = {
        name: _resident(name)
        for name in ("Zebedee Quartermaine", "Philippa Oddington", "Barnaby Thistlewood", "Ottoline Fairweather")
    }
    for index, person in enumerate(people.values()):
        MembershipFactory(group=public if index % 2 else private, user=person)
    garden = InitiativeFactory(group=public, title="Railway garden", status="completed", support_count=2)
    secret = InitiativeFactory(group=private, title="Quiet Close secret plan", summary="Only for our close")
    InitiativeRoleFactory(initiative=garden, user=people["Zebedee Quartermaine"])
    InitiativeRoleFactory(initiative=secret, user=people["Philippa Oddington"])
    for person in people.values():
        Support.objects.create(initiative=garden, user=person, note=f"{person.profile.display_name} supports this")
    VolunteerRoleFactory(initiative=garden).signups.create(user=people["Barnaby Thistlewood"])
    PostFactory(group=private, author=people["Ottoline Fairweather"], title="Members-only notice about the close")
    Outcome.objects.create(
        initiative=garden,
        people_involved=4,
        volunteer_hours=Decimal("9"),
        what_changed="Beds planted",
        recorded_by=people["Zebedee Quartermaine"],
    )
    Outcome.objects.create(
        initiative=secret, people_involved=3, volunteer_hours=2, what_changed="Quiet Close private outcome"
    )
    offer = CouncilOfferFactory(council=council)
    for initiative in (garden, secret):
        Backing.objects.create(
            offer=offer, initiative=initiative, status=Backing.Status.APPROVED, decided_at=timezone.now()
        )
    token = make_token(council)

    bodies = []
    for name, query in (
        ("neighbourhoods", {}),
        ("metrics", {}),  # counted live: no snapshot yet
        ("metrics-deciles", {}),
        ("initiatives", {}),
        ("ledger", {}),
    ):
        bodies.append(get(client, token, name, council, **query))
    snapshots.take_snapshots(on=timezone.localdate())
    bodies.append(get(client, token, "metrics", council))
    bodies.append(get(client, token, "timeseries", council, metric="members", neighbourhood=area.code))

    text = json.dumps(bodies)
    for person in people.values():
        assert person.profile.display_name not in text
        assert person.email not in text
        assert person.email.split("@")[0] not in text
    for private_text in ("Quiet Close", "secret plan", "Only for our close", "Members-only notice", "private outcome"):
        assert private_text not in text
    assert "Railway garden" in text  # the public initiative is there

    forbidden = {"user", "user_id", "email", "author", "created_by", "recorded_by", "address", "supporters_list"}
    assert not set(keys_in(bodies)) & forbidden
    for cell in published_cells(bodies):
        if isinstance(cell["value"], int) and not cell["display"].endswith("%"):
            assert cell["value"] == 0 or cell["value"] >= 10
