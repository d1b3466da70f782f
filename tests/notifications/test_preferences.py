import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.exceptions import DomainError
from notifications import preferences
from notifications.models import DEFAULT_FREQUENCY, Category, DeliverySettings, Frequency, Preference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("notifications:preferences")


def form_data(**overrides) -> dict:
    """A full, valid submission of the preferences page: every category at its default."""
    data = {f"frequency_{category}": frequency for category, frequency in DEFAULT_FREQUENCY.items()}
    data |= {"digest_hour": "8", "digest_weekday": "5", "language": "en-gb"}
    data |= overrides
    return {key: value for key, value in data.items() if value is not None}


def checked_radio(html: str, name: str) -> str | None:
    """The value of the radio button in group `name` that is checked in `html`."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and 'type="radio"' in tag and "checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


# --- Reads and writes -----------------------------------------------------------------------------------------


def test_without_a_choice_each_category_follows_its_default(user):
    assert preferences.frequency_for(user, Category.POSTS) == Frequency.WEEKLY
    assert preferences.frequency_for(user, Category.REPLIES) == Frequency.IMMEDIATE
    assert preferences.frequencies_of(user) == {str(c): str(f) for c, f in DEFAULT_FREQUENCY.items()}


def test_direct_news_comes_straight_away_and_group_activity_weekly_by_default():
    direct = [
        Category.MEMBERSHIP,  # a join request to organisers, being let in
        Category.REPLIES,
        Category.NEIGHBOURS,
        Category.MY_EVENTS,  # a reminder, a change or cancellation, moving up from the waiting list
        Category.ORGANISING,  # a volunteer or a pledge for my initiative, an invitation to help run one
        Category.COUNCIL,
    ]
    assert {category for category, frequency in DEFAULT_FREQUENCY.items() if frequency == Frequency.IMMEDIATE} == set(
        direct
    )
    assert DEFAULT_FREQUENCY[Category.POSTS] == DEFAULT_FREQUENCY[Category.EVENTS] == Frequency.WEEKLY
    assert DEFAULT_FREQUENCY[Category.INITIATIVES] == Frequency.WEEKLY
    assert set(DEFAULT_FREQUENCY) == set(Category)


def test_a_choice_about_events_or_initiatives_made_before_they_were_split_holds_for_both(user):
    from importlib import import_module

    from django.apps import apps

    split = import_module("notifications.migrations.0005_direct_event_and_organiser_categories")
    other = UserFactory()
    Preference.objects.create(user=user, category=Category.EVENTS, frequency=Frequency.IN_APP)
    Preference.objects.create(user=user, category=Category.INITIATIVES, frequency=Frequency.DAILY)
    Preference.objects.create(user=other, category=Category.POSTS, frequency=Frequency.DAILY)
    split.keep_choices(apps, None)
    split.keep_choices(apps, None)  # twice is harmless
    assert preferences.frequencies_of(user) == {
        **{str(c): str(f) for c, f in DEFAULT_FREQUENCY.items()},
        "events": "in_app",
        "my_events": "in_app",
        "initiatives": "daily",
        "organising": "daily",
    }
    assert preferences.frequency_for(other, Category.MY_EVENTS) == Frequency.IMMEDIATE  # no choice: the default

    # Going back merges them again: the news returns to the old categories, and so do choices they lacked.
    from notifications.models import Notification

    reminder = Notification.objects.create(
        recipient=other, event="event.reminder", category=Category.MY_EVENTS, dedupe_key="reminder"
    )
    Preference.objects.create(user=other, category=Category.ORGANISING, frequency=Frequency.WEEKLY)
    split.merge_back(apps, None)
    reminder.refresh_from_db()
    assert reminder.category == "events"
    assert not Preference.objects.filter(category__in=["my_events", "organising"]).exists()
    assert preferences.frequency_for(other, Category.INITIATIVES) == Frequency.WEEKLY
    assert preferences.frequency_for(user, Category.EVENTS) == Frequency.IN_APP  # their own choice stands


def test_a_chosen_frequency_is_read_back_and_changed_in_place(user):
    preferences.set_frequency(user, Category.POSTS, Frequency.DAILY)
    assert preferences.frequency_for(user, Category.POSTS) == Frequency.DAILY
    preferences.set_frequency(user, Category.POSTS, Frequency.IN_APP)
    assert preferences.frequency_for(user, Category.POSTS) == Frequency.IN_APP
    assert Preference.objects.filter(user=user).count() == 1
    # Other categories still follow their defaults.
    assert preferences.frequency_for(user, Category.EVENTS) == DEFAULT_FREQUENCY[Category.EVENTS]


@pytest.mark.parametrize(("category", "frequency"), [("gossip", Frequency.DAILY), (Category.POSTS, "hourly")])
def test_unknown_categories_and_frequencies_are_refused(user, category, frequency):
    with pytest.raises(DomainError):
        preferences.set_frequency(user, category, frequency)
    assert not Preference.objects.exists()


def test_frequencies_for_many_people_take_one_query(django_assert_num_queries):
    people = UserFactory.create_batch(30)
    preferences.set_frequency(people[0], Category.POSTS, Frequency.IMMEDIATE)
    preferences.set_frequency(people[1], Category.POSTS, Frequency.IN_APP)
    preferences.set_frequency(people[2], Category.EVENTS, Frequency.DAILY)  # another category: no effect here
    with django_assert_num_queries(1):
        found = preferences.frequencies_for(people, Category.POSTS)
    assert found[people[0].pk] == Frequency.IMMEDIATE
    assert found[people[1].pk] == Frequency.IN_APP
    assert found[people[2].pk] == Frequency.WEEKLY  # the default for posts
    assert set(found) == {person.pk for person in people}
    # Ids work as well as users; asking about nobody costs nothing.
    with django_assert_num_queries(1):
        assert preferences.frequencies_for([people[1].pk], Category.POSTS) == {people[1].pk: Frequency.IN_APP}
    with django_assert_num_queries(0):
        assert preferences.frequencies_for([], Category.POSTS) == {}


def test_delivery_settings_and_email_language_are_saved(user):
    preferences.set_delivery_settings(user, paused=True, digest_hour=18, digest_weekday=0, language="cy")
    delivery = DeliverySettings.objects.get(user=user)
    assert (delivery.paused, delivery.digest_hour, delivery.digest_weekday) == (True, 18, 0)
    user.profile.refresh_from_db()
    assert user.profile.language == "cy"


@pytest.mark.parametrize(
    "changes", [{"digest_hour": 24}, {"digest_hour": -1}, {"digest_weekday": 7}, {"language": "fr"}]
)
def test_impossible_delivery_settings_are_refused(user, changes):
    values = {"paused": False, "digest_hour": 8, "digest_weekday": 5, "language": "en-gb"} | changes
    with pytest.raises(DomainError):
        preferences.set_delivery_settings(user, **values)
    assert not DeliverySettings.objects.exists()


def test_pausing_stops_non_transactional_email_and_unpausing_restarts_it(user):
    other = UserFactory()
    assert preferences.is_deliverable(user)
    preferences.set_delivery_settings(user, paused=True, digest_hour=8, digest_weekday=5, language="en-gb")
    user = type(user).objects.get(pk=user.pk)
    assert not preferences.is_deliverable(user)
    assert preferences.deliverable_ids([user.pk, other.pk]) == {other.pk}
    assert set(type(user).objects.filter(preferences.deliverable_filter()).values_list("pk", flat=True)) == {other.pk}
    preferences.set_delivery_settings(user, paused=False, digest_hour=8, digest_weekday=5, language="en-gb")
    user = type(user).objects.get(pk=user.pk)
    assert preferences.is_deliverable(user)
    assert preferences.deliverable_ids([user.pk, other.pk]) == {user.pk, other.pk}
    # A deactivated account hears nothing, whatever its settings.
    type(user).objects.filter(pk=other.pk).update(is_active=False)
    other = type(user).objects.get(pk=other.pk)
    assert not preferences.is_deliverable(other)
    assert preferences.deliverable_ids([user.pk, other.pk]) == {user.pk}
    assert set(type(user).objects.filter(preferences.deliverable_filter()).values_list("pk", flat=True)) == {user.pk}


def test_is_deliverable_needs_no_query_when_settings_are_loaded_with_the_user(user, django_assert_num_queries):
    DeliverySettings.objects.create(user=user, paused=True)
    loaded = type(user).objects.select_related("delivery_settings").get(pk=user.pk)
    unsaved = type(user).objects.select_related("delivery_settings").get(pk=UserFactory().pk)
    with django_assert_num_queries(0):
        assert not preferences.is_deliverable(loaded)
        assert preferences.is_deliverable(unsaved)


# --- The page -------------------------------------------------------------------------------------------------


def test_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_page_shows_one_radio_group_per_category_with_current_choices(signed_in_client, user):
    preferences.set_frequency(user, Category.POSTS, Frequency.DAILY)
    response = signed_in_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    for category in Category:
        # A fieldset whose legend names the category, holding the four choices.
        fieldset = re.search(rf"<fieldset[^>]*>\s*<legend>{re.escape(str(category.label))}", html)
        assert fieldset, category
        assert len(re.findall(rf'name="frequency_{category.value}"', html)) == len(Frequency.choices)
    assert checked_radio(html, "frequency_posts") == Frequency.DAILY
    assert checked_radio(html, "frequency_replies") == Frequency.IMMEDIATE
    assert '<option value="8" selected>08:00</option>' in html
    assert '<option value="23">23:00</option>' in html
    assert '<option value="5" selected>Saturday</option>' in html
    assert '<option value="en-gb" selected>English</option>' in html
    # Reachable from the account pages' navigation, marked as the current page here.
    assert f'<a href="{URL}" aria-current="page">Notification settings</a>' in html
    assert (
        f'<a href="{URL}">Notification settings</a>'
        in signed_in_client.get(reverse("accounts:profile")).content.decode()
    )


def test_saving_the_page_stores_every_setting_and_only_the_changed_categories(signed_in_client, user):
    response = signed_in_client.post(
        URL,
        form_data(
            frequency_posts=Frequency.DAILY,
            frequency_replies=Frequency.IN_APP,
            paused="on",
            digest_hour="19",
            digest_weekday="0",
            language="cy",
        ),
    )
    assert response.status_code == 302
    assert response.url == URL
    assert dict(Preference.objects.filter(user=user).values_list("category", "frequency")) == {
        Category.POSTS: Frequency.DAILY,
        Category.REPLIES: Frequency.IN_APP,
    }
    delivery = DeliverySettings.objects.get(user=user)
    assert (delivery.paused, delivery.digest_hour, delivery.digest_weekday) == (True, 19, 0)
    user.profile.refresh_from_db()
    assert user.profile.language == "cy"
    assert response.cookies["django_language"].value == "cy"


def test_errors_are_shown_and_everything_typed_is_kept(signed_in_client, user):
    response = signed_in_client.post(
        URL, form_data(frequency_posts=Frequency.DAILY, frequency_events=None, paused="on", digest_hour="25")
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"frequency_events", "digest_hour"}
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "<title>Error:" in html
    assert checked_radio(html, "frequency_posts") == Frequency.DAILY  # kept, not reset to the saved weekly
    assert re.search(r'<input type="checkbox" name="paused"[^>]*checked', html)
    assert not Preference.objects.exists()
    assert not DeliverySettings.objects.exists()


def test_the_page_shows_when_emails_are_paused(signed_in_client, user):
    assert "Notification emails are paused" not in signed_in_client.get(URL).content.decode()
    DeliverySettings.objects.create(user=user, paused=True)
    html = signed_in_client.get(URL).content.decode()
    assert "Notification emails are paused" in html
    assert re.search(r'<input type="checkbox" name="paused"[^>]*checked', html)


def test_the_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    # Session, user with profile, preferences, delivery settings; one spare for the header's unread count.
    quiet = UserFactory()
    busy = UserFactory()
    for category in Category:
        preferences.set_frequency(busy, category, Frequency.DAILY)
    DeliverySettings.objects.create(user=busy, paused=True)
    counts = []
    for person in (quiet, busy):
        client.force_login(person)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(5):
        client.get(URL)
