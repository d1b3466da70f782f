"""The trends and map pages: officers of the council only, published figures only, a fixed number of queries."""

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement.models import EngagementSnapshot
from tests.factories import (
    CouncilFactory,
    CouncilMembershipFactory,
    GroupFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
PAGES = ("engagement:trends", "engagement:map")


def square(n: int) -> dict:
    lon, lat = -3.25 + (n % 10) * 0.01, 51.45 + (n // 10) * 0.01
    ring = [[lon, lat], [lon + 0.009, lat], [lon + 0.009, lat + 0.009], [lon, lat + 0.009], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def make_officer(council, *, role="officer", mfa=True):
    return CouncilMembershipFactory(council=council, role=role, totp=mfa).user


def build_council(count: int, *, weeks: int = 52, boundaries: bool = True):
    """A council of `count` neighbourhoods (the last has no boundary) with a year of weekly snapshots. Members grow
    by one a week from a neighbourhood's own start, so some weeks sit in 1 to 9 and must never be printed."""
    council = CouncilFactory(name="Caerwen", slug="caerwen")
    areas = [
        NeighbourhoodFactory(
            council=council,
            name=f"Area {n:02d}",
            slug=f"area-{n:02d}",
            imd_decile=n % 10 + 1,
            boundary=square(n) if boundaries and n < count - 1 else None,
        )
        for n in range(count)
    ]
    today = timezone.localdate()
    EngagementSnapshot.objects.bulk_create(
        EngagementSnapshot(
            neighbourhood=area,
            date=today - timedelta(weeks=back),
            households=area.households,
            members=max(0, n * 3 + (weeks - back) - 20),
            know_one=max(0, n + (weeks - back) // 3 - 5),
            groups=2,
        )
        for n, area in enumerate(areas)
        for back in range(weeks, -1, -1)
    )
    return council, areas


@pytest.fixture
def council_and_areas():
    return build_council(12)


@pytest.fixture
def officer_client(client, council_and_areas):
    client.force_login(make_officer(council_and_areas[0]))
    return client


def url(name, council, **query):
    base = reverse(name, args=[council.slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def text_of(response) -> str:
    return response.content.decode()


def svgs(html: str) -> list[ET.Element]:
    """The charts on the page (not the small swatches of the map's key)."""
    found = re.findall(r'<svg [^>]*class="chart .*?</svg>', html, flags=re.S)
    return [ET.fromstring(match) for match in found]  # noqa: S314


def map_key(html: str) -> list[str]:
    """The words of the map's key, one per swatch."""
    key = re.search(r'<ul aria-labelledby="map-key-title">(.*?)</ul>', html, flags=re.S)
    items = re.findall(r"<li>(.*?)</li>", key.group(1), flags=re.S) if key else []
    return [re.sub(r"<svg.*?</svg>", "", item, flags=re.S).strip().replace("&lt;", "<") for item in items]


def table_cells(html: str) -> list[str]:
    """The published figures in the page's tables (not the count of neighbourhoods in a decile), as displayed."""
    cells = re.findall(r'<td class="figure">(.*?)</td>', html, flags=re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip().replace("&lt;", "<") for cell in cells]


def assert_only_published_counts(values):
    """Every figure is 0, "<10", a whole percent, or a count of 10 or more that is a multiple of 5."""
    for value in values:
        value = value.replace(",", "")
        words = ("", "\N{EN DASH}", "<10", "not known", "not shown", "Not known", "Not shown", "Not shown (<10)", "0")
        if value in words or value.endswith("%"):
            continue
        assert value.isdigit(), value
        assert int(value) >= 10, value
        assert int(value) % 5 == 0, value


# --- who may see them ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["officer", "admin"])
def test_officers_and_admins_of_the_council_see_the_page(client, council_and_areas, page, role):
    council, _areas = council_and_areas
    client.force_login(make_officer(council, role=role))
    response = client.get(url(page, council))
    assert response.status_code == 200
    assert 'role="img"' in text_of(response)


@pytest.mark.parametrize("page", PAGES)
def test_an_officer_of_another_council_gets_a_404(client, council_and_areas, page):
    council, _areas = council_and_areas
    client.force_login(make_officer(CouncilFactory()))
    assert client.get(url(page, council)).status_code == 404
    assert client.get(url(page, council, format="csv")).status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_a_resident_gets_a_404_and_a_visitor_is_sent_to_sign_in(client, council_and_areas, page):
    council, areas = council_and_areas
    resident = MembershipFactory(group=GroupFactory(neighbourhood=areas[0])).user
    response = client.get(url(page, council))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    client.force_login(resident)
    assert client.get(url(page, council)).status_code == 404
    assert client.get(reverse(page, args=["no-such-council"])).status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_an_officer_without_two_step_sign_in_sees_why_and_no_figures(client, council_and_areas, page):
    council, _areas = council_and_areas
    client.force_login(make_officer(council, mfa=False))
    for response in (client.get(url(page, council)), client.get(url(page, council, format="csv"))):
        assert response.status_code == 403
        html = text_of(response)
        assert reverse("mfa_activate_totp") in html
        assert "<svg" not in html
        assert "<table" not in html


# --- trends --------------------------------------------------------------------------------------------------------


def test_trends_draw_a_year_of_weeks_with_a_table_and_a_summary(officer_client, council_and_areas):
    council, _areas = council_and_areas
    html = text_of(officer_client.get(url("engagement:trends", council)))
    line, bars = svgs(html)
    assert line.find(f"{SVG}title").text == "Members each week in Caerwen"
    assert len(line.findall(f".//{SVG}path[@class='chart__line']")) == 1
    assert bars.find(f"{SVG}title").text == "Members by deprivation decile, latest figures"
    # The summary the chart carries is also printed under it.
    summary = line.find(f"{SVG}desc").text
    assert summary.startswith("Members rose from ")
    assert summary in html.replace("&#x27;", "'")
    # 53 weekly rows and 10 decile rows plus their total.
    assert html.count('<th scope="row">') == 53 + 10 + 1
    assert_only_published_counts(table_cells(html))


def test_one_neighbourhoods_weeks_show_its_small_numbers_as_hidden(officer_client, council_and_areas):
    council, _areas = council_and_areas
    html = text_of(officer_client.get(url("engagement:trends", council, area="area-00")))
    assert "Members each week in Area 00" in html
    cells = table_cells(html)
    assert "<10" in cells
    assert_only_published_counts(cells)
    line = svgs(html)[0]
    assert line.find(f".//{SVG}rect[@fill='url(#trend-line-not-shown)']") is not None


def test_a_rate_is_charted_in_percent(officer_client, council_and_areas):
    council, _areas = council_and_areas
    html = text_of(officer_client.get(url("engagement:trends", council, metric="connection_rate")))
    line = svgs(html)[0]
    assert line.find(f"{SVG}title").text == "Connection rate each week in Caerwen"
    assert any(t.text.endswith("%") for t in line.iter(f"{SVG}text") if t.text)


@pytest.mark.parametrize(
    ("query", "note"),
    [
        ({"metric": "<script>"}, "That figure is not one we publish, so this page shows Members."),
        ({"area": "area-elsewhere"}, "That neighbourhood is not one of the council&#x27;s, so this page shows all"),
        ({"metric": "members", "area": "x" * 5000}, "so this page shows all of them"),
    ],
)
def test_trends_fall_back_kindly_on_a_bad_address(officer_client, council_and_areas, query, note):
    council, _areas = council_and_areas
    NeighbourhoodFactory(slug="area-elsewhere")  # another council's
    response = officer_client.get(url("engagement:trends", council, **query))
    assert response.status_code == 200
    html = text_of(response)
    assert note in html
    assert "There is a problem" in html
    assert "<script>" not in html
    assert "Members each week in Caerwen" in html


def test_trends_before_any_snapshot_say_so(client):
    council = CouncilFactory()
    NeighbourhoodFactory(council=council)
    client.force_login(make_officer(council))
    html = text_of(client.get(url("engagement:trends", council)))
    assert "There are no weekly figures yet" in html
    assert len(svgs(html)) == 1  # the decile chart still shows today's figures


def test_trends_csv_is_the_weekly_series_as_published(officer_client, council_and_areas):
    council, _areas = council_and_areas
    response = officer_client.get(url("engagement:trends", council, area="area-01", metric="members", format="csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="caerwen-trends-members-area-01-{today}.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Week ending", "Area", "Members"]
    assert len(rows) == 54
    assert {row[1] for row in rows[1:]} == {"Area 01"}
    assert "<10" in [row[2] for row in rows[1:]]
    assert_only_published_counts(row[2] for row in rows[1:])


def test_csv_rates_are_plain_whole_percents(officer_client, council_and_areas):
    council, _areas = council_and_areas
    for page, column in (("engagement:trends", 2), ("engagement:map", 4)):
        response = officer_client.get(url(page, council, metric="reach", format="csv"))
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][column] == "Reach (%)"
        values = [row[column] for row in rows[1:]]
        assert all(value.isdigit() or value in ("<10", "not known") for value in values), values
        assert any(value.isdigit() for value in values)


# --- map -----------------------------------------------------------------------------------------------------------


def test_the_map_shades_each_neighbourhood_and_lists_those_without_a_boundary(officer_client, council_and_areas):
    council, areas = council_and_areas
    html = text_of(officer_client.get(url("engagement:map", council)))
    (drawn,) = svgs(html)
    assert drawn.get("role") == "img"
    paths = drawn.findall(f".//{SVG}path[@class='chart__area']")
    assert len(paths) == len(areas) - 1
    titles = {path.find(f"{SVG}title").text for path in paths}
    assert all(title.startswith("Area ") for title in titles)
    assert "Area 11" not in {title.split(":")[0] for title in titles}
    assert "Not on the map" in html
    assert re.search(r"<li>Area 11</li>", html)
    # The table holds every neighbourhood and the total.
    assert html.count('<th scope="row">') == len(areas) + 1
    assert_only_published_counts(table_cells(html))
    figures = chart_figures(html)
    assert len(figures) > len(areas)  # every area's title and the legend's ranges
    assert_only_published_counts(figures)


def test_a_hidden_figure_is_hatched_on_the_map_and_never_printed(client):
    council, areas = build_council(4, weeks=0)
    EngagementSnapshot.objects.filter(neighbourhood=areas[0]).update(members=7)
    EngagementSnapshot.objects.filter(neighbourhood=areas[1]).update(members=3)
    EngagementSnapshot.objects.filter(neighbourhood=areas[2]).update(members=42)
    EngagementSnapshot.objects.filter(neighbourhood=areas[3]).update(members=100)
    client.force_login(make_officer(council))
    html = text_of(client.get(url("engagement:map", council)))
    (drawn,) = svgs(html)
    titles = {p.find(f"{SVG}title").text: p.get("fill") for p in drawn.findall(f".//{SVG}path[@class='chart__area']")}
    assert titles["Area 00: Not shown (<10)"] == "url(#engagement-map-not-shown)"
    assert titles["Area 01: Not shown (<10)"] == "url(#engagement-map-not-shown)"
    assert "Area 02: 40" in titles
    cells = table_cells(html)
    assert cells.count("<10") >= 2
    assert "Area 03" in html.split("Not on the map")[1]
    # The true total is 152: published rounded (150) it cannot give the hidden pair away exactly.
    total = table_cells(html.split("<tfoot>")[1])[0]
    assert total in ("150", "<10")
    assert_only_published_counts(cells)


def test_map_of_a_percentage_uses_percent_ranges_in_its_legend(officer_client, council_and_areas):
    council, _areas = council_and_areas
    html = text_of(officer_client.get(url("engagement:map", council, metric="reach")))
    (drawn,) = svgs(html)
    assert drawn.find(f"{SVG}title").text == "Reach by neighbourhood in Caerwen"
    key = map_key(html)
    assert key
    assert all(label.endswith("%") or label.startswith("Not") for label in key)


def test_map_without_boundaries_keeps_the_table(client):
    council, areas = build_council(4, boundaries=False)
    client.force_login(make_officer(council))
    html = text_of(client.get(url("engagement:map", council, metric="nonsense")))
    assert "<svg" not in html
    assert "None of the council" in html
    assert "That figure is not one we publish, so this page shows Members." in html
    assert html.count('<th scope="row">') == len(areas) + 1


def test_map_csv_is_the_table_as_published(officer_client, council_and_areas):
    council, areas = council_and_areas
    response = officer_client.get(url("engagement:map", council, metric="members", format="csv"))
    assert response.status_code == 200
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="caerwen-map-members-{today}.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Neighbourhood", "Area code", "Ward", "Deprivation decile", "Members"]
    assert [row[0] for row in rows[1:]] == [area.name for area in areas] + ["All neighbourhoods"]
    assert_only_published_counts(row[4] for row in rows[1:])


def test_no_resident_is_named_anywhere(client):
    """Before the first snapshot the figures are counted live; still nothing about a person reaches the page."""
    council = CouncilFactory(slug="live")
    area = NeighbourhoodFactory(council=council, boundary=square(0))
    group = GroupFactory(neighbourhood=area, name="Zanzibar Close")
    planted = []
    for n in range(12):
        user = UserFactory(email=f"quixotic{n}@hidden.example")
        user.profile.display_name = f"Quillanthropa {n}"
        user.profile.save()
        MembershipFactory(group=group, user=user)
        planted += [user.email, user.profile.display_name, f"/{user.pk}/"]
    client.force_login(make_officer(council))
    for page in PAGES:
        for query in ({}, {"format": "csv"}, {"metric": "know_one", "area": area.slug}):
            response = client.get(url(page, council, **query))
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode()
            assert "Quillanthropa" not in text
            assert "quixotic" not in text
            assert "Zanzibar" not in text


# --- a fixed number of queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(
    ("page", "params", "ceiling"),
    [
        # session, user, membership, authenticator; then the page's own reads
        ("engagement:trends", {}, 9),
        ("engagement:trends", {"area": "area-02", "metric": "reach"}, 11),
        ("engagement:trends", {"format": "csv"}, 6),
        ("engagement:map", {}, 8),
        ("engagement:map", {"metric": "connection_rate", "format": "csv"}, 7),
    ],
)
def test_chart_pages_run_a_fixed_number_of_queries(client, django_assert_max_num_queries, size, page, params, ceiling):
    council, _areas = build_council(size)
    client.force_login(make_officer(council))
    with django_assert_max_num_queries(ceiling):
        response = client.get(url(page, council, **params))
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200


def test_month_ticks_label_each_month_once_with_the_year_in_january():
    from datetime import date

    from engagement.views.charting import month_ticks

    weeks = [date(2025, 12, 6) + timedelta(weeks=n) for n in range(53)]
    ticks = month_ticks(weeks)
    labels = [label for _index, label in ticks]
    # December 2025 is only caught for four weeks before January's label: too close to label both.
    assert labels[0] == "Jan 2026"
    assert labels[1:12] == ["Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert all(weeks[index].day <= 7 for index, _label in ticks)


def test_the_picker_shows_members_when_the_address_names_no_figure(officer_client, council_and_areas):
    council, _areas = council_and_areas
    html = text_of(officer_client.get(url("engagement:map", council)))
    assert re.search(r'<option value="members" selected>', html)


# --- whatever the figures ------------------------------------------------------------------------------------------

NUMBER = re.compile(r"^\d[\d,]*( to \d[\d,]*)?%?$")


def chart_figures(html: str) -> list[str]:
    """Every figure the charts print: values in area and bar titles, bar labels and the map key's ranges (not axis
    ticks, which are round steps of the scale, nor dates)."""
    found = [part for label in map_key(html) for part in label.rstrip("%").split(" to ")]
    for chart in svgs(html):
        for title in chart.iter(f"{SVG}title"):
            if title.get("id") is None and ": " in (title.text or ""):
                found.append(title.text.rsplit(": ", 1)[1])
        for text in chart.iter(f"{SVG}text"):
            if text.get("text-anchor") == "start" and NUMBER.match(text.text or ""):
                found.extend(part for part in text.text.rstrip("%").split(" to "))
    return found


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=40), min_size=3, max_size=3), min_size=2, max_size=6))
def test_no_count_from_1_to_9_and_every_count_a_multiple_of_5_on_the_chart_pages(client, weekly_members):
    """Any council's snapshots: every figure in the charts, tables and CSV files is 0, "<10" or a multiple of 5."""
    council = CouncilFactory()
    today = timezone.localdate()
    for n, weeks in enumerate(weekly_members):
        area = NeighbourhoodFactory(council=council, imd_decile=n % 3 + 1, households=200, boundary=square(n))
        EngagementSnapshot.objects.bulk_create(
            EngagementSnapshot(
                neighbourhood=area,
                date=today - timedelta(weeks=back),
                households=200,
                members=members,
                know_one=members // 2,
            )
            for back, members in enumerate(weeks)
        )
    client.force_login(make_officer(council))
    first = council.neighbourhoods.order_by("name").first()
    for metric in ("members", "know_one"):
        for page, query in (
            ("engagement:map", {"metric": metric}),
            ("engagement:trends", {"metric": metric}),
            ("engagement:trends", {"metric": metric, "area": first.slug}),
        ):
            html = text_of(client.get(url(page, council, **query)))
            assert_only_published_counts(table_cells(html))
            assert_only_published_counts(chart_figures(html))
            response = client.get(url(page, council, format="csv", **query))
            rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
            assert_only_published_counts(row[-1] for row in rows[1:])


def test_the_neighbourhood_picker_escapes_names_and_marks_the_choice(client):
    council = CouncilFactory()
    NeighbourhoodFactory(council=council, name="<b>Bold</b> & Co", slug="bold")
    NeighbourhoodFactory(council=council, name="Plain", slug="plain")
    client.force_login(make_officer(council))
    html = text_of(client.get(url("engagement:trends", council, area="plain")))
    select = re.search(r'<select[^>]*name="area"[^>]*>.*?</select>', html, flags=re.S).group(0)
    assert 'id="id_area"' in select
    assert '<option value="bold">&lt;b&gt;Bold&lt;/b&gt; &amp; Co</option>' in select
    assert '<option value="plain" selected>Plain</option>' in select
    assert '<option value="">All neighbourhoods</option>' in select
    assert "<b>" not in html
