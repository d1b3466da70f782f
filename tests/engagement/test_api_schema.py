"""The API's OpenAPI schema and docs: public, accurate (schemathesis fuzzes every operation against the schema with
a working token: no server errors, and every response matches what the schema says), and the docs page served from
our own files under our Content-Security-Policy."""

import re
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from initiatives.models import Backing, Outcome
from neighbourhoods.models import Group
from tests.engagement.api_support import make_token, snapshot_council
from tests.factories import CouncilOfferFactory, GroupFactory, InitiativeFactory

pytestmark = pytest.mark.django_db

EXAMPLES = 12  # per operation and mode: the whole run stays well under 30 seconds


def test_the_schema_is_public_and_describes_every_endpoint(client):
    response = client.get(reverse("api:schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert set(paths) == {
        f"/api/v1/councils/{{council_slug}}/{name}/"
        for name in ("neighbourhoods", "metrics", "metrics/deciles", "timeseries", "initiatives", "ledger")
    }
    assert all(set(operations) == {"get"} for operations in paths.values())
    assert schema["components"]["securitySchemes"]["officerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["officerToken"]["description"],
    }
    metrics = paths["/api/v1/councils/{council_slug}/metrics/"]["get"]
    assert {parameter["name"] for parameter in metrics["parameters"]} >= {"decile", "ward", "sort", "dir", "page"}
    assert metrics["security"] == [{"officerToken": []}]
    figure = schema["components"]["schemas"]["Published"]["properties"]
    assert set(figure) == {"value", "display", "suppressed"}


def test_the_docs_page_is_public_and_runs_only_our_own_scripts(client):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "script-src 'self'" in policy
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts
    assert all('src="/' in attributes for attributes in scripts)  # no inline script, nothing from elsewhere
    assert "<style" not in html
    assert "cdn" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html

    script = client.get(reverse("api:docs") + "?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert reverse("api:schema") in script.content.decode()


def _council_with_everything():
    council, areas = snapshot_council(size=8, seed=11)
    offer = CouncilOfferFactory(council=council)
    for index, area in enumerate(areas[:4]):
        visibility = Group.Visibility.MEMBERS if index % 2 else Group.Visibility.PUBLIC
        initiative = InitiativeFactory(
            group=GroupFactory(neighbourhood=area, visibility=visibility), support_count=index
        )
        Outcome.objects.create(
            initiative=initiative, people_involved=index * 6, volunteer_hours=Decimal("7.5"), what_changed="Done"
        )
        Backing.objects.create(
            offer=offer, initiative=initiative, status=Backing.Status.APPROVED, decided_at=timezone.now()
        )
    return council


@pytest.fixture
def wsgi_app():
    """The project's real WSGI application, called in-process. Django closes the database connection when a request
    finishes; inside a test that would end the test's transaction, so (as Django's own test client does) that is
    switched off while the test runs."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_errors_and_responses_match_the_schema(settings, wsgi_app, mode):
    settings.ENGAGEMENT_API_RATE = "100000/min"
    council = _council_with_everything()
    token = make_token(council)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    checks = [not_a_server_error]
    if mode == schemathesis.GenerationMode.POSITIVE:
        # Valid requests get a documented status and a body in the documented shape.
        checks += [status_code_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    seen = []

    for operation in operations:
        strategy = operation.as_strategy(
            mode,
            path_parameters={"council_slug": council.slug},
            headers={"Authorization": f"Bearer {token}"},
        )

        @given(case=strategy)
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.path_parameters["council_slug"] = council.slug  # negative cases may mangle it: keep it ours
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            seen.append(response.status_code)
            case.validate_response(response, checks=checks)

        try:
            run()
        except Unsatisfiable:
            # The decile table takes no parameter but the council, which stays ours: nothing to make invalid.
            assert mode == schemathesis.GenerationMode.NEGATIVE
            assert operation.path.endswith("/metrics/deciles/")

    assert seen
    assert 500 not in seen
    if mode == schemathesis.GenerationMode.POSITIVE:
        assert 200 in seen
