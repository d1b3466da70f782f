"""Outcomes: organisers record what a completed initiative achieved; everyone who can see it reads it."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from core.exceptions import DomainError
from initiatives import timeline
from initiatives.models import Initiative, Outcome, Support, TimelineEntry, VolunteerSignup
from initiatives.services import outcomes as services
from neighbourhoods.models import Group
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

ROLES = ["visitor", "resident", "member", "lead", "co_organiser", "officer", "other_officer"]
MEMBERS = {"member", "lead", "co_organiser"}
ORGANISERS = {"lead", "co_organiser"}


def make_initiative(status="completed", visibility=Group.Visibility.PUBLIC) -> tuple[Initiative, User]:
    group = GroupFactory(visibility=visibility)
    initiative = InitiativeFactory(group=group, status=status, title="Lunch club")
    lead = MembershipFactory(group=group).user
    InitiativeRoleFactory(initiative=initiative, user=lead, role="lead")
    return initiative, lead


def record(initiative, organiser, **changes) -> Outcome:
    values = {"people_involved": 40, "volunteer_hours": Decimal("120.5"), "what_changed": "Forty people eat together."}
    return services.record_outcome(organiser=organiser, initiative=initiative, **(values | changes))


# --- The service --------------------------------------------------------------------------------------------


def test_an_organiser_records_the_outcome_of_a_completed_initiative_on_the_timeline():
    initiative, lead = make_initiative()
    outcome = record(initiative, lead)
    assert (outcome.people_involved, outcome.volunteer_hours, outcome.recorded_by) == (40, Decimal("120.5"), lead)
    entry = TimelineEntry.objects.get(initiative=initiative, kind=TimelineEntry.Kind.OUTCOME)
    name = lead.profile.display_name
    assert timeline.render(entry) == f"{name} recorded the outcome: 40 people involved, 120.5 volunteer hours."
    assert entry.url == reverse("initiatives:outcome", args=[initiative.slug])


def test_recording_again_updates_the_same_outcome():
    initiative, lead = make_initiative()
    first = record(initiative, lead)
    helper = MembershipFactory(group=initiative.group).user
    InitiativeRoleFactory(initiative=initiative, user=helper, role="co_organiser", status="active")
    second = record(initiative, helper, people_involved=45, volunteer_hours="130", what_changed="  Forty-five.  ")
    assert second.pk == first.pk
    assert Outcome.objects.count() == 1
    stored = Outcome.objects.get()
    assert (stored.people_involved, stored.volunteer_hours, stored.what_changed) == (
        45,
        Decimal("130.0"),
        "Forty-five.",
    )
    assert stored.recorded_by == helper
    texts = [timeline.render(e) for e in TimelineEntry.objects.filter(kind=TimelineEntry.Kind.OUTCOME)]
    assert any("updated the outcome: 45 people involved, 130.0 volunteer hours" in text for text in texts)


@pytest.mark.parametrize("status", ["idea", "planning", "active", "paused", "archived"])
def test_only_a_completed_initiative_records_an_outcome(status):
    initiative, lead = make_initiative(status=status)
    with pytest.raises(DomainError, match="once the initiative is completed"):
        record(initiative, lead)
    assert not Outcome.objects.exists()
    assert not TimelineEntry.objects.exists()


@pytest.mark.parametrize("who", ["member", "resident", "invited", "officer"])
def test_only_organisers_record_the_outcome(who):
    initiative, _lead = make_initiative()
    if who == "member":
        person = MembershipFactory(group=initiative.group).user
    elif who == "invited":
        person = MembershipFactory(group=initiative.group).user
        InitiativeRoleFactory(initiative=initiative, user=person, role="co_organiser", status="invited")
    elif who == "officer":
        person = CouncilMembershipFactory(council=initiative.neighbourhood.council).user
    else:
        person = UserFactory()
    with pytest.raises(DomainError, match="lead and co-organisers"):
        record(initiative, person)
    assert not Outcome.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"people_involved": -1}, "between 0 and 100,000"),
        ({"people_involved": 100_001}, "between 0 and 100,000"),
        ({"people_involved": 2.5}, "whole number"),
        ({"people_involved": True}, "whole number"),
        ({"volunteer_hours": Decimal("-0.1")}, "between 0 and 1,000,000"),
        ({"volunteer_hours": Decimal("1000000.1")}, "between 0 and 1,000,000"),
        ({"volunteer_hours": Decimal("1.25")}, "one decimal place"),
        ({"volunteer_hours": "lots"}, "as a number"),
        ({"volunteer_hours": "NaN"}, "as a number"),
        ({"volunteer_hours": "Infinity"}, "as a number"),
        ({"what_changed": "   "}, "Say what changed"),
        ({"what_changed": "x" * 5001}, "5000 characters"),
    ],
)
def test_absurd_figures_are_refused_and_nothing_is_written(changes, message):
    initiative, lead = make_initiative()
    with pytest.raises(DomainError, match=message):
        record(initiative, lead, **changes)
    assert not Outcome.objects.exists()
    assert not TimelineEntry.objects.exists()


@pytest.mark.parametrize(
    ("people", "hours"), [(0, Decimal("0")), (100_000, Decimal("1000000")), (7, Decimal("2.50")), (7, 3)]
)
def test_the_limits_themselves_are_allowed(people, hours):
    initiative, lead = make_initiative()
    outcome = record(initiative, lead, people_involved=people, volunteer_hours=hours)
    outcome.refresh_from_db()
    assert outcome.people_involved == people
    assert outcome.volunteer_hours == Decimal(hours).quantize(Decimal("0.1"))


def test_the_suggestion_counts_each_supporter_volunteer_and_organiser_once(django_assert_num_queries):
    initiative, lead = make_initiative()
    helper = MembershipFactory(group=initiative.group).user
    InitiativeRoleFactory(initiative=initiative, user=helper, role="co_organiser", status="active")
    declined = MembershipFactory(group=initiative.group).user
    InitiativeRoleFactory(initiative=initiative, user=declined, role="co_organiser", status="declined")
    fan, keen, both = UserFactory(), UserFactory(), UserFactory()
    for person in (fan, both, lead):
        Support.objects.create(initiative=initiative, user=person)
    start = timezone.now() - timedelta(days=3)
    dated = VolunteerRoleFactory(initiative=initiative, starts_at=start, ends_at=start + timedelta(hours=2, minutes=30))
    undated = VolunteerRoleFactory(initiative=initiative)
    for role, person in ((dated, keen), (dated, both), (undated, keen)):
        VolunteerSignup.objects.create(role=role, user=person)
    type(dated).objects.filter(pk=dated.pk).update(filled=2)
    type(undated).objects.filter(pk=undated.pk).update(filled=1)
    Support.objects.create(initiative=InitiativeFactory(), user=UserFactory())  # another initiative's
    with django_assert_num_queries(2):  # people, then hours
        suggestion = services.suggest_outcome(initiative=initiative)
    assert suggestion.people_involved == 5  # lead, helper, fan, keen, both
    assert suggestion.volunteer_hours == Decimal("5.0")  # 2.5 hours x 2 people


def test_with_nobody_signed_up_the_suggestion_is_the_team_and_no_hours():
    initiative, _lead = make_initiative()
    suggestion = services.suggest_outcome(initiative=initiative)
    assert suggestion.people_involved == 1
    assert suggestion.volunteer_hours is None


# --- The page -----------------------------------------------------------------------------------------------


def person(role: str, initiative: Initiative, lead: User) -> User | None:
    if role == "visitor":
        return None
    if role == "lead":
        return lead
    if role == "member":
        return MembershipFactory(group=initiative.group).user
    if role == "co_organiser":
        user = MembershipFactory(group=initiative.group).user
        InitiativeRoleFactory(initiative=initiative, user=user, role="co_organiser", status="active")
        return user
    if role == "officer":
        return CouncilMembershipFactory(council=initiative.neighbourhood.council).user
    if role == "other_officer":
        return CouncilMembershipFactory().user
    return UserFactory()


def page(initiative) -> str:
    return reverse("initiatives:outcome", args=[initiative.slug])


FORM = {"people_involved": "30", "volunteer_hours": "75.5", "what_changed": "A weekly lunch for thirty neighbours."}


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_the_outcome_is_shown_to_everyone_who_can_see_the_initiative_and_only_organisers_edit_it(
    client, visibility, role
):
    initiative, lead = make_initiative(visibility=visibility)
    record(initiative, lead, what_changed="Lonely neighbours now eat together.")
    user = person(role, initiative, lead)
    if user is not None:
        client.force_login(user)
    response = client.get(page(initiative))
    sees = visibility == Group.Visibility.PUBLIC or role in MEMBERS
    if not sees:
        assert response.status_code == 404
        assert "Lonely neighbours" not in response.content.decode()
        assert client.post(page(initiative), FORM).status_code == 404
        return
    content = response.content.decode()
    assert response.status_code == 200
    assert "Lonely neighbours now eat together." in content
    assert "120.5" in content
    assert ('name="what_changed"' in content) == (role in ORGANISERS)
    posted = client.post(page(initiative), FORM)
    outcome = Outcome.objects.get()
    if role in ORGANISERS:
        assert posted.status_code == 302
        assert outcome.people_involved == 30
    else:
        assert posted.status_code == 403
        assert outcome.people_involved == 40


def test_organisers_get_the_form_with_the_suggestion_as_a_hint_and_default(client):
    initiative, lead = make_initiative()
    for _ in range(3):
        Support.objects.create(initiative=initiative, user=UserFactory())
    client.force_login(lead)
    content = client.get(page(initiative)).content.decode()
    assert "On this site, 4 people supported, volunteered or organised." in content
    assert re.search(r'<input[^>]*name="people_involved"[^>]*value="4"', content)
    assert "Record the outcome" in content
    response = client.post(page(initiative), FORM, follow=True)
    assert "The outcome is recorded." in response.content.decode()
    again = client.get(page(initiative)).content.decode()
    assert "Correct the outcome" in again
    assert re.search(r'<input[^>]*name="people_involved"[^>]*value="30"', again)
    client.post(page(initiative), FORM | {"volunteer_hours": "80"})
    assert Outcome.objects.get().volunteer_hours == Decimal("80.0")


@pytest.mark.parametrize("status", ["active", "paused", "planning"])
def test_before_completion_organisers_see_a_clear_note_instead_of_the_form(client, status):
    initiative, lead = make_initiative(status=status)
    client.force_login(lead)
    content = client.get(page(initiative)).content.decode()
    assert "You can record the outcome once the initiative is marked as completed." in content
    assert 'name="what_changed"' not in content
    response = client.post(page(initiative), FORM, follow=True)
    assert "Mark it as completed first." in response.content.decode()
    assert not Outcome.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"people_involved": "-1"}, "cannot be less than 0"),
        ({"people_involved": "100001"}, "up to 100,000"),
        ({"people_involved": "lots"}, "Enter a whole number"),
        ({"volunteer_hours": "1.25"}, "one decimal place"),
        ({"volunteer_hours": "-3"}, "cannot be less than 0"),
        ({"volunteer_hours": "2000000"}, "up to 1,000,000"),
        ({"volunteer_hours": "1e400"}, "up to 1,000,000"),
        ({"what_changed": ""}, "Say what changed"),
    ],
)
def test_bad_figures_are_explained_and_what_was_typed_is_kept(client, changes, message):
    initiative, lead = make_initiative()
    client.force_login(lead)
    response = client.post(page(initiative), FORM | changes)
    assert response.status_code == 200
    content = response.content.decode()
    assert re.search(r"<title>Error:", content)
    assert message in content
    if "what_changed" not in changes:
        assert "A weekly lunch for thirty neighbours." in content
    assert not Outcome.objects.exists()


@pytest.mark.parametrize("size", [5, 150])
def test_the_outcome_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    initiative, lead = make_initiative()
    users = User.objects.bulk_create([User(email=f"fan{n}@example.org", password="!") for n in range(size)])
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Fan {n}") for n, u in enumerate(users)])
    Support.objects.bulk_create([Support(initiative=initiative, user=u) for u in users])
    record(initiative, lead)
    client.force_login(lead)
    # session, user, initiative, role, officer, membership, outcome, suggestion (people, hours)
    with django_assert_max_num_queries(9):
        response = client.get(page(initiative))
    assert f"On this site, {size + 1} people" in response.content.decode()
    with CaptureQueriesContext(connection) as queries:
        assert client.__class__().get(page(initiative)).status_code == 200
    assert len(queries) <= 3  # a visitor: initiative and outcome
