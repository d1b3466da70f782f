"""Small-number suppression: the one place that turns raw counts into the numbers a council may see.

Every dashboard table, CSV file, chart and API response publishes its figures through this module, and nothing else
in the code rounds or hides a number. The rules follow the ONS default and are settings:

- A count from 1 to `ENGAGEMENT_SUPPRESSION_THRESHOLD - 1` (1 to 9 by default) is published as "<10": no value.
- Zero is published as 0. A zero says that nothing happened, which is not disclosive; it also keeps "<10" meaning
  1 to 9, so a reader never confuses "none" with "a few".
- Every other count is rounded to the nearest `ENGAGEMENT_ROUNDING_BASE` (5), halves up, and never below the
  threshold (with a threshold that is not a multiple of the base, 11 would otherwise round to 10).
- Volunteer hours are published like counts: a handful of hours points at one or two people.
- A percentage is computed from the published (rounded) counts and shown as a whole percent, unless its numerator or
  denominator is suppressed in the same row (then the percentage is suppressed too), or its denominator is unknown or
  zero (then it is "not known"). From true values, a whole percent of a small denominator would undo the rounding
  (members "10", knowing a neighbour "10" and 92% can only be 11 of 12, and one member who knows nobody). Public
  figures (households, from the census) are used as they are.
- Secondary suppression: in a table with a totals row, no column may hold exactly one suppressed cell, or the total
  minus the others would give it away. The next smallest non-zero cell is suppressed as well; when a column has no
  other non-zero cell, its total is suppressed instead (it then equals the hidden cell, so it is small anyway).
- Differencing: a total over some of a council's neighbourhoods (a deprivation decile, a ward, a filtered view) is
  compared with the rest of the council. It is suppressed when the rest is 1 to 9, when the rest holds exactly one
  suppressed neighbourhood cell, or when it holds exactly one itself — any of those would let a reader subtract
  their way to a hidden number. Group tables (one row per decile or ward) then get their own secondary suppression,
  and a filtered view's totals are that group's row, so the overview filtered by decile 2 and the levelling-up row
  for decile 2 always publish the same thing. A view filtered by decile and ward is also a part of its decile and
  of its ward, whose totals are published: within either, no part may be the only one hidden.

The neighbourhood cells are suppressed with the whole council in view, whatever filter is applied, so a cell is
published (or hidden) the same way on every page.
"""

from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _


class Kind:
    COUNT = "count"
    PERCENT = "percent"
    HOURS = "hours"


@dataclass(frozen=True)
class Column:
    """A column of a published table. Counts and hours read `key` from a row's raw values; a percentage divides
    the raw values `numerator` by `denominator` (either may be a raw value that is not itself a column, such as
    households)."""

    key: str
    label: str
    kind: str = Kind.COUNT
    numerator: str | None = None
    denominator: str | None = None
    description: str = ""

    @property
    def is_count(self) -> bool:
        return self.kind in (Kind.COUNT, Kind.HOURS)


@dataclass(frozen=True)
class Published:
    """One publishable figure. `value` is what may be used as a number (None when suppressed or not known);
    `display` is what a person reads ("<10", "1,235", "45%", "not known")."""

    value: int | None
    display: str
    suppressed: bool
    kind: str = Kind.COUNT

    @property
    def known(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        return self.display


@dataclass(frozen=True)
class RawRow:
    """A row of true values before publication: a neighbourhood, with every metric and its households."""

    key: Hashable
    label: str
    values: Mapping[str, int | None]
    attributes: Mapping[str, object] = field(default_factory=dict)  # decile, ward, slug: carried through untouched


@dataclass(frozen=True)
class PublishedRow:
    key: Hashable
    label: str
    cells: Mapping[str, Published]
    attributes: Mapping[str, object] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Published:
        return self.cells[key]


@dataclass(frozen=True)
class PublishedTable:
    columns: tuple[Column, ...]
    rows: tuple[PublishedRow, ...]
    totals: PublishedRow | None

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)


# --- Settings ------------------------------------------------------------------------------------------------------


def threshold() -> int:
    return max(int(getattr(settings, "ENGAGEMENT_SUPPRESSION_THRESHOLD", 10)), 1)


def rounding_base() -> int:
    return max(int(getattr(settings, "ENGAGEMENT_ROUNDING_BASE", 5)), 1)


def is_small(count: int | None) -> bool:
    """A count that may not be published: from 1 to just under the threshold."""
    return count is not None and 0 < count < threshold()


# Raw values that are public data (households, from the census): used as they are when a percentage divides by them.
PUBLIC_VALUES = frozenset({"households"})

# --- Single figures ------------------------------------------------------------------------------------------------


class _Publisher:
    """The rules as they stand (settings, active language), for one table: a table of a few hundred neighbourhoods
    publishes thousands of figures, most of them repeats ("<10", 0, 15), so each distinct figure is made once."""

    def __init__(self) -> None:
        self.threshold = threshold()
        self.base = rounding_base()
        # The smallest multiple of the base at or above the threshold: no published count is below it.
        self.floor = -(-self.threshold // self.base) * self.base
        self._made: dict[tuple, Published] = {}

    def is_small(self, count: int | None) -> bool:
        return count is not None and 0 < count < self.threshold

    def suppressed(self, kind: str) -> Published:
        key = ("hidden", kind)
        if key not in self._made:
            if kind == Kind.PERCENT:
                # A hidden percentage would read as "under 10%" with the count's mark.
                self._made[key] = Published(None, str(_("not shown")), True, kind)
            else:
                self._made[key] = Published(None, _("<%(threshold)d") % {"threshold": self.threshold}, True, kind)
        return self._made[key]

    def not_known(self, kind: str) -> Published:
        key = ("unknown", kind)
        if key not in self._made:
            self._made[key] = Published(None, str(_("not known")), False, kind)
        return self._made[key]

    def count(self, count: int | None, kind: str) -> Published:
        if count is None:
            return self.not_known(kind)
        if count < 0:
            raise ValueError("A count cannot be negative.")
        if self.is_small(count):
            return self.suppressed(kind)
        value = self.rounded(count)
        key = ("count", kind, value)
        if key not in self._made:
            self._made[key] = Published(value, number_format(value, force_grouping=True), False, kind)
        return self._made[key]

    def rounded(self, count: int) -> int:
        """The value a count that is not small is published as: the nearest multiple of the base, halves up."""
        return 0 if count == 0 else max((2 * count + self.base) // (2 * self.base) * self.base, self.floor)

    def percent(
        self,
        numerator: int | None,
        denominator: int | None,
        *,
        numerator_suppressed: bool = False,
        denominator_suppressed: bool = False,
        public_denominator: bool = False,
    ) -> Published:
        if numerator_suppressed or denominator_suppressed or self.is_small(numerator) or self.is_small(denominator):
            return self.suppressed(Kind.PERCENT)
        if numerator is None or not denominator:
            return self.not_known(Kind.PERCENT)
        # From the published counts (a public denominator as it is), to a whole percent, halves up.
        numerator = self.rounded(numerator)
        if not public_denominator:
            denominator = self.rounded(denominator)
        value = (200 * numerator + denominator) // (2 * denominator)
        key = ("percent", value)
        if key not in self._made:
            display = _("%(value)s%%") % {"value": number_format(value, force_grouping=True)}
            self._made[key] = Published(value, display, False, Kind.PERCENT)
        return self._made[key]


def suppressed(kind: str = Kind.COUNT) -> Published:
    """A hidden figure: a count reads "<10"; a percentage (which might be read as "under 10%") reads "not shown"."""
    return _Publisher().suppressed(kind)


def not_known(kind: str = Kind.COUNT) -> Published:
    return _Publisher().not_known(kind)


def whole_hours(hours: Decimal | float | int | None) -> int:
    """Volunteer hours as a whole number, halves up: how hours are stored in snapshots."""
    if hours is None:
        return 0
    return int(Decimal(str(hours)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def publish_count(count: int | None, kind: str = Kind.COUNT) -> Published:
    """A single count (or number of hours): 0, "<10", or rounded to the base."""
    return _Publisher().count(count, kind)


def publish_percent(
    numerator: int | None,
    denominator: int | None,
    *,
    numerator_suppressed: bool = False,
    denominator_suppressed: bool = False,
    public_denominator: bool = False,
) -> Published:
    """A percentage of two counts from their published (rounded) values, as a whole percent (halves up); a public
    denominator (households) is used as it is. Suppressed when its numerator or denominator is; not known without a
    denominator. Pass the suppression of the published cells the values came from; a lone figure passes nothing and
    its numerator and denominator are checked here."""
    return _Publisher().percent(
        numerator,
        denominator,
        numerator_suppressed=numerator_suppressed,
        denominator_suppressed=denominator_suppressed,
        public_denominator=public_denominator,
    )


# --- Tables --------------------------------------------------------------------------------------------------------


def _hide_one_more(values: dict[Hashable, int | None], hidden: set[Hashable], order: Sequence[Hashable]) -> bool:
    """Hide the smallest non-zero cell not yet hidden. False if there is none.

    Zeros are never hidden: "<10" means 1 to 9, and when every other cell is 0 the lone hidden cell equals the total,
    which is then small and hidden itself."""
    position = {key: index for index, key in enumerate(order)}
    candidates = [key for key in order if key not in hidden and (values.get(key) or 0) > 0]
    if not candidates:
        return False
    hidden.add(min(candidates, key=lambda key: (values[key], position[key])))
    return True


def _secondary(
    values: dict[Hashable, int | None], hidden: set[Hashable], order: Sequence[Hashable]
) -> tuple[set[Hashable], bool]:
    """Cells to hide in one column so that none is alone; and whether the total must be hidden instead."""
    hidden = set(hidden)
    if len(hidden) == 1 and not _hide_one_more(values, hidden, order):
        return hidden, True
    return hidden, False


def _sum(values: Iterable[int | None]) -> int | None:
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _cells(
    publisher: _Publisher, columns: Sequence[Column], values: Mapping[str, int | None], hidden: Collection[str]
) -> dict[str, Published]:
    """A row's published cells; `hidden` names the count columns that must be suppressed in it."""
    counts = {column.key for column in columns if column.is_count}

    def hidden_in(key: str) -> bool:
        # A ratio of two columns is hidden with either; a raw value that is no column (households) is public.
        return key in hidden or (key in counts and publisher.is_small(values.get(key)))

    cells: dict[str, Published] = {}
    for column in columns:
        if column.is_count:
            if column.key in hidden:
                cells[column.key] = publisher.suppressed(column.kind)
            else:
                cells[column.key] = publisher.count(values.get(column.key), column.kind)
            continue
        numerator, denominator = column.numerator or "", column.denominator or ""
        cells[column.key] = publisher.percent(
            values.get(numerator),
            values.get(denominator),
            numerator_suppressed=hidden_in(numerator),
            denominator_suppressed=hidden_in(denominator),
            public_denominator=denominator in PUBLIC_VALUES,
        )
    return cells


def _base_pattern(
    publisher: _Publisher, rows: Sequence[RawRow], columns: Sequence[Column]
) -> tuple[dict[str, set[Hashable]], set[str]]:
    """For each count column, the neighbourhood cells to suppress (primary and secondary), and the columns whose
    total must be suppressed because no second cell could be hidden."""
    order = [row.key for row in rows]
    pattern: dict[str, set[Hashable]] = {}
    hidden_totals: set[str] = set()
    for column in columns:
        if not column.is_count:
            continue
        values = {row.key: row.values.get(column.key) for row in rows}
        primary = {key for key, value in values.items() if publisher.is_small(value)}
        pattern[column.key], hide_total = _secondary(values, primary, order)
        if hide_total:
            hidden_totals.add(column.key)
    return pattern, hidden_totals


def _totals_values(rows: Sequence[RawRow], keys: Iterable[str]) -> dict[str, int | None]:
    return {key: _sum(row.values.get(key) for row in rows) for key in keys}


def _value_keys(columns: Sequence[Column]) -> set[str]:
    keys = set()
    for column in columns:
        keys.update(filter(None, [column.key if column.is_count else None, column.numerator, column.denominator]))
    return keys


def publish_table(
    rows: Sequence[RawRow],
    columns: Sequence[Column],
    *,
    only: Collection[Hashable] | None = None,
    group_of: Callable[[RawRow], Hashable] | None = None,
    margins: Sequence[Callable[[RawRow], Hashable]] = (),
    totals_label: str = "",
) -> PublishedTable:
    """Publish a council's neighbourhood table with a totals row.

    `rows` must be every neighbourhood of the council: cells are suppressed with all of them in view, so a cell reads
    the same on every page. `only` (row keys) narrows what is shown to a filtered view; its totals are then those of
    the group the filter picks out, published by `publish_groups` with `group_of` (which must put exactly the rows
    in `only` into one group) so that the filtered totals and the group table agree; `margins` as for
    `publish_groups`, when the filter combines two (a decile and a ward).
    """
    publisher = _Publisher()
    pattern, hidden_totals = _base_pattern(publisher, rows, columns)
    published_rows = []
    for row in rows:
        if only is not None and row.key not in only:
            continue
        hidden = {key for key, cells in pattern.items() if row.key in cells}
        cells = _cells(publisher, columns, row.values, hidden)
        published_rows.append(PublishedRow(row.key, row.label, cells, row.attributes))

    if only is None:
        totals_values = _totals_values(rows, _value_keys(columns))
        totals = PublishedRow("total", totals_label, _cells(publisher, columns, totals_values, hidden_totals))
    else:
        chosen = [row for row in rows if row.key in only]
        if group_of is None:
            chosen_keys = set(only)

            def group_of(row: RawRow) -> bool:
                return row.key in chosen_keys

        groups = publish_groups(rows, columns, group_of=group_of, labels={}, margins=margins)
        wanted = {group_of(row) for row in chosen}
        if len(wanted) > 1:
            raise ValueError("`group_of` must put every shown row into one group.")
        key = wanted.pop() if wanted else None
        found = next((group for group in groups.rows if group.key == key), None)
        totals = (
            PublishedRow("total", totals_label, found.cells)
            if found is not None
            else PublishedRow(
                "total", totals_label, _cells(publisher, columns, _totals_values([], _value_keys(columns)), ())
            )
        )
    return PublishedTable(tuple(columns), tuple(published_rows), totals)


def publish_groups(
    rows: Sequence[RawRow],
    columns: Sequence[Column],
    *,
    group_of: Callable[[RawRow], Hashable],
    labels: Mapping[Hashable, str],
    order: Sequence[Hashable] | None = None,
    margins: Sequence[Callable[[RawRow], Hashable]] = (),
    totals_label: str = "",
) -> PublishedTable:
    """Publish totals over groups of a council's neighbourhoods (deciles, wards), one row per group, with the council
    total. `rows` must be every neighbourhood of the council. Groups in `order` (default: as first met) with no
    neighbourhood still get a row of zeros, so a reader sees that the decile is empty rather than missing.

    `margins` are coarser groupings published elsewhere that each group lies inside (for groups by decile and ward:
    by decile, and by ward). Within each published margin no group may be the only hidden one, or the margin less the
    others would give it away: the margin's other groups are then hidden too."""
    publisher = _Publisher()
    pattern, hidden_totals = _base_pattern(publisher, rows, columns)
    keys = _value_keys(columns)
    members: dict[Hashable, list[RawRow]] = {}
    for row in rows:
        members.setdefault(group_of(row), []).append(row)
    group_order = list(order) if order is not None else list(members)
    group_order += [group for group in members if group not in group_order]
    council = _totals_values(rows, keys)
    # Each margin's published table, and which of its groups each of ours lies in.
    outer = []
    for margin in margins:
        published = publish_groups(rows, columns, group_of=margin, labels={})
        parent_of = {group: margin(found[0]) for group, found in members.items()}
        outer.append(({row.key: row for row in published.rows}, parent_of))
    group_values = {group: _totals_values(members.get(group, []), keys) for group in group_order}

    hidden_by_group: dict[Hashable, set[str]] = {group: set() for group in group_order}
    for column in columns:
        if not column.is_count:
            continue
        hidden_cells = pattern[column.key]
        values = {group: group_values[group][column.key] for group in group_order}
        hidden = set()
        # A group with no neighbourhood is 0 by construction: it hides nothing and is never hidden. Ties go by where
        # a group first appears among the council's rows, not by how the caller orders or names its groups, so the
        # decile table and the overview filtered to one decile always hide the same groups.
        filled = list(members)
        for group in filled:
            inside = sum(1 for row in members.get(group, []) if row.key in hidden_cells)
            outside = len(hidden_cells) - inside
            value, total = values[group], council[column.key]
            rest = None if value is None or total is None else total - value
            # The rest of the council can only be worked out while the council's total is published.
            total_published = total is not None and not publisher.is_small(total) and column.key not in hidden_totals
            small = publisher.is_small
            if small(value) or inside == 1 or (total_published and (outside == 1 or small(rest))):
                hidden.add(group)
        hidden, hide_total = _secondary(values, hidden, filled)
        while outer:
            before = len(hidden)
            for parents, parent_of in outer:
                inside_parent: dict[Hashable, list[Hashable]] = {}
                for group in filled:
                    inside_parent.setdefault(parent_of[group], []).append(group)
                for parent, groups in inside_parent.items():
                    if parents[parent][column.key].suppressed or sum(group in hidden for group in groups) != 1:
                        continue
                    hidden.update(group for group in groups if (values[group] or 0) > 0)
            hidden, more = _secondary(values, hidden, filled)
            hide_total = hide_total or more
            if len(hidden) == before:
                break
        if hide_total:
            hidden_totals.add(column.key)
        for group in hidden:
            hidden_by_group[group].add(column.key)

    published = tuple(
        PublishedRow(
            group,
            labels.get(group, str(group)),
            _cells(publisher, columns, group_values[group], hidden_by_group[group]),
            {"neighbourhoods": len(members.get(group, []))},
        )
        for group in group_order
    )
    totals = PublishedRow("total", totals_label, _cells(publisher, columns, council, hidden_totals))
    return PublishedTable(tuple(columns), published, totals)


def publish_total(values: Mapping[str, int | None], column: Column) -> Published:
    """One figure on its own (a point of a time series): a count or a percentage of two values, primary rules only."""
    if column.is_count:
        return publish_count(values.get(column.key), column.kind)
    return publish_percent(
        values.get(column.numerator or ""),
        values.get(column.denominator or ""),
        public_denominator=column.denominator in PUBLIC_VALUES,
    )
