"""Notifications checked adversarially: what someone blocked can count, who hears about a members-only group after
leaving it, and bad input that must get an answer rather than an error page."""

import json

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from initiatives.services import asks, volunteering
from moderation import services as moderation
from neighbourhoods.services import board
from notifications import preferences, services, unsubscribe
from notifications.models import Category, DeliverySettings, Frequency, Notification, Preference
from tests.factories import (
    AskFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    UserFactory,
    VolunteerRoleFactory,
)

pytestmark = pytest.mark.django_db

# Far past the largest id PostgreSQL can store.
HUGE = 10**30
WEBHOOK = reverse("notifications:bounce-webhook")
SECRET = "s3cret-shared-with-the-mail-provider"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Counts that would tell someone they were blocked ---------------------------------------------------------


def test_marking_all_read_counts_only_what_the_bell_shows():
    group = GroupFactory()
    ann, ben, cai = (MembershipFactory(group=group).user for _ in range(3))
    board.create_post(author=ben, group=group, kind="notice", title="Bins day moved", body="Now Tuesdays.")
    board.create_post(author=cai, group=group, kind="notice", title="Street party", body="Saturday at noon.")
    moderation.block(blocker=ben, blocked=ann)
    assert services.unread_count(ann) == 1

    response = signed_in(ann).post(reverse("notifications:read-all"), follow=True)

    # "2 notifications" would tell Ann that one she can no longer see exists.
    assert "1 notification marked as read." in response.content.decode()
    hidden = Notification.objects.get(recipient=ann, actor=ben)
    assert hidden.read_at is None  # left as it was, in case the block is lifted
    assert Notification.objects.get(recipient=ann, actor=cai).read_at is not None
    assert services.unread_count(ann) == 0


# --- Members-only initiatives: people who left hear nothing more -------------------------------------------------


@pytest.fixture
def members_only_initiative():
    group = GroupFactory(visibility="members")
    initiative = InitiativeFactory(group=group, status="active")
    lead = InitiativeRoleFactory(initiative=initiative).user
    stayer = MembershipFactory(group=group)
    leaver = MembershipFactory(group=group)
    return initiative, lead, stayer, leaver


def leave(membership) -> None:
    membership.status = "left"
    membership.save()


def test_removing_a_role_tells_only_volunteers_still_in_the_group(members_only_initiative):
    initiative, lead, stayer, leaver = members_only_initiative
    role = VolunteerRoleFactory(initiative=initiative, title="Litter picker")
    for membership in (stayer, leaver):
        volunteering.sign_up(user=membership.user, role=role)
    leave(leaver)

    assert volunteering.remove_role(organiser=lead, role=role) == 2

    told = Notification.objects.filter(event="initiative.volunteer_role_removed")
    assert list(told.values_list("recipient_id", flat=True)) == [stayer.user_id]


def test_removing_an_ask_tells_only_pledgers_still_in_the_group(members_only_initiative):
    initiative, lead, stayer, leaver = members_only_initiative
    ask = AskFactory(initiative=initiative, title="Bags of compost")
    for membership in (stayer, leaver):
        asks.pledge(user=membership.user, ask=ask, amount=2)
    leave(leaver)

    assert asks.remove_ask(organiser=lead, ask=ask) == 2

    told = Notification.objects.filter(event="initiative.ask_removed")
    assert list(told.values_list("recipient_id", flat=True)) == [stayer.user_id]


# --- Bad input gets an answer, never an error page --------------------------------------------------------------


def test_reading_a_notification_with_an_impossible_id_is_a_404(user):
    assert signed_in(user).post(reverse("notifications:read", args=[HUGE])).status_code == 404


@pytest.fixture
def provider(settings):
    settings.BOUNCE_WEBHOOK_SECRET = SECRET
    return Client(enforce_csrf_checks=True, raise_request_exception=False)


def report(client: Client, body: str):
    return client.post(WEBHOOK, body, content_type="application/json", headers={"X-Bounce-Secret": SECRET})


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"email": "someone\u0000@example.org", "type": "hard"}),
        "[" * 100_000,  # deeper than the JSON reader can follow
    ],
    ids=["nul-in-email", "nested-too-deep"],
)
def test_the_webhook_refuses_bodies_the_database_or_reader_cannot_take(provider, user, body):
    response = report(provider, body)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not DeliverySettings.objects.exists()


def test_a_nul_in_the_bounce_reason_is_dropped_not_an_error(provider, user):
    response = report(provider, json.dumps({"email": user.email, "type": "hard", "reason": "550\u0000 gone"}))
    assert response.status_code == 202
    assert response.json() == {"recorded": True}
    assert DeliverySettings.objects.get(user=user).bounce_reason == "550 gone"


def test_recording_a_bounce_for_an_address_with_a_nul_finds_nobody(user):
    assert preferences.record_bounce(f"{user.email}\x00") is None
    assert not DeliverySettings.objects.exists()


def signed_token(payload) -> str:
    """A token with a valid signature around whatever `payload` is (as if the signing code had a bug)."""
    return signing.dumps(payload, salt=unsubscribe.SALT, compress=True)


@pytest.mark.parametrize(
    ("payload", "on_get"),
    [
        # The shape is right, so the confirmation page shows; nobody has that id, so sending it changes nothing.
        ({"u": HUGE, "c": Category.POSTS}, 200),
        ({"u": -5, "c": Category.POSTS}, 200),
        ({"u": "1", "c": Category.POSTS}, 400),
        ({"u": 1, "c": "digest:hourly"}, 400),
        ({"u": 1, "c": "not-a-category"}, 400),
        (["u", "c"], 400),
        ("just text", 400),
    ],
    ids=["huge-id", "negative-id", "id-as-text", "unknown-digest", "unknown-category", "list", "text"],
)
def test_unsubscribe_links_of_the_wrong_shape_are_a_400_and_change_nothing(user, payload, on_get):
    mail_app = Client(enforce_csrf_checks=True)
    url = reverse("notifications:unsubscribe", args=[signed_token(payload)])
    assert mail_app.get(url).status_code == on_get
    one_click = mail_app.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert one_click.status_code == 400
    assert not Preference.objects.exists()


def test_an_unsubscribe_link_only_ever_changes_its_own_person_and_category(user):
    other = UserFactory()
    url = reverse("notifications:unsubscribe", args=[unsubscribe.make_token(user, Category.POSTS)])
    assert Client().post(url).status_code == 200
    assert list(Preference.objects.values_list("user_id", "category", "frequency")) == [
        (user.pk, Category.POSTS, Frequency.IN_APP)
    ]
    assert preferences.frequency_for(other, Category.POSTS) == Frequency.WEEKLY


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("digest_hour", "24"),
        ("digest_hour", "-1"),
        ("digest_hour", "eight"),
        ("digest_weekday", "7"),
        ("language", "xx"),
        (f"frequency_{Category.POSTS}", "hourly"),
        (f"frequency_{Category.POSTS}", "weekly\x00"),
    ],
)
def test_tampered_preferences_are_a_form_error_and_save_nothing(user, field, value):
    data = {f"frequency_{category}": Frequency.DAILY for category in Category.values}
    data |= {"digest_hour": "9", "digest_weekday": "2", "language": "en", field: value}
    response = signed_in(user).post(reverse("notifications:preferences"), data)
    assert response.status_code == 200
    assert "Error:" in response.content.decode().split("<title>")[1]
    assert not Preference.objects.exists()
    assert not DeliverySettings.objects.exists()
