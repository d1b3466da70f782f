"""The council's dashboard: every figure for every neighbourhood with a totals row, sortable, filtered by deprivation
decile and ward, and downloadable as CSV — all of it published by `engagement.suppression`."""

from django import forms
from django.shortcuts import render
from django.urls import path
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import selectors
from ..access import get_officer_access
from ..metrics import METRICS
from ..selectors import DECILES, SORT_KEYS, Filters, decile_label
from ..suppression import Kind, PublishedTable
from .charting import csv_response

ASCENDING, DESCENDING = "asc", "desc"


class OverviewForm(forms.Form):
    """The overview's address: ?decile=&ward=&sort=&dir=. A value that is not one we know is dropped with a note,
    and the rest still applies."""

    decile = forms.TypedChoiceField(
        label=gettext_lazy("Deprivation decile"), required=False, coerce=int, empty_value=None
    )
    ward = forms.ChoiceField(label=gettext_lazy("Ward"), required=False)
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORT_KEYS])
    dir = forms.ChoiceField(required=False, choices=[(ASCENDING, ASCENDING), (DESCENDING, DESCENDING)])

    def __init__(self, data=None, *, wards, initial=None):
        super().__init__(data, initial=initial)
        self.fields["decile"].choices = [("", _("All deciles"))] + [(d, decile_label(d)) for d in DECILES]
        self.fields["ward"].choices = [("", _("All wards"))] + [(ward, ward) for ward in wards]
        self.is_valid()

    def _value(self, name):
        return None if name in self.errors else self.cleaned_data.get(name)

    def filters(self) -> Filters:
        sort = self._value("sort") or "name"
        direction = self._value("dir") or (ASCENDING if sort == "name" else DESCENDING)
        return Filters(
            decile=self._value("decile"),
            ward=self._value("ward") or None,
            sort=sort,
            descending=direction == DESCENDING,
        )

    def fallbacks(self) -> list[str]:
        notes = {
            "decile": _("Deciles run from 1 (most deprived) to 10, so this shows every decile."),
            "ward": _("That ward is not one of the council's, so this shows every ward."),
            "sort": _("The table cannot be sorted that way, so it is sorted by neighbourhood."),
            "dir": _("Sorting goes up or down, so the table uses its usual order."),
        }
        return [note for name, note in notes.items() if name in self.errors]


def _query(filters: Filters, **changes) -> str:
    params = {"decile": filters.decile, "ward": filters.ward, "sort": filters.sort}
    params["dir"] = DESCENDING if filters.descending else ASCENDING
    params.update(changes)
    return "?" + urlencode({key: value for key, value in params.items() if value not in (None, "")})


def _headers(filters: Filters) -> list[dict]:
    """Each column's heading with a link that sorts by it (again: the other way) and its aria-sort state."""
    headers = []
    for key, label in (("name", selectors.NAME_LABEL), *((metric.key, metric.label) for metric in METRICS)):
        current = filters.sort == key
        if current:
            direction = ASCENDING if filters.descending else DESCENDING
        else:
            direction = ASCENDING if key == "name" else DESCENDING
        headers.append(
            {
                "key": key,
                "label": label,
                "url": _query(filters, sort=key, dir=direction),
                "aria_sort": ("descending" if filters.descending else "ascending") if current else "",
                "next": _("sort from lowest") if direction == ASCENDING else _("sort from highest"),
            }
        )
    return headers


def _css(cell) -> str:
    if cell.suppressed:
        return "num is-suppressed"
    return "num" if cell.known else "num is-unknown"


def published_cells(row) -> list[dict]:
    """A row's figures ready for the template (display text and class worked out here: a council's table has
    thousands of cells, and a template tag per cell is what would make the page slow)."""
    return [{"display": cell.display, "css": _css(cell)} for cell in (row.cells[metric.key] for metric in METRICS)]


def csv_value(cell) -> object:
    """CSV cells: the published number as a plain number (percentages without the sign; the header says "%"), or
    the published word for a hidden or unknown figure."""
    return cell.value if cell.value is not None else cell.display


def csv_headers(first: list[str]) -> list[str]:
    return [
        *first,
        *(f"{metric.label} (%)" if metric.kind == Kind.PERCENT else str(metric.label) for metric in METRICS),
    ]


def as_of_note(figures: selectors.CouncilFigures) -> str:
    if figures.as_of is None:
        return _("Counted just now: the nightly figures have not been recorded yet.")
    return _("Figures as at the end of %(date)s.") % {"date": date_format(figures.as_of, "j F Y")}


def dashboard(request, council_slug):
    """Every neighbourhood's figures with the council's totals. `?format=csv` downloads the same table."""
    access = get_officer_access(request.user, council_slug)
    council = access.council
    figures = selectors.council_figures(council)
    form = OverviewForm(request.GET, wards=figures.wards)
    filters = form.filters()
    table: PublishedTable = selectors.council_table(council, filters=filters, figures=figures)

    if request.GET.get("format") == "csv":
        return csv_response(
            council_slug=council.slug,
            name="neighbourhoods",
            header=csv_headers([_("Neighbourhood"), _("Area code"), _("Deprivation decile"), _("Ward")]),
            rows=(
                *(
                    [
                        row.label,
                        row.attributes.get("code", ""),
                        row.attributes.get("decile") or "",
                        row.attributes.get("ward", ""),
                        *(csv_value(row.cells[metric.key]) for metric in METRICS),
                    ]
                    for row in table.rows
                ),
                [table.totals.label, "", "", "", *(csv_value(table.totals.cells[m.key]) for m in METRICS)],
            ),
        )

    rows = [
        {
            "label": row.label,
            "decile": row.attributes.get("decile"),
            "ward": row.attributes.get("ward"),
            "cells": published_cells(row),
        }
        for row in table.rows
    ]
    return render(
        request,
        "engagement/dashboard.html",
        {
            "council": council,
            "access": access,
            # The filter as applied, without error marks: a value we could not use is explained in `fallbacks`.
            "form": OverviewForm(wards=figures.wards, initial={"decile": filters.decile, "ward": filters.ward or ""}),
            "filters": filters,
            "sort_params": {"sort": filters.sort, "dir": DESCENDING if filters.descending else ASCENDING},
            "fallbacks": form.fallbacks(),
            "headers": _headers(filters),
            "rows": rows,
            "totals": {"label": table.totals.label, "cells": published_cells(table.totals)},
            "as_of": as_of_note(figures),
            "csv_url": _query(filters) + "&format=csv",
            "neighbourhood_count": len(rows),
            "has_wards": bool(figures.wards),
        },
    )


urlpatterns = [
    path("council/<slug:council_slug>/", dashboard, name="dashboard"),
]
