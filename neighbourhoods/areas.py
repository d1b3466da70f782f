"""Load councils, neighbourhoods, postcodes and neighbourhood boundaries from files.

`import_areas(csv_file, boundaries_file=None)` is the one entry point, for `python manage.py import_areas` and the
demo seed alike. It reads everything, checks everything, and only then writes, in one transaction: a file with any
problem changes nothing, and every problem is reported with where it is, so a person can fix them all in one go.
"""

import csv
import io
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.exceptions import DomainError

from . import postcodes
from .models import Council, Neighbourhood, Postcode

COLUMNS = (
    "council_code",
    "council_name",
    "nation",
    "neighbourhood_code",
    "neighbourhood_name",
    "households",
    "imd_decile",
    "postcode",
)
OPTIONAL_COLUMNS = ("ward",)  # a file without them leaves the stored values as they are
MAX_PROBLEMS = 50  # reported in full; beyond this we only say how many more there are
BATCH_SIZE = 2000  # rows per INSERT or UPDATE ... FROM (VALUES ...), and codes per IN (...) lookup
CASE_BATCH_SIZE = 500  # rows per bulk_update, whose CASE WHEN costs grow with the square of the batch

_CODE = re.compile(r"^[A-Z0-9]{1,12}$")
_NATIONS = {value.lower(): value for value in Council.Nation.values}
_MAX_HOUSEHOLDS = 2_147_483_647  # PositiveIntegerField's ceiling
_NAME_LENGTH = 120
_SLUG_LENGTH = 120

Source = str | os.PathLike | IO[str] | IO[bytes]


# --- What went wrong, and what was done ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, and where.

    `line` is counted as a person counts (the CSV header is line 1); `feature` is the GeoJSON feature's position
    counted from 1 (feature 1 is `features[0]`). `file` is "csv" or "boundaries".
    """

    message: str
    file: str = "csv"
    line: int | None = None
    feature: int | None = None

    def __str__(self) -> str:
        if self.file == "csv":
            if self.line is None:
                return self.message
            return _("line %(line)d: %(message)s") % {"line": self.line, "message": self.message}
        if self.feature is not None:
            return _("boundaries, feature %(feature)d: %(message)s") % {
                "feature": self.feature,
                "message": self.message,
            }
        if self.line is not None:
            return _("boundaries, line %(line)d: %(message)s") % {"line": self.line, "message": self.message}
        return _("boundaries: %(message)s") % {"message": self.message}


class AreaImportError(DomainError):
    """The files had problems, so nothing was imported.

    `problems` holds the first `MAX_PROBLEMS` of them in file order, `more` how many were left out, `total` all.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.total = len(problems)
        self.problems = problems[:MAX_PROBLEMS]
        self.more = self.total - len(self.problems)
        super().__init__(
            ngettext(
                "Found %(count)d problem, so nothing was imported.",
                "Found %(count)d problems, so nothing was imported.",
                self.total,
            )
            % {"count": self.total}
        )

    def lines(self) -> list[str]:
        """The problems, one line each, ending with a note of how many more there were (if any)."""
        lines = [str(problem) for problem in self.problems]
        if self.more:
            lines.append(
                ngettext("…and %(count)d more problem.", "…and %(count)d more problems.", self.more)
                % {"count": self.more}
            )
        return lines


@dataclass
class ImportSummary:
    """What an import did. *updated* counts rows whose values changed; *unchanged* rows were already right."""

    councils_created: int = 0
    councils_updated: int = 0
    councils_unchanged: int = 0
    neighbourhoods_created: int = 0
    neighbourhoods_updated: int = 0
    neighbourhoods_unchanged: int = 0
    postcodes_created: int = 0
    postcodes_updated: int = 0  # moved to another neighbourhood
    postcodes_unchanged: int = 0
    boundaries_set: int = 0  # neighbourhoods given a boundary from the GeoJSON file (whether or not it changed)

    def lines(self) -> list[str]:
        def line(label: str, created: int, updated: int, unchanged: int) -> str:
            return _("%(label)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged") % {
                "label": label,
                "created": created,
                "updated": updated,
                "unchanged": unchanged,
            }

        return [
            line(_("Councils"), self.councils_created, self.councils_updated, self.councils_unchanged),
            line(
                _("Neighbourhoods"),
                self.neighbourhoods_created,
                self.neighbourhoods_updated,
                self.neighbourhoods_unchanged,
            ),
            line(_("Postcodes"), self.postcodes_created, self.postcodes_updated, self.postcodes_unchanged),
            _("Boundaries set: %(count)d") % {"count": self.boundaries_set},
        ]

    def __str__(self) -> str:
        return "\n".join(self.lines())


# --- Parsed rows -------------------------------------------------------------------------------------------------


@dataclass
class _CouncilRow:
    code: str
    name: str
    nation: str
    line: int


@dataclass
class _NeighbourhoodRow:
    code: str
    name: str
    council_code: str
    households: int | None
    imd_decile: int | None
    line: int
    ward: str | None = None  # None: the file has no ward column, so the stored ward stays


@dataclass
class _Parsed:
    councils: dict[str, _CouncilRow] = field(default_factory=dict)
    neighbourhoods: dict[str, _NeighbourhoodRow] = field(default_factory=dict)
    postcodes: dict[str, str] = field(default_factory=dict)  # postcode → neighbourhood code
    csv_ok: bool = False  # the header was readable, so the codes above can be trusted for cross-checks
    mentioned: set[str] = field(default_factory=set)  # every neighbourhood code in the CSV, broken rows too
    boundaries: dict[str, tuple[int, dict]] = field(default_factory=dict)  # code → (feature number, geometry)


# --- Entry point -------------------------------------------------------------------------------------------------


def import_areas(csv_file: Source, boundaries_file: Source | None = None) -> ImportSummary:
    """Create or update the councils, neighbourhoods and postcodes in `csv_file`, and boundaries from `boundaries_file`.

    CSV: UTF-8 (a byte-order mark is fine), a header row, then one row per postcode with the columns
    `council_code, council_name, nation, neighbourhood_code, neighbourhood_name, households, imd_decile, postcode`.
    Headers are matched ignoring case and surrounding spaces, in any order; extra columns are ignored, so a
    spreadsheet with a notes column imports as it is. Values are trimmed; blank lines and rows with every value empty
    are skipped. `nation` is England, Wales, Scotland or Northern Ireland (any case); `households` (a whole number,
    0 or more) and `imd_decile` (1 to 10, 1 the most deprived) may be empty. An optional `ward` column names the
    electoral ward each neighbourhood lies in (empty clears it; without the column stored wards are kept). Codes are
    letters and digits, at most 12, and are stored in capitals. Postcodes are stored normalised ("cf242aa" →
    "CF24 2AA"). Every row repeats its council's and neighbourhood's details, and they must agree with each other
    across the file.

    GeoJSON: a FeatureCollection whose features each carry `properties.neighbourhood_code` and a Polygon or
    MultiPolygon geometry in WGS84 longitude/latitude. The code may be in the CSV or already in the database.
    A position may carry a third number (elevation); only longitude and latitude are kept.

    Re-running is safe: rows are matched by code and updated in place. Nothing is ever deleted: postcodes and
    boundaries missing from a file stay as they were. A postcode listed under another neighbourhood moves there.
    A neighbourhood cannot move to another council, and existing slugs (web addresses) never change.

    Raises `AreaImportError` listing every problem (CSV line numbers with the header as line 1, GeoJSON feature
    numbers from 1); in that case nothing from either file has been written.
    """
    problems: list[Problem] = []
    parsed = _Parsed()
    text = _read_text(csv_file, "csv", problems)
    if text is not None:
        _parse_csv(text, parsed, problems)
    if boundaries_file is not None:
        text = _read_text(boundaries_file, "boundaries", problems)
        if text is not None:
            _parse_geojson(text, parsed, problems)
    with transaction.atomic():
        existing = _check_against_database(parsed, problems)
        if problems:
            raise AreaImportError(problems)
        return _write(parsed, existing)


# --- Reading -----------------------------------------------------------------------------------------------------


def _read_text(source: Source, file: str, problems: list[Problem]) -> str | None:
    try:
        if isinstance(source, str | os.PathLike):
            raw: str | bytes = Path(source).read_bytes()
        else:
            raw = source.read()
    except OSError as error:
        problems.append(Problem(_("cannot read the file: %(reason)s") % {"reason": error.strerror or error}, file))
        return None
    if isinstance(raw, bytes):
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            problems.append(
                Problem(_("the file is not UTF-8 text (byte %(position)d)") % {"position": error.start + 1}, file)
            )
            return None
    return raw.removeprefix("\ufeff")


def _quoted(value: str) -> str:
    return f'"{value}"'


def _parse_csv(text: str, parsed: _Parsed, problems: list[Problem]) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        problems.append(Problem(_("cannot read the header: %(reason)s") % {"reason": error}, line=1))
        return
    if header is None or not any(cell.strip() for cell in header):
        problems.append(
            Problem(
                _("the file is empty: expected a header row with %(columns)s") % {"columns": ",".join(COLUMNS)}, line=1
            )
        )
        return
    names = [cell.strip().lower() for cell in header]
    known = COLUMNS + OPTIONAL_COLUMNS
    duplicated = sorted({name for name in names if name in known and names.count(name) > 1})
    missing = [column for column in COLUMNS if column not in names]
    if duplicated:
        problems.append(
            Problem(_("column listed more than once: %(columns)s") % {"columns": ", ".join(duplicated)}, line=1)
        )
    if missing:
        problems.append(
            Problem(
                ngettext("missing column: %(columns)s", "missing columns: %(columns)s", len(missing))
                % {"columns": ", ".join(missing)},
                line=1,
            )
        )
    if duplicated or missing:
        return
    parsed.csv_ok = True
    index = {name: names.index(name) for name in known if name in names}
    postcode_lines: dict[str, int] = {}
    rows = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(Problem(_("cannot read this row: %(reason)s") % {"reason": error}, line=reader.line_num))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        rows += 1
        if len(cells) != len(header):
            problems.append(
                Problem(
                    _("expected %(expected)d values, like the header, but found %(found)d")
                    % {"expected": len(header), "found": len(cells)},
                    line=line,
                )
            )
            continue
        row = {name: cells[position].strip() for name, position in index.items()}
        _parse_row(row, line, parsed, postcode_lines, problems)
    if rows == 0:
        problems.append(Problem(_("there are no rows below the header"), line=1))


def _parse_row(
    row: dict[str, str], line: int, parsed: _Parsed, postcode_lines: dict[str, int], problems: list[Problem]
) -> None:
    found: list[str] = []

    council_code = row["council_code"].upper()
    if not council_code:
        found.append(_("unknown council: council_code is empty"))
    elif not _CODE.match(council_code):
        found.append(
            _("council code %(value)s should be letters and digits only, at most 12 (like W06000015)")
            % {"value": _quoted(row["council_code"])}
        )
    council_name = row["council_name"]
    if not council_name:
        found.append(_("the council has no name (council_name is empty)"))
    elif len(council_name) > _NAME_LENGTH:
        found.append(_("the council name is longer than %(max)d characters") % {"max": _NAME_LENGTH})
    nation = _NATIONS.get(row["nation"].lower()) or _NATIONS.get(" ".join(row["nation"].split()).lower())
    if nation is None:
        found.append(
            _("nation %(value)s should be England, Wales, Scotland or Northern Ireland")
            % {"value": _quoted(row["nation"])}
        )
    neighbourhood_code = row["neighbourhood_code"].upper()
    parsed.mentioned.add(neighbourhood_code)
    if not neighbourhood_code:
        found.append(_("unknown neighbourhood: neighbourhood_code is empty"))
    elif not _CODE.match(neighbourhood_code):
        found.append(
            _("neighbourhood code %(value)s should be letters and digits only, at most 12 (like W01001701)")
            % {"value": _quoted(row["neighbourhood_code"])}
        )
    neighbourhood_name = row["neighbourhood_name"]
    if not neighbourhood_name:
        found.append(_("the neighbourhood has no name (neighbourhood_name is empty)"))
    elif len(neighbourhood_name) > _NAME_LENGTH:
        found.append(_("the neighbourhood name is longer than %(max)d characters") % {"max": _NAME_LENGTH})
    ward = row.get("ward")
    if ward is not None and len(ward) > _NAME_LENGTH:
        found.append(_("the ward name is longer than %(max)d characters") % {"max": _NAME_LENGTH})
    households = _whole_number(row["households"], found)
    imd_decile = _decile(row["imd_decile"], found)
    postcode = postcodes.normalise(row["postcode"])
    if not row["postcode"]:
        found.append(_("the postcode is empty"))
    elif not postcodes.is_valid(postcode):
        found.append(_("%(value)s is not a UK postcode") % {"value": _quoted(row["postcode"])})
    elif postcode in postcode_lines:
        found.append(
            _("postcode %(postcode)s is already listed on line %(line)d")
            % {"postcode": postcode, "line": postcode_lines[postcode]}
        )
    else:
        postcode_lines[postcode] = line

    if not found:
        found.extend(
            _agree_council(parsed, _CouncilRow(council_code, council_name, nation, line))
            + _agree_neighbourhood(
                parsed,
                _NeighbourhoodRow(
                    neighbourhood_code, neighbourhood_name, council_code, households, imd_decile, line, ward
                ),
            )
        )
    if not found:
        parsed.postcodes[postcode] = neighbourhood_code
    problems.extend(Problem(message, line=line) for message in found)


def _whole_number(value: str, found: list[str]) -> int | None:
    if not value:
        return None
    digits = value.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", value) else value
    if not digits.isascii() or not digits.isdigit() or int(digits) > _MAX_HOUSEHOLDS:
        found.append(_("households %(value)s should be a whole number, 0 or more") % {"value": _quoted(value)})
        return None
    return int(digits)


def _decile(value: str, found: list[str]) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 10):
        found.append(_("imd_decile %(value)s should be a whole number from 1 to 10") % {"value": _quoted(value)})
        return None
    return int(value)


def _agree_council(parsed: _Parsed, row: _CouncilRow) -> list[str]:
    first = parsed.councils.setdefault(row.code, row)
    if first is row or (first.name, first.nation) == (row.name, row.nation):
        return []
    found = []
    for label, mine, theirs in ((_("name"), row.name, first.name), (_("nation"), row.nation, first.nation)):
        if mine != theirs:
            found.append(
                _("council %(code)s has %(field)s %(first)s on line %(line)d but %(value)s here")
                % {
                    "code": row.code,
                    "field": label,
                    "first": _quoted(theirs),
                    "line": first.line,
                    "value": _quoted(mine),
                }
            )
    return found


def _agree_neighbourhood(parsed: _Parsed, row: _NeighbourhoodRow) -> list[str]:
    first = parsed.neighbourhoods.setdefault(row.code, row)
    if first.council_code != row.council_code:
        return [
            _("neighbourhood %(code)s is in council %(first)s on line %(line)d but in %(value)s here")
            % {"code": row.code, "first": first.council_code, "line": first.line, "value": row.council_code}
        ]
    if (first.name, first.households, first.imd_decile, first.ward) == (
        row.name,
        row.households,
        row.imd_decile,
        row.ward,
    ):
        return []
    found = []
    for label, mine, theirs in (
        (_("name"), row.name, first.name),
        (_("households"), row.households, first.households),
        (_("imd_decile"), row.imd_decile, first.imd_decile),
        (_("ward"), row.ward, first.ward),
    ):
        if mine != theirs:
            found.append(
                _("neighbourhood %(code)s has %(field)s %(first)s on line %(line)d but %(value)s here")
                % {
                    "code": row.code,
                    "field": label,
                    "first": _quoted("" if theirs is None else str(theirs)),
                    "line": first.line,
                    "value": _quoted("" if mine is None else str(mine)),
                }
            )
    return found


# --- GeoJSON -----------------------------------------------------------------------------------------------------


def _parse_geojson(text: str, parsed: _Parsed, problems: list[Problem]) -> None:
    def problem(message: str, **where: int) -> None:
        problems.append(Problem(message, "boundaries", **where))

    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        problem(
            _("not valid JSON: %(reason)s (column %(column)d)") % {"reason": error.msg, "column": error.colno},
            line=error.lineno,
        )
        return
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        problem(_('expected a GeoJSON FeatureCollection (an object with "type": "FeatureCollection")'))
        return
    features = document.get("features")
    if not isinstance(features, list):
        problem(_('the FeatureCollection has no "features" list'))
        return
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problem(_('expected a Feature (an object with "type": "Feature")'), feature=number)
            continue
        properties = feature.get("properties")
        raw_code = properties.get("neighbourhood_code") if isinstance(properties, dict) else None
        code = raw_code.strip().upper() if isinstance(raw_code, str) else ""
        if not code:
            problem(_("the feature has no properties.neighbourhood_code"), feature=number)
        elif not _CODE.match(code):
            problem(
                _("neighbourhood code %(value)s should be letters and digits only, at most 12")
                % {"value": _quoted(raw_code)},
                feature=number,
            )
            code = ""
        geometry, reason = _geometry(feature.get("geometry"))
        if reason:
            problem(reason, feature=number)
        if not code or geometry is None:
            continue
        if code in parsed.boundaries:
            problem(
                _("neighbourhood %(code)s already has a boundary in feature %(first)d")
                % {"code": code, "first": parsed.boundaries[code][0]},
                feature=number,
            )
            continue
        parsed.boundaries[code] = (number, geometry)


def _geometry(geometry: Any) -> tuple[dict | None, str | None]:
    """The geometry tidied to {"type", "coordinates"} with [lon, lat] positions, or why it is not usable."""
    if not isinstance(geometry, dict):
        return None, _("the feature has no geometry")
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        polygons, wrap = [coordinates], False
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            return None, _("a MultiPolygon needs a list of polygons")
        polygons, wrap = coordinates, True
    else:
        return None, _("the geometry should be a Polygon or MultiPolygon, not %(kind)s") % {"kind": _quoted(str(kind))}
    tidied = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return None, _("a polygon needs a list of rings (lists of [longitude, latitude] positions)")
        rings = []
        for ring in polygon:
            ring_or_reason = _ring(ring)
            if isinstance(ring_or_reason, str):
                return None, ring_or_reason
            rings.append(ring_or_reason)
        tidied.append(rings)
    return {"type": kind, "coordinates": tidied if wrap else tidied[0]}, None


def _ring(ring: Any) -> list[list[float]] | str:
    if not isinstance(ring, list) or len(ring) < 4:
        return _("a ring needs at least 4 positions (the last one repeating the first)")
    positions = []
    for position in ring:
        if not isinstance(position, list | tuple) or len(position) not in (2, 3):
            return _("a position should be [longitude, latitude], not %(value)s") % {"value": json.dumps(position)[:40]}
        if not all(isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n) for n in position):
            return _("a position should hold numbers, not %(value)s") % {"value": json.dumps(position)[:40]}
        lon, lat = position[0], position[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return _("position [%(lon)s, %(lat)s] is out of range: longitude is -180 to 180 and latitude -90 to 90") % {
                "lon": lon,
                "lat": lat,
            }
        positions.append([lon, lat])
    if positions[0] != positions[-1]:
        return _("a ring must be closed: its last position should repeat its first")
    return positions


# --- Checking against what is already stored ---------------------------------------------------------------------


@dataclass
class _Existing:
    councils: dict[str, Council]
    neighbourhoods: dict[str, Neighbourhood]


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    values = list(values)
    for start in range(0, len(values), BATCH_SIZE):
        yield values[start : start + BATCH_SIZE]


def _fetch(queryset: models.QuerySet, codes: Iterable[str]) -> list:
    return [row for chunk in _chunks(codes) for row in queryset.filter(code__in=chunk)]


def _check_against_database(parsed: _Parsed, problems: list[Problem]) -> _Existing:
    councils = {c.code: c for c in _fetch(Council.objects.all(), parsed.councils)}
    codes = set(parsed.neighbourhoods) | set(parsed.boundaries)
    neighbourhoods = {n.code: n for n in _fetch(Neighbourhood.objects.select_related("council"), sorted(codes))}
    for code, row in parsed.neighbourhoods.items():
        stored = neighbourhoods.get(code)
        if stored is not None and stored.council.code != row.council_code:
            problems.append(
                Problem(
                    _(
                        "neighbourhood %(code)s already belongs to %(council)s (%(council_code)s); "
                        "it cannot move to %(new)s"
                    )
                    % {
                        "code": code,
                        "council": stored.council.name,
                        "council_code": stored.council.code,
                        "new": row.council_code,
                    },
                    line=row.line,
                )
            )
    if parsed.csv_ok:
        for code, (number, _geometry) in parsed.boundaries.items():
            if code not in parsed.mentioned and code not in neighbourhoods:
                problems.append(
                    Problem(
                        _("unknown neighbourhood code %(code)s: it is neither in the CSV file nor already stored")
                        % {"code": code},
                        "boundaries",
                        feature=number,
                    )
                )
    problems.sort(key=lambda p: (p.file != "csv", p.line or 0, p.feature or 0))
    return _Existing(councils, neighbourhoods)


# --- Writing -----------------------------------------------------------------------------------------------------


def _unique_slugs(model: type[models.Model], wanted: dict[str, str]) -> dict[str, str]:
    """A free slug for each code in `wanted` (code → name): the name's, or with the code appended if that is taken."""
    bases = {code: slugify(name)[: _SLUG_LENGTH - 20].strip("-") or code.lower() for code, name in wanted.items()}
    candidates = {*bases.values(), *(f"{base}-{code.lower()}" for code, base in bases.items())}
    taken = {
        slug
        for chunk in _chunks(sorted(candidates))
        for slug in model.objects.filter(slug__in=chunk).values_list("slug", flat=True)
    }
    chosen = {}
    for code, base in bases.items():
        slug = base if base not in taken else f"{base}-{code.lower()}"
        if slug in taken:  # a clash even with the code appended: rare enough to look up one by one
            taken |= set(model.objects.filter(slug__startswith=slug).values_list("slug", flat=True))
            slug = next(f"{slug}-{n}" for n in range(2, 10_000) if f"{slug}-{n}" not in taken)
        taken.add(slug)
        chosen[code] = slug
    return chosen


def _pks(model: type[models.Model], created: list, known: dict[str, int]) -> dict[str, int]:
    """code → pk for `created` objects (filled in by bulk_create where the database returns ids) plus `known`."""
    ids = dict(known)
    missing = [obj.code for obj in created if obj.pk is None]
    ids.update({obj.code: obj.pk for obj in created if obj.pk is not None})
    for chunk in _chunks(missing):
        ids.update(model.objects.filter(code__in=chunk).values_list("code", "pk"))
    return ids


def _move_postcodes(moved: list[tuple[int, int]]) -> None:
    """Point each (postcode pk, neighbourhood pk) at its new neighbourhood, a batch per query.

    PostgreSQL joins a VALUES list, which stays fast for any number of rows; other databases (the embedded SQLite
    default, with small files) use bulk_update.
    """
    if connection.vendor != "postgresql":
        rows = [Postcode(pk=pk, neighbourhood_id=area_id) for pk, area_id in moved]
        Postcode.objects.bulk_update(rows, ["neighbourhood"], batch_size=CASE_BATCH_SIZE)
        return
    quote = connection.ops.quote_name
    table = quote(Postcode._meta.db_table)
    key = quote(Postcode._meta.pk.column)
    foreign_key = quote(Postcode._meta.get_field("neighbourhood").column)
    with connection.cursor() as cursor:
        for start in range(0, len(moved), BATCH_SIZE):
            batch = moved[start : start + BATCH_SIZE]
            values = ", ".join(["(%s, %s)"] * len(batch))
            # Only quoted identifiers from the model are interpolated; every value is a parameter.
            cursor.execute(
                f"UPDATE {table} SET {foreign_key} = moved.column2 "  # noqa: S608
                f"FROM (VALUES {values}) AS moved WHERE {table}.{key} = moved.column1",
                [number for pair in batch for number in pair],
            )


def _write(parsed: _Parsed, existing: _Existing) -> ImportSummary:
    summary = ImportSummary()
    now = timezone.now()

    # Councils
    new_councils, changed_councils = [], []
    slugs = _unique_slugs(
        Council, {c.code: c.name for c in parsed.councils.values() if c.code not in existing.councils}
    )
    for row in parsed.councils.values():
        council = existing.councils.get(row.code)
        if council is None:
            new_councils.append(Council(code=row.code, name=row.name, nation=row.nation, slug=slugs[row.code]))
        elif (council.name, council.nation) != (row.name, row.nation):
            council.name, council.nation, council.updated_at = row.name, row.nation, now
            changed_councils.append(council)
    Council.objects.bulk_create(new_councils, batch_size=BATCH_SIZE)
    Council.objects.bulk_update(changed_councils, ["name", "nation", "updated_at"], batch_size=CASE_BATCH_SIZE)
    summary.councils_created = len(new_councils)
    summary.councils_updated = len(changed_councils)
    summary.councils_unchanged = len(parsed.councils) - len(new_councils) - len(changed_councils)
    council_ids = _pks(Council, new_councils, {code: c.pk for code, c in existing.councils.items()})

    # Neighbourhoods: those in the CSV, plus stored ones that only get a boundary.
    summary.boundaries_set = len(parsed.boundaries)
    new_areas, changed_areas = [], []
    slugs = _unique_slugs(
        Neighbourhood, {n.code: n.name for n in parsed.neighbourhoods.values() if n.code not in existing.neighbourhoods}
    )
    for row in parsed.neighbourhoods.values():
        area = existing.neighbourhoods.get(row.code)
        boundary = parsed.boundaries[row.code][1] if row.code in parsed.boundaries else None
        if area is None:
            new_areas.append(
                Neighbourhood(
                    code=row.code,
                    name=row.name,
                    slug=slugs[row.code],
                    council_id=council_ids[row.council_code],
                    households=row.households,
                    imd_decile=row.imd_decile,
                    ward=row.ward or "",
                    boundary=boundary,
                )
            )
            continue
        wanted = (
            row.name,
            row.households,
            row.imd_decile,
            area.ward if row.ward is None else row.ward,
            area.boundary if boundary is None else boundary,
        )
        if (area.name, area.households, area.imd_decile, area.ward, area.boundary) != wanted:
            area.name, area.households, area.imd_decile, area.ward, area.boundary = wanted
            area.updated_at = now
            changed_areas.append(area)
    stored_only = 0
    for code, (_number, geometry) in parsed.boundaries.items():
        if code in parsed.neighbourhoods:
            continue
        area = existing.neighbourhoods[code]
        if area.boundary != geometry:
            area.boundary, area.updated_at = geometry, now
            changed_areas.append(area)
            stored_only += 1
    Neighbourhood.objects.bulk_create(new_areas, batch_size=BATCH_SIZE)
    Neighbourhood.objects.bulk_update(
        changed_areas,
        ["name", "households", "imd_decile", "ward", "boundary", "updated_at"],
        batch_size=CASE_BATCH_SIZE,
    )
    summary.neighbourhoods_created = len(new_areas)
    summary.neighbourhoods_updated = len(changed_areas) - stored_only
    summary.neighbourhoods_unchanged = len(parsed.neighbourhoods) - len(new_areas) - summary.neighbourhoods_updated
    area_ids = _pks(Neighbourhood, new_areas, {code: n.pk for code, n in existing.neighbourhoods.items()})

    # Postcodes
    stored = {
        code: (pk, area_id)
        for chunk in _chunks(parsed.postcodes)
        for code, pk, area_id in Postcode.objects.filter(code__in=chunk).values_list("code", "pk", "neighbourhood_id")
    }
    new_postcodes, moved = [], []
    for code, area_code in parsed.postcodes.items():
        area_id = area_ids[area_code]
        if code not in stored:
            new_postcodes.append(Postcode(code=code, neighbourhood_id=area_id))
        elif stored[code][1] != area_id:
            moved.append((stored[code][0], area_id))
    Postcode.objects.bulk_create(new_postcodes, batch_size=BATCH_SIZE)
    _move_postcodes(moved)
    summary.postcodes_created = len(new_postcodes)
    summary.postcodes_updated = len(moved)
    summary.postcodes_unchanged = len(parsed.postcodes) - len(new_postcodes) - len(moved)
    return summary
