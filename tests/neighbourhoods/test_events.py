from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from icalendar import Calendar

from core.exceptions import DomainError
from neighbourhoods import calendars
from neighbourhoods.forms.events import EventForm
from neighbourhoods.models import RSVP, Event, Group, Membership
from neighbourhoods.selectors import events as selectors
from neighbourhoods.services import events as services
from tests.factories import EventFactory, GroupFactory, MembershipFactory, RSVPFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def later(**kwargs) -> datetime:
    return timezone.now() + timedelta(**kwargs)


def details(**overrides) -> dict:
    base = {
        "title": "Street tea party",
        "starts_at": later(days=3),
        "ends_at": later(days=3, hours=2),
        "place": "The green outside number 20",
    }
    return base | overrides


def member_of(group, **kwargs):
    return MembershipFactory(group=group, **kwargs).user


def statuses(event) -> dict:
    return dict(RSVP.objects.filter(event=event).values_list("user_id", "status"))


def going_in_db(event) -> int:
    return RSVP.objects.filter(event=event, status=RSVP.Status.GOING).count()


# --- Planning events ------------------------------------------------------------------------------------------


def test_a_member_plans_an_event_with_a_safe_description_and_access_information():
    group = GroupFactory()
    member = member_of(group)
    event = services.create_event(
        creator=member,
        group=group,
        **details(
            title="  Tea party  ",
            description="Bring **cake**<script>alert(1)</script>",
            capacity=30,
            cost="Free",
            step_free=True,
            bsl=True,
            access_notes="Ramp at the side gate",
        ),
    )
    event.refresh_from_db()
    assert event.title == "Tea party"
    assert event.created_by == member
    assert "<strong>cake</strong>" in event.description_html
    assert "<script>" not in event.description_html
    assert (event.step_free, event.bsl, event.hearing_loop, event.capacity, event.going_count) == (
        True,
        True,
        False,
        30,
        0,
    )
    assert selectors.access_features(event) == ["step-free access", "British Sign Language interpreter"]


@pytest.mark.parametrize(
    ("events_by", "role", "allowed"),
    [
        (Group.EventsBy.MEMBERS, "member", True),
        (Group.EventsBy.MEMBERS, "organiser", True),
        (Group.EventsBy.ORGANISERS, "member", False),
        (Group.EventsBy.ORGANISERS, "organiser", True),
    ],
)
def test_the_group_setting_decides_who_plans_events(events_by, role, allowed):
    group = GroupFactory(events_by=events_by)
    person = member_of(group, role=role)
    if allowed:
        assert services.create_event(creator=person, group=group, **details()).pk
    else:
        with pytest.raises(DomainError, match="only the organisers"):
            services.create_event(creator=person, group=group, **details())
        assert not Event.objects.exists()


@pytest.mark.parametrize("status", ["pending", "banned", "left", "removed"])
def test_people_who_are_not_active_members_cannot_plan_events(status):
    group = GroupFactory()
    person = member_of(group, status=status)
    with pytest.raises(DomainError):
        services.create_event(creator=person, group=group, **details())
    with pytest.raises(DomainError):
        services.create_event(creator=UserFactory(), group=group, **details())
    assert not Event.objects.exists()


def test_unverified_members_cannot_plan_events_where_they_may_not_post():
    group = GroupFactory(unverified_can_post=False)
    person = member_of(group, verified_at=None)
    with pytest.raises(DomainError):
        services.create_event(creator=person, group=group, **details())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"starts_at": later(hours=-1), "ends_at": later(hours=1)}, "in the past"),
        ({"ends_at": later(days=3, hours=-1)}, "end after it starts"),
        ({"capacity": 0}, "at least one place"),
    ],
)
def test_bad_times_and_capacity_are_refused(overrides, message):
    group = GroupFactory()
    with pytest.raises(DomainError, match=message):
        services.create_event(creator=member_of(group), group=group, **details(**overrides))
    assert not Event.objects.exists()


# --- Replies and the waiting list -----------------------------------------------------------------------------


def test_going_to_a_full_event_joins_the_waiting_list_in_order_of_arrival():
    event = EventFactory(capacity=2)
    people = [member_of(event.group) for _ in range(5)]
    replies = [services.rsvp(user=person, event=event, status="going") for person in people]
    assert [r.status for r in replies] == ["going", "going", "waitlisted", "waitlisted", "waitlisted"]
    event.refresh_from_db()
    assert event.going_count == 2 == going_in_db(event)
    assert [selectors.waitlist_position(r) for r in replies[2:]] == [1, 2, 3]


@pytest.mark.parametrize("new_status", ["maybe", "not_going"])
def test_when_someone_drops_out_the_first_person_waiting_takes_the_place(new_status):
    event = EventFactory(capacity=2)
    first, second, third, fourth = (member_of(event.group) for _ in range(4))
    for person in (first, second, third, fourth):
        services.rsvp(user=person, event=event, status="going")

    services.rsvp(user=first, event=event, status=new_status)

    assert statuses(event) == {first.pk: new_status, second.pk: "going", third.pk: "going", fourth.pk: "waitlisted"}
    event.refresh_from_db()
    assert event.going_count == 2 == going_in_db(event)
    assert selectors.waitlist_position(RSVP.objects.get(event=event, user=fourth)) == 1


def test_asking_again_keeps_your_place_in_the_queue_and_leaving_it_sends_you_to_the_back():
    event = EventFactory(capacity=1)
    holder, early, late = (member_of(event.group) for _ in range(3))
    for person in (holder, early, late):
        services.rsvp(user=person, event=event, status="going")
    services.rsvp(user=early, event=event, status="going")  # pressing "going" again changes nothing
    assert selectors.waitlist_position(RSVP.objects.get(event=event, user=early)) == 1

    services.rsvp(user=early, event=event, status="maybe")
    services.rsvp(user=early, event=event, status="going")
    assert selectors.waitlist_position(RSVP.objects.get(event=event, user=early)) == 2

    services.rsvp(user=holder, event=event, status="not_going")
    assert statuses(event)[late.pk] == "going"
    assert statuses(event)[early.pk] == "waitlisted"


def test_leaving_the_waiting_list_does_not_free_a_place():
    event = EventFactory(capacity=1)
    holder, waiting = member_of(event.group), member_of(event.group)
    services.rsvp(user=holder, event=event, status="going")
    services.rsvp(user=waiting, event=event, status="going")
    services.rsvp(user=waiting, event=event, status="not_going")
    event.refresh_from_db()
    assert event.going_count == 1
    assert statuses(event) == {holder.pk: "going", waiting.pk: "not_going"}


def test_changing_replies_keeps_the_count_in_step():
    event = EventFactory(capacity=None)
    person = member_of(event.group)
    for status, expected in [("maybe", 0), ("going", 1), ("going", 1), ("not_going", 0), ("going", 1)]:
        services.rsvp(user=person, event=event, status=status)
        event.refresh_from_db()
        assert event.going_count == expected == going_in_db(event)
    assert RSVP.objects.filter(event=event).count() == 1


def test_replies_do_not_count_as_edits_of_the_event():
    event = EventFactory(capacity=3)
    before = Event.objects.get(pk=event.pk).updated_at
    services.rsvp(user=member_of(event.group), event=event, status="going")
    assert Event.objects.get(pk=event.pk).updated_at == before


def test_an_unknown_reply_is_refused():
    event = EventFactory()
    with pytest.raises(DomainError, match="going, maybe or not going"):
        services.rsvp(user=member_of(event.group), event=event, status="waitlisted")
    assert not RSVP.objects.exists()


def test_no_replies_to_past_or_cancelled_events():
    past = EventFactory(starts_at=later(days=-2), ends_at=later(days=-2, hours=2))
    with pytest.raises(DomainError, match="already happened"):
        services.rsvp(user=member_of(past.group), event=past, status="going")
    cancelled = EventFactory(cancelled_at=timezone.now())
    with pytest.raises(DomainError, match="cancelled"):
        services.rsvp(user=member_of(cancelled.group), event=cancelled, status="going")
    assert not RSVP.objects.exists()


@pytest.mark.parametrize("status", [None, "pending", "banned", "left", "removed"])
def test_only_active_members_reply(status):
    event = EventFactory()
    person = UserFactory() if status is None else member_of(event.group, status=status)
    with pytest.raises(DomainError, match="Only members"):
        services.rsvp(user=person, event=event, status="going")
    elsewhere = MembershipFactory().user  # an organiser of another group is no member here either
    with pytest.raises(DomainError, match="Only members"):
        services.rsvp(user=elsewhere, event=event, status="maybe")
    assert not RSVP.objects.exists()


# --- Changing and cancelling ----------------------------------------------------------------------------------


def test_the_creator_and_organisers_may_edit_but_other_members_may_not():
    group = GroupFactory()
    creator, organiser, other = member_of(group), member_of(group, role="organiser"), member_of(group)
    event = services.create_event(creator=creator, group=group, **details())
    services.edit_event(editor=creator, event=event, **details(title="New title"))
    services.edit_event(editor=organiser, event=event, **details(title="Newer title", description="*Hi*"))
    with pytest.raises(DomainError, match="Only the person who planned"):
        services.edit_event(editor=other, event=event, **details(title="Mine now"))
    event.refresh_from_db()
    assert event.title == "Newer title"
    assert event.description_html == "<p><em>Hi</em></p>"


def test_a_creator_who_left_the_group_can_no_longer_edit():
    group = GroupFactory()
    creator = member_of(group)
    event = services.create_event(creator=creator, group=group, **details())
    Membership.objects.filter(user=creator).update(status="left")
    with pytest.raises(DomainError):
        services.edit_event(editor=creator, event=event, **details(title="Changed"))


def test_places_cannot_drop_below_the_number_going():
    event = EventFactory(capacity=5)
    organiser = member_of(event.group, role="organiser")
    for _ in range(3):
        services.rsvp(user=member_of(event.group), event=event, status="going")
    with pytest.raises(DomainError, match="3 people are already going"):
        services.edit_event(editor=organiser, event=event, **details(capacity=2))
    event.refresh_from_db()
    assert event.capacity == 5
    services.edit_event(editor=organiser, event=event, **details(capacity=3))
    event.refresh_from_db()
    assert (event.capacity, event.going_count) == (3, 3)


def test_more_places_move_people_up_from_the_waiting_list_in_order():
    event = EventFactory(capacity=1)
    organiser = member_of(event.group, role="organiser")
    people = [member_of(event.group) for _ in range(5)]
    for person in people:
        services.rsvp(user=person, event=event, status="going")

    services.edit_event(editor=organiser, event=event, **details(capacity=3))
    assert [statuses(event)[p.pk] for p in people] == ["going", "going", "going", "waitlisted", "waitlisted"]

    services.edit_event(editor=organiser, event=event, **details(capacity=None))  # no limit: everyone is in
    assert set(statuses(event).values()) == {"going"}
    event.refresh_from_db()
    assert event.going_count == 5 == going_in_db(event)


def test_an_edit_never_undoes_replies_made_meanwhile():
    event = EventFactory(capacity=10)
    organiser = member_of(event.group, role="organiser")
    stale = Event.objects.get(pk=event.pk)  # loaded before anyone replied
    services.rsvp(user=member_of(event.group), event=event, status="going")
    services.edit_event(editor=organiser, event=stale, **details(title="Renamed", capacity=10))
    event.refresh_from_db()
    assert (event.title, event.going_count) == ("Renamed", 1)


def test_cancelling_closes_replies_and_edits():
    event = EventFactory()
    organiser = member_of(event.group, role="organiser")
    member = member_of(event.group)
    with pytest.raises(DomainError):
        services.cancel_event(editor=member, event=event)
    services.cancel_event(editor=organiser, event=event)
    event.refresh_from_db()
    assert event.is_cancelled
    with pytest.raises(DomainError, match="already been cancelled"):
        services.cancel_event(editor=organiser, event=event)
    with pytest.raises(DomainError, match="cancelled"):
        services.edit_event(editor=organiser, event=event, **details())
    with pytest.raises(DomainError, match="cancelled"):
        services.rsvp(user=member, event=event, status="going")


def test_past_events_cannot_be_edited_or_cancelled():
    event = EventFactory(starts_at=later(days=-3), ends_at=later(days=-3, hours=2))
    organiser = member_of(event.group, role="organiser")
    with pytest.raises(DomainError, match="already happened"):
        services.edit_event(editor=organiser, event=event, **details())
    with pytest.raises(DomainError, match="already happened"):
        services.cancel_event(editor=organiser, event=event)


def test_an_event_under_way_keeps_its_start_when_edited():
    starts = later(hours=-1)
    event = EventFactory(starts_at=starts, ends_at=later(hours=1))
    organiser = member_of(event.group, role="organiser")
    services.edit_event(
        editor=organiser, event=event, **details(starts_at=starts, ends_at=later(hours=2), place="Moved indoors")
    )
    event.refresh_from_db()
    assert event.place == "Moved indoors"
    with pytest.raises(DomainError, match="in the past"):
        services.edit_event(editor=organiser, event=event, **details(starts_at=later(minutes=-5)))


# --- Calendar addresses ---------------------------------------------------------------------------------------


def test_resetting_the_calendar_address_gives_a_new_secret():
    membership = MembershipFactory()
    old = membership.calendar_token
    services.reset_calendar_token(member=membership.user, group=membership.group)
    membership.refresh_from_db()
    assert membership.calendar_token != old
    assert len(membership.calendar_token) >= 30


@pytest.mark.parametrize("status", ["pending", "banned", "left"])
def test_only_members_reset_a_calendar_address(status):
    membership = MembershipFactory(status=status)
    with pytest.raises(DomainError):
        services.reset_calendar_token(member=membership.user, group=membership.group)
    with pytest.raises(DomainError):
        services.reset_calendar_token(member=UserFactory(), group=membership.group)


# --- ICS --------------------------------------------------------------------------------------------------------


def parse(ics: bytes) -> Calendar:
    return Calendar.from_ical(ics)


def local(year, month, day, hour, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def test_an_event_file_has_everything_a_calendar_app_needs():
    next_year = timezone.now().year + 1
    event = EventFactory(
        title="Tea party; bring a chair",
        description="Bring **cake**.",
        starts_at=local(next_year, 7, 10, 19),
        ends_at=local(next_year, 7, 10, 21, 30),
        place="The green, Clifton Street",
        cost="£3",
        hearing_loop=True,
    )
    calendar = parse(calendars.event_calendar(event))
    [entry] = calendar.walk("VEVENT")
    host = settings.SITE_URL.split("//")[1].split(":")[0].split("/")[0]
    assert str(entry["uid"]) == f"event-{event.pk}@{host}"
    assert str(entry["summary"]) == "Tea party; bring a chair"
    assert str(entry["location"]) == "The green, Clifton Street"
    assert str(entry["url"]) == settings.SITE_URL + f"/groups/{event.group.slug}/events/{event.pk}/"
    assert str(entry["status"]) == "CONFIRMED"
    description = str(entry["description"])
    assert "Bring **cake**." in description
    assert "£3" in description
    assert "hearing loop" in description
    assert "<" not in description
    assert entry.decoded("dtstamp").tzinfo is not None
    assert "sequence" in entry
    # The same UID every time, so re-importing updates rather than duplicates.
    again = parse(calendars.event_calendar(event)).walk("VEVENT")[0]
    assert again["uid"] == entry["uid"]


def test_times_are_london_local_with_a_vtimezone_either_side_of_the_clock_change():
    next_year = timezone.now().year + 1
    group = GroupFactory()
    summer = EventFactory(group=group, starts_at=local(next_year, 7, 10, 19), ends_at=local(next_year, 7, 10, 21))
    winter = EventFactory(group=group, starts_at=local(next_year, 12, 10, 19), ends_at=local(next_year, 12, 10, 21))
    # Stored in UTC: BST is an hour ahead in summer, GMT equals UTC in winter.
    summer.refresh_from_db()
    assert summer.starts_at.astimezone(ZoneInfo("UTC")).hour == 18
    winter.refresh_from_db()
    assert winter.starts_at.astimezone(ZoneInfo("UTC")).hour == 19

    calendar = parse(calendars.group_calendar(group, [summer, winter]))
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Europe/London"
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    entries = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    for event in (summer, winter):
        entry = entries[event.title]
        assert entry["dtstart"].params["TZID"] == "Europe/London"
        start, end = entry.decoded("dtstart"), entry.decoded("dtend")
        assert (start.hour, start.minute, end.hour) == (19, 0, 21)
        assert start == event.starts_at  # the same instant
    assert entries[summer.title].decoded("dtstart").utcoffset() == timedelta(hours=1)
    assert entries[winter.title].decoded("dtstart").utcoffset() == timedelta(0)
    assert b"DTSTART;TZID=Europe/London:" in calendars.group_calendar(group, [summer])


def test_cancelled_events_say_so_in_calendars():
    event = EventFactory()
    services.cancel_event(editor=member_of(event.group, role="organiser"), event=event)
    event.refresh_from_db()
    [entry] = parse(calendars.event_calendar(event)).walk("VEVENT")
    assert str(entry["status"]) == "CANCELLED"


def test_an_edit_raises_the_sequence_but_a_reply_does_not():
    event = EventFactory()
    organiser = member_of(event.group, role="organiser")
    # The event was planned an hour ago, so an edit now is a later revision.
    Event.objects.filter(pk=event.pk).update(
        created_at=F("created_at") - timedelta(hours=1), updated_at=F("updated_at") - timedelta(hours=1)
    )
    event.refresh_from_db()

    def sequence() -> int:
        fresh = Event.objects.select_related("group").get(pk=event.pk)
        return int(parse(calendars.event_calendar(fresh)).walk("VEVENT")[0]["sequence"])

    first = sequence()
    services.rsvp(user=member_of(event.group), event=event, status="going")
    assert sequence() == first
    services.edit_event(editor=organiser, event=event, **details(title="Moved to the hall"))
    assert sequence() > first


def test_an_empty_feed_is_still_a_valid_calendar():
    group = GroupFactory(name="Clifton Street")
    calendar = parse(calendars.group_calendar(group, []))
    assert calendar.walk("VEVENT") == []
    assert "Clifton Street" in str(calendar["x-wr-calname"])


# --- The event form -------------------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    next_year = timezone.now().year + 1
    data = {
        "title": "Street tea party",
        "description": "",
        "date": f"{next_year}-07-10",
        "start_time": "19:00",
        "end_time": "21:00",
        "end_date": "",
        "place": "The green",
        "capacity": "",
        "cost": "",
        "access_notes": "",
    }
    return data | overrides


def test_the_form_reads_times_as_uk_local_time_in_summer_and_winter():
    next_year = timezone.now().year + 1
    form = EventForm(form_data(access=["step_free", "quiet_space"], capacity="20"))
    assert form.is_valid(), form.errors
    got = form.details()
    assert got["starts_at"] == datetime(next_year, 7, 10, 18, tzinfo=ZoneInfo("UTC"))
    assert got["ends_at"] == datetime(next_year, 7, 10, 20, tzinfo=ZoneInfo("UTC"))
    assert (got["step_free"], got["quiet_space"], got["bsl"], got["capacity"]) == (True, True, False, 20)

    form = EventForm(form_data(date=f"{next_year}-12-10"))
    assert form.is_valid(), form.errors
    assert form.details()["starts_at"] == datetime(next_year, 12, 10, 19, tzinfo=ZoneInfo("UTC"))


def test_an_event_may_run_past_midnight_with_an_end_date():
    next_year = timezone.now().year + 1
    form = EventForm(form_data(start_time="22:00", end_time="01:00"))
    assert not form.is_valid()
    assert "end after it starts" in str(form.errors["end_time"])
    form = EventForm(form_data(start_time="22:00", end_time="01:00", end_date=f"{next_year}-07-11"))
    assert form.is_valid(), form.errors
    assert form.details()["ends_at"] - form.details()["starts_at"] == timedelta(hours=3)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"date": "2020-01-01"}, "date"),
        ({"capacity": "0"}, "capacity"),
        ({"title": ""}, "title"),
        ({"place": ""}, "place"),
        ({"date": "10/07/2099x"}, "date"),
        ({"start_time": "25:00"}, "start_time"),
        ({"end_date": "2020-01-01"}, "end_date"),
    ],
)
def test_the_form_explains_bad_input(overrides, field):
    form = EventForm(form_data(**overrides))
    assert not form.is_valid()
    assert field in form.errors


def test_the_form_shows_an_event_in_uk_time_when_editing():
    next_year = timezone.now().year + 1
    event = EventFactory(starts_at=local(next_year, 7, 10, 19), ends_at=local(next_year, 7, 11, 1), bsl=True)
    initial = EventForm(event=event).initial
    assert initial["date"] == date(next_year, 7, 10)
    assert initial["start_time"].hour == 19
    assert initial["end_date"] == date(next_year, 7, 11)
    assert initial["access"] == ["bsl"]


def test_the_waiting_list_position_follows_the_queue():
    event = EventFactory(capacity=1)
    RSVPFactory(event=event, user=member_of(event.group), status="going")
    first = RSVPFactory(event=event, user=member_of(event.group), status="waitlisted")
    second = RSVPFactory(event=event, user=member_of(event.group), status="waitlisted")
    assert (selectors.waitlist_position(first), selectors.waitlist_position(second)) == (1, 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start_days", "length", "message"),
    [(800, timedelta(hours=2), "two years ahead"), (5, timedelta(days=15), "up to two weeks")],
)
def test_events_too_far_ahead_or_too_long_are_refused(start_days, length, message):
    organiser = MembershipFactory(role="organiser")
    starts_at = timezone.now() + timedelta(days=start_days)
    with pytest.raises(DomainError, match=message):
        services.create_event(
            creator=organiser.user,
            group=organiser.group,
            title="Far away",
            starts_at=starts_at,
            ends_at=starts_at + length,
            place="Somewhere",
        )
