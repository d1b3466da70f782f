"""Decisions: opening them, voting, closing with an outcome, and the beat task that closes due ones."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone

from config.celery import app
from core.exceptions import DomainError
from initiatives import timeline
from initiatives.models import Decision, DecisionOption, Initiative, TimelineEntry, Vote
from initiatives.services import decisions as services
from initiatives.tasks import close_due_decisions as close_due_decisions_task
from neighbourhoods.models import Membership
from notifications.models import Category, Notification
from tests.factories import (
    CouncilMembershipFactory,
    DecisionFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

IN_A_WEEK = timedelta(days=7)


def make_initiative(**kwargs) -> tuple[Initiative, object]:
    """An active initiative in a public street group, and its lead (a member of the group)."""
    initiative = InitiativeFactory(status="active", **kwargs)
    lead = InitiativeRoleFactory(initiative=initiative, role="lead").user
    if initiative.group_id:
        MembershipFactory(group=initiative.group, user=lead)
    return initiative, lead


def member_of(initiative: Initiative, **kwargs):
    return MembershipFactory(group=initiative.group, **kwargs).user


def open_proposal(initiative, lead, **kwargs) -> Decision:
    return services.open_decision(
        organiser=lead,
        initiative=initiative,
        kind="proposal",
        question=kwargs.pop("question", "Shall we plant fruit trees?"),
        description=kwargs.pop("description", "Apples and **pears**."),
        closes_at=kwargs.pop("closes_at", timezone.now() + IN_A_WEEK),
        **kwargs,
    )


def open_poll(initiative, lead, options=("Saturday", "Sunday", "Monday evening"), **kwargs) -> Decision:
    return services.open_decision(
        organiser=lead,
        initiative=initiative,
        kind="poll",
        question=kwargs.pop("question", "Which day for the litter pick?"),
        closes_at=kwargs.pop("closes_at", timezone.now() + IN_A_WEEK),
        options=list(options),
        **kwargs,
    )


def options_of(decision: Decision) -> dict[str, DecisionOption]:
    return {option.label: option for option in decision.options.all()}


# --- Opening ------------------------------------------------------------------------------------------------


def test_a_lead_opens_a_proposal_recorded_on_the_timeline_and_members_are_told():
    initiative, lead = make_initiative()
    keen, quiet = member_of(initiative), member_of(initiative)
    pending = member_of(initiative, status="pending")
    elsewhere = MembershipFactory().user  # another group
    decision = open_proposal(initiative, lead)

    assert decision.kind == "proposal"
    assert decision.status == "open"
    assert decision.created_by == lead
    assert "<strong>pears</strong>" in decision.description_html
    assert not decision.options.exists()
    entry = TimelineEntry.objects.get(initiative=initiative, kind=TimelineEntry.Kind.DECISION_OPENED)
    assert entry.actor == lead
    assert "Shall we plant fruit trees?" in timeline.render(entry)
    assert entry.url.endswith(f"/decisions/{decision.pk}/")
    notified = set(Notification.objects.filter(event="decision.opened").values_list("recipient", flat=True))
    assert notified == {keen.pk, quiet.pk}  # not the organiser, nor pending members or other groups
    assert pending.pk not in notified
    assert elsewhere.pk not in notified
    note = Notification.objects.filter(event="decision.opened").first()
    assert note.category == Category.DECISIONS
    assert note.context["question"] == "Shall we plant fruit trees?"


def test_a_neighbourhood_wide_decision_tells_members_of_every_group_in_the_neighbourhood_once():
    area = NeighbourhoodFactory()
    one, two = GroupFactory(neighbourhood=area), GroupFactory(neighbourhood=area)
    initiative = InitiativeFactory(group=None, neighbourhood=area, status="planning")
    lead = InitiativeRoleFactory(initiative=initiative).user
    MembershipFactory(group=one, user=lead)
    in_one = MembershipFactory(group=one).user
    in_two = MembershipFactory(group=two).user
    in_both = MembershipFactory(group=one).user
    MembershipFactory(group=two, user=in_both)
    outsider = MembershipFactory().user  # a group in another neighbourhood
    open_proposal(initiative, lead)
    rows = list(Notification.objects.filter(event="decision.opened").values_list("recipient", flat=True))
    assert sorted(rows) == sorted([in_one.pk, in_two.pk, in_both.pk])
    assert outsider.pk not in rows


def test_the_people_to_tell_are_found_in_one_query(django_assert_num_queries):
    initiative, _lead = make_initiative()
    for _ in range(5):
        member_of(initiative)
    with django_assert_num_queries(1):
        assert len(list(services.eligible_voters(initiative))) == 6


def test_a_poll_keeps_its_options_in_order_trimmed_and_without_blanks():
    initiative, lead = make_initiative()
    decision = open_poll(initiative, lead, options=["  Saturday ", "", "Sunday", "   "])
    assert list(decision.options.values_list("label", "position")) == [("Saturday", 1), ("Sunday", 2)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["Only one"], "at least two options"),
        ([], "at least two options"),
        ([f"Option {n}" for n in range(11)], "up to ten options"),
        (["Saturday", "saturday"], "must be different"),
        (["Saturday", "  SATURDAY  "], "must be different"),
        (["Saturday", "x" * 121], "up to 120 characters"),
    ],
)
def test_a_poll_needs_two_to_ten_different_options(options, message):
    initiative, lead = make_initiative()
    with pytest.raises(DomainError, match=message):
        open_poll(initiative, lead, options=options)
    assert not Decision.objects.exists()
    assert not TimelineEntry.objects.exists()
    assert not Notification.objects.exists()


def test_ten_options_are_allowed():
    initiative, lead = make_initiative()
    decision = open_poll(initiative, lead, options=[f"Option {n}" for n in range(10)])
    assert decision.options.count() == 10


@pytest.mark.parametrize(
    ("ahead", "allowed"),
    [
        (timedelta(minutes=59), False),
        (timedelta(minutes=-5), False),
        (timedelta(hours=1, minutes=1), True),
        (timedelta(days=90) - timedelta(minutes=1), True),
        (timedelta(days=90, minutes=1), False),
        (timedelta(days=400), False),
    ],
)
def test_voting_stays_open_between_an_hour_and_ninety_days(ahead, allowed):
    initiative, lead = make_initiative()
    if allowed:
        assert open_proposal(initiative, lead, closes_at=timezone.now() + ahead).pk
    else:
        with pytest.raises(DomainError):
            open_proposal(initiative, lead, closes_at=timezone.now() + ahead)
        assert not Decision.objects.exists()


@pytest.mark.parametrize("role", ["member", "invited_co_organiser", "stepped_down_lead", "outsider"])
def test_only_the_lead_and_active_co_organisers_open_decisions(role):
    initiative, _lead = make_initiative()
    person = member_of(initiative)
    if role == "invited_co_organiser":
        InitiativeRoleFactory(initiative=initiative, user=person, role="co_organiser", status="invited")
    elif role == "stepped_down_lead":
        InitiativeRoleFactory(initiative=initiative, user=person, role="co_organiser", status="left")
    elif role == "outsider":
        person = UserFactory()
    with pytest.raises(DomainError, match="lead and co-organisers"):
        open_proposal(initiative, person)
    assert not Decision.objects.exists()


def test_an_active_co_organiser_opens_decisions():
    initiative, _lead = make_initiative()
    helper = member_of(initiative)
    InitiativeRoleFactory(initiative=initiative, user=helper, role="co_organiser", status="active")
    assert open_poll(initiative, helper).created_by == helper


def test_an_archived_initiative_opens_no_decisions():
    initiative, lead = make_initiative()
    Initiative.objects.filter(pk=initiative.pk).update(status="archived")
    initiative.refresh_from_db()
    with pytest.raises(DomainError, match="archived"):
        open_proposal(initiative, lead)


@pytest.mark.parametrize(("kind", "question"), [("referendum", "Trees?"), ("proposal", "   ")])
def test_a_decision_needs_a_kind_and_a_question(kind, question):
    initiative, lead = make_initiative()
    with pytest.raises(DomainError):
        services.open_decision(
            organiser=lead, initiative=initiative, kind=kind, question=question, closes_at=timezone.now() + IN_A_WEEK
        )
    assert not Decision.objects.exists()


# --- Voting -------------------------------------------------------------------------------------------------


def test_a_member_votes_once_and_may_change_their_vote_until_it_closes():
    initiative, lead = make_initiative()
    voter = member_of(initiative)
    decision = open_proposal(initiative, lead)
    first = services.vote(user=voter, decision=decision, position="agree")
    second = services.vote(user=voter, decision=decision, position="disagree", reason="Too much shade")
    assert second.pk == first.pk
    assert Vote.objects.filter(decision=decision).count() == 1
    stored = Vote.objects.get(decision=decision)
    assert (stored.position, stored.reason) == ("disagree", "Too much shade")


def test_a_poll_vote_can_move_to_another_option():
    initiative, lead = make_initiative()
    voter = member_of(initiative)
    decision = open_poll(initiative, lead)
    options = options_of(decision)
    services.vote(user=voter, decision=decision, option=options["Saturday"])
    services.vote(user=voter, decision=decision, option=options["Sunday"].pk)
    assert list(Vote.objects.values_list("option__label", "position")) == [("Sunday", "")]


@pytest.mark.parametrize("who", ["outsider", "pending", "banned", "officer", "anonymous"])
def test_only_members_of_the_group_vote(who):
    initiative, lead = make_initiative()
    decision = open_proposal(initiative, lead)
    if who == "outsider":
        person = MembershipFactory().user
    elif who in ("pending", "banned"):
        person = member_of(initiative, status=who)
    elif who == "officer":
        person = CouncilMembershipFactory(council=initiative.neighbourhood.council).user
    else:
        person = AnonymousUser()
    with pytest.raises(DomainError, match="Only members"):
        services.vote(user=person, decision=decision, position="agree")
    assert not Vote.objects.exists()


def test_members_of_any_group_in_the_neighbourhood_vote_on_a_neighbourhood_wide_decision():
    area = NeighbourhoodFactory()
    initiative = InitiativeFactory(group=None, neighbourhood=area, status="idea")
    lead = InitiativeRoleFactory(initiative=initiative).user
    neighbour = MembershipFactory(group=GroupFactory(neighbourhood=area)).user
    decision = open_proposal(initiative, lead)
    assert services.vote(user=neighbour, decision=decision, position="abstain").position == "abstain"


def test_voting_after_the_closing_time_is_refused_with_the_date():
    initiative, _lead = make_initiative()
    voter = member_of(initiative)
    when = timezone.now() - timedelta(minutes=1)
    decision = DecisionFactory(initiative=initiative, closes_at=when)  # due, but the task has not run yet
    with pytest.raises(DomainError, match="Voting on this decision closed on") as refused:
        services.vote(user=voter, decision=decision, position="agree")
    assert services.format_when(when) in refused.value.message
    assert not Vote.objects.exists()


def test_voting_on_a_closed_decision_is_refused_and_the_vote_stays_as_it_was():
    initiative, lead = make_initiative()
    voter = member_of(initiative)
    decision = open_proposal(initiative, lead)
    services.vote(user=voter, decision=decision, position="agree")
    services.close_decision(decision=decision, by=lead)
    with pytest.raises(DomainError, match="Voting on this decision closed on"):
        services.vote(user=voter, decision=decision, position="block", reason="Changed my mind")
    assert Vote.objects.get().position == "agree"


@pytest.mark.parametrize("position", ["", None, "maybe", "AGREE"])
def test_a_proposal_vote_must_be_a_real_position(position):
    initiative, lead = make_initiative()
    voter = member_of(initiative)
    decision = open_proposal(initiative, lead)
    with pytest.raises(DomainError, match="agree, abstain, disagree or block"):
        services.vote(user=voter, decision=decision, position=position)
    assert not Vote.objects.exists()


def test_a_proposal_takes_no_option():
    initiative, lead = make_initiative()
    voter = member_of(initiative)
    decision = open_proposal(initiative, lead)
    poll = open_poll(initiative, lead)
    with pytest.raises(DomainError):
        services.vote(user=voter, decision=decision, position="agree", option=poll.options.first())
    assert not Vote.objects.exists()


def test_a_block_needs_a_reason():
    initiative, lead = make_initiative()
    voter = member_of(initiative)
    decision = open_proposal(initiative, lead)
    with pytest.raises(DomainError, match="Say why you are blocking"):
        services.vote(user=voter, decision=decision, position="block", reason="   ")
    assert not Vote.objects.exists()
    vote = services.vote(user=voter, decision=decision, position="block", reason="The roots will lift the path")
    assert vote.position == "block"


def test_a_reason_has_a_length_limit():
    initiative, lead = make_initiative()
    decision = open_proposal(initiative, lead)
    with pytest.raises(DomainError, match="500 characters"):
        services.vote(user=member_of(initiative), decision=decision, position="agree", reason="x" * 501)


def test_a_poll_vote_must_be_one_of_its_own_options():
    initiative, lead = make_initiative()
    voter = member_of(initiative)
    poll = open_poll(initiative, lead)
    other = open_poll(initiative, lead, question="Which colour for the benches?", options=["Green", "Blue"])
    with pytest.raises(DomainError, match="not one of this poll's options"):
        services.vote(user=voter, decision=poll, option=other.options.first())
    with pytest.raises(DomainError, match="not one of this poll's options"):
        services.vote(user=voter, decision=poll, option=other.options.first().pk)
    for wrong in (None, "not-a-number"):
        with pytest.raises(DomainError, match="Choose one of the options"):
            services.vote(user=voter, decision=poll, option=wrong)
    with pytest.raises(DomainError, match="Choose one of the options"):
        services.vote(user=voter, decision=poll, position="agree", option=poll.options.first())
    assert not Vote.objects.exists()


# --- Closing ------------------------------------------------------------------------------------------------


def cast(decision: Decision, *positions: str) -> None:
    for position in positions:
        voter = member_of(decision.initiative)
        services.vote(user=voter, decision=decision, position=position, reason="Because" if position else "")


@pytest.mark.parametrize(
    ("positions", "outcome"),
    [
        ((), "No votes were cast."),
        (("agree", "agree", "disagree"), "Agreed: 2 agree, 0 abstain, 1 disagree, 0 block."),
        (("agree", "abstain", "abstain"), "Agreed: 1 agree, 2 abstain, 0 disagree, 0 block."),
        (("agree", "disagree"), "Not agreed: 1 agree, 0 abstain, 1 disagree, 0 block."),
        (("abstain", "abstain"), "Not agreed: 0 agree, 2 abstain, 0 disagree, 0 block."),
        (("disagree", "disagree", "agree"), "Not agreed: 1 agree, 0 abstain, 2 disagree, 0 block."),
        (("agree", "agree", "agree", "agree", "block"), "Blocked: 4 agree, 0 abstain, 0 disagree, 1 block."),
    ],
)
def test_closing_a_proposal_records_its_outcome_with_the_counts(positions, outcome):
    initiative, lead = make_initiative()
    decision = open_proposal(initiative, lead)
    cast(decision, *positions)
    closed = services.close_decision(decision=decision)
    assert closed.status == "closed"
    assert closed.closed_at is not None
    assert closed.outcome == outcome
    decision.refresh_from_db()
    assert decision.outcome == outcome
    entry = TimelineEntry.objects.get(initiative=initiative, kind=TimelineEntry.Kind.DECISION_CLOSED)
    assert timeline.render(entry) == f"Decision closed: “Shall we plant fruit trees?”. {outcome}"
    assert entry.actor is None  # closed on time, by the task


def poll_with_votes(counts: dict[str, int]) -> Decision:
    initiative, lead = make_initiative()
    decision = open_poll(initiative, lead, options=list(counts))
    options = options_of(decision)
    for label, count in counts.items():
        for _ in range(count):
            services.vote(user=member_of(initiative), decision=decision, option=options[label])
    return decision


@pytest.mark.parametrize(
    ("counts", "outcome"),
    [
        ({"Saturday": 3, "Sunday": 1, "Monday": 0}, "Chosen: “Saturday” (votes: 3 of 4)."),
        ({"Saturday": 2, "Sunday": 2, "Monday": 1}, "A tie between “Saturday”, “Sunday” (votes: 2 each, 5 in total)."),
        (
            {"Saturday": 1, "Sunday": 1, "Monday": 1},
            "A tie between “Saturday”, “Sunday”, “Monday” (votes: 1 each, 3 in total).",
        ),
        ({"Saturday": 0, "Sunday": 0}, "No votes were cast."),
    ],
)
def test_closing_a_poll_reports_the_winner_or_the_tie(counts, outcome):
    decision = poll_with_votes(counts)
    assert services.close_decision(decision=decision).outcome == outcome
    entry = TimelineEntry.objects.get(kind=TimelineEntry.Kind.DECISION_CLOSED)
    assert timeline.render(entry).endswith(outcome)


def test_closing_tells_the_voters_and_the_organisers_but_not_the_rest_or_whoever_closed_it():
    initiative, lead = make_initiative()
    helper = member_of(initiative)
    InitiativeRoleFactory(initiative=initiative, user=helper, role="co_organiser", status="active")
    voter, silent = member_of(initiative), member_of(initiative)
    decision = open_proposal(initiative, lead)
    services.vote(user=voter, decision=decision, position="agree")
    services.vote(user=helper, decision=decision, position="abstain")
    services.close_decision(decision=decision, by=lead)
    told = set(Notification.objects.filter(event="decision.closed").values_list("recipient", flat=True))
    assert told == {voter.pk, helper.pk}
    assert silent.pk not in told
    note = Notification.objects.filter(event="decision.closed").first()
    assert note.context["outcome"].startswith("Agreed")
    entry = TimelineEntry.objects.get(kind=TimelineEntry.Kind.DECISION_CLOSED)
    assert entry.actor == lead


def test_closing_tells_no_voter_or_organiser_who_has_since_left_the_group():
    initiative, lead = make_initiative()
    helper = member_of(initiative)
    InitiativeRoleFactory(initiative=initiative, user=helper, role="co_organiser", status="active")
    stays, leaves = member_of(initiative), member_of(initiative)
    decision = open_proposal(initiative, lead)
    for person in (stays, leaves, helper):
        services.vote(user=person, decision=decision, position="agree")
    Membership.objects.filter(user__in=[leaves, helper], group=initiative.group).update(status="left")
    services.close_decision(decision=decision, by=lead)
    told = set(Notification.objects.filter(event="decision.closed").values_list("recipient", flat=True))
    assert told == {stays.pk}


def test_closing_twice_changes_nothing_the_second_time():
    initiative, lead = make_initiative()
    decision = open_proposal(initiative, lead)
    cast(decision, "agree")
    first = services.close_decision(decision=decision, by=lead)
    again = services.close_decision(decision=decision, by=lead)
    assert again.closed_at == first.closed_at
    assert again.outcome == first.outcome
    assert TimelineEntry.objects.filter(kind=TimelineEntry.Kind.DECISION_CLOSED).count() == 1
    assert Notification.objects.filter(event="decision.closed").count() == 1


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_only_organisers_close_a_decision_early(who):
    initiative, lead = make_initiative()
    decision = open_proposal(initiative, lead)
    person = member_of(initiative) if who == "member" else UserFactory()
    with pytest.raises(DomainError, match="lead and co-organisers"):
        services.close_decision(decision=decision, by=person)
    decision.refresh_from_db()
    assert decision.status == "open"
    assert not TimelineEntry.objects.filter(kind=TimelineEntry.Kind.DECISION_CLOSED).exists()


# --- The beat task ------------------------------------------------------------------------------------------


def due_decisions(count: int, **kwargs) -> list[Decision]:
    initiative, _lead = make_initiative()
    past = timezone.now() - timedelta(minutes=10)
    return Decision.objects.bulk_create(
        [
            Decision(initiative=initiative, kind="proposal", question=f"Question {n}", closes_at=past, **kwargs)
            for n in range(count)
        ]
    )


def test_close_due_decisions_closes_only_those_past_their_time_and_is_safe_to_run_twice():
    due = due_decisions(5)
    initiative = due[0].initiative
    later = DecisionFactory(initiative=initiative, closes_at=timezone.now() + timedelta(hours=2))
    already = DecisionFactory(
        initiative=initiative, status="closed", outcome="Agreed", closed_at=timezone.now() - timedelta(days=1)
    )
    Decision.objects.filter(pk=already.pk).update(closes_at=timezone.now() - timedelta(days=2))
    assert services.close_due_decisions(batch_size=2) == 5  # in three batches
    assert set(Decision.objects.filter(status="closed").values_list("pk", flat=True)) == {
        *[d.pk for d in due],
        already.pk,
    }
    later.refresh_from_db()
    assert later.status == "open"
    already.refresh_from_db()
    assert already.outcome == "Agreed"  # untouched
    assert services.close_due_decisions() == 0
    assert TimelineEntry.objects.filter(kind=TimelineEntry.Kind.DECISION_CLOSED).count() == 5
    assert set(Decision.objects.filter(pk__in=[d.pk for d in due]).values_list("outcome", flat=True)) == {
        "No votes were cast."
    }


def test_the_celery_task_body_closes_due_decisions():
    due_decisions(3)
    assert close_due_decisions_task() == 3  # the task's body, run in-process
    assert close_due_decisions_task.run() == 0
    assert not Decision.objects.filter(status="open").exists()


def test_beat_runs_the_closing_task_every_five_minutes():
    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["initiatives.close_due_decisions"]
    assert entry["task"] == "initiatives.tasks.close_due_decisions"
    assert entry["task"] in app.tasks
    assert app.tasks[entry["task"]].run.__module__ == "initiatives.tasks"
    assert entry["schedule"] == crontab(minute="*/5")


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_close_each_decision_exactly_once():
    due = due_decisions(60)
    voter = member_of(due[0].initiative)
    for decision in due[:10]:
        Vote.objects.create(decision=decision, user=voter, position="agree")
    start = Barrier(2)

    def run(_):
        try:
            start.wait(timeout=30)
            return services.close_due_decisions(batch_size=7)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, range(2)))

    assert sum(results) == 60
    assert not Decision.objects.filter(status="open").exists()
    entries = TimelineEntry.objects.filter(kind=TimelineEntry.Kind.DECISION_CLOSED)
    assert entries.count() == 60
    assert entries.values("params__question").distinct().count() == 60
    lead = due[0].initiative.roles.get(role="lead").user
    told = Notification.objects.filter(event="decision.closed")
    assert told.filter(recipient=lead).count() == 60  # the organiser hears about every one, once
    assert told.filter(recipient=voter).count() == 10  # the voter about the ten they voted on
    assert told.count() == 70
    assert Decision.objects.filter(outcome__startswith="Agreed").count() == 10
    assert services.close_due_decisions() == 0


@pytest.mark.django_db
def test_a_closed_decisions_outcome_reads_in_the_readers_language():
    from django.utils import translation

    decision = DecisionFactory(kind="proposal")
    services.close_decision(decision=decision)
    decision.refresh_from_db()
    assert decision.outcome_text == "No votes were cast."
    with translation.override("cy"):
        assert decision.outcome_text != "No votes were cast."
        assert decision.outcome_text
