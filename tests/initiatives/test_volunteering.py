"""Volunteer roles: organisers manage them, members sign up and withdraw, places are never overbooked, dated roles go
into calendars, and the page runs a fixed number of queries."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.models import Profile, User
from core.exceptions import DomainError
from initiatives import timeline
from initiatives.models import Initiative, TimelineEntry, VolunteerRole, VolunteerSignup
from initiatives.services import volunteering as services
from neighbourhoods.models import Group, Membership
from notifications.models import Notification
from tests.factories import (
    CouncilMembershipFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    UserFactory,
    VolunteerRoleFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ["visitor", "member", "non_member", "lead", "co_organiser", "officer", "other_officer"]
ORGANISERS = {"lead", "co_organiser"}
MEMBERS = {"member", "lead", "co_organiser"}  # the lead and co-organisers are members of the group too


def make_initiative(*, visibility: str = Group.Visibility.PUBLIC, status: str = "planning", **kwargs) -> Initiative:
    group = GroupFactory(visibility=visibility)
    initiative = InitiativeFactory(group=group, status=status, **kwargs)
    lead = MembershipFactory(group=group).user
    InitiativeRoleFactory(initiative=initiative, user=lead, role="lead")
    initiative.lead = lead
    return initiative


def person(role: str, initiative: Initiative) -> User | None:
    """Someone in `role` towards `initiative` (None for a visitor who is not signed in)."""
    if role == "visitor":
        return None
    if role == "member":
        return MembershipFactory(group=initiative.group).user
    if role == "non_member":
        return UserFactory()
    if role == "lead":
        return initiative.lead
    if role == "co_organiser":
        user = MembershipFactory(group=initiative.group).user
        InitiativeRoleFactory(initiative=initiative, user=user, role="co_organiser")
        return user
    if role == "officer":
        return CouncilMembershipFactory(council=initiative.neighbourhood.council).user
    return CouncilMembershipFactory().user  # an officer of another council


def as_role(client, role: str, initiative: Initiative) -> User | None:
    user = person(role, initiative)
    if user is not None:
        client.force_login(user)
    return user


def url(name: str, initiative: Initiative, role: VolunteerRole | None = None) -> str:
    args = [initiative.slug] if role is None else [initiative.slug, role.pk]
    return reverse(f"initiatives:{name}", args=args)


def dated_role(initiative: Initiative, *, days: int = 7, hours: int = 2, **kwargs) -> VolunteerRole:
    starts = timezone.now() + timedelta(days=days)
    return VolunteerRoleFactory(
        initiative=initiative, starts_at=starts, ends_at=starts + timedelta(hours=hours), **kwargs
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Services: managing roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "co_organiser"])
def test_organisers_add_a_role_with_places_and_an_optional_time(role):
    initiative = make_initiative()
    organiser = person(role, initiative)
    undated = services.add_role(organiser=organiser, initiative=initiative, title="  Treasurer ", slots=1)
    assert (undated.title, undated.slots, undated.filled, undated.starts_at) == ("Treasurer", 1, 0, None)
    starts = timezone.now() + timedelta(days=3)
    dated = services.add_role(
        organiser=organiser,
        initiative=initiative,
        title="Digging",
        slots=500,
        starts_at=starts,
        description="Bring gloves",
    )
    assert dated.starts_at == starts
    assert dated.ends_at is None
    assert list(initiative.volunteer_roles.order_by("pk")) == [undated, dated]


@pytest.mark.parametrize("role", ["member", "non_member", "officer", "other_officer"])
def test_only_organisers_manage_roles(role):
    initiative = make_initiative()
    someone = person(role, initiative)
    existing = VolunteerRoleFactory(initiative=initiative, title="Digging", slots=3)
    with pytest.raises(DomainError, match="lead and co-organisers"):
        services.add_role(organiser=someone, initiative=initiative, title="Tea", slots=2)
    with pytest.raises(DomainError, match="lead and co-organisers"):
        services.edit_role(organiser=someone, role=existing, title="Changed", slots=9)
    with pytest.raises(DomainError, match="lead and co-organisers"):
        services.remove_role(organiser=someone, role=existing)
    existing.refresh_from_db()
    assert (existing.title, existing.slots) == ("Digging", 3)
    assert VolunteerRole.objects.count() == 1


def test_an_invited_co_organiser_who_has_not_accepted_cannot_manage_roles():
    initiative = make_initiative()
    invited = MembershipFactory(group=initiative.group).user
    InitiativeRoleFactory(initiative=initiative, user=invited, role="co_organiser", status="invited")
    with pytest.raises(DomainError):
        services.add_role(organiser=invited, initiative=initiative, title="Tea", slots=2)


@pytest.mark.parametrize(
    ("slots", "message"), [(0, "at least 1 place"), (-3, "at least 1 place"), (501, "up to 500 places")]
)
def test_a_role_needs_between_one_and_five_hundred_places(slots, message):
    initiative = make_initiative()
    with pytest.raises(DomainError, match=message):
        services.add_role(organiser=initiative.lead, initiative=initiative, title="Tea", slots=slots)
    assert not VolunteerRole.objects.exists()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (timedelta(days=2), timedelta(days=2, hours=-1), "end after it starts"),
        (timedelta(days=2), timedelta(days=2), "end after it starts"),
        (None, timedelta(days=2), "start time too"),
        (timedelta(days=2 * 365 + 2), None, "two years ahead"),
        (timedelta(days=2), timedelta(days=17), "up to two weeks"),
        (timedelta(hours=-1), None, "in the past"),
    ],
)
def test_bad_times_are_refused_with_a_reason(start, end, message):
    initiative = make_initiative()
    now = timezone.now()
    with pytest.raises(DomainError, match=message):
        services.add_role(
            organiser=initiative.lead,
            initiative=initiative,
            title="Digging",
            slots=3,
            starts_at=now + start if start is not None else None,
            ends_at=now + end if end is not None else None,
        )
    assert not VolunteerRole.objects.exists()


def test_places_cannot_drop_below_the_people_already_signed_up():
    initiative = make_initiative()
    role = VolunteerRoleFactory(initiative=initiative, slots=5)
    for _ in range(3):
        services.sign_up(user=MembershipFactory(group=initiative.group).user, role=role)
    with pytest.raises(DomainError, match="3 people have already signed up"):
        services.edit_role(organiser=initiative.lead, role=role, title="Digging", slots=2)
    role.refresh_from_db()
    assert (role.slots, role.filled) == (5, 3)
    services.edit_role(organiser=initiative.lead, role=role, title="Digging", slots=3)
    role.refresh_from_db()
    assert (role.slots, role.filled) == (3, 3)


def test_a_role_under_way_can_still_be_edited_if_its_start_stays_put():
    initiative = make_initiative()
    started = timezone.now() - timedelta(hours=1)
    role = VolunteerRoleFactory(initiative=initiative, starts_at=started, ends_at=started + timedelta(hours=3))
    services.edit_role(
        organiser=initiative.lead, role=role, title="New title", slots=9, starts_at=started, ends_at=role.ends_at
    )
    role.refresh_from_db()
    assert (role.title, role.slots) == ("New title", 9)
    with pytest.raises(DomainError, match="in the past"):
        services.edit_role(
            organiser=initiative.lead,
            role=role,
            title="New title",
            slots=9,
            starts_at=started - timedelta(hours=1),
            ends_at=role.ends_at,
        )


@pytest.mark.parametrize("status", ["completed", "archived"])
def test_roles_of_a_finished_initiative_stay_as_they_were(status):
    initiative = make_initiative(status=status)
    role = VolunteerRoleFactory(initiative=initiative)
    with pytest.raises(DomainError, match="finished"):
        services.add_role(organiser=initiative.lead, initiative=initiative, title="Tea", slots=2)
    with pytest.raises(DomainError, match="finished"):
        services.edit_role(organiser=initiative.lead, role=role, title="Tea", slots=2)
    with pytest.raises(DomainError, match="finished"):
        services.remove_role(organiser=initiative.lead, role=role)
    assert VolunteerRole.objects.filter(pk=role.pk).exists()


def test_a_paused_initiatives_roles_can_still_be_managed():
    initiative = make_initiative(status="paused")
    role = services.add_role(organiser=initiative.lead, initiative=initiative, title="Tea", slots=2)
    services.edit_role(organiser=initiative.lead, role=role, title="Tea and cake", slots=4)
    assert VolunteerRole.objects.get().title == "Tea and cake"


def test_removing_a_role_removes_its_sign_ups_and_tells_the_volunteers():
    initiative = make_initiative()
    role = VolunteerRoleFactory(initiative=initiative, title="Digging")
    volunteers = [MembershipFactory(group=initiative.group).user for _ in range(2)]
    for volunteer in volunteers:
        services.sign_up(user=volunteer, role=role)
    assert services.remove_role(organiser=initiative.lead, role=role) == 2
    assert not VolunteerRole.objects.exists()
    assert not VolunteerSignup.objects.exists()
    told = Notification.objects.filter(event="initiative.volunteer_role_removed")
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(v.pk for v in volunteers)
    assert told.first().context["role"] == "Digging"


# --- Services: signing up and withdrawing ------------------------------------------------------------------------


def test_signing_up_takes_a_place_records_the_timeline_and_tells_the_organisers():
    initiative = make_initiative()
    co_organiser = person("co_organiser", initiative)
    role = VolunteerRoleFactory(initiative=initiative, title="Digging", slots=3)
    volunteer = MembershipFactory(group=initiative.group).user
    Profile.objects.filter(user=volunteer).update(display_name="Ffion")
    volunteer.refresh_from_db()

    signup = services.sign_up(user=volunteer, role=role)

    assert signup.user == volunteer
    role.refresh_from_db()
    assert (role.filled, role.places_left) == (1, 2)
    entry = TimelineEntry.objects.get(initiative=initiative)
    assert entry.kind == TimelineEntry.Kind.VOLUNTEER
    assert entry.actor == volunteer
    assert timeline.render(entry) == "A neighbour volunteered as Digging"
    assert entry.url == url("volunteer", initiative)
    told = Notification.objects.filter(event="initiative.volunteer_signed_up")
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted([initiative.lead.pk, co_organiser.pk])
    assert set(told.values_list("category", flat=True)) == {"organising"}
    assert told.first().context["name"] == "Ffion"


def test_a_volunteer_who_organises_is_not_told_about_their_own_sign_up():
    initiative = make_initiative()
    role = VolunteerRoleFactory(initiative=initiative)
    services.sign_up(user=initiative.lead, role=role)
    assert not Notification.objects.exists()


def test_signing_up_twice_is_refused_and_counts_once():
    initiative = make_initiative()
    role = VolunteerRoleFactory(initiative=initiative, slots=3)
    volunteer = MembershipFactory(group=initiative.group).user
    services.sign_up(user=volunteer, role=role)
    with pytest.raises(DomainError, match="already signed up"):
        services.sign_up(user=volunteer, role=role)
    role.refresh_from_db()
    assert role.filled == 1
    assert VolunteerSignup.objects.count() == 1
    assert TimelineEntry.objects.count() == 1


def test_a_full_role_refuses_and_writes_nothing():
    initiative = make_initiative()
    role = VolunteerRoleFactory(initiative=initiative, slots=1)
    services.sign_up(user=MembershipFactory(group=initiative.group).user, role=role)
    before = (TimelineEntry.objects.count(), Notification.objects.count())
    with pytest.raises(DomainError, match="All places for this role are taken"):
        services.sign_up(user=MembershipFactory(group=initiative.group).user, role=role)
    role.refresh_from_db()
    assert role.filled == 1
    assert VolunteerSignup.objects.count() == 1
    assert (TimelineEntry.objects.count(), Notification.objects.count()) == before


@pytest.mark.parametrize("role", ["non_member", "officer", "other_officer"])
def test_only_members_volunteer(role):
    initiative = make_initiative()
    volunteer_role = VolunteerRoleFactory(initiative=initiative)
    with pytest.raises(DomainError, match="Only members"):
        services.sign_up(user=person(role, initiative), role=volunteer_role)
    assert not VolunteerSignup.objects.exists()


@pytest.mark.parametrize("status", ["pending", "left", "banned"])
def test_people_who_are_not_active_members_cannot_volunteer(status):
    initiative = make_initiative()
    volunteer_role = VolunteerRoleFactory(initiative=initiative)
    user = MembershipFactory(group=initiative.group, status=status).user
    with pytest.raises(DomainError, match="Only members"):
        services.sign_up(user=user, role=volunteer_role)


def test_a_neighbourhood_wide_initiative_takes_volunteers_from_any_group_in_the_neighbourhood():
    here = GroupFactory()
    initiative = InitiativeFactory(group=None, neighbourhood=here.neighbourhood)
    role = VolunteerRoleFactory(initiative=initiative)
    services.sign_up(user=MembershipFactory(group=here).user, role=role)
    with pytest.raises(DomainError, match="Only members"):
        services.sign_up(user=MembershipFactory().user, role=role)  # a group in another neighbourhood
    assert VolunteerSignup.objects.count() == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("idea", None),
        ("planning", None),
        ("active", None),
        ("paused", "paused"),
        ("completed", "finished"),
        ("archived", "finished"),
    ],
)
def test_sign_ups_are_open_while_the_initiative_is_live(status, message):
    initiative = make_initiative(status=status)
    role = VolunteerRoleFactory(initiative=initiative)
    volunteer = MembershipFactory(group=initiative.group).user
    if message is None:
        services.sign_up(user=volunteer, role=role)
        assert VolunteerSignup.objects.filter(role=role, user=volunteer).exists()
    else:
        with pytest.raises(DomainError, match=message):
            services.sign_up(user=volunteer, role=role)
        assert not VolunteerSignup.objects.exists()


def test_a_role_that_has_happened_takes_no_new_volunteers():
    initiative = make_initiative()
    started = timezone.now() - timedelta(hours=3)
    role = VolunteerRoleFactory(initiative=initiative, starts_at=started, ends_at=started + timedelta(hours=2))
    with pytest.raises(DomainError, match="already happened"):
        services.sign_up(user=MembershipFactory(group=initiative.group).user, role=role)


def test_withdrawing_frees_the_place_for_someone_else():
    initiative = make_initiative()
    role = VolunteerRoleFactory(initiative=initiative, slots=1)
    first, second = (MembershipFactory(group=initiative.group).user for _ in range(2))
    services.sign_up(user=first, role=role)
    services.withdraw(user=first, role=role)
    role.refresh_from_db()
    assert role.filled == 0
    assert Notification.objects.filter(event="initiative.volunteer_withdrew", recipient=initiative.lead).exists()
    services.sign_up(user=second, role=role)
    role.refresh_from_db()
    assert role.filled == 1
    with pytest.raises(DomainError, match="not signed up"):
        services.withdraw(user=first, role=role)
    role.refresh_from_db()
    assert role.filled == 1


@pytest.mark.parametrize(("status", "allowed"), [("paused", True), ("completed", False), ("archived", False)])
def test_withdrawing_is_allowed_until_the_initiative_finishes(status, allowed):
    initiative = make_initiative()
    role = VolunteerRoleFactory(initiative=initiative)
    volunteer = MembershipFactory(group=initiative.group).user
    services.sign_up(user=volunteer, role=role)
    Initiative.objects.filter(pk=initiative.pk).update(status=status)
    if allowed:
        services.withdraw(user=volunteer, role=role)
        assert not VolunteerSignup.objects.exists()
    else:
        with pytest.raises(DomainError, match="kept as it was"):
            services.withdraw(user=volunteer, role=role)
        assert VolunteerSignup.objects.count() == 1
        assert VolunteerRole.objects.get().filled == 1


# --- Pages: who sees and does what ------------------------------------------------------------------------------


def expected_read(visibility: str, role: str) -> int:
    return 200 if visibility == Group.Visibility.PUBLIC or role in MEMBERS else 404


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_the_volunteer_page_and_calendar_files_follow_who_may_see_the_initiative(client, visibility, role):
    initiative = make_initiative(visibility=visibility, title="Secret orchard")
    volunteer_role = dated_role(initiative, title="Pruning")
    volunteer = MembershipFactory(group=initiative.group).user
    Profile.objects.filter(user=volunteer).update(display_name="Zebedee Volunteer")
    services.sign_up(user=volunteer, role=volunteer_role)
    as_role(client, role, initiative)

    response = client.get(url("volunteer", initiative))
    expected = expected_read(visibility, role)
    assert response.status_code == expected
    content = response.content.decode()
    if expected == 404:
        assert "Pruning" not in content
        assert "Secret orchard" not in content
    else:
        assert "Pruning" in content
        assert "4 of 5 places left" in content
        # Only the lead and co-organisers see who signed up.
        assert ("Zebedee Volunteer" in content) == (role in ORGANISERS)
        assert ("Add a volunteer role" in content) == (role in ORGANISERS)
        assert ("Sign up as Pruning" in content) == (role in MEMBERS)

    ics = client.get(url("role-ics", initiative, volunteer_role))
    assert ics.status_code == expected
    if expected == 404:
        assert b"Pruning" not in ics.content


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_only_organisers_open_the_pages_that_manage_roles(client, visibility, role):
    initiative = make_initiative(visibility=visibility)
    volunteer_role = VolunteerRoleFactory(initiative=initiative)
    as_role(client, role, initiative)
    pages = [
        url("volunteer-role-create", initiative),
        url("volunteer-role-edit", initiative, volunteer_role),
        url("volunteer-role-delete", initiative, volunteer_role),
    ]
    for page in pages:
        response = client.get(page)
        if role == "visitor":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("account_login"))
        elif role in ORGANISERS:
            assert response.status_code == 200
        elif expected_read(visibility, role) == 404:
            assert response.status_code == 404
        else:
            assert response.status_code == 403
    # And nothing they post changes anything.
    response = client.post(url("volunteer-role-delete", initiative, volunteer_role))
    assert VolunteerRole.objects.filter(pk=volunteer_role.pk).exists() == (role not in ORGANISERS)
    response = client.post(url("volunteer-role-create", initiative), {"title": "Tea", "slots": "2"})
    assert VolunteerRole.objects.filter(title="Tea").exists() == (role in ORGANISERS)
    assert response.status_code in {302, 403, 404}


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_who_may_sign_up_and_withdraw(client, visibility, role):
    initiative = make_initiative(visibility=visibility)
    volunteer_role = VolunteerRoleFactory(initiative=initiative, title="Digging")
    user = as_role(client, role, initiative)
    response = client.post(url("volunteer-sign-up", initiative, volunteer_role), follow=True)
    signed_up = VolunteerSignup.objects.filter(role=volunteer_role).exists()
    assert signed_up == (role in MEMBERS)
    volunteer_role.refresh_from_db()
    assert volunteer_role.filled == (1 if role in MEMBERS else 0)
    if role == "visitor":
        assert response.redirect_chain[0][1] == 302
        assert reverse("account_login") in response.redirect_chain[0][0]
    elif expected_read(visibility, role) == 404:
        assert response.status_code == 404
    elif role in MEMBERS:
        assert "You have signed up as Digging" in " ".join(messages_of(response))
        client.post(url("volunteer-withdraw", initiative, volunteer_role))
        assert not VolunteerSignup.objects.filter(role=volunteer_role, user=user).exists()
        volunteer_role.refresh_from_db()
        assert volunteer_role.filled == 0
    else:
        assert "Only members of the group can volunteer" in " ".join(messages_of(response))


def test_sign_up_and_withdraw_only_take_posts(client):
    initiative = make_initiative()
    volunteer_role = VolunteerRoleFactory(initiative=initiative)
    client.force_login(MembershipFactory(group=initiative.group).user)
    assert client.get(url("volunteer-sign-up", initiative, volunteer_role)).status_code == 405
    assert client.get(url("volunteer-withdraw", initiative, volunteer_role)).status_code == 405
    assert not VolunteerSignup.objects.exists()


def test_a_role_of_another_initiative_is_not_found(client):
    initiative = make_initiative()
    elsewhere = VolunteerRoleFactory(initiative=make_initiative())
    client.force_login(initiative.lead)
    assert client.get(url("volunteer-role-edit", initiative, elsewhere)).status_code == 404
    assert client.post(url("volunteer-sign-up", initiative, elsewhere)).status_code == 404
    assert client.get(url("role-ics", initiative, elsewhere)).status_code == 404


def test_a_full_role_says_so_on_the_page_and_in_a_message(client):
    initiative = make_initiative()
    volunteer_role = VolunteerRoleFactory(initiative=initiative, slots=1, title="Treasurer")
    services.sign_up(user=MembershipFactory(group=initiative.group).user, role=volunteer_role)
    client.force_login(MembershipFactory(group=initiative.group).user)
    page = client.get(url("volunteer", initiative)).content.decode()
    assert "Full: the 1 place is taken" in page
    assert "Sign up as Treasurer" not in page
    response = client.post(url("volunteer-sign-up", initiative, volunteer_role), follow=True)
    assert messages_of(response) == ["All places for this role are taken."]
    assert VolunteerSignup.objects.count() == 1


def test_a_volunteer_sees_their_own_roles_and_can_withdraw(client):
    initiative = make_initiative()
    mine = VolunteerRoleFactory(initiative=initiative, title="Making tea")
    VolunteerRoleFactory(initiative=initiative, title="Digging")
    me = MembershipFactory(group=initiative.group).user
    services.sign_up(user=me, role=mine)
    client.force_login(me)
    content = client.get(url("volunteer", initiative)).content.decode()
    assert "You have signed up as" in content
    assert "Withdraw from Making tea" in content
    assert "Sign up as Digging" in content
    assert "Sign up as Making tea" not in content


def test_a_neighbourhood_wide_initiatives_page_points_non_members_to_their_street_group(client):
    here = GroupFactory()
    initiative = InitiativeFactory(group=None, neighbourhood=here.neighbourhood)
    VolunteerRoleFactory(initiative=initiative, title="Digging")
    client.force_login(UserFactory())
    content = client.get(url("volunteer", initiative)).content.decode()
    assert "Find your street group" in content
    assert "Sign up as Digging" not in content
    client.force_login(MembershipFactory(group=here).user)
    assert "Sign up as Digging" in client.get(url("volunteer", initiative)).content.decode()


def test_a_paused_initiative_shows_why_sign_ups_are_closed(client):
    initiative = make_initiative(status="paused")
    VolunteerRoleFactory(initiative=initiative, title="Digging")
    client.force_login(MembershipFactory(group=initiative.group).user)
    content = client.get(url("volunteer", initiative)).content.decode()
    assert "paused" in content
    assert "Sign up as Digging" not in content


# --- The role form ---------------------------------------------------------------------------------------------


def test_adding_a_role_reads_uk_time_and_stores_utc(client):
    initiative = make_initiative()
    client.force_login(initiative.lead)
    day = (timezone.now() + timedelta(days=60)).date().replace(month=7, day=4)
    if day <= timezone.now().date():
        day = day.replace(year=day.year + 1)
    response = client.post(
        url("volunteer-role-create", initiative),
        {
            "title": "Litter pick",
            "description": "Gloves provided",
            "slots": "12",
            "date": day.isoformat(),
            "start_time": "10:00",
            "end_time": "12:30",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url("volunteer", initiative)
    role = VolunteerRole.objects.get()
    # 10:00 in July is British Summer Time: 09:00 UTC.
    assert role.starts_at == datetime(day.year, 7, 4, 9, 0, tzinfo=UTC)
    assert role.ends_at == datetime(day.year, 7, 4, 11, 30, tzinfo=UTC)
    assert (role.title, role.slots, role.description) == ("Litter pick", 12, "Gloves provided")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"slots": "0"}, "slots", "at least 1 place"),
        ({"slots": "501"}, "slots", "up to 500 places"),
        ({"slots": "lots"}, "slots", "whole number"),
        ({"slots": ""}, "slots", "how many people"),
        ({"title": ""}, "title", "Give the role a title"),
        ({"start_time": "10:00"}, "date", "Enter the date"),
        ({"date": "2999-01-01", "start_time": "10:00"}, "date", "two years ahead"),
        ({"date": "2020-01-01", "start_time": "10:00"}, "date", "in the future"),
        ({"date": "NEXT", "start_time": "10:00"}, "date", "real date"),
        ({"date": "{soon}"}, "start_time", "Enter the start time"),
        ({"date": "{soon}", "start_time": "10:00", "end_time": "09:00"}, "end_time", "must end after it starts"),
        ({"date": "{soon}", "start_time": "10:00", "end_date": "{later}"}, "end_time", "Enter the end time"),
    ],
)
def test_a_bad_role_keeps_what_was_typed_and_explains(client, data, field, message):
    initiative = make_initiative()
    client.force_login(initiative.lead)
    soon = (timezone.now() + timedelta(days=5)).date().isoformat()
    later = (timezone.now() + timedelta(days=6)).date().isoformat()
    posted = {"title": "Keep this title", "description": "Keep this too", "slots": "4"} | {
        k: v.replace("{soon}", soon).replace("{later}", later) for k, v in data.items()
    }
    response = client.post(url("volunteer-role-create", initiative), posted)
    assert response.status_code == 200
    content = response.content.decode()
    assert re.search(r"<title>Error:", content)
    assert message.lower() in " ".join(str(e) for e in response.context["form"].errors[field]).lower()
    assert "Keep this too" in content
    if field != "title":
        assert 'value="Keep this title"' in content
    assert not VolunteerRole.objects.exists()


def test_lowering_places_below_sign_ups_on_the_form_is_explained(client):
    initiative = make_initiative()
    role = VolunteerRoleFactory(initiative=initiative, slots=4, title="Digging")
    for _ in range(3):
        services.sign_up(user=MembershipFactory(group=initiative.group).user, role=role)
    client.force_login(initiative.lead)
    edit = url("volunteer-role-edit", initiative, role)
    assert 'value="4"' in client.get(edit).content.decode()
    response = client.post(edit, {"title": "Digging beds", "slots": "2"})
    assert response.status_code == 200
    assert "3 people have already signed up" in response.content.decode()
    role.refresh_from_db()
    assert (role.title, role.slots) == ("Digging", 4)
    response = client.post(edit, {"title": "Digging beds", "slots": "3"})
    assert response.status_code == 302
    role.refresh_from_db()
    assert (role.title, role.slots, role.filled) == ("Digging beds", 3, 3)


def test_editing_a_dated_role_shows_its_uk_time_and_removing_asks_first(client):
    initiative = make_initiative()
    starts = datetime(timezone.now().year + 1, 1, 10, 14, 0, tzinfo=UTC)  # winter: UK time is UTC
    role = VolunteerRoleFactory(initiative=initiative, starts_at=starts, ends_at=starts + timedelta(hours=2))
    client.force_login(initiative.lead)
    form = client.get(url("volunteer-role-edit", initiative, role)).content.decode()
    assert 'value="14:00"' in form
    assert 'value="16:00"' in form
    confirm = client.get(url("volunteer-role-delete", initiative, role))
    assert "You cannot undo this" in confirm.content.decode()
    assert VolunteerRole.objects.filter(pk=role.pk).exists()
    response = client.post(url("volunteer-role-delete", initiative, role))
    assert response.status_code == 302
    assert not VolunteerRole.objects.filter(pk=role.pk).exists()


# --- Calendar files ----------------------------------------------------------------------------------------------


def test_a_dated_role_downloads_as_a_calendar_entry_in_uk_time(client):
    initiative = make_initiative(place="The allotments")
    starts = datetime(timezone.now().year + 1, 7, 4, 9, 0, tzinfo=UTC)  # 10:00 BST
    role = VolunteerRoleFactory(
        initiative=initiative, title="Pruning", starts_at=starts, ends_at=starts + timedelta(hours=2)
    )
    response = client.get(url("role-ics", initiative, role))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == f'attachment; filename="volunteer-role-{role.pk}.ics"'
    assert "Cache-Control" not in response or "no-store" not in response["Cache-Control"]
    calendar = Calendar.from_ical(response.content)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    entry = calendar.walk("VEVENT")[0]
    assert str(entry["uid"]) == f"volunteer-role-{role.pk}@{urlsplit(settings.SITE_URL).hostname}"
    assert str(entry["summary"]) == f"Pruning ({initiative.title})"
    assert str(entry["url"]) == settings.SITE_URL + url("volunteer", initiative) + f"#role-{role.pk}"
    assert str(entry["location"]) == "The allotments"
    start = entry.decoded("dtstart")
    assert start.hour == 10
    assert str(start.tzinfo) == "Europe/London"
    assert entry.decoded("dtend") - start == timedelta(hours=2)
    assert b"TZID=Europe/London" in response.content


def test_a_role_with_only_a_start_has_no_end_and_undated_roles_have_no_file(client):
    initiative = make_initiative()
    role = VolunteerRoleFactory(initiative=initiative, starts_at=timezone.now() + timedelta(days=3))
    entry = Calendar.from_ical(client.get(url("role-ics", initiative, role)).content).walk("VEVENT")[0]
    assert "dtend" not in entry
    undated = VolunteerRoleFactory(initiative=initiative)
    assert client.get(url("role-ics", initiative, undated)).status_code == 404
    page = client.get(url("volunteer", initiative)).content.decode()
    assert url("role-ics", initiative, role) in page
    assert url("role-ics", initiative, undated) not in page


def test_a_members_only_roles_file_is_kept_out_of_shared_caches(client):
    initiative = make_initiative(visibility=Group.Visibility.MEMBERS)
    role = dated_role(initiative)
    client.force_login(MembershipFactory(group=initiative.group).user)
    response = client.get(url("role-ics", initiative, role))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_calendar_entry_keeps_its_uid_and_a_sign_up_is_not_a_new_revision(client):
    initiative = make_initiative()
    role = dated_role(initiative)
    first = Calendar.from_ical(client.get(url("role-ics", initiative, role)).content).walk("VEVENT")[0]
    services.sign_up(user=MembershipFactory(group=initiative.group).user, role=role)
    second = Calendar.from_ical(client.get(url("role-ics", initiative, role)).content).walk("VEVENT")[0]
    assert str(first["uid"]) == str(second["uid"])
    assert first["sequence"] == second["sequence"]


# --- Query budgets -----------------------------------------------------------------------------------------------


def bulk_members(group: Group, count: int) -> list[User]:
    users = User.objects.bulk_create([User(email=f"vol{group.pk}-{n}@example.org", password="!") for n in range(count)])
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Volunteer {n}") for n, u in enumerate(users)])
    Membership.objects.bulk_create(
        [Membership(group=group, user=u, status="active", joined_at=timezone.now()) for u in users]
    )
    return users


def fill(initiative: Initiative, size: int, me: User) -> None:
    """`size` roles (half dated), `size` people signed up across them, and the viewer signed up to every role."""
    now = timezone.now()
    roles = VolunteerRole.objects.bulk_create(
        [
            VolunteerRole(
                initiative=initiative,
                title=f"Role {n}",
                slots=size + 2,
                starts_at=now + timedelta(days=n + 1) if n % 2 else None,
                ends_at=now + timedelta(days=n + 1, hours=2) if n % 2 else None,
            )
            for n in range(size)
        ]
    )
    people = bulk_members(initiative.group, size)
    signups = [VolunteerSignup(role=roles[n % size], user=u) for n, u in enumerate(people)]
    signups += [VolunteerSignup(role=role, user=me) for role in roles]
    VolunteerSignup.objects.bulk_create(signups)
    for role in roles:
        VolunteerRole.objects.filter(pk=role.pk).update(filled=role.signups.count())


@pytest.mark.parametrize("size", [5, 100])
@pytest.mark.parametrize("viewer", ["lead", "member", "visitor"])
def test_the_volunteer_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size, viewer):
    initiative = make_initiative()
    me = initiative.lead if viewer != "member" else MembershipFactory(group=initiative.group).user
    fill(initiative, size, me)
    if viewer != "visitor":
        client.force_login(me)
    # session, user, initiative, the viewer's role in it, officer?, member?, roles with "is mine", and for organisers
    # the people signed up with their profiles
    with django_assert_max_num_queries(8):
        response = client.get(url("volunteer", initiative))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('class="card volunteer-role"') == size
    if viewer == "lead":
        assert content.count('class="people__name"') == size * 2
    else:
        assert 'class="people__name"' not in content
    if viewer == "member":
        assert content.count("Withdraw from Role") == size
