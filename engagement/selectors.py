"""Reads for council engagement: every figure a council sees, already published through `engagement.suppression`.

Dashboards read the latest nightly `EngagementSnapshot` of the council (a few hundred rows); only before the first
snapshot has been written are the figures counted live from the activity tables. Either way a page runs a fixed
number of queries whatever the council's size.
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Max, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from neighbourhoods.models import Council, Neighbourhood

from . import suppression
from .metrics import METRICS, METRICS_BY_KEY, STORED, empty, live_metrics
from .models import EngagementSnapshot
from .suppression import Column, Published, PublishedRow, PublishedTable, RawRow

DECILES = tuple(range(1, 11))
NO_DECILE = "none"
NO_WARD = ""


@dataclass(frozen=True)
class Filters:
    """What an overview shows: one decile and/or one ward, sorted by a column (or by name)."""

    decile: int | None = None
    ward: str | None = None
    sort: str = "name"
    descending: bool = False

    @property
    def is_filtered(self) -> bool:
        return self.decile is not None or self.ward is not None


@dataclass(frozen=True)
class CouncilFigures:
    """The true figures behind a council's dashboards, one row per neighbourhood (every one of the council)."""

    rows: tuple[RawRow, ...]
    as_of: date | None  # the snapshot's date; None when counted live just now
    wards: tuple[str, ...] = field(default_factory=tuple)


# --- Reading the figures ---------------------------------------------------------------------------------------------


def _neighbourhoods(council: Council) -> list[dict]:
    return list(
        Neighbourhood.objects.filter(council=council)
        .order_by("name", "pk")
        .values("pk", "name", "slug", "code", "households", "imd_decile", "ward", "boundary__isnull")
    )


def _raw_row(area: dict, values: dict, households: int | None) -> RawRow:
    return RawRow(
        key=area["pk"],
        label=area["name"],
        values={**values, "households": households},
        attributes={
            "slug": area["slug"],
            "code": area["code"],
            "decile": area["imd_decile"],
            "ward": area["ward"],
        },
    )


def council_figures(council: Council) -> CouncilFigures:
    """The latest snapshot of every neighbourhood of `council` (two queries), or live counts if none exists yet.

    A neighbourhood added since the snapshot was taken had nothing then, so it reads as zeros until the next one."""
    areas = _neighbourhoods(council)
    wards = tuple(sorted({area["ward"] for area in areas if area["ward"]}))
    of_council = EngagementSnapshot.objects.filter(neighbourhood__council=council)
    latest_date = of_council.order_by().values("neighbourhood__council").annotate(latest=Max("date")).values("latest")
    stored = {
        row["neighbourhood_id"]: row
        for row in of_council.filter(date=Subquery(latest_date)).values(
            "neighbourhood_id", "date", "households", *STORED
        )
    }
    if not stored:
        live = live_metrics(council)
        rows = tuple(_raw_row(area, live.get(area["pk"], empty()), area["households"]) for area in areas)
        return CouncilFigures(rows, None, wards)
    latest = next(iter(stored.values()))["date"]
    rows = []
    for area in areas:
        snapshot = stored.get(area["pk"])
        if snapshot is None:
            rows.append(_raw_row(area, empty(), area["households"]))
        else:
            rows.append(_raw_row(area, {key: snapshot[key] for key in STORED}, snapshot["households"]))
    return CouncilFigures(tuple(rows), latest, wards)


# --- The overview ------------------------------------------------------------------------------------------------


def _filter_key(filters: Filters):
    """Which group of neighbourhoods a filter picks out: the key shared by exactly the neighbourhoods shown."""

    def key(row: RawRow) -> Hashable:
        parts = []
        if filters.decile is not None:
            parts.append(row.attributes.get("decile"))
        if filters.ward is not None:
            parts.append(row.attributes.get("ward"))
        return tuple(parts)

    return key


def _matches(row: RawRow, filters: Filters) -> bool:
    if filters.decile is not None and row.attributes.get("decile") != filters.decile:
        return False
    return not (filters.ward is not None and row.attributes.get("ward") != filters.ward)


def sort_rows(rows: Sequence[PublishedRow], *, sort: str, descending: bool) -> list[PublishedRow]:
    """Rows by a published column (or "name"). Sorting uses published values only: suppressed and unknown cells sort
    together after the rest, by name, in either direction, so their order never hints at the hidden numbers."""
    by_name = sorted(rows, key=lambda row: (row.label.casefold(), str(row.key)))
    if sort == "name":
        return list(reversed(by_name)) if descending else by_name
    known = [row for row in by_name if row.cells[sort].value is not None]
    hidden = [row for row in by_name if row.cells[sort].value is None]
    # Python's sort is stable, also in reverse, so equal values stay in name order.
    known.sort(key=lambda row: row.cells[sort].value, reverse=descending)
    return known + hidden


def council_table(council: Council, *, filters: Filters | None = None, figures: CouncilFigures | None = None):
    """The overview: a row per neighbourhood (those the filters pick) and a totals row, every figure published.

    Cells are suppressed with the whole council in view, so a filter never changes how a neighbourhood reads; a
    filtered total is the total of the decile/ward group it picks out (see `suppression.publish_table`)."""
    filters = filters or Filters()
    figures = figures or council_figures(council)
    only = None
    group_of = None
    margins = []
    if filters.is_filtered:
        only = {row.key for row in figures.rows if _matches(row, filters)}
        group_of = _filter_key(filters)
    if filters.decile is not None and filters.ward is not None:
        # The decile's and the ward's own totals are published too: a part of either must not be alone in hiding.
        margins = [_filter_key(Filters(decile=filters.decile)), _filter_key(Filters(ward=filters.ward))]
    table = suppression.publish_table(
        figures.rows,
        METRICS,
        only=only,
        group_of=group_of,
        margins=margins,
        totals_label=_("Selected neighbourhoods") if filters.is_filtered else _("All neighbourhoods"),
    )
    rows = sort_rows(table.rows, sort=filters.sort, descending=filters.descending)
    return PublishedTable(table.columns, tuple(rows), table.totals)


# --- The levelling-up lens ----------------------------------------------------------------------------------------


def decile_label(decile) -> str:
    if decile is None or decile == NO_DECILE:
        return _("Decile not known")
    if decile == 1:
        return _("1 (most deprived)")
    if decile == 10:
        return _("10 (least deprived)")
    return str(decile)


def decile_table(council: Council, *, figures: CouncilFigures | None = None) -> PublishedTable:
    """Every metric by deprivation decile (1 = most deprived), with the council's total; deciles with no
    neighbourhood still get a row, and neighbourhoods without a decile have one of their own."""
    figures = figures or council_figures(council)
    order: list = list(DECILES)
    if any(row.attributes.get("decile") is None for row in figures.rows):
        order.append(NO_DECILE)

    def decile_of(row: RawRow):
        decile = row.attributes.get("decile")
        return NO_DECILE if decile is None else decile

    return suppression.publish_groups(
        figures.rows,
        METRICS,
        group_of=decile_of,
        labels={decile: decile_label(decile) for decile in order},
        order=order,
        totals_label=_("All deciles"),
    )


GAP_DECILES = (1, 2, 3)


@dataclass(frozen=True)
class Gap:
    """A neighbourhood in deciles 1 to 3 where fewer neighbours are connecting than the council's middle."""

    row: PublishedRow
    decile: int
    low_reach: bool
    low_connection: bool


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _rate(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def connection_gaps(council: Council, *, figures: CouncilFigures | None = None) -> tuple[list[Gap], dict]:
    """Neighbourhoods in deciles 1 to 3 whose reach (members / households) or connection rate (members who know a
    neighbour / members) is below the council's median, most deprived first, then by name.

    The test uses true values, server-side: a neighbourhood with three members is as much a gap as one with
    thirty. What the list shows is only the published row (so "<10" stays "<10") and which of the two rates is low —
    never by how much, and no median is printed, since either could be combined with a published figure to recover
    a small count. A neighbourhood with no members has a connection rate of zero (everyone there is yet to connect);
    one whose households are not known has no reach and is judged by its connection rate alone."""
    figures = figures or council_figures(council)
    reach = {row.key: _rate(row.values.get("members"), row.values.get("households")) for row in figures.rows}
    connection = {row.key: _rate(row.values.get("know_one"), row.values.get("members")) or 0.0 for row in figures.rows}
    reach_median = _median([value for value in reach.values() if value is not None])
    connection_median = _median(list(connection.values()))
    published = {row.key: row for row in council_table(council, figures=figures).rows}
    gaps = []
    for row in figures.rows:
        decile = row.attributes.get("decile")
        if decile not in GAP_DECILES:
            continue
        low_reach = reach[row.key] is not None and reach_median is not None and reach[row.key] < reach_median
        low_connection = connection_median is not None and connection[row.key] < connection_median
        if low_reach or low_connection:
            gaps.append(Gap(published[row.key], decile, low_reach, low_connection))
    gaps.sort(key=lambda gap: (gap.decile, gap.row.label.casefold()))
    return gaps, {"has_reach_median": reach_median is not None}


# --- Trends ----------------------------------------------------------------------------------------------------------


def _weekly_anchors(weeks: int, today: date) -> list[date]:
    return [today - timedelta(weeks=back) for back in range(weeks, -1, -1)]


def _pick_weekly(dates: Sequence[date], anchors: Sequence[date]) -> dict[date, date]:
    """For each weekly anchor, the latest snapshot date in the seven days up to it."""
    chosen = {}
    ordered = sorted(dates)
    for anchor in anchors:
        within = [day for day in ordered if anchor - timedelta(days=6) <= day <= anchor]
        if within:
            chosen[anchor] = within[-1]
    return chosen


def _columns_for(metric: Column) -> list[Column]:
    """The metric and the count columns a percentage is worked out from (whose suppression it follows)."""
    columns = [metric]
    for key in (metric.numerator, metric.denominator):
        if key in METRICS_BY_KEY and METRICS_BY_KEY[key].is_count:
            columns.append(METRICS_BY_KEY[key])
    return columns


def snapshot_series(
    council: Council,
    *,
    metric: str,
    weeks: int = 52,
    neighbourhood: Neighbourhood | None = None,
    today: date | None = None,
) -> list[tuple[date, Published]]:
    """A weekly series of `metric` over the last `weeks` weeks from the snapshots: the council's total, or one
    neighbourhood's figure. A point is the latest snapshot in the week ending on that date; weeks without a
    snapshot have no point. Each point is published like the overview would have published it that day: one
    neighbourhood's figure is suppressed with the whole council in view (one query for the council, three for a
    neighbourhood, whatever the size)."""
    column = METRICS_BY_KEY[metric]
    today = today or timezone.localdate()
    anchors = _weekly_anchors(weeks, today)
    snapshots = EngagementSnapshot.objects.filter(
        neighbourhood__council=council, date__gte=anchors[0] - timedelta(days=6), date__lte=today
    )
    needed = sorted({key for key in (column.key, column.numerator, column.denominator) if key in STORED})
    if neighbourhood is None:
        totals = {
            row["date"]: row
            for row in snapshots.values("date").annotate(
                **{key: Sum(key) for key in needed},
                households_sum=Sum("households"),
                households_known=Count("households"),
                rows=Count("pk"),
            )
        }
        chosen = _pick_weekly(list(totals), anchors)
        series = []
        for anchor, day in chosen.items():
            row = totals[day]
            values = {key: row[key] for key in needed}
            values["households"] = row["households_sum"] if row["households_known"] == row["rows"] else None
            series.append((anchor, suppression.publish_total(values, column)))
        return series

    # One neighbourhood: its cell as the whole council's table published it on each chosen date.
    dates = sorted(set(snapshots.values_list("date", flat=True).distinct()))
    chosen = _pick_weekly(dates, anchors)
    areas = _neighbourhoods(council)
    by_date: dict[date, dict[int, dict]] = {}
    for row in snapshots.filter(date__in=set(chosen.values())).values(
        "date", "neighbourhood_id", "households", *needed
    ):
        by_date.setdefault(row["date"], {})[row["neighbourhood_id"]] = row
    columns = _columns_for(column)
    series = []
    for anchor, day in chosen.items():
        stored = by_date.get(day, {})
        rows = []
        for area in areas:
            snapshot = stored.get(area["pk"])
            values = {key: (snapshot[key] if snapshot else 0) for key in needed}
            rows.append(_raw_row(area, values, snapshot["households"] if snapshot else area["households"]))
        table = suppression.publish_table(rows, columns)
        cell = next((row.cells[column.key] for row in table.rows if row.key == neighbourhood.pk), None)
        if cell is not None:
            series.append((anchor, cell))
    return series


METRIC_CHOICES = tuple((metric.key, metric.label) for metric in METRICS)
SORT_KEYS = ("name", *(metric.key for metric in METRICS))
NAME_LABEL = gettext_lazy("Neighbourhood")
