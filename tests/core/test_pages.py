import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["core:home", "core:privacy", "core:accessibility", "neighbourhoods:find"])
def test_public_pages_render_for_visitors(client, name, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert 'href="#main"' in html
    assert '<main id="main"' in html


def test_home_explains_the_platform_and_offers_a_postcode_box(client):
    html = client.get(reverse("core:home")).content.decode()
    assert "Get to know your neighbours" in html
    assert 'name="postcode"' in html
    assert 'autocomplete="postal-code"' in html


@pytest.mark.parametrize("name", ["core:home", "core:privacy", "core:accessibility", "neighbourhoods:find"])
def test_public_pages_run_a_fixed_number_of_queries_when_signed_in(
    signed_in_client, name, django_assert_max_num_queries
):
    # Session and user (with profile, via the auth backend's select_related).
    with django_assert_max_num_queries(2):
        response = signed_in_client.get(reverse(name))
    assert response.status_code == 200


def test_header_shows_sign_in_state(client, user):
    anonymous = client.get(reverse("core:home")).content.decode()
    assert "Sign in" in anonymous
    assert "Sign out" not in anonymous
    client.force_login(user)
    signed_in = client.get(reverse("core:home")).content.decode()
    assert "Sign out" in signed_in
    assert user.profile.display_name in signed_in


def test_unknown_page_gets_the_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_csrf_failure_gets_a_friendly_page(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("core:set-language"), {"language": "cy"})
    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()


def test_every_page_sends_a_strict_content_security_policy(client):
    response = client.get(reverse("core:home"))
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    # Scripts only from our own origin, or inline with this response's nonce (added when a template asks for it).
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]


def test_pages_use_no_inline_scripts_or_styles(client):
    html = client.get(reverse("account_signup")).content.decode()
    assert "<script>" not in html
    assert "style=" not in html
    assert "<style" not in html


@pytest.mark.parametrize(
    ("handler", "status", "text"),
    [
        ("bad_request", 400, "Something was wrong with that request"),
        ("permission_denied", 403, "You cannot see this page"),
        ("server_error", 500, "Sorry, something went wrong"),
    ],
)
def test_error_pages_are_friendly(rf, handler, status, text):
    from django.core.exceptions import PermissionDenied, SuspiciousOperation
    from django.views import defaults

    request = rf.get("/somewhere/")
    view = getattr(defaults, handler)
    if handler == "server_error":
        response = view(request)
    else:
        exception = SuspiciousOperation() if handler == "bad_request" else PermissionDenied()
        response = view(request, exception)
    assert response.status_code == status
    html = response.content.decode()
    assert text in html
    assert html.count("<h1") == 1


@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_reset_password"])
def test_sign_in_pages_run_a_fixed_number_of_queries(client, name, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get(reverse(name))
    assert response.status_code == 200


def test_pagination_links_lead_to_the_next_page_and_keep_filters(signed_in_client, user):
    from tests.factories import MembershipFactory, PostFactory

    membership = MembershipFactory(user=user)
    PostFactory.create_batch(25, group=membership.group, kind="offer")
    board = reverse("neighbourhoods:board", args=[membership.group.slug])
    first = signed_in_client.get(board, {"kind": "offer"}).content.decode()
    assert 'href="?kind=offer&amp;page=2"' in first
    second = signed_in_client.get(board, {"kind": "offer", "page": "2"})
    assert second.status_code == 200
    assert "Page 2 of 2" in second.content.decode()
