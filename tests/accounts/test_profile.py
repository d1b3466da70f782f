import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_person_edits_their_profile(signed_in_client, user, django_assert_max_num_queries):
    # Session, user with profile, and one query for the profile's interests and skills together.
    with django_assert_max_num_queries(3):
        assert signed_in_client.get(reverse("accounts:profile")).status_code == 200
    response = signed_in_client.post(
        reverse("accounts:profile"),
        {"display_name": "  Sam at 12  ", "bio": "Grows tomatoes.", "language": "cy"},
    )
    assert response.status_code == 302
    user.profile.refresh_from_db()
    assert user.profile.display_name == "Sam at 12"
    assert user.profile.bio == "Grows tomatoes."
    assert user.profile.language == "cy"
    assert response.cookies["django_language"].value == "cy"


def test_a_blank_display_name_is_refused_and_the_rest_is_kept(signed_in_client, user):
    before = user.profile.display_name
    response = signed_in_client.post(
        reverse("accounts:profile"), {"display_name": "   ", "bio": "Kept text", "language": "en-gb"}
    )
    assert response.status_code == 200
    assert "display_name" in response.context["form"].errors
    assert "Kept text" in response.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.display_name == before


def test_an_unknown_language_is_refused(signed_in_client, user):
    response = signed_in_client.post(reverse("accounts:profile"), {"display_name": "Sam", "bio": "", "language": "xx"})
    assert response.status_code == 200
    assert "language" in response.context["form"].errors


def test_a_signed_in_person_sees_the_site_in_their_profile_language(signed_in_client, user):
    user.profile.language = "cy"
    user.profile.save()
    response = signed_in_client.get(reverse("core:home"))
    assert '<html lang="cy">' in response.content.decode()
    assert response.headers["Content-Language"] == "cy"


def test_switching_language_is_remembered_on_the_profile(signed_in_client, user):
    response = signed_in_client.post(reverse("core:set-language"), {"language": "cy", "next": "/privacy/"})
    assert response.status_code == 302
    assert response.url == "/privacy/"
    user.profile.refresh_from_db()
    assert user.profile.language == "cy"


def test_visitors_switch_language_by_cookie_and_unsafe_next_urls_are_ignored(client):
    response = client.post(reverse("core:set-language"), {"language": "cy", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.url == reverse("core:home")
    assert response.cookies["django_language"].value == "cy"
    assert '<html lang="cy">' in client.get(reverse("core:home")).content.decode()


def test_an_unknown_language_switch_changes_nothing(client):
    response = client.post(reverse("core:set-language"), {"language": "klingon"})
    assert response.status_code == 302
    assert "django_language" not in response.cookies


@pytest.mark.parametrize(
    "name", ["account_email", "account_change_password", "mfa_index", "usersessions_list", "account_reauthenticate"]
)
def test_account_pages_render_in_a_fixed_number_of_queries(signed_in_client, name, django_assert_max_num_queries):
    # allauth's own pages: a fixed handful of lookups (session, user, addresses, authenticators), whatever the data.
    with django_assert_max_num_queries(12):
        response = signed_in_client.get(reverse(name))
    assert response.status_code == 200
    assert response.content.decode().count("<h1") == 1


def test_people_see_their_sessions_and_can_end_the_others(client, user, password):
    from django.test import Client

    other_device = Client(HTTP_USER_AGENT="Other phone")
    other_device.post(reverse("account_login"), {"login": user.email, "password": password})
    client.post(reverse("account_login"), {"login": user.email, "password": password})
    page = client.get(reverse("usersessions_list"))
    assert page.status_code == 200
    assert "Other phone" in page.content.decode()
    response = client.post(reverse("usersessions_list"))
    assert response.status_code == 302
    assert other_device.get(reverse("accounts:profile")).status_code == 302  # signed out there
    assert client.get(reverse("accounts:profile")).status_code == 200  # but not here
