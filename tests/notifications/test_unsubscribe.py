import re

import pytest
from django.core import signing
from django.test import Client
from django.urls import resolve, reverse

from notifications import preferences, unsubscribe
from notifications.models import Category, Frequency, Preference
from notifications.views.preferences import unsubscribe as unsubscribe_view

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail_app():
    """What a mail app's one-click unsubscribe looks like: no cookies, no CSRF token, checks enforced."""
    return Client(enforce_csrf_checks=True)


def one_click(client: Client, url: str):
    # RFC 8058 section 3.1: the body is exactly this, form-encoded.
    return client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")


def test_the_headers_match_rfc_8058_exactly(user, settings):
    settings.SITE_URL = "https://streets.example"
    headers = unsubscribe.headers_for(user, Category.POSTS)
    assert set(headers) == {"List-Unsubscribe", "List-Unsubscribe-Post"}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(https://streets\.example(/unsubscribe/([^/<>\s]+)/))>", headers["List-Unsubscribe"])
    assert link, headers["List-Unsubscribe"]
    # The one link inside the angle brackets leads to the unsubscribe view, for this person and this category.
    assert resolve(link.group(2)).func is unsubscribe_view
    assert unsubscribe.read_token(link.group(3)) == (user.pk, Category.POSTS)


def test_a_get_shows_a_confirmation_naming_the_category_and_changes_nothing(client, user, settings):
    url = unsubscribe.unsubscribe_url(user, Category.POSTS).removeprefix(settings.SITE_URL)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "New posts in my groups" in html
    assert f'<form method="post" action="{url}">' in html
    assert reverse("notifications:preferences") in html
    assert not Preference.objects.exists()
    assert preferences.frequency_for(user, Category.POSTS) == Frequency.WEEKLY


def test_a_one_click_post_without_cookies_unsubscribes_just_that_category(mail_app, user):
    preferences.set_frequency(user, Category.EVENTS, Frequency.DAILY)
    url = reverse("notifications:unsubscribe", args=[unsubscribe.make_token(user, Category.REPLIES)])
    response = one_click(mail_app, url)
    assert response.status_code == 200
    assert "You have been unsubscribed" in response.content.decode()
    assert reverse("notifications:preferences") in response.content.decode()
    assert dict(Preference.objects.filter(user=user).values_list("category", "frequency")) == {
        Category.REPLIES: Frequency.IN_APP,
        Category.EVENTS: Frequency.DAILY,
    }
    # Running it again (a mail app retrying) is harmless.
    assert one_click(mail_app, url).status_code == 200
    assert Preference.objects.filter(user=user).count() == 2


def test_a_post_from_the_confirmation_page_works_with_an_empty_body(mail_app, user):
    url = reverse("notifications:unsubscribe", args=[unsubscribe.make_token(user, Category.POSTS)])
    assert mail_app.post(url).status_code == 200
    assert preferences.frequency_for(user, Category.POSTS) == Frequency.IN_APP


def test_the_link_only_touches_its_own_person(mail_app, user):
    from tests.factories import UserFactory

    other = UserFactory()
    one_click(mail_app, reverse("notifications:unsubscribe", args=[unsubscribe.make_token(user, Category.POSTS)]))
    assert preferences.frequency_for(other, Category.POSTS) == Frequency.WEEKLY


def _tampered(user) -> str:
    """A real link for `user` with someone else's id swapped in, keeping the original signature."""
    genuine = unsubscribe.make_token(user, Category.POSTS)
    forged_value = signing.dumps({"u": user.pk + 1, "c": "posts"}, salt=unsubscribe.SALT, compress=True)
    return forged_value.rsplit(":", 1)[0] + ":" + genuine.rsplit(":", 1)[1]


@pytest.mark.parametrize(
    "make_bad",
    [
        pytest.param(_tampered, id="tampered"),
        pytest.param(lambda user: unsubscribe.make_token(user, Category.POSTS)[:-3] + "abc", id="bad-signature"),
        pytest.param(lambda user: "not-a-token", id="malformed"),
        pytest.param(lambda user: signing.dumps([user.pk, "posts"], salt=unsubscribe.SALT), id="wrong-shape"),
        pytest.param(lambda user: signing.dumps({"u": user.pk, "c": "gossip"}, salt=unsubscribe.SALT), id="category"),
        pytest.param(lambda user: signing.dumps({"u": user.pk, "c": "posts"}, salt="other.salt"), id="other-salt"),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_link_gets_a_friendly_400_page_and_changes_nothing(mail_app, user, make_bad, method):
    response = getattr(mail_app, method)(reverse("notifications:unsubscribe", args=[make_bad(user)]))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This unsubscribe link does not work" in html
    assert html.count("<h1") == 1
    assert not Preference.objects.exists()


def test_a_link_for_a_deleted_account_changes_nothing(mail_app, user):
    url = reverse("notifications:unsubscribe", args=[unsubscribe.make_token(user, Category.POSTS)])
    user.delete()
    assert one_click(mail_app, url).status_code == 400
    assert not Preference.objects.exists()


@pytest.mark.parametrize("period", [Frequency.WEEKLY, Frequency.DAILY])
def test_a_digests_one_click_link_turns_that_whole_digest_off_and_nothing_else(mail_app, user, period):
    other = Frequency.DAILY if period == Frequency.WEEKLY else Frequency.WEEKLY
    chosen = {Category.EVENTS: period, Category.REPLIES: period, Category.DECISIONS: other}
    preferences.set_frequencies(user, {**chosen, Category.NEIGHBOURS: Frequency.IMMEDIATE})
    before = preferences.frequencies_of(user)
    token = unsubscribe.make_token(user, unsubscribe.digest_token_category(period))
    url = reverse("notifications:unsubscribe", args=[token])

    page = mail_app.get(url)
    assert page.status_code == 200
    assert f"You will no longer get the {period} email" in page.content.decode()
    assert preferences.frequencies_of(user) == before  # a GET changes nothing

    response = one_click(mail_app, url)
    assert response.status_code == 200
    assert f"We will not send you the {period} email any more." in response.content.decode()
    after = preferences.frequencies_of(user)
    for category, frequency in before.items():
        assert after[category] == (Frequency.IN_APP if frequency == period else frequency), category
    assert one_click(mail_app, url).status_code == 200  # twice is harmless


def test_a_digest_link_for_an_unknown_period_is_a_bad_link(mail_app, user):
    token = unsubscribe.make_token(user, "digest:monthly")
    url = reverse("notifications:unsubscribe", args=[token])
    assert mail_app.get(url).status_code == 400
    assert one_click(mail_app, url).status_code == 400
    assert not Preference.objects.exists()


def test_a_batchs_token_maker_makes_exactly_the_tokens_signing_makes(user, settings, monkeypatch):
    settings.SITE_URL = "https://streets.example"
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789-abcdefghijklmnop"
    maker = unsubscribe.TokenMaker()
    categories = [Category.POSTS, unsubscribe.digest_token_category(Frequency.WEEKLY), Category.POSTS]
    for second, category in zip([1_796_000_000.25, 1_796_000_000.75, 1_796_000_001.5], categories, strict=True):
        monkeypatch.setattr("time.time", lambda second=second: second)
        token = maker.token(user.pk, category)
        assert token == signing.dumps({"u": user.pk, "c": category}, salt=unsubscribe.SALT)
        assert maker.url(user.pk, category) == unsubscribe.unsubscribe_url(user, category)
        assert unsubscribe.read_token(token) == (user.pk, category)
    # Signed with this secret: under another key the same token is refused.
    settings.SECRET_KEY = "a-different-secret-key-for-this-test-0123456789-abcdefghijk"
    with pytest.raises(signing.BadSignature):
        unsubscribe.read_token(maker.token(user.pk, Category.POSTS))


def test_the_deploy_check_asks_for_an_https_site_address(settings):
    from django.core.checks import run_checks

    settings.SITE_URL = "http://streets.example"
    warnings = [w for w in run_checks(include_deployment_checks=True) if w.id == "notifications.W001"]
    assert len(warnings) == 1
    assert "http://streets.example" in warnings[0].msg
    settings.SITE_URL = "https://streets.example"
    assert not [w for w in run_checks(include_deployment_checks=True) if w.id == "notifications.W001"]
    assert not [w for w in run_checks() if w.id == "notifications.W001"]  # only when deploying
