"""The SVG charts and map: valid, escaped, accessible, compact, and never drawing or printing a hidden number."""

import itertools
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement import charts
from engagement.charts import Area, Bar, Series
from engagement.charts._svg import nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script> & \"quoted\" \x00\x1b"
# A raw number no chart coordinate or tick could ever produce: it must never reach the markup.
SECRET = 987_654


@dataclass(frozen=True)
class Pub:
    value: int | None
    display: str
    suppressed: bool


def shown(value: int) -> Pub:
    return Pub(value, f"{value:,}", False)


def hidden(raw: int = SECRET) -> Pub:
    """A suppressed value that (wrongly) still carries its raw number: the charts must ignore it."""
    return Pub(raw, "<10", True)


UNKNOWN = Pub(None, "not known", False)


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own markup, parsed to prove it is well-formed


def weeks(count: int) -> list[str]:
    return [f"week {n}" for n in range(count)]


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]],
    }


def accessible_name_and_description(root: ET.Element) -> tuple[str, str]:
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    by_id = {element.get("id"): element for element in root.iter()}
    assert by_id[title_id].tag == f"{SVG}title"
    assert by_id[desc_id].tag == f"{SVG}desc"
    return by_id[title_id].text, by_id[desc_id].text


def subpaths(d: str) -> list[list[tuple[float, float]]]:
    """Each sub-path's points in absolute coordinates, from "M x y L x y …" or "M x y l dx dy …" path data."""
    found = []
    for part in re.findall(r"M[^MZ]*", d):
        points = []
        for command, numbers in re.findall(r"([MLlh])([^MLlhZ]*)", part):
            values = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", numbers)]
            for x, y in zip(values[::2], values[1::2], strict=True):
                if command == "l":
                    x, y = points[-1][0] + x, points[-1][1] + y
                points.append((x, y))
        found.append(points)
    return found


# --- line chart ----------------------------------------------------------------------------------------------------


def test_a_year_of_weeks_is_one_path_with_an_accessible_name_and_description():
    points = [shown(100 + 5 * n) for n in range(52)]
    markup = charts.line_chart(
        [Series("Members", points)],
        title="Members each week",
        description="Members rose from 100 to 355.",
        y_label="Members",
        x_labels=weeks(52),
    )
    root = parse(markup)
    assert accessible_name_and_description(root) == ("Members each week", "Members rose from 100 to 355.")
    lines = root.findall(f".//{SVG}path[@class='chart__line']")
    assert len(lines) == 1
    assert len(subpaths(lines[0].get("d"))[0]) == 52
    # Compact: no element per point.
    assert len(list(root.iter())) < 40
    assert root.findall(f".//{SVG}circle") == root.findall(f".//{SVG}pattern/{SVG}circle")
    assert len(markup) < 6000


def test_a_suppressed_week_is_a_gap_not_a_zero_and_its_number_never_appears():
    points = [shown(50), shown(55), hidden(), shown(60), shown(65)]
    markup = charts.line_chart(
        [Series("Members", points)], title="t", description="d", y_label="Members", x_labels=weeks(5)
    )
    root = parse(markup)
    line = root.find(f".//{SVG}path[@class='chart__line']")
    runs = subpaths(line.get("d"))
    assert [len(run) for run in runs] == [2, 2]
    # The third week's x position is in neither run: the line does not dip to zero there.
    xs = [x for run in runs for x, _y in run]
    assert xs[1] < xs[2]
    gap_middle = (xs[1] + xs[2]) / 2
    assert all(abs(x - gap_middle) > 1 for x in xs)
    assert str(SECRET) not in markup
    assert "987" not in markup
    # The legend says what the hatching means, quoting the published display.
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Not shown (<10)" in texts
    assert root.find(f".//{SVG}rect[@fill='url(#line-chart-not-shown)']") is not None


def test_a_lone_point_between_gaps_is_drawn_as_a_dot():
    points = [hidden(), shown(40), hidden(), shown(45), shown(50)]
    root = parse(charts.line_chart([Series("M", points)], title="t", description="d", y_label="y", x_labels=weeks(5)))
    dots = [p for p in root.iter(f"{SVG}path") if p.get("stroke-linecap") == "round" and p.get("stroke-width") == "7"]
    assert len(dots) == 1
    assert dots[0].get("d").endswith("h0")


def test_not_known_weeks_are_gaps_marked_differently_from_suppressed_ones():
    points = [shown(50), UNKNOWN, shown(60)]
    root = parse(charts.line_chart([Series("M", points)], title="t", description="d", y_label="y", x_labels=weeks(3)))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Not known" in texts
    assert "Not shown (<10)" not in texts
    assert root.find(f".//{SVG}rect[@fill='url(#line-chart-no-data)']") is not None


def test_several_lines_differ_by_dash_as_well_as_colour_and_gaps_go_in_each_lines_lane():
    a = Series("Members", [shown(100)] * 6)
    b = Series("Verified", [shown(20), hidden(), hidden(), shown(25), shown(30), shown(35)])
    root = parse(charts.line_chart([a, b], title="t", description="d", y_label="y", x_labels=weeks(6)))
    lines = root.findall(f".//{SVG}path[@class='chart__line']")
    assert [line.get("stroke") for line in lines] == list(charts.LINE_COLOURS[:2])
    assert lines[0].get("stroke-dasharray") is None
    assert lines[1].get("stroke-dasharray")
    strips = root.findall(f".//{SVG}rect[@fill='url(#line-chart-not-shown)']")
    # One strip for the two hidden weeks, outlined like the line it belongs to (the legend swatch is the other).
    lane = [strip for strip in strips if strip.get("stroke") == charts.LINE_COLOURS[1]]
    assert len(lane) == 1
    assert lane[0].get("stroke-dasharray") == lines[1].get("stroke-dasharray")
    assert {t.text for t in root.iter(f"{SVG}text")} >= {"Members", "Verified", "Not shown (<10)"}


def test_y_axis_covers_the_highest_published_value_with_round_ticks():
    root = parse(
        charts.line_chart(
            [Series("M", [shown(120), shown(185), hidden(5_000)])],
            title="t",
            description="d",
            y_label="y",
            x_labels=weeks(3),
            y_suffix="%",
        )
    )
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end" and t.text.endswith("%")]
    assert labels == ["0%", "50%", "100%", "150%", "200%"]  # the hidden 5,000 does not stretch the scale


def test_x_ticks_are_labelled_and_out_of_range_ticks_ignored():
    root = parse(
        charts.line_chart(
            [Series("M", [shown(10)] * 8)],
            title="t",
            description="d",
            y_label="y",
            x_labels=weeks(8),
            x_ticks=[(0, "Jan"), (4, "Feb"), (99, "Never")],
        )
    )
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Jan" in texts
    assert "Feb" in texts
    assert "Never" not in texts


def test_every_point_hidden_still_draws_an_empty_chart():
    root = parse(
        charts.line_chart([Series("M", [hidden()] * 4)], title="t", description="d", y_label="y", x_labels=weeks(4))
    )
    assert not root.findall(f".//{SVG}path[@class='chart__line']")
    assert "Not shown (<10)" in [t.text for t in root.iter(f"{SVG}text")]


def test_mismatched_series_and_bad_ids_are_refused():
    with pytest.raises(ValueError, match="one point per x label"):
        charts.line_chart([Series("M", [shown(1)])], title="t", description="d", y_label="y", x_labels=weeks(2))
    with pytest.raises(ValueError, match="chart_id"):
        charts.bar_chart([Bar("a", shown(1))], title="t", description="d", chart_id='x" onload="alert(1)')


# --- bar chart -----------------------------------------------------------------------------------------------------


def test_suppressed_bars_are_markers_with_words_never_short_bars():
    bars = [Bar("Decile 1", shown(45)), Bar("Decile 2", hidden()), Bar("Decile 3", UNKNOWN), Bar("Decile 4", shown(0))]
    markup = charts.bar_chart(bars, title="By decile", description="d")
    root = parse(markup)
    drawn = root.findall(f".//{SVG}rect[@class='chart__bar']")
    assert [bar.find(f"{SVG}title").text for bar in drawn] == ["Decile 1: 45", "Decile 4: 0"]
    assert str(SECRET) not in markup
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Not shown (<10)" in texts
    assert "Not known" in texts
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "Decile 2: <10" in titles
    assert root.find(f".//{SVG}rect[@fill='url(#bar-chart-not-shown)']") is not None
    assert root.find(f".//{SVG}rect[@fill='url(#bar-chart-no-data)']") is not None


def test_bar_lengths_are_proportional_to_published_values():
    root = parse(charts.bar_chart([Bar("a", shown(50)), Bar("b", shown(100))], title="t", description="d"))
    widths = [float(bar.get("width")) for bar in root.findall(f".//{SVG}rect[@class='chart__bar']")]
    assert widths[1] == pytest.approx(2 * widths[0], abs=0.2)


def test_long_bar_labels_are_shortened_but_named_in_full():
    name = "A neighbourhood with a remarkably long name that goes on " * 3
    root = parse(charts.bar_chart([Bar(name, shown(20))], title="t", description="d"))
    label = next(t for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end")
    assert label.text.endswith("…")
    assert len(label.text) < len(name)
    assert root.find(f".//{SVG}rect[@class='chart__bar']/{SVG}title").text == f"{name}: 20"


# --- escaping ------------------------------------------------------------------------------------------------------


def test_hostile_text_is_escaped_everywhere_and_the_svg_stays_valid_xml():
    cleaned = HOSTILE.replace("\x00", "").replace("\x1b", "")
    line = charts.line_chart(
        [Series(HOSTILE, [shown(10), shown(20)]), Series("b", [shown(5), hidden()])],
        title=HOSTILE,
        description=HOSTILE,
        y_label=HOSTILE,
        x_labels=[HOSTILE, HOSTILE],
        x_ticks=[(0, HOSTILE)],
    )
    bars = charts.bar_chart([Bar(HOSTILE, shown(10))], title=HOSTILE, description=HOSTILE, x_label=HOSTILE)
    area = charts.choropleth(
        [Area(HOSTILE, square(-3.1, 51.4), shown(10)), Area(HOSTILE, None, shown(10))],
        title=HOSTILE,
        description=HOSTILE,
        legend_title=HOSTILE,
    )
    for markup in (line, bars, area.svg):
        assert "<script" not in markup
        root = parse(markup)  # raises on anything that is not well-formed XML
        assert accessible_name_and_description(root) == (cleaned, cleaned)
        assert any(t.text == cleaned for t in root.iter(f"{SVG}text"))
    assert area.without_boundary == [HOSTILE]


# --- choropleth ----------------------------------------------------------------------------------------------------


def test_projection_keeps_north_up_and_shrinks_longitude_by_the_cosine_of_latitude():
    box = [[(0.0, 59.5), (1.0, 59.5), (1.0, 60.5), (0.0, 60.5)]]
    projection = charts.Projection.fitting(box, width=400, max_height=400, padding=0)
    west_north, east_north = projection.point(0.0, 60.5), projection.point(1.0, 60.5)
    west_south = projection.point(0.0, 59.5)
    assert west_north[1] == pytest.approx(0)
    assert west_south[1] == pytest.approx(400)  # south is further down
    width = east_north[0] - west_north[0]
    assert width == pytest.approx(400 * math.cos(math.radians(60)), rel=1e-6)
    # Centred horizontally in the box.
    assert west_north[0] == pytest.approx((400 - width) / 2)


def test_projection_fits_a_wide_area_to_the_width():
    box = [[(-3.3, 51.45), (-3.1, 51.45), (-3.1, 51.5), (-3.3, 51.5)]]
    projection = charts.Projection.fitting(box, width=640, max_height=520, padding=12)
    assert projection.point(-3.3, 51.5)[0] == pytest.approx(12)
    assert projection.point(-3.1, 51.45)[0] == pytest.approx(628)
    assert projection.height < 520


def test_areas_are_paths_with_names_values_and_classes_and_the_legend_covers_them():
    areas = [Area(f"Area {n}", square(-3.2 + n * 0.01, 51.48), shown(value)) for n, value in enumerate([5, 20, 40])]
    areas += [
        Area("Hidden", square(-3.15, 51.49), hidden()),
        Area("Unknown", square(-3.14, 51.49), UNKNOWN),
        Area("No shape", None, shown(100)),
    ]
    result = charts.choropleth(areas, title="Members", description="d", legend_title="Members")
    root = parse(result)
    assert accessible_name_and_description(root) == ("Members", "d")
    paths = {p.find(f"{SVG}title").text: p for p in root.findall(f".//{SVG}path[@class='chart__area']")}
    assert set(paths) == {"Area 0: 5", "Area 1: 20", "Area 2: 40", "Hidden: Not shown (<10)", "Unknown: Not known"}
    assert paths["Hidden: Not shown (<10)"].get("fill") == "url(#map-not-shown)"
    assert paths["Unknown: Not known"].get("fill") == "url(#map-no-data)"
    assert str(SECRET) not in result.svg
    assert result.without_boundary == ["No shape"]
    assert [(band.low, band.high) for band in result.classes] == [(5, 5), (20, 20), (40, 40)]
    for name, value in (("Area 0: 5", 5), ("Area 1: 20", 20), ("Area 2: 40", 40)):
        band = next(band for band in result.classes if band.holds(value))
        assert paths[name].get("fill") == band.fill
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Members", "5", "20", "40", "Not shown (<10)", "Not known"} <= set(texts)


def test_multipolygons_and_holes_become_one_path_with_a_subpath_per_ring():
    island = {
        "type": "MultiPolygon",
        "coordinates": [
            square(-3.2, 51.4)["coordinates"],
            [
                [[-3.1, 51.4], [-3.0, 51.4], [-3.0, 51.5], [-3.1, 51.5], [-3.1, 51.4]],
                [[-3.07, 51.43], [-3.03, 51.43], [-3.03, 51.47], [-3.07, 51.47], [-3.07, 51.43]],
            ],
        ],
    }
    root = parse(charts.choropleth([Area("Islands", island, shown(30))], title="t", description="d", legend_title="l"))
    path = root.find(f".//{SVG}path[@class='chart__area']")
    assert path.get("fill-rule") == "evenodd"
    assert path.get("d").count("M") == 3
    assert path.get("d").count("Z") == 3
    rings = subpaths(path.get("d"))
    assert [len(ring) for ring in rings] == [4, 4, 4]  # the closing repeat of each ring is dropped


@pytest.mark.parametrize(
    "geometry",
    [
        None,
        {},
        {"type": "Point", "coordinates": [-3.1, 51.4]},
        {"type": "Polygon", "coordinates": [[[-3.1, 51.4], [-3.0, 51.4]]]},
        {"type": "Polygon", "coordinates": [[["a", "b"], [1, 2], [2, 3], [1, 2]]]},
        {"type": "Polygon", "coordinates": [[[float("nan"), 1], [1, 2], [2, 3], [1, 2]]]},
        {"type": "MultiPolygon", "coordinates": "nonsense"},
        {"type": "Polygon", "coordinates": [[[True, False], [1, 2], [2, 3], [1, 2]]]},
        "not a geometry",
    ],
)
def test_an_unusable_boundary_is_listed_not_drawn(geometry):
    result = charts.choropleth(
        [Area("Odd", geometry, shown(10)), Area("Fine", square(-3.1, 51.4), shown(20))],
        title="t",
        description="d",
        legend_title="l",
    )
    assert result.without_boundary == ["Odd"]
    assert len(parse(result).findall(f".//{SVG}path[@class='chart__area']")) == 1


def test_no_boundaries_at_all_gives_no_svg_and_every_name():
    result = charts.choropleth(
        [("A", None, shown(10)), ("B", None, hidden())], title="t", description="d", legend_title="l"
    )
    assert str(result) == ""
    assert result.without_boundary == ["A", "B"]


def test_two_charts_on_a_page_have_distinct_ids_and_output_is_deterministic():
    def draw(chart_id):
        return charts.bar_chart(
            [Bar("a", shown(10)), Bar("b", hidden())], title="t", description="d", chart_id=chart_id
        )

    assert draw("one") == draw("one")
    ids_one = {e.get("id") for e in parse(draw("one")).iter() if e.get("id")}
    ids_two = {e.get("id") for e in parse(draw("two")).iter() if e.get("id")}
    assert ids_one
    assert not ids_one & ids_two


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=80))
def test_classes_partition_the_published_values(values):
    bands = charts.classes(values)
    assert 1 <= len(bands) <= 5
    assert len(bands) <= len(set(values))
    for value in values:
        assert sum(band.holds(value) for band in bands) == 1
    for before, after in itertools.pairwise(bands):
        assert before.high < after.low
    assert bands[0].low == min(values)
    assert bands[-1].high == max(values)
    assert all(band.low in values and band.high in values for band in bands)
    assert all(band.fill in charts.MAP_PALETTE for band in bands)
    if len(bands) == 5:
        assert [band.fill for band in bands] == list(charts.MAP_PALETTE)


def test_legend_labels_read_as_ranges():
    bands = charts.classes([0, 5, 10, 15, 20, 25, 30, 35, 40, 45], suffix="%")
    assert [band.label for band in bands] == ["0% to 5%", "10% to 15%", "20% to 25%", "30% to 35%", "40% to 45%"]


# --- whatever the data ---------------------------------------------------------------------------------------------

published = st.one_of(
    st.integers(min_value=0, max_value=5_000).map(lambda v: shown(v - v % 5)),
    st.integers(min_value=100_001, max_value=999_999).map(hidden),
    st.just(UNKNOWN),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(published, min_size=1, max_size=60), st.lists(published, min_size=1, max_size=12))
def test_any_published_data_gives_valid_svg_that_never_shows_a_hidden_raw_number(points, bar_values):
    line = charts.line_chart(
        [Series("Members", points)], title="t", description="d", y_label="y", x_labels=weeks(len(points))
    )
    bars = charts.bar_chart([Bar(f"Row {n}", v) for n, v in enumerate(bar_values)], title="t", description="d")
    area = charts.choropleth(
        [Area(f"Area {n}", square(-3.2 + n * 0.02, 51.48), v) for n, v in enumerate(bar_values)],
        title="t",
        description="d",
        legend_title="l",
    )
    secrets = {str(p.value) for p in [*points, *bar_values] if p.suppressed}
    for markup in (line, bars, area.svg):
        parse(markup)
        assert not any(secret in markup for secret in secrets)


# --- contrast and scales -------------------------------------------------------------------------------------------


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("colour", [*charts.LINE_COLOURS, charts.BAR_FILL])
def test_lines_and_bars_have_at_least_3_to_1_contrast_with_the_background(colour):
    assert contrast(colour, charts.PAPER) >= 3


def test_map_classes_get_darker_as_values_grow():
    assert [luminance(c) for c in charts.MAP_PALETTE] == sorted(
        (luminance(c) for c in charts.MAP_PALETTE), reverse=True
    )


@pytest.mark.parametrize(
    ("maximum", "expected"),
    [
        (0, [0, 10]),
        (3, [0, 10]),
        (25, [0, 10, 20, 30]),
        (185, [0, 50, 100, 150, 200]),
        (100, [0, 20, 40, 60, 80, 100]),
        (12_340, None),
    ],
)
def test_nice_ticks(maximum, expected):
    ticks = nice_ticks(maximum)
    if expected is not None:
        assert ticks == expected
    assert ticks[0] == 0
    assert ticks[-1] >= maximum
    assert len(ticks) <= 7
    assert not any(0 < tick < 10 for tick in ticks)  # never an axis label that looks like a hidden count


# --- summaries -----------------------------------------------------------------------------------------------------


def test_line_summary_reads_the_rise_the_peak_and_the_gaps_from_published_values():
    points = [shown(120), hidden(), shown(190), shown(150), UNKNOWN, shown(185)]
    labels = ["6 January", "13 January", "20 January", "27 January", "3 February", "10 February"]
    summary = charts.line_summary("Members", points, labels)
    assert summary == (
        "Members rose from 120 in the week ending 6 January to 185 in the week ending 10 February. "
        "The highest was 190, in the week ending 20 January. 1 week is not shown (<10). 1 week is not known."
    )
    assert str(SECRET) not in summary


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([shown(60), shown(40)], "M fell from 60 in the week ending w0 to 40 in the week ending w1."),
        ([shown(40), shown(40)], "M was 40 in the week ending w0 and again in the week ending w1."),
        (
            [hidden(), shown(40)],
            "M: 40 in the week ending w1, the only week that can be shown. 1 week is not shown (<10).",
        ),
        ([hidden(), hidden()], "M: no week in this period can be shown. 2 weeks are not shown (<10)."),
    ],
)
def test_line_summary_cases(points, expected):
    assert charts.line_summary("M", points, ["w0", "w1"]) == expected


def test_ranking_summary_names_ties_and_counts_what_is_hidden():
    items = [("A", shown(20)), ("B", shown(5)), ("C", shown(20)), ("D", hidden()), ("E", hidden())]
    assert charts.ranking_summary(items) == "Highest: A, C (20). Lowest: B (5). 2 are not shown (<10)."
    assert charts.ranking_summary([("A", hidden())]) == "No value can be shown. 1 is not shown (<10)."
    assert charts.ranking_summary([("A", shown(5)), ("B", shown(5))]) == "Every value shown is 5."


def test_a_hidden_rate_published_in_words_is_not_quoted_twice():
    rate = Pub(None, "not shown", True)
    bars = charts.bar_chart([Bar("Splott", rate), Bar("Grangetown", shown(40))], title="t", description="d")
    texts = [t.text for t in parse(bars).iter(f"{SVG}text")]
    assert "Not shown" in texts
    assert not any("(not shown)" in (text or "") for text in texts)
    line = charts.line_chart(
        [Series("Reach", [rate, shown(30)])], title="t", description="d", y_label="y", x_labels=weeks(2)
    )
    assert "Not shown" in [t.text for t in parse(line).iter(f"{SVG}text")]
    assert charts.line_summary("Reach", [rate, shown(30)], ["w0", "w1"]).endswith("1 week is not shown.")
    assert charts.ranking_summary([("A", rate), ("B", rate)]) == "No value can be shown. 2 are not shown."


def test_detailed_boundaries_are_thinned_to_what_the_map_can_show():
    centre_lon, centre_lat, radius = -3.18, 51.48, 0.01
    circle = [
        [
            centre_lon + radius / math.cos(math.radians(centre_lat)) * math.cos(2 * math.pi * n / 4000),
            centre_lat + radius * math.sin(2 * math.pi * n / 4000),
        ]
        for n in range(4000)
    ]
    circle.append(circle[0])
    area = Area("Round", {"type": "Polygon", "coordinates": [circle]}, shown(20))
    other = Area("Far", square(-3.0, 51.4), shown(30))  # so the circle is drawn small, as one area of many
    root = parse(charts.choropleth([area, other], title="t", description="d", legend_title="l"))
    drawn = next(
        p for p in root.findall(f".//{SVG}path[@class='chart__area']") if p.find(f"{SVG}title").text == "Round: 20"
    )
    (ring,) = subpaths(drawn.get("d"))
    assert 40 < len(ring) < 250  # from 4,000
    xs, ys = [x for x, _y in ring], [y for _x, y in ring]
    # Round on the ground, so round on the map: as wide as it is tall, within a pixel or so.
    assert abs((max(xs) - min(xs)) - (max(ys) - min(ys))) < 1.5


def test_the_key_can_be_shown_beside_the_map_as_words_with_small_swatches():
    areas = [
        Area("A", square(-3.2, 51.4), shown(10)),
        Area("B", square(-3.1, 51.4), shown(50)),
        Area("C", square(-3.0, 51.4), hidden()),
        Area("D", square(-2.9, 51.4), UNKNOWN),
    ]
    result = charts.choropleth(areas, title="t", description="d", legend_title="Members", legend_in_svg=False)
    root = parse(result)
    assert not [t.text for t in root.iter(f"{SVG}text")]  # no key inside the map
    assert [item.label for item in result.legend] == ["10", "50", "Not shown (<10)", "Not known"]
    ids = set()
    for item, band in zip(result.legend, [*result.classes, None, None], strict=True):
        swatch = parse(item.swatch)
        assert swatch.get("aria-hidden") == "true"
        rect = swatch.find(f"{SVG}rect")
        if band is not None:
            assert rect.get("fill") == band.fill
        else:
            pattern_id = rect.get("fill")[len("url(#") : -1]
            assert swatch.find(f".//{SVG}pattern[@id='{pattern_id}']") is not None  # its own pattern, right here
        new = {e.get("id") for e in swatch.iter() if e.get("id")}
        assert not new & ids
        ids |= new
    with_key = charts.choropleth(areas, title="t", description="d", legend_title="Members")
    assert "Members" in [t.text for t in parse(with_key).iter(f"{SVG}text")]
