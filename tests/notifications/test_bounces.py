import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from notifications import preferences
from notifications.models import Category, DeliverySettings, Frequency
from notifications.views import preferences as views
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WEBHOOK = reverse("notifications:bounce-webhook")
SECRET = "s3cret-shared-with-the-mail-provider"


@pytest.fixture
def provider(settings):
    """The mail provider calling in: no cookies, CSRF checks on, and the secret configured on our side."""
    settings.BOUNCE_WEBHOOK_SECRET = SECRET
    return Client(enforce_csrf_checks=True)


def report(client: Client, body, secret: str | None = SECRET):
    headers = {} if secret is None else {"X-Bounce-Secret": secret}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(WEBHOOK, data, content_type="application/json", headers=headers)


def reload(user):
    return type(user).objects.select_related("delivery_settings").get(pk=user.pk)


# --- The management command -----------------------------------------------------------------------------------


def test_the_command_records_a_hard_bounce_whatever_the_case(user, capsys):
    call_command("record_bounce", user.email.upper(), "--reason", "550 5.1.1  mailbox\n unknown")
    delivery = DeliverySettings.objects.get(user=user)
    assert delivery.bounced_at is not None
    assert delivery.bounce_reason == "550 5.1.1 mailbox unknown"
    assert user.email in capsys.readouterr().out
    assert not preferences.is_deliverable(reload(user))


def test_the_command_refuses_an_unknown_address_cleanly():
    with pytest.raises(CommandError, match=re.escape("nobody@example.org")):
        call_command("record_bounce", "nobody@example.org")
    assert not DeliverySettings.objects.exists()


# --- The webhook ----------------------------------------------------------------------------------------------


def test_without_a_configured_secret_the_endpoint_does_not_exist(client, settings, user):
    settings.BOUNCE_WEBHOOK_SECRET = ""
    assert report(client, {"email": user.email, "type": "hard"}, secret="").status_code == 404
    assert report(client, {"email": user.email, "type": "hard"}).status_code == 404
    assert not DeliverySettings.objects.exists()


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET[:-1], SECRET + "x", SECRET.upper()])
def test_the_secret_is_required_and_must_match(provider, user, secret):
    response = report(provider, {"email": user.email, "type": "hard"}, secret=secret)
    assert response.status_code == 403
    assert not DeliverySettings.objects.exists()


def test_the_secret_is_compared_in_constant_time(provider, user, monkeypatch):
    seen = []
    real = views.constant_time_compare

    def spy(given, expected):
        seen.append((given, expected))
        return real(given, expected)

    monkeypatch.setattr(views, "constant_time_compare", spy)
    assert report(provider, {"email": user.email, "type": "hard"}).status_code == 202
    assert seen == [(SECRET, SECRET)]


def test_a_hard_bounce_stops_non_transactional_mail(provider, user):
    other = UserFactory()
    response = report(provider, {"email": user.email, "type": "hard", "reason": "550 No such user"})
    assert response.status_code == 202
    assert response.json() == {"recorded": True}
    delivery = DeliverySettings.objects.get(user=user)
    assert delivery.bounce_reason == "550 No such user"
    assert not preferences.is_deliverable(reload(user))
    assert preferences.is_deliverable(reload(other))
    assert preferences.deliverable_ids([user.pk, other.pk]) == {other.pk}
    assert set(type(user).objects.filter(preferences.deliverable_filter()).values_list("pk", flat=True)) == {other.pk}
    # Their choices are kept for when mail reaches them again.
    assert preferences.frequency_for(user, Category.REPLIES) == Frequency.IMMEDIATE


def test_account_emails_still_reach_a_bounced_address(client, user, mailoutbox):
    preferences.record_bounce(user.email, "550")
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert [message.to for message in mailoutbox] == [[user.email]]


def test_soft_bounces_are_accepted_and_ignored(provider, user):
    response = report(provider, {"email": user.email, "type": "soft", "reason": "452 Mailbox full"})
    assert response.status_code == 202
    assert response.json()["recorded"] is False
    assert not DeliverySettings.objects.exists()
    assert preferences.is_deliverable(reload(user))


def test_an_unknown_address_is_accepted_and_nothing_is_stored(provider, user):
    response = report(provider, {"email": "stranger@example.org", "type": "hard"})
    assert response.status_code == 202
    assert response.json()["recorded"] is False
    assert not DeliverySettings.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "",
        "\udcff",
        json.dumps(["a list"]),
        json.dumps({"type": "hard"}),
        json.dumps({"email": 42, "type": "hard"}),
        json.dumps({"email": "someone@example.org", "type": "bouncy"}),
        json.dumps({"email": "someone@example.org", "type": "hard", "reason": ["not", "text"]}),
        # JSON can name a lone surrogate, which no text column can hold.
        json.dumps({"email": "someone\ud800@example.org", "type": "hard"}),
        json.dumps({"email": "someone@example.org", "type": "hard", "reason": "550 \udfff"}),
    ],
    ids=[
        "broken",
        "empty",
        "undecodable",
        "list",
        "no-email",
        "email-not-text",
        "unknown-type",
        "reason-not-text",
        "email-lone-surrogate",
        "reason-lone-surrogate",
    ],
)
def test_bad_bodies_get_400(provider, body):
    data = body.encode("utf-8", "surrogateescape") if body == "\udcff" else body
    response = provider.post(WEBHOOK, data, content_type="application/json", headers={"X-Bounce-Secret": SECRET})
    assert response.status_code == 400
    assert "error" in response.json()
    assert not DeliverySettings.objects.exists()


def test_only_post_is_accepted(provider):
    assert provider.get(WEBHOOK, headers={"X-Bounce-Secret": SECRET}).status_code == 405


# --- What the person sees -------------------------------------------------------------------------------------


def test_the_bounce_is_shown_on_the_preferences_page(signed_in_client, user):
    page = reverse("notifications:preferences")
    assert "could not be delivered" not in signed_in_client.get(page).content.decode()
    preferences.record_bounce(user.email, "550")
    bounced_on = DeliverySettings.objects.get(user=user).bounced_at
    html = signed_in_client.get(page).content.decode()
    assert (
        f"Emails to {user.email} could not be delivered on {bounced_on:%-d %B %Y}; we have stopped sending "
        "notification emails. Change or confirm your address to start again."
    ) in html
    assert reverse("account_email") in html


def test_confirming_the_address_starts_emails_again(signed_in_client, user):
    preferences.record_bounce(user.email, "550")
    response = signed_in_client.post(reverse("notifications:resume-emails"))
    assert response.status_code == 302
    assert preferences.is_deliverable(reload(user))
    html = signed_in_client.get(response.url).content.decode()
    assert "We will send notification emails to" in html
    assert "could not be delivered" not in html


def test_saving_settings_does_not_clear_a_bounce(user):
    preferences.record_bounce(user.email, "550")
    preferences.set_delivery_settings(user, paused=False, digest_hour=9, digest_weekday=1, language="en-gb")
    assert not preferences.is_deliverable(reload(user))


def test_clear_bounce_only_reports_a_bounce_it_cleared(user):
    assert preferences.clear_bounce(user) is False
    preferences.record_bounce(user.email, "550")
    assert preferences.clear_bounce(user) is True
    assert DeliverySettings.objects.get(user=user).bounce_reason == ""


@pytest.mark.django_db
def test_confirming_an_address_starts_emails_again(client, mailoutbox):
    from allauth.account.models import EmailAddress

    user = UserFactory()
    preferences.record_bounce(user.email, "550 mailbox unavailable")
    assert not preferences.is_deliverable(type(user).objects.select_related("delivery_settings").get(pk=user.pk))
    client.force_login(user)
    client.post("/accounts/email/", {"action_add": "", "email": "fixed@example.org"})
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mailoutbox[-1].body).group(1)
    client.post(link)
    assert EmailAddress.objects.get(email="fixed@example.org").verified
    assert preferences.is_deliverable(type(user).objects.select_related("delivery_settings").get(pk=user.pk))
