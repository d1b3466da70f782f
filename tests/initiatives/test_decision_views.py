"""Decision pages: who sees and does what (role matrix), the forms, and fixed query counts."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from initiatives.models import Decision, DecisionOption, Initiative, Vote
from initiatives.services import decisions as services
from neighbourhoods.models import Group, Membership
from tests.factories import (
    CouncilMembershipFactory,
    DecisionFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ["visitor", "resident", "pending", "member", "lead", "co_organiser", "officer", "other_officer"]
MEMBERS = {"member", "lead", "co_organiser"}  # see members-only initiatives, and vote
ORGANISERS = {"lead", "co_organiser"}
LONDON = ZoneInfo("Europe/London")


def make_initiative(visibility=Group.Visibility.PUBLIC) -> tuple[Initiative, User]:
    group = GroupFactory(visibility=visibility)
    initiative = InitiativeFactory(group=group, status="active", title="Orchard on Elm Street")
    lead = MembershipFactory(group=group).user
    InitiativeRoleFactory(initiative=initiative, user=lead, role="lead")
    return initiative, lead


def person(role: str, initiative: Initiative, lead: User) -> User | None:
    if role == "visitor":
        return None
    if role == "lead":
        return lead
    if role == "resident":
        return UserFactory()
    if role == "pending":
        return MembershipFactory(group=initiative.group, status="pending").user
    if role == "member":
        return MembershipFactory(group=initiative.group).user
    if role == "co_organiser":
        user = MembershipFactory(group=initiative.group).user
        InitiativeRoleFactory(initiative=initiative, user=user, role="co_organiser", status="active")
        return user
    if role == "officer":
        return CouncilMembershipFactory(council=initiative.neighbourhood.council).user
    return CouncilMembershipFactory().user  # an officer of another council


def sign_in(client, role, initiative, lead) -> User | None:
    user = person(role, initiative, lead)
    if user is not None:
        client.force_login(user)
    return user


def sees(visibility, role) -> bool:
    return visibility == Group.Visibility.PUBLIC or role in MEMBERS


def url(name, decision: Decision | None = None, initiative: Initiative | None = None) -> str:
    if decision is not None:
        return reverse(f"initiatives:{name}", args=[decision.initiative.slug, decision.pk])
    return reverse(f"initiatives:{name}", args=[initiative.slug])


def with_votes(initiative: Initiative, lead: User) -> Decision:
    decision = services.open_decision(
        organiser=lead,
        initiative=initiative,
        kind="proposal",
        question="Shall we plant pear trees?",
        closes_at=timezone.now() + timedelta(days=3),
    )
    for position, reason in (("agree", ""), ("agree", ""), ("disagree", "Pears attract wasps")):
        voter = MembershipFactory(group=initiative.group).user
        services.vote(user=voter, decision=decision, position=position, reason=reason)
    return decision


def title_of(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1).strip()


# --- Role matrix --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_decisions_and_their_results_are_seen_by_everyone_who_can_see_the_initiative(client, visibility, role):
    initiative, lead = make_initiative(visibility)
    decision = with_votes(initiative, lead)
    sign_in(client, role, initiative, lead)
    for page in (url("decisions", initiative=initiative), url("decision-detail", decision)):
        response = client.get(page)
        content = response.content.decode()
        if sees(visibility, role):
            assert response.status_code == 200, page
            assert "Shall we plant pear trees?" in content
            assert '<th scope="row">Agree' in content
            assert "Votes so far" in content
            assert "67%" in content  # 2 of 3 agree, in words as well as the meter
            assert "<meter" in content
        else:
            assert response.status_code == 404, page
            assert "pear trees" not in content


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_the_decision_page_offers_voting_to_members_and_closing_to_organisers(client, visibility, role):
    initiative, lead = make_initiative(visibility)
    decision = with_votes(initiative, lead)
    sign_in(client, role, initiative, lead)
    response = client.get(url("decision-detail", decision))
    if not sees(visibility, role):
        assert response.status_code == 404
        return
    content = response.content.decode()
    assert (f'action="{url("vote", decision)}"' in content) == (role in MEMBERS)
    assert (f'action="{url("decision-close", decision)}"' in content) == (role in ORGANISERS)
    if role == "visitor":
        assert "Sign in to vote" in content
    elif role not in MEMBERS:
        assert "Only members of the group can vote" in content
    # Reasons are members' words: shown without names, and only to people who take part.
    assert ("Pears attract wasps" in content) == (role in MEMBERS)


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_only_organisers_open_decisions(client, visibility, role):
    initiative, lead = make_initiative(visibility)
    sign_in(client, role, initiative, lead)
    page = url("decision-create", initiative=initiative)
    day = timezone.localdate() + timedelta(days=5)
    data = {"kind": "proposal", "question": "Paint the benches green?", "closes_on": day, "closes_time": "19:30"}
    get, post = client.get(page), client.post(page, data)
    if role == "visitor":
        assert get.status_code == post.status_code == 302
        assert get["Location"].startswith(reverse("account_login"))
    elif not sees(visibility, role):
        assert get.status_code == post.status_code == 404
    elif role in ORGANISERS:
        assert get.status_code == 200
        decision = Decision.objects.get()
        assert post.status_code == 302
        assert post["Location"] == url("decision-detail", decision)
        assert decision.closes_at == datetime.combine(day, time(19, 30), tzinfo=LONDON)
    else:
        assert get.status_code == post.status_code == 403
    if role not in ORGANISERS or not sees(visibility, role):
        assert not Decision.objects.exists()


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_only_members_vote(client, visibility, role):
    initiative, lead = make_initiative(visibility)
    decision = with_votes(initiative, lead)
    user = sign_in(client, role, initiative, lead)
    response = client.post(url("vote", decision), {"position": "agree", "reason": "Shade in summer"}, follow=False)
    mine = Vote.objects.filter(decision=decision, user=user) if user else Vote.objects.none()
    if role == "visitor":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif not sees(visibility, role):
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert response["Location"] == url("decision-detail", decision)
        followed = client.get(response["Location"]).content.decode()
        if role in MEMBERS:
            assert mine.get().position == "agree"
            assert "your vote is counted" in followed
        else:
            assert "Only members of the group can vote" in followed
    if role not in MEMBERS:
        assert not mine.exists()
    assert Vote.objects.filter(decision=decision).count() == 3 + (role in MEMBERS and sees(visibility, role))


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_only_organisers_close_a_decision_early(client, visibility, role):
    initiative, lead = make_initiative(visibility)
    decision = with_votes(initiative, lead)
    sign_in(client, role, initiative, lead)
    response = client.post(url("decision-close", decision))
    decision.refresh_from_db()
    if role == "visitor":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif not sees(visibility, role):
        assert response.status_code == 404
    elif role in ORGANISERS:
        assert response.status_code == 302
        assert decision.status == "closed"
        assert decision.outcome == "Agreed: 2 agree, 0 abstain, 1 disagree, 0 block."
        page = client.get(url("decision-detail", decision)).content.decode()
        assert "Voting has closed and the outcome is on the timeline." in page
        assert "Agreed: 2 agree" in page
        assert f'action="{url("vote", decision)}"' not in page
        again = client.post(url("decision-close", decision), follow=True)
        assert "already closed" in again.content.decode()
    else:
        assert response.status_code == 403
    if role not in ORGANISERS or not sees(visibility, role):
        assert decision.status == "open"


def test_the_methods_are_enforced(client):
    initiative, lead = make_initiative()
    decision = with_votes(initiative, lead)
    client.force_login(lead)
    assert client.get(url("vote", decision)).status_code == 405
    assert client.get(url("decision-close", decision)).status_code == 405


def test_a_decision_of_another_initiative_is_a_404(client):
    initiative, lead = make_initiative()
    other = with_votes(*make_initiative())
    client.force_login(lead)
    wrong = reverse("initiatives:decision-detail", args=[initiative.slug, other.pk])
    assert client.get(wrong).status_code == 404
    assert client.post(reverse("initiatives:vote", args=[initiative.slug, other.pk])).status_code == 404


# --- Voting through the page --------------------------------------------------------------------------------


def test_the_page_shows_my_vote_and_lets_me_change_it(client):
    initiative, lead = make_initiative()
    decision = with_votes(initiative, lead)
    me = MembershipFactory(group=initiative.group).user
    client.force_login(me)
    client.post(url("vote", decision), {"position": "disagree", "reason": "Too much shade"})
    page = client.get(url("decision-detail", decision)).content.decode()
    assert "You voted: Disagree" in page
    assert re.search(r'<input[^>]*value="disagree"[^>]*checked', page)
    assert "Too much shade" in page
    assert "Change my vote" in page
    client.post(url("vote", decision), {"position": "agree", "reason": ""})
    assert Vote.objects.filter(decision=decision, user=me).get().position == "agree"
    assert Vote.objects.filter(decision=decision).count() == 4


def test_a_block_without_a_reason_is_shown_again_with_the_problem(client):
    initiative, lead = make_initiative()
    decision = with_votes(initiative, lead)
    client.force_login(MembershipFactory(group=initiative.group).user)
    response = client.post(url("vote", decision), {"position": "block", "reason": "  "})
    assert response.status_code == 200
    assert title_of(response).startswith("Error:")
    content = response.content.decode()
    assert "Say why you are blocking" in content
    assert re.search(r'<input[^>]*value="block"[^>]*checked', content)
    assert Vote.objects.filter(decision=decision).count() == 3


def test_a_poll_vote_without_a_choice_keeps_the_reason_typed(client):
    initiative, lead = make_initiative()
    poll = services.open_decision(
        organiser=lead,
        initiative=initiative,
        kind="poll",
        question="Which day?",
        closes_at=timezone.now() + timedelta(days=2),
        options=["Saturday", "Sunday"],
    )
    other = services.open_decision(
        organiser=lead,
        initiative=initiative,
        kind="poll",
        question="Which colour?",
        closes_at=timezone.now() + timedelta(days=2),
        options=["Green", "Blue"],
    )
    client.force_login(MembershipFactory(group=initiative.group).user)
    response = client.post(url("vote", poll), {"reason": "I work weekdays"})
    assert response.status_code == 200
    assert "Choose one of the options." in response.content.decode()
    assert "I work weekdays" in response.content.decode()
    wrong = client.post(url("vote", poll), {"option": other.options.first().pk, "reason": "Hmm"})
    assert wrong.status_code == 200
    assert "not one of this poll&#x27;s options" in wrong.content.decode()
    assert not Vote.objects.exists()
    right = client.post(url("vote", poll), {"option": poll.options.get(label="Sunday").pk})
    assert right.status_code == 302
    assert Vote.objects.get().option.label == "Sunday"


def test_voting_after_the_close_is_refused_with_the_date(client):
    initiative, lead = make_initiative()
    decision = with_votes(initiative, lead)
    Decision.objects.filter(pk=decision.pk).update(closes_at=timezone.now() - timedelta(minutes=2))
    client.force_login(MembershipFactory(group=initiative.group).user)
    response = client.post(url("vote", decision), {"position": "agree"}, follow=True)
    content = response.content.decode()
    assert "Voting on this decision closed on" in content
    assert not title_of(response).startswith("Error:")
    empty = client.post(url("vote", decision), {}, follow=True)  # no "choose an option" error on a closed vote
    assert "Voting on this decision closed on" in empty.content.decode()
    assert "Choose agree" not in empty.content.decode()
    assert "The result is being recorded." in content
    assert Vote.objects.filter(decision=decision).count() == 3


# --- Opening through the form -------------------------------------------------------------------------------


def form_data(**changes) -> dict:
    data = {
        "kind": "poll",
        "question": "Which day for the litter pick?",
        "description": "We need *everyone*.",
        "closes_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "closes_time": "20:00",
        "option_1": "Saturday",
        "option_2": "Sunday",
    }
    return data | changes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"option_2": ""}, "A poll needs at least two options."),
        ({"option_2": " saturday "}, "Each option must be different"),
        ({"question": ""}, "Enter the question people are deciding."),
        ({"kind": ""}, "Choose a proposal or a poll."),
        ({"closes_on": "2025-02-30"}, "Enter a real date."),
        ({"closes_time": "8pm-ish"}, "Enter a time like 20:00."),
        ({"closes_on": (timezone.localdate() + timedelta(days=120)).isoformat()}, "up to 90 days"),
        ({"closes_on": (timezone.localdate() - timedelta(days=1)).isoformat()}, "at least an hour"),
    ],
)
def test_the_decision_form_explains_what_is_wrong_and_keeps_what_was_typed(client, changes, message):
    initiative, lead = make_initiative()
    client.force_login(lead)
    response = client.post(url("decision-create", initiative=initiative), form_data(**changes))
    assert response.status_code == 200
    assert title_of(response).startswith("Error:")
    content = response.content.decode()
    assert message in content
    if changes.get("question") != "":
        assert 'value="Which day for the litter pick?"' in content
    assert "We need *everyone*." in content
    assert not Decision.objects.exists()


def test_a_poll_opened_through_the_form_has_its_options_and_a_proposal_ignores_them(client):
    initiative, lead = make_initiative()
    client.force_login(lead)
    response = client.post(url("decision-create", initiative=initiative), form_data(option_3="Friday evening"))
    poll = Decision.objects.get()
    assert response["Location"] == url("decision-detail", poll)
    assert list(poll.options.values_list("label", flat=True)) == ["Saturday", "Sunday", "Friday evening"]
    client.post(url("decision-create", initiative=initiative), form_data(kind="proposal", question="Skip hire?"))
    proposal = Decision.objects.get(question="Skip hire?")
    assert proposal.kind == "proposal"
    assert not proposal.options.exists()


def test_the_form_page_has_labelled_option_inputs_and_uk_time_defaults(client):
    initiative, lead = make_initiative()
    client.force_login(lead)
    response = client.get(url("decision-create", initiative=initiative))
    content = response.content.decode()
    assert title_of(response).startswith("Open a decision")
    assert content.count('name="option_') == 10
    assert '<label for="id_option_10">Option 10' in content
    assert "<legend>Poll options</legend>" in content
    assert 'value="20:00"' in content


# --- The list -----------------------------------------------------------------------------------------------


def test_the_list_puts_open_decisions_first_and_shows_outcomes_and_my_vote(client):
    initiative, lead = make_initiative()
    me = MembershipFactory(group=initiative.group).user
    closed = with_votes(initiative, lead)
    Vote.objects.create(decision=closed, user=me, position="abstain")
    services.close_decision(decision=closed, by=lead)
    still_open = DecisionFactory(initiative=initiative, question="Open question?")
    client.force_login(me)
    content = client.get(url("decisions", initiative=initiative)).content.decode()
    assert content.index("Open question?") < content.index("Shall we plant pear trees?")
    assert "Agreed: 2 agree, 1 abstain, 1 disagree, 0 block." in content
    assert "Your vote: Abstain" in content
    assert "You have not voted yet." in content
    assert still_open.pk


def test_a_poll_result_names_the_leading_options_in_words(client):
    initiative, lead = make_initiative()
    poll = services.open_decision(
        organiser=lead,
        initiative=initiative,
        kind="poll",
        question="Which day?",
        closes_at=timezone.now() + timedelta(days=2),
        options=["Saturday", "Sunday", "Monday"],
    )
    saturday, sunday, _monday = poll.options.all()
    for option in (saturday, sunday):
        services.vote(user=MembershipFactory(group=initiative.group).user, decision=poll, option=option)
    content = client.get(url("decision-detail", poll)).content.decode()
    assert content.count("Most votes") == 2  # a tie is shown as a tie, in text
    services.close_decision(decision=poll, by=lead)
    content = client.get(url("decision-detail", poll)).content.decode()
    assert "A tie between “Saturday”, “Sunday” (votes: 1 each, 2 in total)." in content


# --- Query budgets ------------------------------------------------------------------------------------------


def bulk_members(group, count: int) -> list[User]:
    users = User.objects.bulk_create(
        [User(email=f"voter{group.pk}-{n}@example.org", password="!") for n in range(count)]
    )
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Voter {n}") for n, u in enumerate(users)])
    Membership.objects.bulk_create(
        [Membership(group=group, user=u, status="active", joined_at=timezone.now()) for u in users]
    )
    return users


def count_queries(client, page: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("size", [5, 100])
def test_the_decision_list_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    initiative, lead = make_initiative(Group.Visibility.MEMBERS)
    voters = bulk_members(initiative.group, 5)
    soon = timezone.now() + timedelta(days=2)
    decisions = Decision.objects.bulk_create(
        [
            Decision(
                initiative=initiative,
                kind="poll" if n % 2 else "proposal",
                question=f"Question {n}",
                closes_at=soon,
                status="closed" if n % 3 == 0 else "open",
                closed_at=timezone.now() if n % 3 == 0 else None,
                outcome="Agreed" if n % 3 == 0 else "",
            )
            for n in range(size)
        ]
    )
    options = DecisionOption.objects.bulk_create(
        [
            DecisionOption(decision=d, label=f"Option {k}", position=k)
            for d in decisions
            if d.kind == "poll"
            for k in (1, 2, 3)
        ]
    )
    first_option = {o.decision_id: o for o in reversed(options)}
    Vote.objects.bulk_create(
        [
            Vote(decision=d, user=u, position="" if d.kind == "poll" else "agree", option=first_option.get(d.pk))
            for d in decisions
            for u in [*voters, lead]
        ]
    )
    client.force_login(lead)
    # session, user, initiative, role, officer, membership, count, page (with my vote), options, vote counts
    with django_assert_max_num_queries(10):
        response = client.get(url("decisions", initiative=initiative))
    assert response.content.decode().count("Your vote:") == min(size, 20)
    assert count_queries(client, url("decisions", initiative=initiative) + "?page=2") <= 10


@pytest.mark.parametrize("size", [5, 120])
def test_the_decision_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    initiative, lead = make_initiative()
    poll = services.open_decision(
        organiser=lead,
        initiative=initiative,
        kind="poll",
        question="Which day?",
        closes_at=timezone.now() + timedelta(days=2),
        options=[f"Day {n}" for n in range(10)],
    )
    options = list(poll.options.all())
    voters = bulk_members(initiative.group, size)
    Vote.objects.bulk_create(
        [Vote(decision=poll, user=u, option=options[n % 10], reason=f"Reason {n}") for n, u in enumerate(voters)]
    )
    client.force_login(lead)
    # session, user, initiative, role, officer, membership, decision, options, my vote, counts, reasons
    with django_assert_max_num_queries(11):
        response = client.get(url("decision-detail", poll))
    content = response.content.decode()
    assert content.count('<th scope="row">Day') == 10
    assert content.count("Reason ") == min(size, 100)
    visitor_budget = count_queries(client.__class__(), url("decision-detail", poll))
    assert visitor_budget <= 6  # initiative, decision, options, counts (+ session handling)
