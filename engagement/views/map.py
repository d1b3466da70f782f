"""The map: a figure for every neighbourhood of the council, shaded on a map drawn from their stored boundaries.

The figures are the overview's (`selectors.council_table`), published by `engagement.suppression`; the page lists
them in a table too, and names the neighbourhoods it has no boundary for.
"""

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from neighbourhoods.models import Neighbourhood

from .. import charts, selectors
from ..access import get_officer_access
from .charting import MetricForm, csv_heading, csv_response, csv_value, value_suffix


def _boundaries(council) -> dict[int, dict]:
    """Each neighbourhood's stored GeoJSON boundary (one query): shapes only, nothing about anyone who lives there."""
    return dict(Neighbourhood.objects.filter(council=council, boundary__isnull=False).values_list("pk", "boundary"))


def engagement_map(request, council_slug):
    """The chosen figure by neighbourhood as a choropleth with its legend, the same figures as a table with the
    council's total, and the neighbourhoods without a boundary. `?format=csv` downloads the table."""
    access = get_officer_access(request.user, council_slug)
    council = access.council
    form = MetricForm(request.GET)
    metric = form.chosen_metric()
    figures = selectors.council_figures(council)
    table = selectors.council_table(council, figures=figures)
    rows = sorted(table.rows, key=lambda row: (row.label.casefold(), str(row.key)))

    if request.GET.get("format") == "csv":
        return csv_response(
            council_slug=council.slug,
            name=f"map-{metric.key}",
            header=[_("Neighbourhood"), _("Area code"), _("Ward"), _("Deprivation decile"), csv_heading(metric)],
            rows=(
                [
                    row.label,
                    row.attributes.get("code") or "",
                    row.attributes.get("ward") or "",
                    row.attributes.get("decile") or "",
                    csv_value(row.cells[metric.key]),
                ]
                for row in [*rows, table.totals]
            ),
        )

    boundaries = _boundaries(council)
    title = _("%(metric)s by neighbourhood in %(council)s") % {"metric": metric.label, "council": council.name}
    items = [(row.label, row.cells[metric.key]) for row in rows]
    summary = charts.ranking_summary(items)
    drawn = charts.choropleth(
        [charts.Area(row.label, boundaries.get(row.key), row.cells[metric.key]) for row in rows],
        title=title,
        description=summary,
        legend_title=metric.label,
        value_suffix=value_suffix(metric),
        chart_id="engagement-map",
        legend_in_svg=False,  # the key goes beside the map as text, which keeps its size on a phone
    )
    return render(
        request,
        "engagement/map.html",
        {
            "council": council,
            "as_of": figures.as_of,
            "form": form,
            "metric": metric,
            "fallbacks": form.fallbacks(),
            "title": title,
            "summary": summary,
            "map": drawn,
            "rows": [
                {"label": row.label, "decile": row.attributes.get("decile"), "value": row.cells[metric.key]}
                for row in rows
            ],
            "total": {"label": table.totals.label, "value": table.totals.cells[metric.key]},
        },
    )


urlpatterns = [
    path("council/<slug:council_slug>/map/", engagement_map, name="map"),
]
