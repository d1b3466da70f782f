"""The API's routes (its endpoints, schema and docs) and the officers' token pages, in the `api` namespace.

API views are exempt from `LoginRequiredMiddleware`: they sign requests in with a token themselves and answer 401,
never a redirect to the sign-in page. The schema and docs are public; the data is not.
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import pages, views
from .docs import ApiDocs

app_name = "api"

COUNCIL = "api/v1/councils/<slug:council_slug>/"


def _open(view):
    return login_not_required(view.as_view())


urlpatterns = [
    path(f"{COUNCIL}neighbourhoods/", _open(views.NeighbourhoodList), name="neighbourhoods"),
    path(f"{COUNCIL}metrics/", _open(views.MetricsOverview), name="metrics"),
    path(f"{COUNCIL}metrics/deciles/", _open(views.MetricsByDecile), name="metrics-deciles"),
    path(f"{COUNCIL}timeseries/", _open(views.Timeseries), name="timeseries"),
    path(f"{COUNCIL}initiatives/", _open(views.InitiativeList), name="initiatives"),
    path(f"{COUNCIL}ledger/", _open(views.Ledger), name="ledger"),
    path("api/schema/", _open(SpectacularAPIView), name="schema"),
    path("api/docs/", _open(ApiDocs), name="docs"),
    *pages.urlpatterns,
]
