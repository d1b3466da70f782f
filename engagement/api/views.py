"""The API's endpoints under /api/v1/councils/<council_slug>/: read-only, JSON only, for a token of that council.

Each endpoint reads through the same selectors as the dashboards (`engagement.selectors`, `initiatives.selectors`)
and runs a fixed number of queries whatever the council's size. Figures are the published cells those selectors
return; people counts that come from elsewhere (an initiative's supporters, an outcome's people and hours) go
through `engagement.suppression` here too.
"""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from initiatives.selectors import council as ledger_selectors
from initiatives.selectors import initiatives_with_badge
from neighbourhoods.models import Group, Neighbourhood

from .. import selectors, suppression
from ..metrics import METRICS, METRICS_BY_KEY
from ..suppression import Kind, Published, PublishedRow, PublishedTable
from . import serializers
from .authentication import ApiTokenAuthentication
from .permissions import OwnCouncilOnly
from .throttling import TokenRateThrottle

TAG_AREAS = "Neighbourhoods and figures"
TAG_COMMUNITY = "Initiatives and the ledger"


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="A page number within the list, from 1."),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        description=f"Items per page (default {Pagination.page_size}, at most {Pagination.max_page_size}).",
    ),
]
COUNCIL_SLUG = OpenApiParameter(
    "council_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The council your token belongs to."
)
ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="A query parameter is not valid; the body says which."),
    401: OpenApiResponse(serializers.ErrorSerializer, description="No token, or one that does not work."),
    404: OpenApiResponse(
        serializers.ErrorSerializer, description="Not your token's council (or no such council), or no such page."
    ),
    429: OpenApiResponse(serializers.ErrorSerializer, description="Too many requests: wait Retry-After seconds."),
}


def published(cell: Published) -> dict:
    return {"value": cell.value, "display": str(cell.display), "suppressed": cell.suppressed}


def _metrics(row: PublishedRow) -> dict:
    return {metric.key: published(row.cells[metric.key]) for metric in METRICS}


def _columns(table: PublishedTable) -> list[dict]:
    return [
        {"key": column.key, "label": str(column.label), "kind": column.kind, "description": str(column.description)}
        for column in table.columns
    ]


def _validated(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _invalid(field: str, message: str) -> drf_serializers.ValidationError:
    return drf_serializers.ValidationError({field: [message]})


class CouncilApiView(APIView):
    """The council named in the URL, read with a token of that council: GET only (other methods are 405)."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsAuthenticated, OwnCouncilOnly]
    throttle_classes = [TokenRateThrottle]
    http_method_names = ["get", "head", "options"]

    @property
    def council(self):
        return self.request.auth.council

    def page(self, items, extra: dict | None = None) -> Response:
        """One page of `items` in the list envelope (count, next, previous, results) with `extra` fields first."""
        paginator = Pagination()
        page = paginator.paginate_queryset(items, self.request, view=self)
        return Response(
            {
                "count": paginator.page.paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                **(extra or {}),
                "results": page,
            }
        )


# --- Neighbourhoods ------------------------------------------------------------------------------------------------


class NeighbourhoodList(CouncilApiView):
    @extend_schema(
        operation_id="list_neighbourhoods",
        tags=[TAG_AREAS],
        summary="The council's neighbourhoods",
        description="Every neighbourhood of the council, by name: its area code, ward, deprivation decile, households "
        "(census figures, public) and whether a boundary is stored for the map.",
        parameters=[COUNCIL_SLUG, serializers.AreaFilterQuery, *PAGE_PARAMETERS],
        responses={200: serializers.NeighbourhoodPageSerializer, **ERRORS},
    )
    def get(self, request, council_slug):
        query = _validated(serializers.AreaFilterQuery, request)
        areas = Neighbourhood.objects.filter(council=self.council).order_by("name", "pk")
        if "decile" in query:
            areas = areas.filter(imd_decile=query["decile"])
        if "ward" in query:
            areas = areas.filter(ward=query["ward"])
        rows = areas.values("code", "slug", "name", "ward", "imd_decile", "households", "boundary__isnull")
        response = self.page(rows)
        response.data["results"] = [
            {
                "code": row["code"],
                "slug": row["slug"],
                "name": row["name"],
                "ward": row["ward"] or None,
                "decile": row["imd_decile"],
                "households": row["households"],
                "has_boundary": not row["boundary__isnull"],
            }
            for row in response.data["results"]
        ]
        return response


# --- Metrics -------------------------------------------------------------------------------------------------------


class MetricsOverview(CouncilApiView):
    @extend_schema(
        operation_id="get_metrics",
        tags=[TAG_AREAS],
        summary="Every figure per neighbourhood, with totals",
        description=(
            "The dashboard's overview: one item per neighbourhood with every figure, and the totals of all of them "
            "(or, filtered, of those the filter picks out). Small numbers are never shown: a count from 1 to 9 is "
            '`{"value": null, "display": "<10", "suppressed": true}`, every other count is rounded to the nearest '
            "5, a percentage from a hidden count is hidden, a further cell is hidden wherever a total would give a "
            "hidden one away, and a filtered total is hidden when the rest of the council would give it away. A "
            "neighbourhood reads the same with or without a filter."
        ),
        parameters=[COUNCIL_SLUG, serializers.MetricsQuery, *PAGE_PARAMETERS],
        responses={200: serializers.MetricsPageSerializer, **ERRORS},
    )
    def get(self, request, council_slug):
        query = _validated(serializers.MetricsQuery, request)
        figures = selectors.council_figures(self.council)
        if "ward" in query and query["ward"] not in figures.wards:
            raise _invalid("ward", _("This council has no ward of that name."))
        filters = selectors.Filters(
            decile=query.get("decile"),
            ward=query.get("ward"),
            sort=query["sort"],
            descending=query["dir"] == "desc",
        )
        table = selectors.council_table(self.council, filters=filters, figures=figures)
        rows = [
            {
                "code": row.attributes["code"],
                "slug": row.attributes["slug"],
                "name": row.label,
                "ward": row.attributes["ward"] or None,
                "decile": row.attributes["decile"],
                "metrics": _metrics(row),
            }
            for row in table.rows
        ]
        return self.page(
            rows,
            {
                "as_of": figures.as_of,
                "filters": {
                    "decile": filters.decile,
                    "ward": filters.ward,
                    "sort": filters.sort,
                    "dir": query["dir"],
                },
                "columns": _columns(table),
                "totals": {"label": str(table.totals.label), "metrics": _metrics(table.totals)},
            },
        )


class MetricsByDecile(CouncilApiView):
    @extend_schema(
        operation_id="get_metrics_by_decile",
        tags=[TAG_AREAS],
        summary="Every figure by deprivation decile",
        description=(
            "The levelling-up lens: every figure for each deprivation decile (1 = most deprived), with the council's "
            "total. Deciles without neighbourhoods have a row of zeros; neighbourhoods without a decile have a row "
            "of their own (decile null). At most eleven rows, so this comes whole, not in pages."
        ),
        parameters=[COUNCIL_SLUG],
        responses={200: serializers.DecileTableSerializer, **ERRORS},
    )
    def get(self, request, council_slug):
        figures = selectors.council_figures(self.council)
        table = selectors.decile_table(self.council, figures=figures)
        return Response(
            {
                "as_of": figures.as_of,
                "columns": _columns(table),
                "totals": {"label": str(table.totals.label), "metrics": _metrics(table.totals)},
                "results": [
                    {
                        "decile": row.key if row.key in selectors.DECILES else None,
                        "label": str(row.label),
                        "neighbourhoods": row.attributes["neighbourhoods"],
                        "metrics": _metrics(row),
                    }
                    for row in table.rows
                ],
            }
        )


# --- Time series ---------------------------------------------------------------------------------------------------


class Timeseries(CouncilApiView):
    @extend_schema(
        operation_id="get_timeseries",
        tags=[TAG_AREAS],
        summary="One figure week by week",
        description=(
            "A weekly series of one figure from the nightly snapshots: the council's total, or one neighbourhood's "
            "figure as the dashboard published it on that day. At most 105 points, so it comes whole."
        ),
        parameters=[COUNCIL_SLUG, serializers.TimeseriesQuery],
        responses={200: serializers.TimeseriesSerializer, **ERRORS},
    )
    def get(self, request, council_slug):
        query = _validated(serializers.TimeseriesQuery, request)
        area = None
        if query.get("neighbourhood"):
            area = Neighbourhood.objects.filter(council=self.council, code=query["neighbourhood"]).first()
            if area is None:
                raise _invalid("neighbourhood", _("This council has no neighbourhood with that area code."))
        metric = METRICS_BY_KEY[query["metric"]]
        series = selectors.snapshot_series(self.council, metric=metric.key, weeks=query["weeks"], neighbourhood=area)
        return Response(
            {
                "metric": metric.key,
                "label": str(metric.label),
                "kind": metric.kind,
                "neighbourhood": area.code if area else None,
                "weeks": query["weeks"],
                "points": [{"week_ending": day, **published(cell)} for day, cell in series],
            }
        )


# --- Initiatives ---------------------------------------------------------------------------------------------------


class InitiativeList(CouncilApiView):
    @extend_schema(
        operation_id="list_initiatives",
        tags=[TAG_COMMUNITY],
        summary="Public initiatives in the council's area",
        description=(
            "Initiatives anyone may see — those of public street groups and those for a whole neighbourhood — newest "
            "first. Never those of members-only groups, and never who leads, supports or volunteers for one: the "
            "number of supporters is published like every other count."
        ),
        parameters=[COUNCIL_SLUG, serializers.InitiativesQuery, *PAGE_PARAMETERS],
        responses={200: serializers.InitiativePageSerializer, **ERRORS},
    )
    def get(self, request, council_slug):
        query = _validated(serializers.InitiativesQuery, request)
        initiatives = initiatives_with_badge().filter(
            Q(group__isnull=True) | Q(group__visibility=Group.Visibility.PUBLIC), neighbourhood__council=self.council
        )
        if "status" in query:
            initiatives = initiatives.filter(status=query["status"])
        if "neighbourhood" in query:
            initiatives = initiatives.filter(neighbourhood__code=query["neighbourhood"])
        rows = initiatives.order_by("-created_at", "-pk").values(
            "slug",
            "title",
            "summary",
            "status",
            "category",
            "support_count",
            "backed",
            "created_at",
            "neighbourhood__code",
            "neighbourhood__name",
        )
        response = self.page(rows)
        response.data["results"] = [
            {
                "slug": row["slug"],
                "title": row["title"],
                "summary": row["summary"],
                "status": row["status"],
                "category": row["category"],
                "url": request.build_absolute_uri(reverse("initiatives:detail", args=[row["slug"]])),
                "neighbourhood": {"code": row["neighbourhood__code"], "name": row["neighbourhood__name"]},
                "supporters": published(suppression.publish_count(row["support_count"])),
                "backed": row["backed"],
                "created_at": row["created_at"],
            }
            for row in response.data["results"]
        ]
        return response


# --- The community-power ledger ------------------------------------------------------------------------------------


def _ledger_entry(request, backing) -> dict:
    """One line of the public ledger, as the ledger page shows it: an initiative of a members-only group is only
    "a community initiative in <neighbourhood>", with no title, link or outcome."""
    initiative = backing.initiative
    public = ledger_selectors.is_public_initiative(initiative)
    outcome = getattr(initiative, "outcome", None) if public else None
    offer = backing.offer
    return {
        "decided_at": backing.decided_at,
        "taken_up_at": backing.taken_up_at,
        "initiative": {
            "public": public,
            "title": initiative.title
            if public
            else _("A community initiative in %(area)s") % {"area": initiative.neighbourhood.name},
            "slug": initiative.slug if public else None,
            "url": request.build_absolute_uri(initiative.get_absolute_url()) if public else None,
            "neighbourhood": initiative.neighbourhood.name,
        },
        "offer": {
            "title": offer.title,
            "kind": offer.kind,
            "amount": None if offer.amount is None else f"{offer.amount:.2f}",
        },
        "outcome": None
        if outcome is None
        else {
            "people_involved": published(suppression.publish_count(outcome.people_involved)),
            "volunteer_hours": published(
                suppression.publish_count(suppression.whole_hours(outcome.volunteer_hours), Kind.HOURS)
            ),
            "what_changed": outcome.what_changed,
        },
    }


class Ledger(CouncilApiView):
    @extend_schema(
        operation_id="list_ledger",
        tags=[TAG_COMMUNITY],
        summary="The community-power ledger",
        description=(
            "What the public ledger page shows: each offer the council approved for a community initiative, newest "
            "first, its value, whether it was taken up and what came of it. An initiative of a members-only group "
            'appears only as "A community initiative in <neighbourhood>". People involved and volunteer hours are '
            "published like every other count. The totals count the council's own decisions, as the public page does."
        ),
        parameters=[COUNCIL_SLUG, *PAGE_PARAMETERS],
        responses={200: serializers.LedgerPageSerializer, **ERRORS},
    )
    def get(self, request, council_slug):
        totals = ledger_selectors.ledger_totals(council=self.council)
        response = self.page(
            ledger_selectors.list_ledger(council=self.council),
            {"totals": {"initiatives_backed": totals.count, "value": f"{totals.value:.2f}"}},
        )
        response.data["results"] = [_ledger_entry(request, backing) for backing in response.data["results"]]
        return response
