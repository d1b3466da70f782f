import re
from datetime import UTC, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.models import Profile, User
from neighbourhoods.models import RSVP, Event, Group, Membership
from neighbourhoods.services import events as services
from tests.factories import EventFactory, GroupFactory, MembershipFactory, RSVPFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["visitor", "resident", "pending", "member", "banned", "organiser", "other_organiser"]
SEES_MEMBERS_ONLY = {"member", "organiser"}


def person(role: str, group: Group) -> User | None:
    """Someone in `role` towards `group` (None for a visitor who is not signed in)."""
    if role == "visitor":
        return None
    if role == "resident":
        return UserFactory()
    if role == "other_organiser":
        return MembershipFactory(role="organiser").user  # runs a different group
    statuses = {"pending": ("pending", "member"), "member": ("active", "member"), "banned": ("banned", "member")}
    status, member_role = statuses.get(role, ("active", "organiser"))
    return MembershipFactory(group=group, status=status, role=member_role).user


def as_role(client, role, group):
    user = person(role, group)
    if user is not None:
        client.force_login(user)
    return user


def upcoming(group, **kwargs) -> Event:
    return EventFactory(group=group, **kwargs)


def url(name, event=None, group=None):
    if event is not None:
        return reverse(f"neighbourhoods:{name}", args=[event.group.slug, event.pk])
    return reverse(f"neighbourhoods:{name}", args=[group.slug])


def expected_read_status(visibility: str, role: str) -> int:
    if visibility == Group.Visibility.PUBLIC or role in SEES_MEMBERS_ONLY:
        return 200
    return 404


# --- Reading: list, archive, detail, ICS -------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_event_pages_and_files_are_seen_only_by_those_who_may_see_the_group(client, visibility, role):
    group = GroupFactory(visibility=visibility)
    event = upcoming(group, title="Secret supper club")
    past = EventFactory(
        group=group,
        title="Last year's fair",
        starts_at=timezone.now() - timedelta(days=30),
        ends_at=timezone.now() - timedelta(days=30, hours=-2),
    )
    as_role(client, role, group)
    expected = expected_read_status(visibility, role)
    pages = [url("event-list", group=group), url("event-archive", group=group), url("event-detail", event)]
    for page in pages:
        response = client.get(page)
        assert response.status_code == expected, page
        if expected == 404:
            content = response.content.decode()
            assert "Secret supper club" not in content
            assert "Last year" not in content
    ics = client.get(url("event-ics", event))
    assert ics.status_code == expected
    if expected == 200:
        assert ics["Content-Type"].startswith("text/calendar")
        assert ics["Content-Disposition"] == f'attachment; filename="event-{event.pk}.ics"'
        assert "Secret supper club" in Calendar.from_ical(ics.content).walk("VEVENT")[0]["summary"]
    else:
        assert b"Secret supper club" not in ics.content
    assert past.pk


@pytest.mark.parametrize("role", ROLES)
def test_the_group_feed_is_for_public_groups_only(client, role):
    public = GroupFactory(visibility=Group.Visibility.PUBLIC)
    upcoming(public, title="Open plant swap")
    private = GroupFactory(visibility=Group.Visibility.MEMBERS)
    upcoming(private, title="Members' barbecue")
    user = person(role, public)
    if user is not None:
        if role in SEES_MEMBERS_ONLY:
            MembershipFactory(group=private, user=user, role="organiser" if role == "organiser" else "member")
        client.force_login(user)
    response = client.get(url("group-calendar", group=public))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    assert [str(e["summary"]) for e in Calendar.from_ical(response.content).walk("VEVENT")] == ["Open plant swap"]
    # Members-only groups have no shared feed at all: each member has a secret one instead.
    hidden = client.get(url("group-calendar", group=private))
    assert hidden.status_code == 404
    assert b"barbecue" not in hidden.content


def test_the_group_feed_holds_upcoming_and_recent_events_with_links_back(client):
    group = GroupFactory()
    now = timezone.now()
    soon = upcoming(group, title="Soon")
    recent = EventFactory(
        group=group, title="Recent", starts_at=now - timedelta(days=10), ends_at=now - timedelta(days=10, hours=-1)
    )
    EventFactory(
        group=group, title="Long ago", starts_at=now - timedelta(days=400), ends_at=now - timedelta(days=400, hours=-1)
    )
    EventFactory(title="Another group's event")
    response = client.get(url("group-calendar", group=group))
    entries = {str(e["summary"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}
    assert set(entries) == {"Soon", "Recent"}
    assert str(entries["Soon"]["url"]) == settings.SITE_URL + soon.get_absolute_url()
    assert str(entries["Recent"]["url"]) == settings.SITE_URL + recent.get_absolute_url()


# --- The secret feed of a members-only group ------------------------------------------------------------------


def secret_feed(membership) -> str:
    return reverse("neighbourhoods:member-calendar", args=[membership.calendar_token])


def test_a_members_secret_feed_works_without_signing_in_until_it_is_reset(client):
    group = GroupFactory(visibility=Group.Visibility.MEMBERS)
    upcoming(group, title="Members' barbecue")
    membership = MembershipFactory(group=group)
    response = client.get(secret_feed(membership))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "no-store" in response["Cache-Control"]
    assert [str(e["summary"]) for e in Calendar.from_ical(response.content).walk("VEVENT")] == ["Members' barbecue"]

    old = secret_feed(membership)
    client.force_login(membership.user)
    response = client.post(url("calendar-reset", group=group))
    assert response.status_code == 302
    client.logout()
    membership.refresh_from_db()
    assert client.get(old).status_code == 404
    assert client.get(secret_feed(membership)).status_code == 200


@pytest.mark.parametrize("ending", ["left", "removed", "banned"])
def test_a_secret_feed_stops_when_the_membership_ends(client, ending):
    group = GroupFactory(visibility=Group.Visibility.MEMBERS)
    upcoming(group, title="Members' barbecue")
    membership = MembershipFactory(group=group)
    assert client.get(secret_feed(membership)).status_code == 200
    Membership.objects.filter(pk=membership.pk).update(status=ending)
    response = client.get(secret_feed(membership))
    assert response.status_code == 404
    assert b"barbecue" not in response.content


def test_a_pending_member_has_no_feed_and_made_up_tokens_find_nothing(client):
    group = GroupFactory(visibility=Group.Visibility.MEMBERS)
    pending = MembershipFactory(group=group, status="pending")
    assert client.get(secret_feed(pending)).status_code == 404
    assert client.get(reverse("neighbourhoods:member-calendar", args=["not-a-real-token"])).status_code == 404


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ["resident", "pending", "banned", "other_organiser"])
def test_non_members_cannot_reset_a_calendar_address(client, visibility, role):
    group = GroupFactory(visibility=visibility)
    user = as_role(client, role, group)
    tokens = set(Membership.objects.values_list("calendar_token", flat=True))
    response = client.post(url("calendar-reset", group=group))
    assert response.status_code == (302 if visibility == Group.Visibility.PUBLIC else 404)
    assert set(Membership.objects.values_list("calendar_token", flat=True)) == tokens
    assert user is not None


def test_the_event_list_shows_the_right_feed_to_each_person(client):
    public = GroupFactory(visibility=Group.Visibility.PUBLIC)
    response = client.get(url("event-list", group=public))
    assert settings.SITE_URL + url("group-calendar", group=public) in response.content.decode()

    private = GroupFactory(visibility=Group.Visibility.MEMBERS)
    membership = MembershipFactory(group=private)
    other = MembershipFactory(group=private)
    client.force_login(membership.user)
    content = client.get(url("event-list", group=private)).content.decode()
    assert settings.SITE_URL + secret_feed(membership) in content
    assert other.calendar_token not in content
    assert url("group-calendar", group=private) not in content
    assert url("calendar-reset", group=private) in content


# --- Planning, editing and cancelling -------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("events_by", [Group.EventsBy.MEMBERS, Group.EventsBy.ORGANISERS])
@pytest.mark.parametrize("role", ROLES)
def test_who_may_open_the_plan_an_event_page(client, visibility, events_by, role):
    group = GroupFactory(visibility=visibility, events_by=events_by)
    as_role(client, role, group)
    response = client.get(url("event-create", group=group))
    if role == "visitor":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif role == "organiser" or (role == "member" and events_by == Group.EventsBy.MEMBERS):
        assert response.status_code == 200
    elif visibility == Group.Visibility.MEMBERS and role not in SEES_MEMBERS_ONLY:
        assert response.status_code == 404
    else:
        assert response.status_code == 403


def post_data(**overrides) -> dict:
    next_year = timezone.now().year + 1
    return {
        "title": "Street tea party",
        "description": "Bring a **chair**",
        "date": f"{next_year}-07-10",
        "start_time": "19:00",
        "end_time": "21:00",
        "end_date": "",
        "place": "The green",
        "capacity": "12",
        "cost": "Free",
        "access": ["step_free", "bsl"],
        "access_notes": "Level path from the road",
    } | overrides


def test_planning_an_event_saves_it_in_utc_and_shows_it_in_uk_time(client):
    group = GroupFactory()
    client.force_login(MembershipFactory(group=group).user)
    response = client.post(url("event-create", group=group), post_data())
    event = Event.objects.get()
    assert response.status_code == 302
    assert response["Location"] == event.get_absolute_url()
    assert event.starts_at.astimezone(UTC).hour == 18  # 19:00 BST
    assert (event.capacity, event.step_free, event.bsl, event.hearing_loop) == (12, True, True, False)
    page = client.get(event.get_absolute_url()).content.decode()
    assert "19:00" in page
    assert f'datetime="{timezone.now().year + 1}-07-10T19:00:00+01:00"' in page
    assert "<strong>chair</strong>" in page
    assert "<li>Step-free access</li>" in page
    assert "<li>British Sign Language interpreter</li>" in page
    assert "12 places left" in page


def test_a_bad_event_keeps_what_was_typed_and_explains(client):
    group = GroupFactory()
    client.force_login(MembershipFactory(group=group).user)
    response = client.post(url("event-create", group=group), post_data(date="2020-01-01", title="Carol singing"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<title>Error:" in content
    assert "must start in the future" in content
    assert 'value="Carol singing"' in content
    assert not Event.objects.exists()


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", [*ROLES, "creator"])
def test_who_may_edit_and_cancel_an_event(client, visibility, role):
    group = GroupFactory(visibility=visibility)
    if role == "creator":
        user = MembershipFactory(group=group).user
        client.force_login(user)
        event = upcoming(group, created_by=user)
    else:
        as_role(client, role, group)
        event = upcoming(group, created_by=MembershipFactory(group=group).user)
    edit = client.get(url("event-edit", event))
    confirm = client.get(url("event-cancel", event))
    cancel = client.post(url("event-cancel", event))
    event.refresh_from_db()
    if role == "visitor":
        assert {edit.status_code, confirm.status_code, cancel.status_code} == {302}
        assert not event.is_cancelled
    elif role in ("organiser", "creator"):
        assert (edit.status_code, confirm.status_code, cancel.status_code) == (200, 200, 302)
        assert event.is_cancelled
    else:
        hidden = visibility == Group.Visibility.MEMBERS and role not in SEES_MEMBERS_ONLY
        assert {edit.status_code, confirm.status_code, cancel.status_code} == {404 if hidden else 403}
        assert not event.is_cancelled


def test_an_organiser_edits_an_event_and_lowering_places_too_far_is_explained(client):
    group = GroupFactory()
    organiser = MembershipFactory(group=group, role="organiser").user
    event = upcoming(group, capacity=5)
    for _ in range(3):
        services.rsvp(user=MembershipFactory(group=group).user, event=event, status="going")
    client.force_login(organiser)
    form = client.get(url("event-edit", event)).content.decode()
    assert f'value="{event.title}"' in form
    response = client.post(url("event-edit", event), post_data(capacity="2", title="Smaller"))
    assert response.status_code == 200
    assert "3 people are already going" in response.content.decode()
    event.refresh_from_db()
    assert (event.capacity, event.title) != (2, "Smaller")
    response = client.post(url("event-edit", event), post_data(capacity="3", title="Just right"))
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.capacity, event.title) == (3, "Just right")


def test_cancelled_events_are_marked_and_closed_to_replies(client):
    group = GroupFactory()
    event = upcoming(group, cancelled_at=timezone.now())
    client.force_login(MembershipFactory(group=group).user)
    page = client.get(url("event-detail", event)).content.decode()
    assert "This event has been cancelled." in page
    assert url("event-rsvp", event) not in page
    listing = client.get(url("event-list", group=group)).content.decode()
    assert "Cancelled" in listing


# --- Replying -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_only_members_reply(client, visibility, role):
    group = GroupFactory(visibility=visibility)
    event = upcoming(group)
    user = as_role(client, role, group)
    response = client.post(url("event-rsvp", event), {"status": "going"})
    replied = RSVP.objects.filter(event=event).exists()
    if role == "visitor":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif visibility == Group.Visibility.MEMBERS and role not in SEES_MEMBERS_ONLY:
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert response["Location"] == event.get_absolute_url()
    assert replied == (role in SEES_MEMBERS_ONLY)
    if role in SEES_MEMBERS_ONLY:
        assert RSVP.objects.get(event=event).user == user
    if visibility == Group.Visibility.PUBLIC and role in ("resident", "pending", "banned", "other_organiser"):
        page = client.get(event.get_absolute_url()).content.decode()
        assert "Only members of the group can reply" in page  # the refusal, shown as a message


def test_a_full_event_puts_you_on_the_waiting_list_and_shows_your_place(client):
    group = GroupFactory()
    event = upcoming(group, capacity=1)
    services.rsvp(user=MembershipFactory(group=group).user, event=event, status="going")
    services.rsvp(user=MembershipFactory(group=group).user, event=event, status="going")
    me = MembershipFactory(group=group).user
    client.force_login(me)
    before = client.get(url("event-detail", event)).content.decode()
    assert "Full — join the waiting list" in before
    response = client.post(url("event-rsvp", event), {"status": "going"}, follow=True)
    content = response.content.decode()
    assert "you are on the waiting list" in content
    assert "You are on the waiting list: number 2." in content
    assert RSVP.objects.get(event=event, user=me).status == "waitlisted"
    # The radio group keeps "Going" chosen while waiting.
    assert re.search(r'value="going"[^>]*checked', content)


def test_a_bad_reply_gets_a_message_not_an_error_page(client):
    group = GroupFactory()
    event = upcoming(group)
    client.force_login(MembershipFactory(group=group).user)
    response = client.post(url("event-rsvp", event), {"status": "waitlisted"}, follow=True)
    assert response.status_code == 200
    assert "Choose going, maybe or not going." in response.content.decode()
    assert not RSVP.objects.exists()
    assert client.get(url("event-rsvp", event)).status_code == 405


def test_replying_to_a_past_event_is_refused_kindly(client):
    group = GroupFactory()
    event = EventFactory(
        group=group, starts_at=timezone.now() - timedelta(days=1), ends_at=timezone.now() - timedelta(hours=22)
    )
    client.force_login(MembershipFactory(group=group).user)
    response = client.post(url("event-rsvp", event), {"status": "going"}, follow=True)
    assert "This event has already happened." in response.content.decode()
    assert not RSVP.objects.exists()


def test_organisers_and_the_creator_see_who_is_going_but_members_do_not(client):
    group = GroupFactory()
    creator = MembershipFactory(group=group).user
    event = upcoming(group, created_by=creator)
    going = MembershipFactory(group=group, user__profile__display_name="Priya at 14").user
    services.rsvp(user=going, event=event, status="going")
    for viewer, sees in [
        (MembershipFactory(group=group, role="organiser").user, True),
        (creator, True),
        (MembershipFactory(group=group).user, False),
    ]:
        client.force_login(viewer)
        content = client.get(url("event-detail", event)).content.decode()
        assert ("Priya at 14" in content) is sees
        assert ("Who is going" in content) is sees
        assert going.email not in content


def test_the_list_shows_places_and_each_persons_own_reply(client):
    group = GroupFactory()
    me = MembershipFactory(group=group).user
    full = upcoming(group, title="Full one", capacity=1)
    roomy = upcoming(group, title="Roomy one", capacity=10)
    RSVPFactory(event=full, user=MembershipFactory(group=group).user, status="going")
    Event.objects.filter(pk=full.pk).update(going_count=1)
    RSVPFactory(event=roomy, user=me, status="maybe")
    client.force_login(me)
    content = client.get(url("event-list", group=group)).content.decode()
    assert "Full — join the waiting list" in content
    assert "10 places left" in content
    assert "You might go" in content
    assert url("event-archive", group=group) in content


# --- Query budgets --------------------------------------------------------------------------------------------


def bulk_people(group: Group, count: int) -> list[User]:
    users = User.objects.bulk_create(
        [User(email=f"bulk{group.pk}-{n}@example.org", password="!") for n in range(count)]
    )
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Neighbour {n}") for n, u in enumerate(users)])
    Membership.objects.bulk_create(
        [Membership(group=group, user=u, status="active", joined_at=timezone.now()) for u in users]
    )
    return users


def bulk_events(group: Group, count: int, *, past: bool = False) -> list[Event]:
    now = timezone.now()
    sign = -1 if past else 1
    return Event.objects.bulk_create(
        [
            Event(
                group=group,
                title=f"Event {n}",
                starts_at=now + sign * timedelta(days=n + 2),
                ends_at=now + sign * timedelta(days=n + 2) + timedelta(hours=2),
                place="The green",
                capacity=20,
                description_html="<p>Hello</p>",
            )
            for n in range(count)
        ]
    )


def count_queries(client, page: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("size", [5, 500])
def test_the_event_list_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    group = GroupFactory(visibility=Group.Visibility.MEMBERS)
    me = MembershipFactory(group=group).user
    for event in bulk_events(group, size):
        RSVP.objects.create(event=event, user=me, status="going")
    client.force_login(me)
    # session, user, group, membership, count, page (each event carries the viewer's reply)
    with django_assert_max_num_queries(6):
        response = client.get(url("event-list", group=group))
    assert response.content.decode().count("You are going") == min(size, 20)


@pytest.mark.parametrize("size", [5, 500])
def test_the_archive_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    group = GroupFactory()
    bulk_events(group, size, past=True)
    client.force_login(MembershipFactory(group=group).user)
    with django_assert_max_num_queries(6):
        response = client.get(url("event-archive", group=group) + "?page=2")
    assert response.status_code == 200


@pytest.mark.parametrize("size", [5, 500])
def test_the_event_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    group = GroupFactory()
    event = upcoming(group, capacity=None)
    people = bulk_people(group, size)
    RSVP.objects.bulk_create([RSVP(event=event, user=u, status="going") for u in people])
    Event.objects.filter(pk=event.pk).update(going_count=size)
    waiting = MembershipFactory(group=group).user
    RSVP.objects.create(event=event, user=waiting, status="waitlisted")
    organiser = MembershipFactory(group=group, role="organiser").user
    client.force_login(organiser)
    # session, user, group, membership, event with counts, own reply, who is going
    with django_assert_max_num_queries(7):
        response = client.get(url("event-detail", event))
    assert response.content.decode().count('class="people__name"') == size
    client.force_login(waiting)
    # session, user, group, membership, event with counts, own reply, place in the waiting list
    with django_assert_max_num_queries(7):
        response = client.get(url("event-detail", event))
    assert "number 1" in response.content.decode()


def test_query_counts_do_not_grow_with_the_data(client):
    small, large = GroupFactory(), GroupFactory()
    counts = {}
    for group, size in ((small, 5), (large, 500)):
        me = MembershipFactory(group=group, role="organiser").user
        events = bulk_events(group, size)
        bulk_events(group, size, past=True)
        people = bulk_people(group, size)
        RSVP.objects.bulk_create([RSVP(event=events[0], user=u, status="maybe") for u in people])
        client.force_login(me)
        counts[size] = [
            count_queries(client, url("event-list", group=group)),
            count_queries(client, url("event-archive", group=group)),
            count_queries(client, url("event-detail", events[0])),
            count_queries(client, url("group-calendar", group=group)),
        ]
    assert counts[5] == counts[500]
