"""Loading councils, neighbourhoods, postcodes and boundaries: good files, re-runs, and every kind of broken file."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from neighbourhoods.areas import COLUMNS, AreaImportError, import_areas
from neighbourhoods.models import Council, Neighbourhood, Postcode
from tests.factories import CouncilFactory, NeighbourhoodFactory, PostcodeFactory

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "neighbourhoods" / "demo_data"
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

CARDIFF = {"council_code": "W06000015", "council_name": "Cardiff Council", "nation": "Wales"}
SPLOTT = {"neighbourhood_code": "W01001897", "neighbourhood_name": "Splott", "households": "1540", "imd_decile": "3"}
BUTETOWN = {
    "neighbourhood_code": "W01001712",
    "neighbourhood_name": "Butetown",
    "households": "1650",
    "imd_decile": "1",
}
BRISTOL = {"council_code": "E06000023", "council_name": "Bristol City Council", "nation": "England"}
EASTON = {"neighbourhood_code": "E01014542", "neighbourhood_name": "Easton", "households": "", "imd_decile": ""}


def row(council=CARDIFF, area=SPLOTT, postcode="CF24 2AA", **overrides) -> dict[str, str]:
    return {**council, **area, "postcode": postcode, **overrides}


def good_rows() -> list[dict[str, str]]:
    return [
        row(postcode="CF24 2AA"),
        row(postcode="CF24 2AB"),
        row(area=BUTETOWN, postcode="CF10 5AA"),
        row(area=BUTETOWN, postcode="CF10 5AB"),
        row(council=BRISTOL, area=EASTON, postcode="BS5 0AA"),
    ]


def csv_text(rows: list[dict[str, str]], columns=COLUMNS) -> str:
    lines = [",".join(columns)]
    lines += [",".join(r.get(column, "") for column in columns) for r in rows]
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name: str = "areas.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def polygon(lon: float = -3.15, lat: float = 51.47, size: float = 0.005) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code: str, geometry: dict | None = None) -> dict:
    return {"type": "Feature", "properties": {"neighbourhood_code": code}, "geometry": geometry or polygon()}


def collection(*features: dict) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def snapshot():
    """Everything an import could touch, so a test can prove a failed import changed nothing."""
    return (
        sorted(Council.objects.values_list("code", "name", "nation", "slug", "updated_at")),
        sorted(
            Neighbourhood.objects.values_list(
                "code", "name", "slug", "council__code", "households", "imd_decile", "boundary", "updated_at"
            )
        ),
        sorted(Postcode.objects.values_list("code", "neighbourhood__code")),
    )


def postcode_list(count: int, area: str) -> list[str]:
    """`count` distinct valid postcodes in the `area` postcode area, e.g. NP10 0AA, NP10 1AA, …"""
    return [
        f"{area}{10 + i // 4000} {i % 10}{UNIT_LETTERS[i // 10 % 20]}{UNIT_LETTERS[i // 200 % 20]}"
        for i in range(count)
    ]


def big_file(tmp_path: Path, count: int, area: str, neighbourhood_prefix: str, per_neighbourhood: int = 100) -> Path:
    council = {"council_code": f"W06{area}0001", "council_name": f"{area} Council", "nation": "Wales"}
    rows = []
    for i, postcode in enumerate(postcode_list(count, area)):
        n = i // per_neighbourhood
        neighbourhood = {
            "neighbourhood_code": f"{neighbourhood_prefix}{n:05d}",
            "neighbourhood_name": f"{area} area {n}",
            "households": "1000",
            "imd_decile": str(n % 10 + 1),
        }
        rows.append(row(council=council, area=neighbourhood, postcode=postcode))
    return write(tmp_path, csv_text(rows), f"{area}-{count}.csv")


# --- Good files ----------------------------------------------------------------------------------------------------


def test_a_good_file_creates_councils_neighbourhoods_and_postcodes(tmp_path):
    summary = import_areas(write(tmp_path, csv_text(good_rows())))

    assert (summary.councils_created, summary.neighbourhoods_created, summary.postcodes_created) == (2, 3, 5)
    assert (summary.councils_updated, summary.neighbourhoods_updated, summary.postcodes_updated) == (0, 0, 0)
    assert summary.boundaries_set == 0
    cardiff = Council.objects.get(code="W06000015")
    assert (cardiff.name, cardiff.nation, cardiff.slug) == ("Cardiff Council", "Wales", "cardiff-council")
    assert Council.objects.get(code="E06000023").nation == "England"
    splott = Neighbourhood.objects.get(code="W01001897")
    assert (splott.name, splott.slug, splott.council, splott.households, splott.imd_decile) == (
        "Splott",
        "splott",
        cardiff,
        1540,
        3,
    )
    assert splott.boundary is None
    easton = Neighbourhood.objects.get(code="E01014542")
    assert (easton.households, easton.imd_decile) == (None, None)  # empty is allowed
    assert dict(Postcode.objects.values_list("code", "neighbourhood__code")) == {
        "CF24 2AA": "W01001897",
        "CF24 2AB": "W01001897",
        "CF10 5AA": "W01001712",
        "CF10 5AB": "W01001712",
        "BS5 0AA": "E01014542",
    }


def test_a_messy_but_readable_file_is_tidied(tmp_path):
    """BOM, shuffled and padded headers, an extra column, spaces, odd case, blank lines and empty rows all pass."""
    columns = ["Postcode ", " nation", "notes", *reversed(COLUMNS[:2]), *COLUMNS[3:7]]
    header = ",".join(columns)
    lines = [
        " cf242aa , WALES ,first one, Cardiff Council , w06000015 ,w01001897, Splott ,1540, 3 ",
        "",
        ",,,,,,,,",
        'CF24  2ab,wales,,Cardiff Council,W06000015,W01001897,Splott,"1,540",3',
        "bs50aa,northern ireland,,Belfast City Council,N09000003,N00001234,Sailortown,,",
    ]
    path = tmp_path / "messy.csv"
    path.write_bytes(("\ufeff" + "\r\n".join([header, *lines]) + "\r\n").encode("utf-8"))

    summary = import_areas(path)

    assert (summary.councils_created, summary.neighbourhoods_created, summary.postcodes_created) == (2, 2, 3)
    assert sorted(Postcode.objects.values_list("code", flat=True)) == ["BS5 0AA", "CF24 2AA", "CF24 2AB"]
    assert Council.objects.get(code="W06000015").nation == "Wales"
    assert Council.objects.get(code="N09000003").nation == "Northern Ireland"
    assert Neighbourhood.objects.get(code="W01001897").households == 1540


def test_file_objects_work_as_well_as_paths():
    uploaded = io.BytesIO(("\ufeff" + csv_text(good_rows())).encode("utf-8"))
    assert import_areas(uploaded).postcodes_created == 5
    assert import_areas(io.StringIO(csv_text(good_rows()))).postcodes_unchanged == 5


def test_rerunning_the_same_file_changes_nothing(tmp_path):
    path = write(tmp_path, csv_text(good_rows()))
    import_areas(path)
    before = snapshot()

    summary = import_areas(path)

    assert snapshot() == before  # no duplicates, not even a touched timestamp
    assert (summary.councils_created, summary.neighbourhoods_created, summary.postcodes_created) == (0, 0, 0)
    assert (summary.councils_updated, summary.neighbourhoods_updated, summary.postcodes_updated) == (0, 0, 0)
    assert (summary.councils_unchanged, summary.neighbourhoods_unchanged, summary.postcodes_unchanged) == (2, 3, 5)


def test_rerunning_a_changed_file_updates_in_place(tmp_path):
    import_areas(write(tmp_path, csv_text(good_rows())))
    ids = dict(Neighbourhood.objects.values_list("code", "pk"))
    renamed = {**SPLOTT, "neighbourhood_name": "Splott and Tremorfa", "households": "1610", "imd_decile": ""}
    rows = [
        row(council={**CARDIFF, "council_name": "Cardiff"}, area=renamed, postcode="CF24 2AA"),
        row(council={**CARDIFF, "council_name": "Cardiff"}, area=BUTETOWN, postcode="CF24 2AB"),  # moves
        row(council={**CARDIFF, "council_name": "Cardiff"}, area=BUTETOWN, postcode="CF10 5AA"),
        row(council={**CARDIFF, "council_name": "Cardiff"}, area=BUTETOWN, postcode="CF10 5AD"),  # new
    ]

    summary = import_areas(write(tmp_path, csv_text(rows), "changed.csv"))

    assert (summary.councils_updated, summary.neighbourhoods_updated, summary.neighbourhoods_unchanged) == (1, 1, 1)
    assert (summary.postcodes_created, summary.postcodes_updated, summary.postcodes_unchanged) == (1, 1, 2)
    assert Council.objects.count() == 2
    assert Neighbourhood.objects.count() == 3
    assert dict(Neighbourhood.objects.values_list("code", "pk")) == ids  # same rows, updated
    cardiff = Council.objects.get(code="W06000015")
    assert (cardiff.name, cardiff.slug) == ("Cardiff", "cardiff-council")  # web addresses never change
    splott = Neighbourhood.objects.get(code="W01001897")
    assert (splott.name, splott.slug, splott.households, splott.imd_decile) == (
        "Splott and Tremorfa",
        "splott",
        1610,
        None,
    )
    assert Postcode.objects.get(code="CF24 2AB").neighbourhood.code == "W01001712"
    # Nothing is deleted: a postcode left out of the file stays where it was.
    assert Postcode.objects.get(code="CF10 5AB").neighbourhood.code == "W01001712"
    assert Postcode.objects.count() == 6


def test_a_postcode_already_stored_elsewhere_moves_to_the_file_s_neighbourhood(tmp_path):
    PostcodeFactory(code="CF24 2AA")

    summary = import_areas(write(tmp_path, csv_text([row(postcode="cf24 2aa")])))

    assert (summary.postcodes_created, summary.postcodes_updated) == (0, 1)
    assert Postcode.objects.get(code="CF24 2AA").neighbourhood.code == "W01001897"


def test_clashing_slugs_get_the_code_appended(tmp_path):
    CouncilFactory(slug="cardiff-council", code="W06999999")
    NeighbourhoodFactory(slug="splott", code="W01999999")
    twin = {**BUTETOWN, "neighbourhood_name": "Splott"}

    import_areas(write(tmp_path, csv_text([row(postcode="CF24 2AA"), row(area=twin, postcode="CF24 2AB")])))

    assert Council.objects.get(code="W06000015").slug == "cardiff-council-w06000015"
    assert Neighbourhood.objects.get(code="W01001897").slug == "splott-w01001897"
    assert Neighbourhood.objects.get(code="W01001712").slug == "splott-w01001712"


def test_a_name_without_letters_still_gets_a_slug(tmp_path):
    import_areas(write(tmp_path, csv_text([row(area={**SPLOTT, "neighbourhood_name": "★"})])))
    assert Neighbourhood.objects.get(code="W01001897").slug == "w01001897"


# --- Broken CSV files ----------------------------------------------------------------------------------------------


@pytest.fixture
def stored_areas():
    """Data already in the database, which a failed import must leave exactly as it was."""
    council = CouncilFactory(code="W06000015", name="Cardiff Council", slug="cardiff-council")
    splott = NeighbourhoodFactory(council=council, code="W01001897", name="Splott", slug="splott", households=900)
    PostcodeFactory(code="CF24 2AA", neighbourhood=splott)
    PostcodeFactory(code="CF10 5AB")
    return snapshot()


def broken(line: int, **overrides) -> list[dict[str, str]]:
    """The good rows with one row changed, at CSV `line` (the header is line 1)."""
    rows = good_rows()
    rows[line - 2] = {**rows[line - 2], **overrides}
    return rows


BROKEN_ROWS = [
    pytest.param(broken(3, postcode="QQ1 1AA"), 3, '"QQ1 1AA" is not a UK postcode', id="bad-postcode"),
    pytest.param(broken(4, postcode=""), 4, "the postcode is empty", id="empty-postcode"),
    pytest.param(broken(2, council_code=""), 2, "unknown council", id="empty-council-code"),
    pytest.param(broken(5, council_name=""), 5, "the council has no name", id="empty-council-name"),
    pytest.param(broken(3, council_code="W06 0015"), 3, 'council code "W06 0015"', id="council-code-shape"),
    pytest.param(broken(4, neighbourhood_code=""), 4, "unknown neighbourhood", id="empty-neighbourhood-code"),
    pytest.param(broken(2, imd_decile="0"), 2, 'imd_decile "0" should be a whole number from 1 to 10', id="decile-0"),
    pytest.param(broken(3, imd_decile="11"), 3, 'imd_decile "11"', id="decile-11"),
    pytest.param(broken(4, imd_decile="x"), 4, 'imd_decile "x"', id="decile-x"),
    pytest.param(broken(5, imd_decile="2.5"), 5, 'imd_decile "2.5"', id="decile-fraction"),
    pytest.param(broken(2, households="-5"), 2, 'households "-5" should be a whole number', id="households-negative"),
    pytest.param(broken(6, households="lots"), 6, 'households "lots"', id="households-words"),
    pytest.param(broken(3, nation="Cymru"), 3, 'nation "Cymru" should be England, Wales', id="bad-nation"),
    pytest.param(broken(6, nation=""), 6, 'nation ""', id="empty-nation"),
    pytest.param(
        broken(3, postcode="cf24  2aa"), 3, "postcode CF24 2AA is already listed on line 2", id="duplicate-postcode"
    ),
    pytest.param(
        broken(5, neighbourhood_name="Butetwon"),
        5,
        'neighbourhood W01001712 has name "Butetown" on line 4 but "Butetwon" here',
        id="conflicting-neighbourhood-name",
    ),
    pytest.param(
        broken(3, households="1541"),
        3,
        'neighbourhood W01001897 has households "1540" on line 2 but "1541" here',
        id="conflicting-households",
    ),
    pytest.param(
        broken(4, council_name="Cardiff"),
        4,
        'council W06000015 has name "Cardiff Council" on line 2 but "Cardiff" here',
        id="conflicting-council-name",
    ),
    pytest.param(
        broken(4, nation="England"), 4, 'council W06000015 has nation "Wales" on line 2', id="conflicting-nation"
    ),
    pytest.param(
        broken(6, **SPLOTT),
        6,
        "neighbourhood W01001897 is in council W06000015 on line 2 but in E06000023 here",
        id="neighbourhood-in-two-councils",
    ),
]


@pytest.mark.parametrize(("rows", "line", "message"), BROKEN_ROWS)
def test_a_broken_row_is_reported_by_line_and_nothing_is_written(tmp_path, stored_areas, rows, line, message):
    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, csv_text(rows)))

    assert [(p.line, p.file) for p in caught.value.problems] == [(line, "csv")]
    assert message in caught.value.problems[0].message
    assert str(caught.value.problems[0]).startswith(f"line {line}: ")
    assert snapshot() == stored_areas  # the good rows around it were not written either


def test_the_bad_postcode_message_reads_as_documented(tmp_path):
    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, csv_text(broken(6, postcode="QQ1 1AA"))))
    assert str(caught.value.problems[0]) == 'line 6: "QQ1 1AA" is not a UK postcode'


def test_every_problem_in_a_file_is_reported_at_once(tmp_path, stored_areas):
    rows = good_rows()
    rows[1]["postcode"] = "nope"
    rows[3]["imd_decile"] = "0"
    rows[3]["nation"] = "Atlantis"
    rows[4]["council_code"] = ""

    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, csv_text(rows)))

    assert [p.line for p in caught.value.problems] == [3, 5, 5, 6]
    assert caught.value.total == 4
    assert "4 problems" in caught.value.message
    assert snapshot() == stored_areas


def test_a_long_list_of_problems_is_capped_with_a_count_of_the_rest(tmp_path):
    rows = [row(postcode=f"BAD{i}") for i in range(60)]

    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, csv_text(rows)))

    error = caught.value
    assert (len(error.problems), error.more, error.total) == (50, 10, 60)
    assert error.problems[-1].line == 51
    assert error.lines()[-1] == "…and 10 more problems."
    assert Postcode.objects.count() == 0


@pytest.mark.parametrize("missing", ["imd_decile", "postcode", "council_code"])
def test_a_missing_column_is_reported_on_line_1(tmp_path, stored_areas, missing):
    columns = [column for column in COLUMNS if column != missing]

    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, csv_text(good_rows(), columns=columns)))

    assert [(p.line, p.message) for p in caught.value.problems] == [(1, f"missing column: {missing}")]
    assert snapshot() == stored_areas


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param("", 1, "the file is empty", id="empty"),
        pytest.param(",".join(COLUMNS) + "\n", 1, "there are no rows below the header", id="header-only"),
        pytest.param(
            ",".join(COLUMNS) + ",postcode\n", 1, "column listed more than once: postcode", id="duplicate-column"
        ),
        pytest.param(
            ",".join(COLUMNS) + "\nW06000015,Cardiff Council,Wales,W01001897,Splott,1540,3\n",
            2,
            "expected 8 values, like the header, but found 7",
            id="short-row",
        ),
    ],
)
def test_files_without_usable_rows_are_refused(tmp_path, stored_areas, text, line, message):
    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, text))

    [problem] = caught.value.problems
    assert problem.line == line
    assert problem.message.startswith(message)
    assert snapshot() == stored_areas


def test_a_file_that_is_not_utf8_is_refused(tmp_path, stored_areas):
    path = tmp_path / "latin1.csv"
    path.write_bytes(csv_text([row(council_name="Caerdydd Côr")]).encode("latin-1"))

    with pytest.raises(AreaImportError) as caught:
        import_areas(path)

    assert "not UTF-8" in caught.value.problems[0].message
    assert snapshot() == stored_areas


def test_a_neighbourhood_cannot_move_to_another_council(tmp_path, stored_areas):
    rows = [row(council=BRISTOL, postcode="BS5 0AA")]  # Splott (stored in Cardiff) listed under Bristol

    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, csv_text(rows)))

    [problem] = caught.value.problems
    assert problem.line == 2
    assert "already belongs to Cardiff Council (W06000015); it cannot move to E06000023" in problem.message
    assert snapshot() == stored_areas


# --- Boundaries ----------------------------------------------------------------------------------------------------


def test_boundaries_are_set_for_neighbourhoods_in_the_file_and_already_stored(tmp_path):
    stored = NeighbourhoodFactory(code="W01777771", boundary=None)
    untouched = NeighbourhoodFactory(code="W01777772", boundary=polygon(lon=-3.3))
    multi = {
        "type": "MultiPolygon",
        "coordinates": [polygon(-3.16)["coordinates"], polygon(-3.18)["coordinates"]],
    }
    with_height = {
        "type": "Polygon",
        "coordinates": [[[-3.1, 51.4, 12], [-3.09, 51.4, 12.5], [-3.1, 51.41, 3], [-3.1, 51.4, 12]]],
    }
    boundaries = write(
        tmp_path,
        collection(feature("W01001897"), feature("w01001712", multi), feature("W01777771", with_height)),
        "b.geojson",
    )

    summary = import_areas(write(tmp_path, csv_text(good_rows())), boundaries)

    assert summary.boundaries_set == 3
    assert summary.neighbourhoods_created == 3  # the stored one is not counted as a CSV neighbourhood
    assert Neighbourhood.objects.get(code="W01001897").boundary == polygon()
    assert Neighbourhood.objects.get(code="W01001712").boundary == multi
    stored.refresh_from_db()
    assert stored.boundary == {
        "type": "Polygon",
        "coordinates": [[[-3.1, 51.4], [-3.09, 51.4], [-3.1, 51.41], [-3.1, 51.4]]],  # elevation dropped
    }
    untouched.refresh_from_db()
    assert untouched.boundary == polygon(lon=-3.3)  # not in the file: left as it was
    assert Neighbourhood.objects.get(code="E01014542").boundary is None


def test_rerunning_with_boundaries_is_idempotent_and_keeps_boundaries_missing_from_later_files(tmp_path):
    csv_path = write(tmp_path, csv_text(good_rows()))
    boundaries = write(tmp_path, collection(feature("W01001897")), "b.geojson")
    import_areas(csv_path, boundaries)
    before = snapshot()

    again = import_areas(csv_path, boundaries)
    assert snapshot() == before
    assert (again.neighbourhoods_updated, again.boundaries_set) == (0, 1)

    import_areas(csv_path)  # no boundaries file this time
    assert Neighbourhood.objects.get(code="W01001897").boundary == polygon()

    moved = write(tmp_path, collection(feature("W01001897", polygon(lon=-3.16))), "moved.geojson")
    assert import_areas(csv_path, moved).neighbourhoods_updated == 1
    assert Neighbourhood.objects.get(code="W01001897").boundary == polygon(lon=-3.16)


def unclosed() -> dict:
    return {"type": "Polygon", "coordinates": [[[-3.1, 51.4], [-3.09, 51.4], [-3.1, 51.41], [-3.11, 51.4]]]}


BROKEN_BOUNDARIES = [
    pytest.param(
        json.dumps({"type": "Feature", "geometry": polygon()}), {}, "expected a GeoJSON FeatureCollection", id="feature"
    ),
    pytest.param(json.dumps([1, 2]), {}, "expected a GeoJSON FeatureCollection", id="list"),
    pytest.param(json.dumps({"type": "FeatureCollection"}), {}, 'no "features" list', id="no-features"),
    pytest.param('{"type": "FeatureCollection",\n "features": [,]}', {"line": 2}, "not valid JSON", id="invalid-json"),
    pytest.param(
        collection(feature("W01001897"), feature("W01999999")),
        {"feature": 2},
        "unknown neighbourhood code W01999999",
        id="unknown-code",
    ),
    pytest.param(
        collection({"type": "Feature", "properties": {}, "geometry": polygon()}),
        {"feature": 1},
        "no properties.neighbourhood_code",
        id="no-code",
    ),
    pytest.param(
        collection({"type": "Feature", "properties": None, "geometry": polygon()}),
        {"feature": 1},
        "no properties.neighbourhood_code",
        id="null-properties",
    ),
    pytest.param(
        collection(feature("W01001897"), feature("W01001897")),
        {"feature": 2},
        "W01001897 already has a boundary in feature 1",
        id="duplicate-code",
    ),
    pytest.param(
        collection(feature("W01001897", polygon(lat=95))), {"feature": 1}, "out of range", id="latitude-out-of-range"
    ),
    pytest.param(
        collection(feature("W01001897", polygon(lon=-181))), {"feature": 1}, "out of range", id="longitude-out-of-range"
    ),
    pytest.param(
        collection(
            feature("W01001897", {"type": "Polygon", "coordinates": [[["-3.1", "51.4"], [1, 2], [2, 2], [1, 1]]]})
        ),
        {"feature": 1},
        "should hold numbers",
        id="coordinates-as-strings",
    ),
    pytest.param(
        collection(feature("W01001897", {"type": "Polygon", "coordinates": [[[-3.1], [1, 2], [2, 2], [-3.1]]]})),
        {"feature": 1},
        "should be [longitude, latitude]",
        id="short-position",
    ),
    pytest.param(collection(feature("W01001897", unclosed())), {"feature": 1}, "must be closed", id="unclosed-ring"),
    pytest.param(
        collection(feature("W01001897", {"type": "Polygon", "coordinates": [[[1, 1], [1, 2], [1, 1]]]})),
        {"feature": 1},
        "at least 4 positions",
        id="too-few-positions",
    ),
    pytest.param(
        collection(feature("W01001897", {"type": "Polygon", "coordinates": []})),
        {"feature": 1},
        "needs a list of rings",
        id="no-rings",
    ),
    pytest.param(
        collection(feature("W01001897", {"type": "Point", "coordinates": [-3.1, 51.4]})),
        {"feature": 1},
        'Polygon or MultiPolygon, not "Point"',
        id="point",
    ),
    pytest.param(
        collection(feature("W01001897", {"type": "MultiPolygon", "coordinates": [[[[1, 1], [1, 2], [2, 2]]]]})),
        {"feature": 1},
        "at least 4 positions",
        id="bad-multipolygon",
    ),
    pytest.param(
        collection({"type": "Feature", "properties": {"neighbourhood_code": "W01001897"}}),
        {"feature": 1},
        "no geometry",
        id="no-geometry",
    ),
    pytest.param(collection("W01001897"), {"feature": 1}, "expected a Feature", id="not-a-feature"),
]


@pytest.mark.parametrize(("text", "where", "message"), BROKEN_BOUNDARIES)
def test_a_broken_boundaries_file_is_reported_and_nothing_is_written(tmp_path, stored_areas, text, where, message):
    boundaries = write(tmp_path, text, "b.geojson")

    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, csv_text(good_rows())), boundaries)

    [problem] = caught.value.problems
    assert problem.file == "boundaries"
    assert (problem.line, problem.feature) == (where.get("line"), where.get("feature"))
    assert message in problem.message
    assert snapshot() == stored_areas  # not even the (good) CSV was written


def test_a_boundary_for_a_stored_neighbourhood_not_in_the_csv_is_accepted(tmp_path, stored_areas):
    boundaries = write(tmp_path, collection(feature("W01001897")), "b.geojson")
    rows = [row(council=BRISTOL, area=EASTON, postcode="BS5 0AA")]

    import_areas(write(tmp_path, csv_text(rows)), boundaries)

    assert Neighbourhood.objects.get(code="W01001897").boundary == polygon()


def test_problems_in_both_files_are_reported_together_csv_first(tmp_path, stored_areas):
    boundaries = write(tmp_path, collection(feature("W01001897", unclosed())), "b.geojson")

    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, csv_text(broken(3, imd_decile="12"))), boundaries)

    assert [str(p).split(":")[0] for p in caught.value.problems] == ["line 3", "boundaries, feature 1"]
    assert snapshot() == stored_areas


def test_a_boundary_for_a_neighbourhood_on_a_broken_row_is_not_also_called_unknown(tmp_path):
    rows = [row(area={**SPLOTT, "neighbourhood_code": "W01000123"}, postcode="nope")]
    boundaries = write(tmp_path, collection(feature("W01000123")), "b.geojson")

    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, csv_text(rows)), boundaries)

    assert [str(p) for p in caught.value.problems] == ['line 2: "nope" is not a UK postcode']


# --- The management command ----------------------------------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_areas", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_and_prints_a_summary(tmp_path):
    csv_path = write(tmp_path, csv_text(good_rows()))
    boundaries = write(tmp_path, collection(feature("W01001897")), "b.geojson")

    out, err = run_command(str(csv_path), "--boundaries", str(boundaries))

    assert err == ""
    assert f"Imported {csv_path}." in out
    assert "Councils: 2 created, 0 updated, 0 unchanged" in out
    assert "Neighbourhoods: 3 created, 0 updated, 0 unchanged" in out
    assert "Postcodes: 5 created, 0 updated, 0 unchanged" in out
    assert "Boundaries set: 1" in out
    assert Postcode.objects.count() == 5

    out, _ = run_command(str(csv_path))
    assert "Postcodes: 0 created, 0 updated, 5 unchanged" in out


def test_the_command_lists_problems_one_per_line_and_fails(tmp_path, stored_areas):
    rows = good_rows()
    rows[5 - 2]["postcode"] = "QQ1 1AA"
    rows[6 - 2]["imd_decile"] = "0"
    boundaries = write(tmp_path, collection(feature("W01999999")), "b.geojson")

    out = io.StringIO()
    err = io.StringIO()
    with pytest.raises(CommandError, match="Found 3 problems") as caught:
        call_command(
            "import_areas", str(write(tmp_path, csv_text(rows))), boundaries=str(boundaries), stdout=out, stderr=err
        )

    assert err.getvalue().splitlines() == [
        'line 5: "QQ1 1AA" is not a UK postcode',
        'line 6: imd_decile "0" should be a whole number from 1 to 10',
        "boundaries, feature 1: unknown neighbourhood code W01999999: it is neither in the CSV file nor already stored",
    ]
    assert "nothing was imported" in str(caught.value)
    assert out.getvalue() == ""
    assert snapshot() == stored_areas


def test_the_command_refuses_a_missing_file_cleanly(tmp_path):
    with pytest.raises(CommandError, match=r"No such file: .*nowhere\.csv"):
        run_command(str(tmp_path / "nowhere.csv"))

    csv_path = write(tmp_path, csv_text(good_rows()))
    with pytest.raises(CommandError, match=r"No such file: .*nowhere\.geojson"):
        run_command(str(csv_path), "--boundaries", str(tmp_path / "nowhere.geojson"))
    assert Postcode.objects.count() == 0


# --- The demo files ------------------------------------------------------------------------------------------------


def test_the_demo_files_import_cleanly_and_cover_the_postcodes_others_rely_on():
    summary = import_areas(DEMO / "areas.csv", DEMO / "boundaries.geojson")

    cardiff = Council.objects.get()
    assert (cardiff.code, cardiff.name, cardiff.nation) == ("W06000015", "Cardiff Council", "Wales")
    assert 6 <= summary.neighbourhoods_created <= 8
    assert Postcode.objects.get(code="CF24 2AA").neighbourhood.name == "Splott"
    assert Postcode.objects.get(code="CF10 5AA").neighbourhood.name == "Butetown"
    areas = list(Neighbourhood.objects.all())
    assert {area.council for area in areas} == {cardiff}
    assert all(600 <= area.households <= 1800 for area in areas)
    assert len({area.imd_decile for area in areas}) >= 5
    assert all(10 <= area.postcodes.count() <= 20 for area in areas)
    assert all(code.split()[0] in {"CF10", "CF11", "CF24"} for code in Postcode.objects.values_list("code", flat=True))
    without = [area for area in areas if area.boundary is None]
    assert len(without) == 1  # the council map lists neighbourhoods without a boundary
    assert summary.boundaries_set == len(areas) - 1
    for area in areas:
        if area.boundary is None:
            continue
        [ring] = area.boundary["coordinates"]
        assert 6 <= len(ring) - 1 <= 12
        assert all(-3.22 <= lon <= -3.14 and 51.46 <= lat <= 51.50 for lon, lat in ring)

    again = import_areas(DEMO / "areas.csv", DEMO / "boundaries.geojson")
    assert (again.councils_created, again.neighbourhoods_created, again.postcodes_created) == (0, 0, 0)
    assert (again.neighbourhoods_updated, again.postcodes_updated) == (0, 0)


# --- Batched writes ------------------------------------------------------------------------------------------------


def test_imports_run_the_same_number_of_queries_for_200_or_2000_postcodes(tmp_path, django_assert_max_num_queries):
    small = big_file(tmp_path, 200, "NP", "W01NP")
    large = big_file(tmp_path, 2000, "SA", "W01SA")

    with CaptureQueriesContext(connection) as queries:
        assert import_areas(small).postcodes_created == 200
    budget = len(queries)
    assert budget <= 10  # savepoint, 2 reads + slugs + insert for councils and neighbourhoods, postcodes, release

    with django_assert_max_num_queries(budget):
        summary = import_areas(large)
    assert (summary.neighbourhoods_created, summary.postcodes_created) == (20, 2000)
    assert Postcode.objects.count() == 2200


def test_moving_2000_postcodes_is_batched_too(tmp_path, django_assert_max_num_queries):
    import_areas(big_file(tmp_path, 2000, "SA", "W01SA"))
    # The same postcodes, now grouped 50 to a neighbourhood: most of them move.
    regrouped = big_file(tmp_path, 2000, "SA", "W01SA", per_neighbourhood=50)

    with django_assert_max_num_queries(14):
        summary = import_areas(regrouped)

    assert summary.neighbourhoods_created == 20
    assert summary.postcodes_updated > 1500
    assert Postcode.objects.count() == 2000
    assert Postcode.objects.get(code=postcode_list(2000, "SA")[-1]).neighbourhood.code == "W01SA00039"


# --- Wards (an optional column) --------------------------------------------------------------------------------------

WITH_WARD = (*COLUMNS, "ward")


def test_an_optional_ward_column_sets_each_neighbourhoods_ward(tmp_path):
    rows = [
        {**r, "ward": "Splott" if r["neighbourhood_code"] == SPLOTT["neighbourhood_code"] else ""} for r in good_rows()
    ]
    summary = import_areas(write(tmp_path, csv_text(rows, columns=WITH_WARD)))
    assert summary.neighbourhoods_created == 3
    assert dict(Neighbourhood.objects.values_list("name", "ward")) == {"Splott": "Splott", "Butetown": "", "Easton": ""}


def test_a_file_without_the_ward_column_keeps_stored_wards_and_an_empty_one_clears_them(tmp_path):
    rows = [{**r, "ward": "Splott"} for r in good_rows()]
    import_areas(write(tmp_path, csv_text(rows, columns=WITH_WARD)))
    unchanged = import_areas(write(tmp_path, csv_text(good_rows()), "no-ward.csv"))
    assert unchanged.neighbourhoods_unchanged == 3
    assert set(Neighbourhood.objects.values_list("ward", flat=True)) == {"Splott"}
    renamed = [
        {**r, "ward": "Splott and Tremorfa" if r["neighbourhood_code"] == SPLOTT["neighbourhood_code"] else ""}
        for r in good_rows()
    ]
    summary = import_areas(write(tmp_path, csv_text(renamed, columns=WITH_WARD), "renamed.csv"))
    assert summary.neighbourhoods_updated == 3
    assert dict(Neighbourhood.objects.values_list("name", "ward")) == {
        "Splott": "Splott and Tremorfa",
        "Butetown": "",
        "Easton": "",
    }


def test_wards_must_agree_across_a_neighbourhoods_rows_and_fit(tmp_path, stored_areas):
    rows = [{**r, "ward": "Splott"} for r in good_rows()]
    rows[1]["ward"] = "Tremorfa"
    rows[2]["ward"] = "W" * 121
    with pytest.raises(AreaImportError) as caught:
        import_areas(write(tmp_path, csv_text(rows, columns=WITH_WARD)))
    assert caught.value.lines() == [
        'line 3: neighbourhood W01001897 has ward "Splott" on line 2 but "Tremorfa" here',
        "line 4: the ward name is longer than 120 characters",
    ]


def test_the_demo_neighbourhoods_have_their_cardiff_wards():
    import_areas(DEMO / "areas.csv", DEMO / "boundaries.geojson")
    wards = dict(Neighbourhood.objects.values_list("name", "ward"))
    assert wards["Splott"] == "Splott"
    assert wards["Roath"] == "Plasnewydd"
    assert all(wards.values())
