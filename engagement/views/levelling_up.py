"""The levelling-up lens: every figure by deprivation decile (1 = most deprived), and the connection gaps — the
neighbourhoods in deciles 1 to 3 where neighbours are connecting least — with next steps the council can take."""

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from neighbourhoods.models import Group

from .. import selectors
from ..access import get_officer_access
from ..metrics import METRICS
from .charting import csv_response
from .overview import as_of_note, csv_headers, csv_value, published_cells

GROUP_LINKS = 3  # public street groups named per gap, at most


def _public_groups(gaps) -> dict[int, list[Group]]:
    """Up to a few public street groups in each gap neighbourhood (one query): where flyers and events start.
    Members-only groups are never named here."""
    areas = [gap.row.key for gap in gaps]
    groups: dict[int, list[Group]] = {area: [] for area in areas}
    for group in (
        Group.objects.filter(neighbourhood_id__in=areas, visibility=Group.Visibility.PUBLIC)
        .order_by("neighbourhood_id", "name")
        .only("pk", "name", "slug", "neighbourhood_id")
    ):
        if len(groups[group.neighbourhood_id]) < GROUP_LINKS:
            groups[group.neighbourhood_id].append(group)
    return groups


def levelling_up(request, council_slug):
    """`?format=csv` downloads the decile table; `?format=csv&table=gaps` the connection-gaps list."""
    access = get_officer_access(request.user, council_slug)
    council = access.council
    figures = selectors.council_figures(council)
    deciles = selectors.decile_table(council, figures=figures)
    gaps, notes = selectors.connection_gaps(council, figures=figures)

    if request.GET.get("format") == "csv":
        if request.GET.get("table") == "gaps":
            return csv_response(
                council_slug=council.slug,
                name="connection-gaps",
                header=[
                    _("Neighbourhood"),
                    _("Deprivation decile"),
                    _("Reach below the council's median"),
                    _("Connection rate below the council's median"),
                    _("Members"),
                    _("Reach (%)"),
                    _("Connection rate (%)"),
                ],
                rows=(
                    [
                        gap.row.label,
                        gap.decile,
                        _("yes") if gap.low_reach else _("no"),
                        _("yes") if gap.low_connection else _("no"),
                        csv_value(gap.row.cells["members"]),
                        csv_value(gap.row.cells["reach"]),
                        csv_value(gap.row.cells["connection_rate"]),
                    ]
                    for gap in gaps
                ),
            )
        return csv_response(
            council_slug=council.slug,
            name="deciles",
            header=csv_headers([_("Deprivation decile"), _("Neighbourhoods")]),
            rows=(
                *(
                    [row.label, row.attributes.get("neighbourhoods", 0)]
                    + [csv_value(row.cells[metric.key]) for metric in METRICS]
                    for row in deciles.rows
                ),
                [deciles.totals.label, len(figures.rows), *(csv_value(deciles.totals.cells[m.key]) for m in METRICS)],
            ),
        )

    groups = _public_groups(gaps)
    return render(
        request,
        "engagement/levelling_up.html",
        {
            "council": council,
            "access": access,
            "as_of": as_of_note(figures),
            "metrics": METRICS,
            "decile_rows": [
                {
                    "label": row.label,
                    "neighbourhoods": row.attributes.get("neighbourhoods", 0),
                    "cells": published_cells(row),
                }
                for row in deciles.rows
            ],
            "decile_totals": {
                "label": deciles.totals.label,
                "neighbourhoods": len(figures.rows),
                "cells": published_cells(deciles.totals),
            },
            "gaps": [
                {
                    "name": gap.row.label,
                    "decile": gap.decile,
                    "low_reach": gap.low_reach,
                    "low_connection": gap.low_connection,
                    "members": gap.row.cells["members"],
                    "reach": gap.row.cells["reach"],
                    "connection_rate": gap.row.cells["connection_rate"],
                    "groups": groups.get(gap.row.key, []),
                }
                for gap in gaps
            ],
            "has_reach_median": notes["has_reach_median"],
        },
    )


urlpatterns = [
    path("council/<slug:council_slug>/levelling-up/", levelling_up, name="levelling-up"),
]
