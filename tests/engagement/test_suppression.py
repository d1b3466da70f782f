"""Small-number suppression: single figures, and property tests over generated tables — no published count from 1
to 9, every count a multiple of 5, no column with a lone hidden cell beside a published total, and no group total
that lets a small remainder or a hidden cell be worked out by subtraction."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement import suppression
from engagement.suppression import Column, Kind, RawRow, publish_count, publish_groups, publish_percent, publish_table

COLUMNS = (
    Column("members", "Members"),
    Column("know_one", "Know one"),
    Column("hours", "Hours", Kind.HOURS),
    Column("reach", "Reach", Kind.PERCENT, numerator="members", denominator="households"),
    Column("rate", "Rate", Kind.PERCENT, numerator="know_one", denominator="members"),
)
COUNTS = [column.key for column in COLUMNS if column.is_count]

counts = st.one_of(st.just(0), st.integers(1, 12), st.integers(0, 400))


@st.composite
def tables(draw, max_rows=14):
    size = draw(st.integers(1, max_rows))
    rows = []
    for index in range(size):
        members = draw(counts)
        values = {
            "members": members,
            "know_one": draw(st.integers(0, members)),
            "hours": draw(counts),
            "households": draw(st.one_of(st.none(), st.integers(1, 3000))),
        }
        attributes = {"decile": draw(st.integers(1, 4)), "ward": draw(st.sampled_from(["North", "South", ""]))}
        rows.append(RawRow(index, f"Area {index}", values, attributes))
    return rows


def assert_publishable(cell):
    if cell.kind == Kind.PERCENT:
        assert cell.value is None or cell.value >= 0
        return
    if cell.suppressed:
        assert cell.value is None
        assert cell.display == "<10"
    elif cell.value is not None:
        assert cell.value == 0 or cell.value >= 10
        assert cell.value % 5 == 0


# --- Single figures --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "display", "value"),
    [
        (0, "0", 0),
        (1, "<10", None),
        (9, "<10", None),
        (10, "10", 10),
        (12, "10", 10),
        (13, "15", 15),  # 12.5 rounds half up
        (17, "15", 15),
        (18, "20", 20),
        (1234, "1,235", 1235),
        (None, "not known", None),
    ],
)
def test_a_count_is_zero_hidden_below_ten_or_rounded_to_five(count, display, value):
    published = publish_count(count)
    assert (published.display, published.value) == (display, value)
    assert published.suppressed == (count is not None and 1 <= count <= 9)


def test_threshold_and_rounding_are_settings(settings):
    settings.ENGAGEMENT_SUPPRESSION_THRESHOLD = 7
    settings.ENGAGEMENT_ROUNDING_BASE = 10
    assert publish_count(6).display == "<7"
    assert publish_count(7).value == 10  # never published below the threshold
    assert publish_count(24).value == 20
    assert publish_count(25).value == 30


@given(st.integers(0, 100_000))
def test_no_count_is_published_from_one_to_nine_and_each_is_a_multiple_of_five(count):
    published = publish_count(count)
    assert_publishable(published)
    assert abs((published.value if published.value is not None else count) - count) <= 9


def test_a_percentage_uses_the_published_counts_and_hides_with_its_numerator():
    assert publish_percent(12, 40).display == "25%"  # 10/40 as published, not 12/40
    assert publish_percent(12, 40, public_denominator=True).display == "25%"
    assert publish_percent(12, 41, public_denominator=True).display == "24%"  # households are used as they are
    assert publish_percent(10, 2000).display == "1%"  # 0.5 rounds half up
    assert publish_percent(5, 40).suppressed
    assert publish_percent(5, 40).display == "not shown"
    assert publish_percent(50, 60, denominator_suppressed=True).suppressed
    assert publish_percent(20, None).display == "not known"
    assert publish_percent(0, 0).display == "not known"
    assert publish_percent(0, 10).display == "0%"


# --- Tables ----------------------------------------------------------------------------------------------------------


def test_a_lone_hidden_cell_takes_the_next_smallest_with_it():
    rows = [
        RawRow(1, "A", {"members": 4}),
        RawRow(2, "B", {"members": 0}),
        RawRow(3, "C", {"members": 30}),
        RawRow(4, "D", {"members": 22}),
    ]
    table = publish_table(rows, [Column("members", "Members")])
    shown = {row.label: row["members"].display for row in table.rows}
    assert shown == {"A": "<10", "B": "0", "C": "30", "D": "<10"}
    assert table.totals["members"].display == "55"


def test_when_no_other_cell_can_be_hidden_the_total_is():
    rows = [RawRow(1, "A", {"members": 4}), RawRow(2, "B", {"members": 0})]
    table = publish_table(rows, [Column("members", "Members")])
    assert [row["members"].display for row in table.rows] == ["<10", "0"]
    assert table.totals["members"].suppressed


def test_a_percentage_follows_a_secondarily_hidden_numerator():
    rows = [
        RawRow(1, "A", {"members": 4, "households": 100}),
        RawRow(2, "B", {"members": 22, "households": 100}),
    ]
    columns = [Column("members", "Members"), COLUMNS[3]]
    table = publish_table(rows, columns)
    assert table.rows[1]["members"].suppressed
    assert table.rows[1]["reach"].suppressed
    assert table.totals["reach"].display == "13%"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_published_tables_never_show_small_counts_or_a_lone_hidden_cell(rows):
    table = publish_table(rows, COLUMNS)
    for row in (*table.rows, table.totals):
        for cell in row.cells.values():
            assert_publishable(cell)
    for key in COUNTS:
        hidden = sum(row[key].suppressed for row in table.rows)
        assert hidden != 1 or table.totals[key].suppressed, key
        for row in table.rows:
            raw = next(r for r in rows if r.key == row.key).values[key]
            assert row[key].suppressed or raw == 0 or raw >= 10
    for row in (*table.rows, table.totals):
        for column in COLUMNS:
            if column.kind == Kind.PERCENT and row[column.numerator].suppressed:
                assert row[column.key].suppressed


def _true_sum(rows, keys, column):
    return sum(row.values[column] for row in rows if row.key in keys)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from(["decile", "ward"]))
def test_group_totals_never_let_a_small_remainder_or_hidden_cell_be_subtracted(rows, dimension):
    base = publish_table(rows, COLUMNS)
    hidden = {key: {row.key for row in base.rows if row[key].suppressed} for key in COUNTS}
    groups = publish_groups(rows, COLUMNS, group_of=lambda row: row.attributes[dimension], labels={})
    for group in groups.rows:
        keys = {row.key for row in rows if row.attributes[dimension] == group.key}
        for key in COUNTS:
            cell = group[key]
            assert_publishable(cell)
            if cell.suppressed:
                continue
            assert len(hidden[key] & keys) != 1, (key, group.key)
            if not groups.totals[key].suppressed:
                rest = _true_sum(rows, set(range(len(rows))) - keys, key)
                assert rest == 0 or rest >= 10, (key, group.key)
                assert len(hidden[key] - keys) != 1, (key, group.key)
    for key in COUNTS:
        assert sum(group[key].suppressed for group in groups.rows) != 1 or groups.totals[key].suppressed


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.integers(1, 4))
def test_a_filtered_view_publishes_its_groups_row_and_the_same_cells(rows, decile):
    everything = publish_table(rows, COLUMNS)
    chosen = {row.key for row in rows if row.attributes["decile"] == decile}
    filtered = publish_table(rows, COLUMNS, only=chosen, group_of=lambda row: row.attributes["decile"])
    groups = publish_groups(rows, COLUMNS, group_of=lambda row: row.attributes["decile"], labels={})
    same = {row.key: row for row in everything.rows}
    for row in filtered.rows:
        assert row.cells == same[row.key].cells
    if chosen:
        assert filtered.totals.cells == next(group for group in groups.rows if group.key == decile).cells


def test_one_module_rounds():
    assert suppression.whole_hours("12.5") == 13
    assert suppression.whole_hours(None) == 0


def test_a_percentage_never_undoes_the_rounding_of_its_counts():
    """From true values, members "10", knowing a neighbour "10" and 92% could only be 11 of 12: one member who knows
    nobody. From the published counts it reads 100%, which is what "10 of 10" says anyway."""
    columns = [
        Column("members", "Members"),
        Column("know_one", "Know a neighbour"),
        Column("rate", "Rate", Kind.PERCENT, numerator="know_one", denominator="members"),
    ]
    rows = [RawRow(n, f"Area {n}", {"members": 12, "know_one": 11}) for n in range(3)]
    table = publish_table(rows, columns)
    for row in table.rows:
        assert (row["members"].display, row["know_one"].display, row["rate"].display) == ("10", "10", "100%")
    # 33 of 36 in truth (92%), published as 35 and 35.
    assert (table.totals["members"].display, table.totals["know_one"].display) == ("35", "35")
    assert table.totals["rate"].display == "100%"


@given(st.integers(10, 400), st.integers(10, 400))
def test_a_published_percentage_follows_from_the_published_counts(numerator, denominator):
    published = publish_percent(numerator, denominator)
    n, d = publish_count(numerator).value, publish_count(denominator).value
    assert published.value == (200 * n + d) // (2 * d)
