"""Trends: a figure week by week over the last year, for the council or one neighbourhood, and by decile.

Read from the nightly snapshots through `engagement.selectors`; every figure is published by
`engagement.suppression` before it reaches a chart, a table, a sentence or a CSV file.
"""

from datetime import timedelta

from django import forms
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from neighbourhoods.models import Neighbourhood

from .. import charts, selectors, suppression
from ..access import get_officer_access
from .charting import (
    MetricForm,
    PlainSelect,
    csv_heading,
    csv_response,
    csv_value,
    month_ticks,
    value_suffix,
    week_labels,
)

WEEKS = 52


class TrendsForm(MetricForm):
    area = forms.ChoiceField(
        label=gettext_lazy("Neighbourhood"),
        required=False,
        widget=PlainSelect,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the council's neighbourhoods.")},
    )

    field_order = ["metric", "area"]

    def __init__(self, *args, neighbourhoods, **kwargs):
        super().__init__(*args, **kwargs)
        self.neighbourhoods = {area.slug: area for area in neighbourhoods}
        self.fields["area"].choices = [
            ("", _("All neighbourhoods")),
            *((area.slug, area.name) for area in neighbourhoods),
        ]

    def chosen_area(self) -> Neighbourhood | None:
        """The chosen neighbourhood, or None for the whole council (also when the address names another)."""
        self.is_valid()
        if "area" in self.errors:
            return None
        return self.neighbourhoods.get(self.cleaned_data.get("area") or "")

    def fallbacks(self) -> list[str]:
        notes = super().fallbacks()
        if "area" in self.errors:
            notes.append(_("That neighbourhood is not one of the council's, so this page shows all of them."))
        return notes


def trends(request, council_slug):
    """The chosen figure's weekly line over the last 52 weeks (the council's total, or one neighbourhood's), and the
    latest figures by deprivation decile; each with a table of the same figures and a sentence saying what it
    shows. `?format=csv` downloads the weekly series."""
    access = get_officer_access(request.user, council_slug)
    council = access.council
    neighbourhoods = list(Neighbourhood.objects.filter(council=council).only("pk", "name", "slug").order_by("name"))
    form = TrendsForm(request.GET, neighbourhoods=neighbourhoods)
    metric = form.chosen_metric()
    area = form.chosen_area()

    today = timezone.localdate()
    weeks = [today - timedelta(weeks=back) for back in range(WEEKS, -1, -1)]
    found = dict(selectors.snapshot_series(council, metric=metric.key, weeks=WEEKS, neighbourhood=area, today=today))
    # A week without a snapshot (before the first was written) is a gap, said to be "not known".
    points = [found.get(week) or suppression.not_known(metric.kind) for week in weeks]
    labels = week_labels(weeks)
    where = area.name if area else council.name

    if request.GET.get("format") == "csv":
        name = f"trends-{metric.key}" + (f"-{area.slug}" if area else "")
        return csv_response(
            council_slug=council.slug,
            name=name,
            header=[_("Week ending"), _("Area"), csv_heading(metric)],
            rows=([week.isoformat(), where, csv_value(point)] for week, point in zip(weeks, points, strict=True)),
        )

    line_summary = charts.line_summary(metric.label, points, labels)
    line_title = _("%(metric)s each week in %(where)s") % {"metric": metric.label, "where": where}
    line = None
    if found:
        line = charts.line_chart(
            [charts.Series(metric.label, points)],
            title=line_title,
            description=line_summary,
            y_label=metric.label,
            x_labels=labels,
            x_ticks=month_ticks(weeks),
            y_suffix=value_suffix(metric),
            chart_id="trend-line",
        )

    deciles = selectors.decile_table(council)
    bars = [charts.Bar(row.label, row.cells[metric.key]) for row in deciles.rows]
    bar_summary = charts.ranking_summary([(bar.label, bar.value) for bar in bars])
    bar_title = _("%(metric)s by deprivation decile, latest figures") % {"metric": metric.label}
    bar = charts.bar_chart(
        bars,
        title=bar_title,
        description=bar_summary,
        x_label=metric.label,
        value_suffix=value_suffix(metric),
        chart_id="trend-deciles",
    )

    return render(
        request,
        "engagement/trends.html",
        {
            "council": council,
            "form": form,
            "metric": metric,
            "area": area,
            "fallbacks": form.fallbacks(),
            "line": line,
            "line_title": line_title,
            "line_summary": line_summary,
            "weeks": list(zip(labels, points, strict=True)),
            "bar": bar,
            "bar_title": bar_title,
            "bar_summary": bar_summary,
            "decile_rows": [_decile_row(row, metric.key) for row in deciles.rows],
            "decile_total": _decile_row(deciles.totals, metric.key, neighbourhoods=len(neighbourhoods)),
            "csv_area": area.slug if area else None,
        },
    )


def _decile_row(row, key: str, *, neighbourhoods: int | None = None) -> dict:
    count = row.attributes.get("neighbourhoods", 0) if neighbourhoods is None else neighbourhoods
    return {"label": row.label, "value": row.cells[key], "neighbourhoods": count}


urlpatterns = [
    path("council/<slug:council_slug>/trends/", trends, name="trends"),
]
