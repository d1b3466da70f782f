"""The council API: officers' tokens (made once, stored as a digest, revoked, and dead once their officer is not),
scoping to one council, read-only JSON, pagination, filters, validation, throttling, what each endpoint publishes,
and a fixed number of queries per endpoint whatever the council's size."""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import timezone

from engagement.api import tokens
from engagement.models import ApiToken, EngagementSnapshot
from initiatives.models import Backing, Outcome
from neighbourhoods.models import CouncilMembership, Group
from tests.engagement.api_support import bearer, make_officer, make_token, snapshot_council, with_two_step
from tests.factories import (
    CouncilFactory,
    CouncilMembershipFactory,
    CouncilOfferFactory,
    GroupFactory,
    InitiativeFactory,
    NeighbourhoodFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ENDPOINTS = ("neighbourhoods", "metrics", "metrics-deciles", "initiatives", "ledger")


def url(name: str, council, **query) -> str:
    path = reverse(f"api:{name}", args=[council.slug])
    if query:
        path += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return path


def tokens_page(council) -> str:
    return reverse("api:tokens", args=[council.slug])


# --- Tokens: made, shown once, stored as a digest, revoked ---------------------------------------------------------


def test_an_officer_makes_a_token_that_is_shown_once_and_stored_only_as_a_digest(client):
    council = CouncilFactory()
    officer = make_officer(council)
    client.force_login(officer)

    assert client.get(tokens_page(council)).status_code == 200
    made = client.post(tokens_page(council), {"name": "Ward reports"})
    assert made.status_code == 302
    assert made["Location"] == tokens_page(council)  # reloading the page never makes another

    response = client.get(tokens_page(council))
    assert "no-store" in response["Cache-Control"]
    token = response.context["new_token"]
    assert token.startswith("ssk_")
    assert len(token) > 40
    assert token in response.content.decode()
    stored = ApiToken.objects.get(user=officer, council=council)
    assert stored.name == "Ward reports"
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest()
    assert stored.prefix == token[:12]
    assert token not in {str(getattr(stored, field.attname)) for field in ApiToken._meta.fields}

    assert "api_token_just_made" not in client.session
    again = client.get(tokens_page(council)).content.decode()
    assert token not in again
    assert stored.prefix in again
    assert "Ward reports" in again


def test_a_token_needs_a_name_and_a_mistake_keeps_nothing(client):
    council = CouncilFactory()
    client.force_login(make_officer(council))
    response = client.post(tokens_page(council), {"name": "  "})
    assert response.status_code == 200
    assert "Give the token a name." in response.content.decode()
    assert response.context["new_token"] is None
    assert not ApiToken.objects.exists()


def test_an_officer_has_at_most_ten_live_tokens(client):
    council = CouncilFactory()
    officer = make_officer(council)
    for number in range(tokens.MAX_LIVE_TOKENS):
        make_token(council, officer, name=f"Token {number}")
    client.force_login(officer)

    response = client.post(tokens_page(council), {"name": "One too many"})
    assert "Revoke one you no longer use first." in response.content.decode()
    assert ApiToken.objects.filter(user=officer).count() == tokens.MAX_LIVE_TOKENS

    revoked = ApiToken.objects.filter(user=officer).first()
    client.post(reverse("api:token-revoke", args=[council.slug, revoked.pk]))
    client.post(tokens_page(council), {"name": "Now it fits"})
    assert ApiToken.objects.filter(user=officer, revoked_at__isnull=True).count() == tokens.MAX_LIVE_TOKENS


def test_revoking_a_token_stops_it_working_at_once(client):
    council = CouncilFactory()
    officer = make_officer(council)
    token = make_token(council, officer)
    assert client.get(url("neighbourhoods", council), **bearer(token)).status_code == 200

    client.force_login(officer)
    api_token = ApiToken.objects.get(user=officer)
    response = client.post(reverse("api:token-revoke", args=[council.slug, api_token.pk]), follow=True)
    assert "no longer works" in response.content.decode()
    assert "Revoked on" in response.content.decode()
    client.logout()

    response = client.get(url("neighbourhoods", council), **bearer(token))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_officer_cannot_revoke_someone_elses_token(client):
    council = CouncilFactory()
    colleague_token = make_token(council)
    client.force_login(make_officer(council))
    theirs = ApiToken.objects.get()
    assert client.post(reverse("api:token-revoke", args=[council.slug, theirs.pk])).status_code == 404
    assert client.get(url("neighbourhoods", council), **bearer(colleague_token)).status_code == 200
    assert client.get(reverse("api:token-revoke", args=[council.slug, theirs.pk])).status_code == 405


@pytest.mark.parametrize(
    "change", ["officer removed", "removed and invited back", "account deactivated", "two-step sign-in off"]
)
def test_a_token_dies_with_its_officers_access(client, change):
    council = CouncilFactory()
    officer = make_officer(council)
    token = make_token(council, officer)
    assert client.get(url("metrics", council), **bearer(token)).status_code == 200

    if change == "officer removed":
        CouncilMembership.objects.filter(user=officer).delete()
    elif change == "removed and invited back":
        CouncilMembership.objects.filter(user=officer).delete()
        CouncilMembership.objects.create(council=council, user=officer)
    elif change == "account deactivated":
        officer.is_active = False
        officer.save(update_fields=["is_active"])
    else:
        Authenticator.objects.filter(user=officer).delete()

    response = client.get(url("metrics", council), **bearer(token))
    assert response.status_code == 401
    assert response.json() == {"detail": "The token is not valid, or no longer works."}


def test_a_token_survives_its_officer_becoming_council_admin(client):
    council = CouncilFactory()
    officer = make_officer(council)
    token = make_token(council, officer)
    CouncilMembership.objects.filter(user=officer).update(role=CouncilMembership.Role.ADMIN)
    assert client.get(url("metrics", council), **bearer(token)).status_code == 200


def test_a_token_of_an_officer_of_two_councils_reads_only_its_own(client):
    home, other = CouncilFactory(), CouncilFactory()
    officer = make_officer(home)
    CouncilMembershipFactory(council=other, user=officer)
    token = make_token(home, officer)
    for name in ENDPOINTS:
        assert client.get(url(name, home), **bearer(token)).status_code == 200
        elsewhere = client.get(url(name, other), **bearer(token))
        nowhere = client.get(url(name, CouncilFactory.build(slug="no-such-council")), **bearer(token))
        assert elsewhere.status_code == nowhere.status_code == 404
        assert elsewhere.json() == nowhere.json()


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ssk_not-a-real-token", "Bearer two parts", "Token nope", "Basic dXNlcjpwYXNz"],
)
def test_without_a_working_token_the_api_answers_401(client, header):
    council = CouncilFactory()
    make_token(council)
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(url("metrics", council), **extra)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_the_token_keyword_works_too_and_last_use_is_noted_at_most_once_a_minute(client):
    council = CouncilFactory()
    token = make_token(council)
    api_token = ApiToken.objects.get()
    assert api_token.last_used_at is None

    assert client.get(url("neighbourhoods", council), HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    api_token.refresh_from_db()
    first = api_token.last_used_at
    assert first is not None

    client.get(url("neighbourhoods", council), **bearer(token))
    api_token.refresh_from_db()
    assert api_token.last_used_at == first  # within the minute: not written again

    ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    client.get(url("neighbourhoods", council), **bearer(token))
    api_token.refresh_from_db()
    assert api_token.last_used_at > first


# --- Who reaches the tokens page -----------------------------------------------------------------------------------


def test_the_tokens_page_is_for_the_councils_officers_only(client):
    council, other = CouncilFactory(), CouncilFactory()

    response = client.get(tokens_page(council))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]

    client.force_login(with_two_step(UserFactory()))  # a resident
    assert client.get(tokens_page(council)).status_code == 404
    assert client.post(tokens_page(council), {"name": "x"}).status_code == 404

    client.force_login(make_officer(other))  # another council's officer
    assert client.get(tokens_page(council)).status_code == 404

    without = CouncilMembershipFactory(council=council).user
    Authenticator.objects.filter(user=without).delete()
    client.force_login(without)
    response = client.get(tokens_page(council))
    assert response.status_code == 403
    assert "api_tokens.html" not in [template.name for template in response.templates]
    assert client.post(tokens_page(council), {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_the_council_navigation_links_to_the_tokens_page(client):
    council = CouncilFactory()
    client.force_login(make_officer(council))
    html = client.get(reverse("initiatives:offers", args=[council.slug])).content.decode()
    assert f'href="{tokens_page(council)}"' in html
    assert 'aria-current="page">API tokens' in client.get(tokens_page(council)).content.decode()


# --- Read-only JSON ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_are_not_allowed(client, method):
    council = CouncilFactory()
    token = make_token(council)
    for name in ENDPOINTS:
        response = getattr(client, method)(
            url(name, council), data={}, content_type="application/json", **bearer(token)
        )
        assert response.status_code == 405
        assert "GET" in response["Allow"]


def test_the_api_speaks_only_json(client):
    council = CouncilFactory()
    token = make_token(council)
    assert client.get(url("metrics", council), HTTP_ACCEPT="text/html", **bearer(token)).status_code == 406
    response = client.get(url("metrics", council), **bearer(token))
    assert response["Content-Type"] == "application/json"


# --- Pagination, filters and validation ----------------------------------------------------------------------------


def test_lists_come_in_pages(client):
    council, areas = snapshot_council(size=7)
    token = make_token(council)
    first = client.get(url("neighbourhoods", council, page_size=3), **bearer(token)).json()
    assert first["count"] == 7
    assert len(first["results"]) == 3
    assert first["previous"] is None
    assert "page=2" in first["next"]
    last = client.get(url("neighbourhoods", council, page_size=3, page=3), **bearer(token)).json()
    assert len(last["results"]) == 1
    assert last["next"] is None
    names = [
        area["name"]
        for page in (1, 2, 3)
        for area in client.get(url("neighbourhoods", council, page_size=3, page=page), **bearer(token)).json()[
            "results"
        ]
    ]
    assert names == sorted(area.name for area in areas)

    metrics = client.get(url("metrics", council, page_size=2), **bearer(token)).json()
    assert metrics["count"] == 7
    assert len(metrics["results"]) == 2
    assert "totals" in metrics

    assert client.get(url("neighbourhoods", council, page=9), **bearer(token)).status_code == 404
    assert client.get(url("neighbourhoods", council, page="abc"), **bearer(token)).status_code == 404


def test_a_page_holds_at_most_a_hundred(client):
    council = CouncilFactory()
    NeighbourhoodFactory.create_batch(105, council=council)
    token = make_token(council)
    data = client.get(url("neighbourhoods", council, page_size=1000), **bearer(token)).json()
    assert data["count"] == 105
    assert len(data["results"]) == 100
    assert len(client.get(url("neighbourhoods", council), **bearer(token)).json()["results"]) == 50


def test_neighbourhoods_are_filtered_by_decile_and_ward(client):
    council, areas = snapshot_council(size=12)
    token = make_token(council)
    data = client.get(url("neighbourhoods", council, decile=3), **bearer(token)).json()
    assert {row["code"] for row in data["results"]} == {area.code for area in areas if area.imd_decile == 3}
    data = client.get(url("neighbourhoods", council, ward="Splott"), **bearer(token)).json()
    assert {row["code"] for row in data["results"]} == {area.code for area in areas if area.ward == "Splott"}
    first = data["results"][0]
    assert set(first) == {"code", "slug", "name", "ward", "decile", "households", "has_boundary"}


def test_filtered_metrics_show_the_filtered_neighbourhoods_and_their_groups_totals(client):
    council, areas = snapshot_council(size=30, seed=4)
    token = make_token(council)
    whole = client.get(url("metrics", council, page_size=100), **bearer(token)).json()
    decile = client.get(url("metrics", council, decile=2), **bearer(token)).json()
    by_decile = client.get(url("metrics-deciles", council), **bearer(token)).json()

    assert {row["code"] for row in decile["results"]} == {area.code for area in areas if area.imd_decile == 2}
    assert decile["filters"]["decile"] == 2
    # A neighbourhood reads the same with or without the filter, and the filtered totals are the decile's row.
    cells = {row["code"]: row["metrics"] for row in whole["results"]}
    for row in decile["results"]:
        assert row["metrics"] == cells[row["code"]]
    decile_row = next(row for row in by_decile["results"] if row["decile"] == 2)
    assert decile["totals"]["metrics"] == decile_row["metrics"]

    ward = client.get(url("metrics", council, ward="Adamsdown"), **bearer(token)).json()
    assert {row["ward"] for row in ward["results"]} == {"Adamsdown"}


def test_metrics_sort_by_a_published_figure(client):
    council, _areas = snapshot_council(size=15, seed=2)
    token = make_token(council)
    rows = client.get(url("metrics", council, sort="members", dir="desc"), **bearer(token)).json()["results"]
    known = [row["metrics"]["members"]["value"] for row in rows if row["metrics"]["members"]["value"] is not None]
    assert known == sorted(known, reverse=True)
    hidden = [row for row in rows if row["metrics"]["members"]["value"] is None]
    assert rows[len(known) :] == hidden  # hidden figures together, after the rest
    assert [row["name"] for row in hidden] == sorted(row["name"] for row in hidden)


@pytest.mark.parametrize(
    ("name", "query", "field"),
    [
        ("metrics", {"decile": "abc"}, "decile"),
        ("metrics", {"decile": 11}, "decile"),
        ("metrics", {"ward": "Nowhere"}, "ward"),
        ("metrics", {"sort": "email"}, "sort"),
        ("metrics", {"dir": "sideways"}, "dir"),
        ("neighbourhoods", {"decile": 0}, "decile"),
        ("timeseries", {}, "metric"),
        ("timeseries", {"metric": "names"}, "metric"),
        ("timeseries", {"metric": "members", "weeks": 500}, "weeks"),
        ("timeseries", {"metric": "members", "neighbourhood": "W99999999"}, "neighbourhood"),
        ("initiatives", {"status": "secret"}, "status"),
    ],
)
def test_bad_query_parameters_are_a_400_that_says_which(client, name, query, field):
    council, _areas = snapshot_council(size=3)
    token = make_token(council)
    response = client.get(url(name, council, **query), **bearer(token))
    assert response.status_code == 400
    assert field in response.json()


def test_a_neighbourhood_of_another_council_is_as_unknown_as_none(client):
    council, _areas = snapshot_council(size=3)
    elsewhere = NeighbourhoodFactory()
    token = make_token(council)
    theirs = client.get(url("timeseries", council, metric="members", neighbourhood=elsewhere.code), **bearer(token))
    none = client.get(url("timeseries", council, metric="members", neighbourhood="W01XXXXXX"), **bearer(token))
    assert theirs.status_code == none.status_code == 400
    assert theirs.json() == none.json()


# --- Throttling ----------------------------------------------------------------------------------------------------


def test_each_token_is_rate_limited_with_retry_after(client, settings):
    settings.ENGAGEMENT_API_RATE = "3/min"
    council = CouncilFactory()
    token, other = make_token(council), make_token(council)
    for _ in range(3):
        assert client.get(url("neighbourhoods", council), **bearer(token)).status_code == 200
    response = client.get(url("neighbourhoods", council), **bearer(token))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert client.get(url("neighbourhoods", council), **bearer(other)).status_code == 200


# --- What the endpoints publish ------------------------------------------------------------------------------------


def test_metrics_publish_every_figure_through_suppression(client):
    council = CouncilFactory()
    big = NeighbourhoodFactory(council=council, name="Adamsdown", households=1000)
    middle = NeighbourhoodFactory(council=council, name="Middle", households=800)
    quiet = NeighbourhoodFactory(council=council, name="Quiet", households=500)
    today = timezone.localdate()
    for area, members, know_one in ((big, 302, 4), (middle, 52, 0), (quiet, 7, 3)):
        EngagementSnapshot.objects.create(
            neighbourhood=area, date=today, households=area.households, members=members, know_one=know_one
        )
    token = make_token(council)

    data = client.get(url("metrics", council), **bearer(token)).json()
    assert data["as_of"] == today.isoformat()
    rows = {row["name"]: row["metrics"] for row in data["results"]}
    hidden = {"value": None, "display": "<10", "suppressed": True}
    assert rows["Adamsdown"]["members"] == {"value": 300, "display": "300", "suppressed": False}
    assert rows["Adamsdown"]["reach"] == {"value": 30, "display": "30%", "suppressed": False}
    assert rows["Adamsdown"]["know_one"] == hidden
    assert rows["Adamsdown"]["connection_rate"] == {"value": None, "display": "not shown", "suppressed": True}
    assert rows["Quiet"]["members"] == hidden
    assert rows["Quiet"]["reach"]["suppressed"] is True
    # One hidden cell in a column would be given away by the total: the next smallest is hidden too.
    assert rows["Middle"]["members"] == hidden
    assert rows["Middle"]["know_one"] == {"value": 0, "display": "0", "suppressed": False}
    assert data["totals"]["metrics"]["members"] == {"value": 360, "display": "360", "suppressed": False}
    assert {column["key"] for column in data["columns"]} == set(rows["Adamsdown"])


def test_deciles_and_timeseries(client):
    council, areas = snapshot_council(size=10, seed=3, values=lambda rng, key: 40)
    token = make_token(council)
    deciles = client.get(url("metrics-deciles", council), **bearer(token)).json()
    assert [row["decile"] for row in deciles["results"]] == list(range(1, 11))
    assert all(row["neighbourhoods"] == 1 for row in deciles["results"])
    assert deciles["results"][0]["metrics"]["members"]["value"] == 40
    assert deciles["totals"]["metrics"]["members"]["value"] == 400

    last_week = timezone.localdate() - timedelta(weeks=1)
    EngagementSnapshot.objects.bulk_create(
        EngagementSnapshot(neighbourhood=area, date=last_week, members=3) for area in areas
    )
    series = client.get(url("timeseries", council, metric="members", weeks=4), **bearer(token)).json()
    assert series["neighbourhood"] is None
    assert series["kind"] == "count"
    assert [point["value"] for point in series["points"]] == [30, 400]
    one = client.get(
        url("timeseries", council, metric="members", weeks=4, neighbourhood=areas[0].code), **bearer(token)
    ).json()
    assert one["neighbourhood"] == areas[0].code
    assert [(point["display"], point["suppressed"]) for point in one["points"]] == [("<10", True), ("40", False)]


def test_initiatives_lists_public_ones_only_with_supporters_published(client):
    council = CouncilFactory()
    area = NeighbourhoodFactory(council=council)
    public = InitiativeFactory(group=GroupFactory(neighbourhood=area), title="Open garden", support_count=3)
    everyone = InitiativeFactory(group=None, neighbourhood=area, title="Whole area", support_count=27, status="active")
    InitiativeFactory(
        group=GroupFactory(neighbourhood=area, visibility=Group.Visibility.MEMBERS), title="Members-only plan"
    )
    InitiativeFactory(title="Another council's")
    Backing.objects.create(
        offer=CouncilOfferFactory(council=council),
        initiative=everyone,
        status=Backing.Status.APPROVED,
        decided_at=timezone.now(),
    )
    token = make_token(council)

    response = client.get(url("initiatives", council), **bearer(token))
    body = response.content.decode()
    assert "Members-only plan" not in body
    assert "Another council" not in body
    rows = {row["title"]: row for row in response.json()["results"]}
    assert set(rows) == {"Open garden", "Whole area"}
    assert rows["Open garden"]["supporters"] == {"value": None, "display": "<10", "suppressed": True}
    assert rows["Whole area"]["supporters"] == {"value": 25, "display": "25", "suppressed": False}
    assert (rows["Whole area"]["backed"], rows["Open garden"]["backed"]) == (True, False)
    assert rows["Open garden"]["url"].endswith(public.get_absolute_url())
    assert rows["Open garden"]["neighbourhood"] == {"code": area.code, "name": area.name}

    active = client.get(url("initiatives", council, status="active"), **bearer(token)).json()
    assert [row["title"] for row in active["results"]] == ["Whole area"]
    here = client.get(url("initiatives", council, neighbourhood=area.code), **bearer(token)).json()
    assert here["count"] == 2


def test_the_ledger_shows_what_the_public_ledger_shows(client):
    council = CouncilFactory()
    area = NeighbourhoodFactory(council=council, name="Splott")
    offer = CouncilOfferFactory(council=council, title="Skip hire", amount=Decimal("250.00"))
    garden = InitiativeFactory(group=GroupFactory(neighbourhood=area), title="Open garden", status="completed")
    hidden = InitiativeFactory(
        group=GroupFactory(neighbourhood=area, visibility=Group.Visibility.MEMBERS), title="Members-only plan"
    )
    Outcome.objects.create(initiative=garden, people_involved=6, volunteer_hours=Decimal("31.5"), what_changed="Beds")
    Outcome.objects.create(initiative=hidden, people_involved=40, volunteer_hours=5, what_changed="Private notes")
    now = timezone.now()
    Backing.objects.create(offer=offer, initiative=garden, status=Backing.Status.APPROVED, decided_at=now)
    Backing.objects.create(
        offer=offer, initiative=hidden, status=Backing.Status.APPROVED, decided_at=now - timedelta(days=1)
    )
    Backing.objects.create(offer=CouncilOfferFactory(council=council), initiative=garden, status="requested")
    token = make_token(council)

    response = client.get(url("ledger", council), **bearer(token))
    body = response.content.decode()
    assert "Members-only plan" not in body
    assert "Private notes" not in body
    data = response.json()
    assert data["count"] == 2
    assert data["totals"] == {"initiatives_backed": 2, "value": "500.00"}
    shown, anonymous = data["results"]
    assert shown["initiative"]["title"] == "Open garden"
    assert shown["initiative"]["public"] is True
    assert shown["offer"] == {"title": "Skip hire", "kind": "grant", "amount": "250.00"}
    assert shown["outcome"]["people_involved"] == {"value": None, "display": "<10", "suppressed": True}
    assert shown["outcome"]["volunteer_hours"] == {"value": 30, "display": "30", "suppressed": False}
    assert anonymous["initiative"] == {
        "public": False,
        "title": "A community initiative in Splott",
        "slug": None,
        "url": None,
        "neighbourhood": "Splott",
    }
    assert anonymous["outcome"] is None


# --- Query budgets -------------------------------------------------------------------------------------------------


def _busy_council(size: int):
    council, areas = snapshot_council(size=size, seed=size)
    offer = CouncilOfferFactory(council=council)
    for index, area in enumerate(areas[:5]):
        group = GroupFactory(neighbourhood=area, visibility="members" if index % 2 else "public")
        initiative = InitiativeFactory(group=group, support_count=index * 7)
        Outcome.objects.create(initiative=initiative, people_involved=12, volunteer_hours=20, what_changed="Done")
        Backing.objects.create(
            offer=offer, initiative=initiative, status=Backing.Status.APPROVED, decided_at=timezone.now()
        )
        InitiativeFactory(group=None, neighbourhood=area)
    return council, areas


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("neighbourhoods", {}),
        ("metrics", {}),
        ("metrics", {"decile": 2, "ward": "Splott"}),
        ("metrics-deciles", {}),
        ("timeseries", {"metric": "reach"}),
        ("timeseries", {"metric": "members", "neighbourhood": "first"}),
        ("initiatives", {}),
        ("ledger", {}),
    ],
)
def test_each_endpoint_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size, name, query):
    council, areas = _busy_council(size)
    if query.get("neighbourhood") == "first":
        query = {**query, "neighbourhood": areas[0].code}
    token = make_token(council)
    client.get(url("neighbourhoods", council), **bearer(token))  # last use noted: later calls don't write
    # Token and its officer (1), the page's reads (at most 5): the same for 5 neighbourhoods or 60.
    with django_assert_max_num_queries(6):
        response = client.get(url(name, council, **query), **bearer(token))
    assert response.status_code == 200
