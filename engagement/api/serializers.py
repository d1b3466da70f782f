"""The API's shapes: query parameters (validated, so bad input is a 400 that says what is wrong) and responses.

Responses are built as plain data in `views.py`; these serializers describe them for the OpenAPI schema, and the
test suite checks real responses against that schema.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from initiatives.models import CouncilOffer, Initiative

from ..metrics import METRICS
from ..selectors import SORT_KEYS
from ..suppression import Kind

MAX_WEEKS = 104
METRIC_KINDS = (Kind.COUNT, Kind.PERCENT, Kind.HOURS)  # named MetricKindEnum in the schema


# --- Query parameters ----------------------------------------------------------------------------------------------


class AreaFilterQuery(serializers.Serializer):
    decile = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=10,
        help_text=_("Only neighbourhoods in this deprivation decile (1 is the most deprived tenth of areas)."),
    )
    ward = serializers.CharField(
        required=False, max_length=120, help_text=_("Only neighbourhoods in this electoral ward (its exact name).")
    )


class MetricsQuery(AreaFilterQuery):
    sort = serializers.ChoiceField(
        choices=SORT_KEYS,
        default="name",
        help_text=_(
            "Sort the neighbourhoods by this figure (or by name). Figures that are not shown sort together after "
            "the rest, by name."
        ),
    )
    dir = serializers.ChoiceField(choices=("asc", "desc"), default="asc", help_text=_("Sort direction."))


class TimeseriesQuery(serializers.Serializer):
    metric = serializers.ChoiceField(choices=[metric.key for metric in METRICS], help_text=_("Which figure."))
    neighbourhood = serializers.CharField(
        required=False,
        max_length=12,
        help_text=_("A neighbourhood's area code; without it, the series is the council's total."),
    )
    weeks = serializers.IntegerField(
        required=False, default=52, min_value=1, max_value=MAX_WEEKS, help_text=_("How many weeks back.")
    )


class InitiativesQuery(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Initiative.Status.choices, required=False, help_text=_("Only initiatives in this status.")
    )
    neighbourhood = serializers.CharField(
        required=False, max_length=12, help_text=_("Only initiatives in the neighbourhood with this area code.")
    )


# --- Published figures ---------------------------------------------------------------------------------------------


class PublishedSerializer(serializers.Serializer):
    value = serializers.IntegerField(
        allow_null=True,
        help_text=_(
            "The figure as a number: a count rounded to the nearest 5, or a whole percentage. Null when it is "
            "suppressed or not known."
        ),
    )
    display = serializers.CharField(help_text=_('The figure as a person should read it: "<10", "1,235", "45%".'))
    suppressed = serializers.BooleanField(help_text=_("True when the figure is hidden to protect small numbers."))


def _metric_field(metric) -> PublishedSerializer:
    return PublishedSerializer(help_text=metric.description or metric.label)


# One field per metric, so the schema names every figure a row carries.
MetricValuesSerializer = type(
    "MetricValuesSerializer",
    (serializers.Serializer,),
    {metric.key: _metric_field(metric) for metric in METRICS},
)


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=METRIC_KINDS)
    description = serializers.CharField()


class PageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("How many items the whole list holds."))
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


# --- Neighbourhoods ------------------------------------------------------------------------------------------------


class NeighbourhoodSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("The area code (e.g. an LSOA code)."))
    slug = serializers.CharField()
    name = serializers.CharField()
    ward = serializers.CharField(allow_null=True)
    decile = serializers.IntegerField(allow_null=True, help_text=_("Deprivation decile: 1 is the most deprived."))
    households = serializers.IntegerField(allow_null=True, help_text=_("Households, from the census."))
    has_boundary = serializers.BooleanField()


class NeighbourhoodPageSerializer(PageSerializer):
    results = NeighbourhoodSerializer(many=True)


# --- Metrics -------------------------------------------------------------------------------------------------------


class MetricsRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()
    ward = serializers.CharField(allow_null=True)
    decile = serializers.IntegerField(allow_null=True)
    metrics = MetricValuesSerializer()


class MetricsTotalsSerializer(serializers.Serializer):
    label = serializers.CharField()
    metrics = MetricValuesSerializer()


class MetricsFiltersSerializer(serializers.Serializer):
    decile = serializers.IntegerField(allow_null=True)
    ward = serializers.CharField(allow_null=True)
    sort = serializers.CharField()
    dir = serializers.CharField()


class MetricsPageSerializer(PageSerializer):
    as_of = serializers.DateField(
        allow_null=True, help_text=_("The date of the snapshot the figures come from; null when counted just now.")
    )
    filters = MetricsFiltersSerializer()
    columns = ColumnSerializer(many=True)
    totals = MetricsTotalsSerializer(
        help_text=_("All the council's neighbourhoods, or with a filter, all those the filter picks out.")
    )
    results = MetricsRowSerializer(many=True)


class DecileRowSerializer(serializers.Serializer):
    decile = serializers.IntegerField(allow_null=True, help_text=_("Null for neighbourhoods without a decile."))
    label = serializers.CharField()
    neighbourhoods = serializers.IntegerField(help_text=_("How many of the council's neighbourhoods it holds."))
    metrics = MetricValuesSerializer()


class DecileTableSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    columns = ColumnSerializer(many=True)
    totals = MetricsTotalsSerializer()
    results = DecileRowSerializer(many=True)


# --- Time series ---------------------------------------------------------------------------------------------------


class PointSerializer(PublishedSerializer):
    week_ending = serializers.DateField()


class TimeseriesSerializer(serializers.Serializer):
    metric = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=METRIC_KINDS)
    neighbourhood = serializers.CharField(allow_null=True, help_text=_("Area code, or null for the council total."))
    weeks = serializers.IntegerField()
    points = PointSerializer(
        many=True, help_text=_("One point a week, oldest first; weeks without a snapshot have no point.")
    )


# --- Initiatives and the ledger ------------------------------------------------------------------------------------


class AreaSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class InitiativeSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    status = serializers.ChoiceField(choices=Initiative.Status.choices)
    category = serializers.ChoiceField(choices=Initiative.Category.choices)
    url = serializers.URLField(help_text=_("The initiative's public page."))
    neighbourhood = AreaSerializer()
    supporters = PublishedSerializer()
    backed = serializers.BooleanField(help_text=_("True when the council has approved an offer of support for it."))
    created_at = serializers.DateTimeField()


class InitiativePageSerializer(PageSerializer):
    results = InitiativeSerializer(many=True)


class LedgerInitiativeSerializer(serializers.Serializer):
    public = serializers.BooleanField(
        help_text=_("False for an initiative of a members-only group: then only its neighbourhood is given.")
    )
    title = serializers.CharField()
    slug = serializers.CharField(allow_null=True)
    url = serializers.URLField(allow_null=True)
    neighbourhood = serializers.CharField()


class LedgerOfferSerializer(serializers.Serializer):
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=CouncilOffer.Kind.choices)
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text=_("Value in pounds, if it has one.")
    )


class LedgerOutcomeSerializer(serializers.Serializer):
    people_involved = PublishedSerializer()
    volunteer_hours = PublishedSerializer()
    what_changed = serializers.CharField()


class LedgerEntrySerializer(serializers.Serializer):
    decided_at = serializers.DateTimeField(allow_null=True)
    taken_up_at = serializers.DateTimeField(allow_null=True)
    initiative = LedgerInitiativeSerializer()
    offer = LedgerOfferSerializer()
    outcome = LedgerOutcomeSerializer(allow_null=True, help_text=_("Public initiatives' recorded outcome, if any."))


class LedgerTotalsSerializer(serializers.Serializer):
    initiatives_backed = serializers.IntegerField(help_text=_("Offers the council has approved, in all."))
    value = serializers.DecimalField(max_digits=14, decimal_places=2, help_text=_("Their value in pounds."))


class LedgerPageSerializer(PageSerializer):
    totals = LedgerTotalsSerializer()
    results = LedgerEntrySerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
