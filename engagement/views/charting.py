"""Glue shared by the council's chart pages (trends and the map): the figure picker, week labels, CSV files.

No routes here. Every figure these helpers handle has already been published by `engagement.suppression`.
"""

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from django import forms
from django.forms.utils import flatatt
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..metrics import METRICS, METRICS_BY_KEY
from ..selectors import METRIC_CHOICES
from ..suppression import Column, Kind, Published

DEFAULT_METRIC = "members"


class PlainSelect(forms.Select):
    """A drop-down written out in Python: the same markup as Django's, without rendering a template for each option
    (a council can have hundreds of neighbourhoods, and per-option templates were most of the page's time)."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((key, SELECTED if str(key) == chosen else "", label) for key, label in self.choices),
        )
        return format_html("<select{}>{}</select>", flatatt(final), options)


SELECTED = mark_safe(" selected")


class MetricForm(forms.Form):
    """Which figure a chart page shows. Anything else in the address falls back to members, with a message."""

    metric = forms.ChoiceField(
        label=gettext_lazy("Figure"),
        choices=METRIC_CHOICES,
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the figures in the list.")},
    )

    def __init__(self, data=None, *args, **kwargs):
        # No figure in the address means members: say so in the picker too.
        if data is not None and not data.get("metric"):
            data = data.copy()
            data["metric"] = DEFAULT_METRIC
        super().__init__(data, *args, **kwargs)

    def chosen_metric(self) -> Column:
        """The chosen figure, or members when none (or an unknown one) was asked for."""
        self.is_valid()  # cleans the fields: one that is wrong leaves the others usable
        key = None if "metric" in self.errors else self.cleaned_data.get("metric")
        return METRICS_BY_KEY.get(key or DEFAULT_METRIC, METRICS[0])

    def fallbacks(self) -> list[str]:
        """What the page shows instead of what its address asked for, one sentence per field it could not use."""
        if self.is_valid():
            return []
        notes = []
        if "metric" in self.errors:
            notes.append(
                _("That figure is not one we publish, so this page shows %(metric)s.")
                % {"metric": self.chosen_metric().label}
            )
        return notes


def value_suffix(metric: Column) -> str:
    """What follows an axis or legend number for this figure: "%" for rates, nothing for counts and hours."""
    return "%" if metric.kind == Kind.PERCENT else ""


def csv_heading(metric: Column) -> str:
    """A figure's CSV column heading: rates say "(%)", since their cells hold plain numbers."""
    return f"{metric.label} (%)" if metric.kind == Kind.PERCENT else str(metric.label)


def csv_value(cell: Published) -> object:
    """A CSV cell: the published number as a plain number a spreadsheet can use (no thousands separator, no "%"),
    or the published words for a hidden or unknown figure ("<10", "not known")."""
    return cell.value if cell.value is not None else cell.display


def week_labels(weeks: Sequence[date]) -> list[str]:
    return [date_format(day, "j F Y") for day in weeks]


def month_ticks(weeks: Sequence[date]) -> list[tuple[int, str]]:
    """The first week in each month, labelled with the month's short name (and the year in January), for a chart's
    x axis. A month the chart only just catches at its start is left unlabelled, so labels never overlap."""
    ticks = []
    seen = set()
    for index, day in enumerate(weeks):
        if (day.year, day.month) in seen:
            continue
        seen.add((day.year, day.month))
        ticks.append((index, date_format(day, "M Y" if day.month == 1 else "M")))
    if len(ticks) > 1 and ticks[1][0] - ticks[0][0] < 5:
        ticks.pop(0)
    return ticks


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (names come from imported area files)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(*, council_slug: str, name: str, header: Sequence[str], rows: Iterable[Sequence[object]]):
    """A streamed CSV download named `<council>-<name>-<date>.csv`, its figures exactly as the page shows them."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow([_cell(heading) for heading in header])
        for row in rows:
            yield writer.writerow([_cell(value) for value in row])

    filename = f"{council_slug}-{name}-{timezone.localdate().isoformat()}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
