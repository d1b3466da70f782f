import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

GOOD = {
    "display_name": "Sam at number 12",
    "email": "sam@example.org",
    "password1": "a-long-and-unusual-passphrase",
    "password2": "a-long-and-unusual-passphrase",
}


def confirmation_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_sign_up_sends_a_verification_email_and_the_link_signs_you_in(client, mailoutbox):
    response = client.post(reverse("account_signup"), GOOD)
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")

    user = User.objects.get(email="sam@example.org")
    assert user.profile.display_name == "Sam at number 12"
    assert not EmailAddress.objects.get(user=user).verified
    # Not signed in until the address is confirmed.
    assert client.get(reverse("accounts:profile")).status_code == 302

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["sam@example.org"]
    link = confirmation_link(message)

    confirm_page = client.get(link)
    assert confirm_page.status_code == 200
    response = client.post(link)
    assert response.status_code == 302

    assert EmailAddress.objects.get(user=user).verified
    profile_page = client.get(reverse("accounts:profile"))
    assert profile_page.status_code == 200
    assert "Sam at number 12" in profile_page.content.decode()


def test_a_new_account_takes_the_language_it_signed_up_in(client):
    client.cookies["django_language"] = "cy"
    client.post(reverse("account_signup"), GOOD)
    assert User.objects.get(email="sam@example.org").profile.language == "cy"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"display_name": "   "}, "display_name", "This field is required."),
        ({"password1": "password", "password2": "password"}, "password1", "This password is too common."),
        ({"password1": "short1", "password2": "short1"}, "password1", "at least 10 characters"),
        ({"password2": "something-else-entirely"}, "password2", "You must type the same password each time."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ],
)
def test_bad_sign_up_input_gets_a_form_error_and_keeps_what_was_typed(client, change, field, message):
    data = GOOD | change
    response = client.post(reverse("account_signup"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert any(message in error for error in form.errors[field])
    html = response.content.decode()
    assert "There is a problem" in html  # the error summary
    if field != "email":
        assert 'value="sam@example.org"' in html
    if field != "display_name":
        assert f'value="{data["display_name"]}"' in html
    assert not User.objects.filter(email=data["email"]).exists()


def test_signing_up_with_an_address_that_has_an_account_says_so(client, user):
    response = client.post(reverse("account_signup"), GOOD | {"email": user.email.upper()})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert User.objects.filter(email__iexact=user.email).count() == 1
    assert 'value="Sam at number 12"' in response.content.decode()


def test_a_bad_confirmation_link_gets_a_clear_message(client):
    response = client.get(reverse("account_confirm_email", args=["not-a-real-key"]))
    assert response.status_code == 200
    assert "expired or is invalid" in response.content.decode()
    response = client.post(reverse("account_confirm_email", args=["not-a-real-key"]))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_a_used_confirmation_link_does_not_sign_in_a_stranger(client, mailoutbox):
    from django.test import Client

    client.post(reverse("account_signup"), GOOD)
    link = confirmation_link(mailoutbox[0])
    client.post(link)

    stranger = Client()
    page = stranger.get(link)
    assert page.status_code == 200
    assert "expired or is invalid" in page.content.decode()
    response = stranger.post(link)
    assert response.status_code == 404
    assert "_auth_user_id" not in stranger.session
    assert stranger.get(reverse("accounts:profile")).status_code == 302


def test_sign_in_with_email_and_password(client, user, password):
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_gets_a_form_error_and_keeps_the_email(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": "not-it-at-all"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert f'value="{user.email}"' in response.content.decode()


def test_sign_in_attempts_are_rate_limited(client, user):
    # allauth's default: 5 failed attempts per account in 5 minutes, counted in Redis.
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong-guess-here"})
    response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong-guess-here"})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()


def test_sign_out_needs_a_post_and_signs_out(signed_in_client):
    response = signed_in_client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in signed_in_client.session


def test_password_reset_emails_a_working_link(client, user, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mailoutbox[0].body)
    assert match
    page = client.get(match.group(1), follow=True)
    assert page.status_code == 200
    new = "another-long-passphrase-here"
    response = client.post(page.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


def test_changing_email_takes_effect_once_the_new_address_is_confirmed(client, user, password, mailoutbox):
    client.post(reverse("account_login"), {"login": user.email, "password": password})
    old_email = user.email
    response = client.post(reverse("account_email"), {"action_add": "", "email": "new-home@example.org"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == old_email  # not until it is confirmed

    link = confirmation_link(next(m for m in mailoutbox if m.to == ["new-home@example.org"]))
    client.post(link)
    user.refresh_from_db()
    assert user.email == "new-home@example.org"
    assert not EmailAddress.objects.filter(user=user, email=old_email).exists()


def test_changing_to_an_address_someone_else_uses_is_refused(client, user, password):
    from tests.factories import UserFactory

    other = UserFactory()
    client.post(reverse("account_login"), {"login": user.email, "password": password})
    response = client.post(reverse("account_email"), {"action_add": "", "email": other.email})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]


def test_account_emails_speak_as_the_site_and_name_people_by_display_name(client, mailoutbox):
    client.post(reverse("account_signup"), GOOD)
    body = mailoutbox[0].body
    assert "Stronger Streets" in body
    assert "Sam at number 12" in body
    assert "testserver" not in body.split("http")[0]  # the greeting names the site, not the request's host


def test_account_emails_come_in_the_recipients_language(client, user, mailoutbox):
    user.profile.language = "cy"
    user.profile.save()
    client.post(reverse("account_reset_password"), {"email": user.email})  # asked from an English page
    assert mailoutbox[0].subject == "[Stronger Streets] E-bost ailosod cyfrinair"


def test_emails_about_the_account_itself_carry_no_unsubscribe_headers(client, mailoutbox):
    """Verification and password emails must reach the person whatever they turned off, so they offer no unsubscribe
    (RFC 8058 headers are for notification emails and digests only)."""
    client.post(reverse("account_signup"), GOOD)
    client.post(reverse("account_reset_password"), {"email": GOOD["email"]})
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        headers = message.message()
        assert headers["List-Unsubscribe"] is None, message.subject
        assert headers["List-Unsubscribe-Post"] is None, message.subject
