"""The council's dashboard, levelling-up lens and their CSV files: who may open them, what they show (always
published figures), sorting and filters, bad addresses, privacy, and fixed query counts."""

import csv
import io
import re
from datetime import date
from html import unescape

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement.metrics import METRICS
from engagement.models import EngagementSnapshot
from neighbourhoods.models import Group
from tests.engagement.conftest import snapshot_council
from tests.factories import (
    CouncilFactory,
    CouncilMembershipFactory,
    EventFactory,
    GroupFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    PostFactory,
    ProfileFactory,
    RSVPFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PAGES = ["dashboard", "levelling-up"]
COUNTS = [metric.key for metric in METRICS if metric.is_count]
PERCENTS = [metric.key for metric in METRICS if not metric.is_count]
SMALL = re.compile(r"^[1-9]$")
DAY = date(2026, 1, 1)


def url(place_or_council, name="dashboard", **params):
    council = getattr(place_or_council, "council", place_or_council)
    address = reverse(f"engagement:{name}", args=[council.slug])
    if params:
        address += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return address


def body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def html_table(content: str, caption_id: str) -> tuple[list[str], list[list[str]], list[str]]:
    """The header labels, body rows and totals row of the table whose caption has `caption_id`, as text."""
    table = content.split(f'id="{caption_id}"')[1].split("</table>")[0]

    def cells(fragment):
        found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", fragment, flags=re.S)
        return [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in found]

    head = cells(table.split("<thead>")[1].split("</thead>")[0])
    tbody = table.split("<tbody>")[1].split("</tbody>")[0]
    rows = [cells(row) for row in tbody.split("</tr>") if "<t" in row and "colspan" not in row]
    totals = cells(table.split("<tfoot>")[1].split("</tfoot>")[0])
    return head, rows, totals


def csv_table(content: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(content)))
    return rows[0], rows[1:]


def assert_published(value: str, *, percent: bool = False):
    """A figure as a council may see it: a word for a hidden or unknown one, or a publishable number."""
    if value in ("<10", "not shown", "not known", ""):
        return
    number = int(value.rstrip("%").replace(",", ""))
    if percent:
        assert number >= 0
        return
    assert not SMALL.match(str(number)), value
    assert number % 5 == 0, value


def assert_safe_columns(header: list[str], rows: list[list[str]], totals: list[str], first: int):
    """Every count column: publishable numbers only, and never exactly one hidden cell beside a published total."""
    for index, label in enumerate(header[first:], start=first):
        percent = "%" in label or label.startswith(("Reach", "Connection rate"))
        column = [row[index] for row in rows]
        for value in [*column, totals[index]]:
            assert_published(value, percent=percent)
        if not percent:
            hidden = sum(value == "<10" for value in column)
            assert hidden != 1 or totals[index] == "<10", label


# --- Who may open the pages ----------------------------------------------------------------------------------------


ROLES = ["visitor", "resident", "officer_elsewhere", "staff", "officer_without_mfa", "officer", "admin"]


def person(role, council):
    if role == "visitor":
        return None
    if role == "resident":
        return MembershipFactory(group=GroupFactory(neighbourhood=council.neighbourhoods.first())).user
    if role == "officer_elsewhere":
        return CouncilMembershipFactory(council=CouncilFactory()).user
    if role == "staff":
        return UserFactory(is_staff=True, is_superuser=True)
    if role == "officer_without_mfa":
        return CouncilMembershipFactory(council=council, totp=False).user
    return CouncilMembershipFactory(council=council, role=role).user


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("csv_format", [False, True])
def test_only_this_councils_officers_with_two_step_sign_in_see_its_pages(client, role, page, csv_format):
    place = snapshot_council(size=3)
    user = person(role, place.council)
    if user is not None:
        client.force_login(user)
    response = client.get(url(place, page, **({"format": "csv"} if csv_format else {})))
    content = body(response)
    if role == "visitor":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif role in ("resident", "officer_elsewhere", "staff"):
        assert response.status_code == 404  # the same as a council that does not exist
        assert place.council.name not in content
    elif role == "officer_without_mfa":
        assert response.status_code == 403
        assert "Turn on two-step sign-in" in content
        assert reverse("mfa_activate_totp") in content
        assert place.areas[0].name not in content
    else:
        assert response.status_code == 200
        if not csv_format or page == "dashboard":
            assert place.areas[0].name in content


def test_an_unknown_council_is_not_found(officer_client):
    place = snapshot_council(size=1)
    client = officer_client(place)
    for page in PAGES:
        assert client.get(reverse(f"engagement:{page}", args=["nowhere"])).status_code == 404


def test_an_officer_of_two_councils_sees_each_only_on_its_own_pages(officer_client):
    first, second = snapshot_council(size=2), snapshot_council(size=2)
    client = officer_client(first)
    CouncilMembershipFactory(council=second.council, user=first.officer)
    one, two = body(client.get(url(first))), body(client.get(url(second)))
    assert first.areas[0].name in one
    assert second.areas[0].name not in one
    assert second.areas[0].name in two


def test_the_council_pages_share_one_navigation(officer_client):
    place = snapshot_council(size=2)
    client = officer_client(place, role="admin")
    content = body(client.get(url(place)))
    nav = content.split('class="group-nav council-nav"')[1].split("</nav>")[0]
    for name in ("dashboard", "trends", "levelling-up", "map", "team"):
        assert f'href="{url(place, name)}"' in nav
    assert f'href="{reverse("initiatives:offers", args=[place.council.slug])}"' in nav
    assert 'aria-current="page">Dashboard' in nav


# --- The overview --------------------------------------------------------------------------------------------------


def test_the_overview_shows_every_neighbourhood_published_with_a_totals_row(officer_client):
    place = snapshot_council(size=12, seed=4)
    client = officer_client(place)
    content = body(client.get(url(place)))
    header, rows, totals = html_table(content, "dashboard-caption")
    assert header[0].startswith("Neighbourhood")
    assert [label.removesuffix(" (sort from highest)") for label in header[1:]] == [str(m.label) for m in METRICS]
    assert sorted(row[0] for row in rows) == sorted(area.name for area in place.areas)
    assert totals[0] == "All neighbourhoods"
    assert_safe_columns(header, rows, totals, first=1)
    assert "Figures as at the end of" in content


def test_the_overview_counts_live_before_the_first_snapshot(officer_client):
    area = NeighbourhoodFactory(households=100)
    group = GroupFactory(neighbourhood=area)
    for _ in range(12):
        MembershipFactory(group=group)
    client = officer_client(area.council)
    content = body(client.get(url(area.council)))
    _header, rows, _totals = html_table(content, "dashboard-caption")
    assert rows[0][:5] == [area.name, "<10", "10", "10", "10%"]  # one group; 12 members published as 10, of 100 homes
    assert "Counted just now" in content


def test_sorting_by_a_column_uses_published_values_and_keeps_hidden_ones_together_by_name(officer_client):
    place = snapshot_council(size=0)
    members = {"Aber": 3, "Bryn": 40, "Cwm": 0, "Dyffryn": 7, "Erw": 40, "Ffos": 122}
    for name, count in members.items():
        area = NeighbourhoodFactory(council=place.council, name=name)
        EngagementSnapshot.objects.create(neighbourhood=area, date=DAY, members=count)
    client = officer_client(place)
    descending = body(client.get(url(place, sort="members", dir="desc")))
    _header, rows, _totals = html_table(descending, "dashboard-caption")
    assert [row[0] for row in rows] == ["Ffos", "Bryn", "Erw", "Cwm", "Aber", "Dyffryn"]
    assert 'aria-sort="descending"' in descending
    assert descending.count("aria-sort=") == 1
    ascending = body(client.get(url(place, sort="members", dir="asc")))
    _header, rows, _totals = html_table(ascending, "dashboard-caption")
    assert [row[0] for row in rows] == ["Cwm", "Bryn", "Erw", "Ffos", "Aber", "Dyffryn"]
    # The heading that is sorted links to the other direction; the others to their natural one.
    assert 'href="?sort=members&dir=asc"' in descending.replace("&amp;", "&")
    by_name = body(client.get(url(place)))
    assert [row[0] for row in html_table(by_name, "dashboard-caption")[1]] == sorted(members)
    assert 'aria-sort="ascending"' in by_name


def test_filters_by_decile_and_ward_keep_each_cell_as_published_for_the_whole_council(officer_client):
    place = snapshot_council(size=30, seed=9)
    client = officer_client(place)
    everything = {row[0]: row for row in html_table(body(client.get(url(place))), "dashboard-caption")[1]}
    for params in ({"decile": 2}, {"ward": "Splott"}, {"decile": 3, "ward": "Adamsdown"}):
        content = body(client.get(url(place, **params)))
        header, rows, totals = html_table(content, "dashboard-caption")
        wanted = {
            area.name
            for area in place.areas
            if area.imd_decile == params.get("decile", area.imd_decile) and area.ward == params.get("ward", area.ward)
        }
        assert {row[0] for row in rows} == wanted
        for row in rows:
            assert row == everything[row[0]]
        assert totals[0] == "Selected neighbourhoods"
        assert_safe_columns(header, rows, totals, first=1)


def test_a_filtered_total_is_hidden_when_the_rest_of_the_council_would_be_small(officer_client):
    place = snapshot_council(size=0)
    big = NeighbourhoodFactory(council=place.council, name="Big", imd_decile=1, households=1000)
    small = NeighbourhoodFactory(council=place.council, name="Small", imd_decile=2, households=1000)
    today = DAY
    EngagementSnapshot.objects.create(neighbourhood=big, date=today, members=120, groups=20)
    EngagementSnapshot.objects.create(neighbourhood=small, date=today, members=0, groups=4)
    client = officer_client(place)
    header, _rows, totals = html_table(body(client.get(url(place))), "dashboard-caption")
    members, groups = header.index("Members (sort from highest)"), header.index("Street groups (sort from highest)")
    assert (totals[members], totals[groups]) == ("120", "25")  # "Small"'s 4 groups hide Big's too
    _header, rows, filtered = html_table(body(client.get(url(place, decile=1))), "dashboard-caption")
    assert [row[0] for row in rows] == ["Big"]
    # 120 of 120 members: the rest is 0, so the total may show. Groups: Big is hidden with Small, so is its total.
    assert (filtered[members], filtered[groups]) == ("120", "<10")


@pytest.mark.parametrize(
    ("params", "note"),
    [
        ({"sort": "password"}, "cannot be sorted that way"),
        ({"dir": "sideways"}, "Sorting goes up or down"),
        ({"decile": "11"}, "Deciles run from 1"),
        ({"decile": "x"}, "Deciles run from 1"),
        ({"ward": "Atlantis"}, "not one of the council"),
    ],
)
def test_a_bad_address_falls_back_with_a_friendly_note(officer_client, params, note):
    place = snapshot_council(size=4)
    client = officer_client(place)
    response = client.get(url(place, **params))
    assert response.status_code == 200
    content = body(response)
    assert note in content
    assert len(html_table(content, "dashboard-caption")[1]) == 4
    csv_response = client.get(url(place, format="csv", **params))
    assert csv_response.status_code == 200


# --- CSV ------------------------------------------------------------------------------------------------------------


def test_the_csv_has_the_same_published_figures_and_a_dated_council_filename(officer_client):
    place = snapshot_council(size=15, seed=3, slug="cardiff")
    client = officer_client(place)
    page = html_table(body(client.get(url(place, sort="members", dir="desc"))), "dashboard-caption")
    response = client.get(url(place, sort="members", dir="desc", format="csv"))
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="cardiff-neighbourhoods-\d{4}-\d{2}-\d{2}\.csv"', response["Content-Disposition"]
    )
    header, rows = csv_table(body(response))
    assert header[:4] == ["Neighbourhood", "Area code", "Deprivation decile", "Ward"]
    *rows, totals = rows
    assert [row[0] for row in rows] == [row[0] for row in page[1]]
    for csv_row, html_row in zip(rows, page[1], strict=True):
        as_html = [value.replace(",", "").rstrip("%") for value in html_row[1:]]
        assert [value if value else "not known" for value in csv_row[4:]] == [
            value if value != "not known" else "not known" for value in as_html
        ]
    assert_safe_columns(header, rows, totals, first=4)


def test_the_lens_csvs_are_the_decile_table_and_the_gaps(officer_client):
    place = snapshot_council(size=20, seed=5, slug="swansea")
    client = officer_client(place)
    deciles = client.get(url(place, "levelling-up", format="csv"))
    assert 'filename="swansea-deciles-' in deciles["Content-Disposition"]
    header, rows = csv_table(body(deciles))
    assert header[:2] == ["Deprivation decile", "Neighbourhoods"]
    assert [row[0] for row in rows][:10] == ["1 (most deprived)", *map(str, range(2, 10)), "10 (least deprived)"]
    *rows, totals = rows
    assert_safe_columns(header, rows, totals, first=2)
    gaps = client.get(url(place, "levelling-up", format="csv", table="gaps"))
    assert 'filename="swansea-connection-gaps-' in gaps["Content-Disposition"]
    header, rows = csv_table(body(gaps))
    assert header[0] == "Neighbourhood"
    for row in rows:
        assert row[1] in ("1", "2", "3")
        assert_published(row[4])


# --- Properties over generated councils ----------------------------------------------------------------------------


values = st.integers(0, 60) | st.sampled_from([0, 1, 5, 9, 10, 11])


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(st.integers(1, 14), st.integers(0, 10_000), st.sampled_from([None, 1, 2, 3]))
def test_rendered_html_and_csv_never_show_a_small_count(officer_client, size, seed, decile):
    place = snapshot_council(
        size=size, seed=seed, values=lambda rng, key: rng.choice([0, rng.randint(1, 9), rng.randint(0, 60)])
    )
    client = officer_client(place)
    params = {"decile": decile} if decile else {}
    header, rows, totals = html_table(body(client.get(url(place, **params))), "dashboard-caption")
    assert_safe_columns(header, rows, totals, first=1)
    csv_header, csv_rows = csv_table(body(client.get(url(place, format="csv", **params))))
    *csv_rows, csv_totals = csv_rows
    assert_safe_columns(csv_header, csv_rows, csv_totals, first=4)
    header, rows, totals = html_table(body(client.get(url(place, "levelling-up"))), "deciles-caption")
    assert_safe_columns(header, rows, totals, first=2)
    if decile:
        # The decile's filtered totals are the lens's row for that decile: one can't be subtracted from the other.
        assert (
            html_table(body(client.get(url(place, decile=decile))), "dashboard-caption")[2][1:] == rows[decile - 1][2:]
        )


# --- The levelling-up lens -----------------------------------------------------------------------------------------


def test_the_lens_lists_deprived_neighbourhoods_below_the_median_with_next_steps_and_no_margins(officer_client):
    place = snapshot_council(size=0)
    today = DAY
    specs = [
        # name, decile, households, members, know_one
        ("Tremorfa", 1, 20, 12, 1),  # low connection rate, reach above the middle
        ("Llanrumney", 2, 2000, 3, 3),  # low reach (3 members, hidden)
        ("Pentwyn", 3, 100, 60, 50),  # above both medians
        ("Lisvane", 10, 500, 200, 150),
        ("Cyncoed", 9, 500, 150, 100),
        ("Whitchurch", 8, 500, 80, 60),
    ]
    areas = {}
    for name, decile, households, members, know_one in specs:
        areas[name] = NeighbourhoodFactory(council=place.council, name=name, imd_decile=decile, households=households)
        EngagementSnapshot.objects.create(
            neighbourhood=areas[name], date=today, households=households, members=members, know_one=know_one
        )
    GroupFactory(neighbourhood=areas["Tremorfa"], name="Tremorfa Terrace Friends")
    GroupFactory(neighbourhood=areas["Tremorfa"], name="Secret Supper Club", visibility=Group.Visibility.MEMBERS)
    client = officer_client(place)
    content = body(client.get(url(place, "levelling-up")))
    gaps = content.split('id="gaps-heading"')[1].split("</section>")[0]
    names = re.findall(r"<h3>(.*?) <span", gaps)
    assert names == ["Tremorfa", "Llanrumney"]
    tremorfa, llanrumney = gaps.split('<li class="gap">')[1:3]
    assert "The connection rate is below" in tremorfa
    assert "Reach is below" in llanrumney
    assert "Tremorfa Terrace Friends" in tremorfa
    assert "Secret Supper Club" not in content  # members-only groups are never named
    assert reverse("initiatives:offers", args=[place.council.slug]) in tremorfa
    assert reverse("neighbourhoods:group-create") in llanrumney
    # Only published figures, no margins or medians: Llanrumney's 3 members stay "<10".
    assert "<dd>&lt;10</dd>" in llanrumney
    assert not re.search(r"median (is|of) \d|by \d", gaps)
    assert "Pentwyn" not in gaps


# --- Privacy -------------------------------------------------------------------------------------------------------


SECRET_NAME = "Zebedee Quillfeather"
SECRET_EMAIL = "zebedee.quillfeather@example.org"
SECRET_POST = "Spare key under the blue plant pot"


@pytest.mark.parametrize("with_snapshot", [False, True])
def test_no_resident_name_email_or_members_only_content_reaches_any_page_or_csv(officer_client, with_snapshot):
    area = NeighbourhoodFactory(name="Splott", imd_decile=1)
    hidden = GroupFactory(neighbourhood=area, name="Moira Terrace Supper Club", visibility=Group.Visibility.MEMBERS)
    for index in range(12):
        user = UserFactory(email=f"{index}.{SECRET_EMAIL}")
        ProfileFactory(user=user, display_name=f"{SECRET_NAME} {index}")
        MembershipFactory(group=hidden, user=user)
        RSVPFactory(event=EventFactory(group=hidden, title=f"Supper {index}"), user=user)
    PostFactory(group=hidden, author=user, title=SECRET_POST, body=SECRET_POST)
    if with_snapshot:
        from engagement.services.snapshots import take_snapshots

        take_snapshots(on=DAY)
    client = officer_client(area.council)
    for address in (
        url(area.council),
        url(area.council, format="csv"),
        url(area.council, "levelling-up"),
        url(area.council, "levelling-up", format="csv"),
        url(area.council, "levelling-up", format="csv", table="gaps"),
    ):
        content = body(client.get(address))
        for secret in (SECRET_NAME, "quillfeather", SECRET_POST, "Supper", str(user.pk) + ",", "Moira Terrace"):
            assert secret.lower() not in content.lower(), (address, secret)
    assert "Splott" in body(client.get(url(area.council)))


# --- Query counts --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("dashboard", {}),
        ("dashboard", {"decile": 2, "sort": "reach", "dir": "desc"}),
        ("dashboard", {"format": "csv"}),
        ("levelling-up", {}),
        ("levelling-up", {"format": "csv"}),
        ("levelling-up", {"format": "csv", "table": "gaps"}),
    ],
)
def test_the_pages_run_a_fixed_number_of_queries(officer_client, django_assert_max_num_queries, size, page, params):
    place = snapshot_council(size=size, seed=size)
    for area in place.areas[:10]:
        GroupFactory(neighbourhood=area)
    client = officer_client(place)
    # Session, user, the officer's membership, two-step sign-in, the neighbourhoods, their latest snapshot; the lens
    # adds the public groups it names.
    with django_assert_max_num_queries(7 if page == "levelling-up" and not params else 6):
        response = client.get(url(place, page, **params))
        assert response.status_code == 200
        body(response)


@pytest.mark.parametrize("size", [5, 40])
def test_the_dashboard_counted_live_runs_a_fixed_number_of_queries(officer_client, django_assert_max_num_queries, size):
    council = CouncilFactory()
    for _ in range(size):
        group = GroupFactory(neighbourhood=NeighbourhoodFactory(council=council))
        MembershipFactory(group=group)
    client = officer_client(council)
    with django_assert_max_num_queries(16):
        assert client.get(url(council)).status_code == 200
