"""Proposing, editing, the lifecycle and the team of an initiative; and discovering initiatives."""

import itertools
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import IntegrityError, connection, transaction

from core.exceptions import DomainError
from initiatives import search
from initiatives.models import Initiative, InitiativeRole, StatusChange, TimelineEntry
from initiatives.selectors import initiatives as selectors
from initiatives.services import initiatives as services
from notifications.models import Notification
from tests.factories import (
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

STATUSES = [value for value, _label in Initiative.Status.choices]


def led(group=None, *, status="idea", **kwargs):
    """An initiative in `group` with an active lead who is a member. Returns (initiative, lead)."""
    group = group or GroupFactory()
    initiative = InitiativeFactory(group=group, status=status, **kwargs)
    lead = MembershipFactory(group=group).user
    InitiativeRoleFactory(initiative=initiative, user=lead, role="lead", status="active")
    return initiative, lead


def co_organiser_of(initiative):
    user = MembershipFactory(group=initiative.group).user
    InitiativeRoleFactory(initiative=initiative, user=user, role="co_organiser", status="active")
    return user


def propose(proposer, group=None, **kwargs):
    values = {"title": "Community garden", "summary": "A garden for everyone on the street."}
    return services.propose_initiative(proposer=proposer, group=group, **(values | kwargs))


def leads(initiative):
    return list(
        InitiativeRole.objects.filter(initiative=initiative, role="lead", status="active").values_list(
            "user_id", flat=True
        )
    )


# --- Propose --------------------------------------------------------------------------------------------------------


def test_a_member_proposes_an_initiative_and_becomes_its_lead():
    group = GroupFactory()
    proposer = MembershipFactory(group=group).user
    others = [MembershipFactory(group=group).user for _ in range(3)]
    MembershipFactory(group=group, status="pending")  # not yet a member: not told
    MembershipFactory()  # another group: not told

    initiative = propose(
        proposer,
        group,
        description="We need **compost**. <script>alert(1)</script>",
        category="green_spaces",
        place="  The plot behind the library ",
    )

    assert initiative.status == "idea"
    assert initiative.group == group
    assert initiative.neighbourhood == group.neighbourhood
    assert initiative.created_by == proposer
    assert initiative.version == 1
    assert initiative.place == "The plot behind the library"
    assert "<strong>compost</strong>" in initiative.description_html
    assert "<script>" not in initiative.description_html
    assert leads(initiative) == [proposer.pk]
    change = StatusChange.objects.get(initiative=initiative)
    assert (change.from_status, change.to_status, change.changed_by) == ("", "idea", proposer)
    entry = TimelineEntry.objects.get(initiative=initiative)
    assert entry.kind == "created"
    assert entry.params["name"] == proposer.profile.display_name
    notified = Notification.objects.filter(event="initiative.proposed", category="initiatives")
    assert set(notified.values_list("recipient_id", flat=True)) == {u.pk for u in others}
    assert notified.first().url == initiative.get_absolute_url()


@pytest.mark.parametrize("status", ["pending", "left", "removed", "banned"])
def test_only_active_members_may_propose(status):
    group = GroupFactory()
    person = MembershipFactory(group=group, status=status).user
    with pytest.raises(DomainError, match="Only members"):
        propose(person, group)
    with pytest.raises(DomainError, match="Only members"):
        propose(UserFactory(), group)
    assert not Initiative.objects.exists()
    assert not Notification.objects.exists()


def test_a_neighbourhood_wide_initiative_may_be_proposed_by_a_member_of_any_group_there():
    area = NeighbourhoodFactory()
    here, there = GroupFactory(neighbourhood=area), GroupFactory(neighbourhood=area)
    proposer = MembershipFactory(group=here).user
    neighbour = MembershipFactory(group=there).user
    initiative = services.propose_initiative(
        proposer=proposer, neighbourhood=area, title="Litter pick", summary="Across the whole area."
    )
    assert initiative.group is None
    assert initiative.neighbourhood == area
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [neighbour.pk]
    outsider = MembershipFactory().user
    with pytest.raises(DomainError, match="street group in"):
        services.propose_initiative(proposer=outsider, neighbourhood=area, title="Mine", summary="Not here.")


def test_proposing_needs_a_place_a_title_a_summary_and_a_real_category():
    group = GroupFactory()
    proposer = MembershipFactory(group=group).user
    with pytest.raises(DomainError):
        services.propose_initiative(proposer=proposer, title="Nowhere", summary="Somewhere?")
    with pytest.raises(DomainError, match="title"):
        propose(proposer, group, title="   ")
    with pytest.raises(DomainError, match="sentence"):
        propose(proposer, group, summary="")
    with pytest.raises(DomainError, match="categories"):
        propose(proposer, group, category="knitting")
    assert not Initiative.objects.exists()


def test_each_initiative_gets_its_own_lasting_address():
    group = GroupFactory()
    proposer = MembershipFactory(group=group).user
    first = propose(proposer, group, title="Street party!")
    second = propose(proposer, group, title="Street party")
    third = propose(proposer, group, title="Street   party")
    assert [first.slug, second.slug, third.slug] == ["street-party", "street-party-2", "street-party-3"]
    assert propose(proposer, group, title="New").slug == "new-initiative"
    assert propose(proposer, group, title="!!!").slug == "initiative"
    services.edit_initiative(editor=proposer, initiative=first, expected_version=1, title="Summer fair")
    first.refresh_from_db()
    assert first.slug == "street-party"


# --- Edit -----------------------------------------------------------------------------------------------------------


def test_organisers_edit_and_each_edit_bumps_the_version():
    initiative, lead = led()
    helper = co_organiser_of(initiative)
    services.edit_initiative(editor=lead, initiative=initiative, expected_version=1, title="Bigger garden")
    services.edit_initiative(
        editor=helper, initiative=initiative, expected_version=2, description="Now with *herbs*", place="The plot"
    )
    initiative.refresh_from_db()
    assert initiative.version == 3
    assert initiative.title == "Bigger garden"
    assert initiative.description_html == "<p>Now with <em>herbs</em></p>"
    assert initiative.place == "The plot"


def test_an_edit_from_a_stale_version_is_refused_and_nothing_is_overwritten():
    initiative, lead = led()
    helper = co_organiser_of(initiative)
    services.edit_initiative(editor=helper, initiative=initiative, expected_version=1, summary="Helper's summary")
    with pytest.raises(DomainError) as refused:
        services.edit_initiative(editor=lead, initiative=initiative, expected_version=1, summary="Lead's summary")
    assert isinstance(refused.value, services.EditConflict)
    assert refused.value.message == (
        "Someone else changed this initiative while you were editing. "
        "Here is the latest version: check it and make your changes again."
    )
    initiative.refresh_from_db()
    assert initiative.summary == "Helper's summary"
    assert initiative.version == 2


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_edits_from_the_same_version_let_exactly_one_through():
    initiative, lead = led()
    helper = co_organiser_of(initiative)
    start = Barrier(2)

    def edit(editor, title):
        try:
            start.wait(timeout=10)
            services.edit_initiative(editor=editor, initiative=initiative, expected_version=1, title=title)
            return "saved"
        except DomainError:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(edit, [lead, helper], ["Lead's title", "Helper's title"]))
    assert sorted(results) == ["refused", "saved"]
    initiative.refresh_from_db()
    assert initiative.version == 2
    assert initiative.title == ("Lead's title" if results[0] == "saved" else "Helper's title")


def test_editing_does_not_undo_support_or_status_changes_made_meanwhile():
    initiative, lead = led()
    stale = Initiative.objects.get(pk=initiative.pk)
    Initiative.objects.filter(pk=initiative.pk).update(support_count=7, status="planning")
    services.edit_initiative(editor=lead, initiative=stale, expected_version=1, title="New title")
    initiative.refresh_from_db()
    assert (initiative.support_count, initiative.status, initiative.title) == (7, "planning", "New title")


@pytest.mark.parametrize("who", ["member", "invited", "declined", "left", "stranger"])
def test_only_active_organisers_may_edit(who):
    initiative, _lead = led()
    user = MembershipFactory(group=initiative.group).user if who != "stranger" else UserFactory()
    if who in ("invited", "declined", "left"):
        InitiativeRoleFactory(initiative=initiative, user=user, role="co_organiser", status=who)
    with pytest.raises(DomainError, match="Only the lead and co-organisers"):
        services.edit_initiative(editor=user, initiative=initiative, expected_version=1, title="Hijacked")
    initiative.refresh_from_db()
    assert initiative.title != "Hijacked"
    assert initiative.version == 1


def test_an_archived_initiative_cannot_be_edited():
    initiative, lead = led(status="archived")
    with pytest.raises(DomainError, match="archived"):
        services.edit_initiative(editor=lead, initiative=initiative, expected_version=1, title="Back again")


# --- Lifecycle ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("from_status", "to_status"), list(itertools.product(STATUSES, STATUSES)))
def test_every_move_in_the_lifecycle_is_allowed_only_if_transitions_say_so(from_status, to_status):
    initiative, lead = led(status=from_status)
    allowed = to_status in Initiative.TRANSITIONS[from_status]
    if allowed:
        services.change_status(by=lead, initiative=initiative, to_status=to_status, note="  Ready to dig  ")
        initiative.refresh_from_db()
        assert initiative.status == to_status
        change = StatusChange.objects.get(initiative=initiative)
        assert (change.from_status, change.to_status, change.changed_by, change.note) == (
            from_status,
            to_status,
            lead,
            "Ready to dig",
        )
        entry = TimelineEntry.objects.get(initiative=initiative)
        assert entry.kind == "status"
        assert entry.actor == lead
        assert entry.message == services.STATUS_MESSAGES[to_status]
    else:
        with pytest.raises(DomainError) as refused:
            services.change_status(by=lead, initiative=initiative, to_status=to_status)
        following = Initiative.TRANSITIONS[from_status]
        # The message names every step that is possible from here (and only those).
        for value, label in Initiative.Status.choices:
            if value in following:
                assert str(label) in refused.value.message
        if not following:
            assert "cannot change any more" in refused.value.message
        initiative.refresh_from_db()
        assert initiative.status == from_status
        assert not StatusChange.objects.filter(initiative=initiative).exists()
        assert not TimelineEntry.objects.filter(initiative=initiative).exists()


def test_the_refusal_names_the_allowed_next_steps():
    initiative, lead = led(status="idea")
    with pytest.raises(DomainError) as refused:
        services.change_status(by=lead, initiative=initiative, to_status="completed")
    assert refused.value.message == (
        "An initiative at “Idea” cannot move to “Completed”. From here it can move to: Planning, Paused, Archived."
    )
    with pytest.raises(DomainError, match="Choose one of the statuses"):
        services.change_status(by=lead, initiative=initiative, to_status="finished")


def test_a_whole_life_is_recorded_in_order():
    group = GroupFactory()
    lead = MembershipFactory(group=group).user
    initiative = propose(lead, group)
    for step in ["planning", "active", "paused", "active", "completed", "archived"]:
        services.change_status(by=lead, initiative=initiative, to_status=step)
    moves = list(StatusChange.objects.filter(initiative=initiative).values_list("from_status", "to_status"))
    assert moves == [
        ("", "idea"),
        ("idea", "planning"),
        ("planning", "active"),
        ("active", "paused"),
        ("paused", "active"),
        ("active", "completed"),
        ("completed", "archived"),
    ]
    assert TimelineEntry.objects.filter(initiative=initiative).count() == 7


@pytest.mark.parametrize("who", ["member", "invited", "stranger"])
def test_only_organisers_change_the_status(who):
    initiative, _lead = led()
    user = UserFactory() if who == "stranger" else MembershipFactory(group=initiative.group).user
    if who == "invited":
        InitiativeRoleFactory(initiative=initiative, user=user, role="co_organiser", status="invited")
    with pytest.raises(DomainError, match="Only the lead and co-organisers"):
        services.change_status(by=user, initiative=initiative, to_status="planning")
    helper = co_organiser_of(initiative)
    services.change_status(by=helper, initiative=initiative, to_status="planning")
    assert Initiative.objects.get(pk=initiative.pk).status == "planning"


# --- The team -------------------------------------------------------------------------------------------------------


def test_the_lead_invites_and_the_invitee_accepts():
    initiative, lead = led()
    invitee = MembershipFactory(group=initiative.group).user
    role = services.invite_co_organiser(lead=lead, initiative=initiative, invitee=invitee)
    assert (role.role, role.status, role.invited_by) == ("co_organiser", "invited", lead)
    note = Notification.objects.get(event="initiative.invited")
    assert note.recipient == invitee
    assert note.category == "organising"
    services.accept_invitation(invitee=invitee, initiative=initiative)
    role.refresh_from_db()
    assert role.status == "active"
    assert services.is_organiser(invitee, initiative)
    assert leads(initiative) == [lead.pk]


def test_a_declined_invitation_can_be_sent_again_and_notifies_again():
    initiative, lead = led()
    invitee = MembershipFactory(group=initiative.group).user
    services.invite_co_organiser(lead=lead, initiative=initiative, invitee=invitee)
    services.decline_invitation(invitee=invitee, initiative=initiative)
    assert InitiativeRole.objects.get(initiative=initiative, user=invitee).status == "declined"
    services.invite_co_organiser(lead=lead, initiative=initiative, invitee=invitee)
    assert InitiativeRole.objects.get(initiative=initiative, user=invitee).status == "invited"
    assert Notification.objects.filter(event="initiative.invited", recipient=invitee).count() == 2


def test_invitations_are_refused_for_people_already_involved_or_not_members():
    initiative, lead = led()
    helper = co_organiser_of(initiative)
    waiting = MembershipFactory(group=initiative.group).user
    services.invite_co_organiser(lead=lead, initiative=initiative, invitee=waiting)
    with pytest.raises(DomainError, match="already helps run"):
        services.invite_co_organiser(lead=lead, initiative=initiative, invitee=helper)
    with pytest.raises(DomainError, match="already been invited"):
        services.invite_co_organiser(lead=lead, initiative=initiative, invitee=waiting)
    with pytest.raises(DomainError, match="already lead"):
        services.invite_co_organiser(lead=lead, initiative=initiative, invitee=lead)
    pending = MembershipFactory(group=initiative.group, status="pending").user
    for outsider in (UserFactory(), MembershipFactory().user, pending):
        with pytest.raises(DomainError, match="not a member here"):
            services.invite_co_organiser(lead=lead, initiative=initiative, invitee=outsider)
    member = MembershipFactory(group=initiative.group).user
    with pytest.raises(DomainError, match="Only the lead"):
        services.invite_co_organiser(lead=helper, initiative=initiative, invitee=member)
    assert Notification.objects.filter(event="initiative.invited").count() == 1


def test_a_neighbourhood_wide_initiative_takes_co_organisers_from_any_group_in_the_area():
    area = NeighbourhoodFactory()
    lead = MembershipFactory(group=GroupFactory(neighbourhood=area)).user
    initiative = services.propose_initiative(proposer=lead, neighbourhood=area, title="Area clean-up", summary="All.")
    neighbour = MembershipFactory(group=GroupFactory(neighbourhood=area)).user
    services.invite_co_organiser(lead=lead, initiative=initiative, invitee=neighbour)
    with pytest.raises(DomainError, match="not a member here"):
        services.invite_co_organiser(lead=lead, initiative=initiative, invitee=MembershipFactory().user)


def test_only_the_invitee_answers_and_only_while_still_a_member():
    initiative, lead = led()
    invitee = MembershipFactory(group=initiative.group)
    services.invite_co_organiser(lead=lead, initiative=initiative, invitee=invitee.user)
    with pytest.raises(DomainError, match="no invitation"):
        services.accept_invitation(invitee=UserFactory(), initiative=initiative)
    invitee.status = "left"
    invitee.save()
    with pytest.raises(DomainError, match="no longer a member"):
        services.accept_invitation(invitee=invitee.user, initiative=initiative)
    services.decline_invitation(invitee=invitee.user, initiative=initiative)
    with pytest.raises(DomainError, match="no invitation"):
        services.accept_invitation(invitee=invitee.user, initiative=initiative)


def test_a_co_organiser_steps_down_but_the_lead_must_hand_over_first():
    initiative, lead = led()
    helper = co_organiser_of(initiative)
    with pytest.raises(DomainError, match="always needs a lead"):
        services.step_down(co_organiser=lead, initiative=initiative)
    services.step_down(co_organiser=helper, initiative=initiative)
    assert InitiativeRole.objects.get(initiative=initiative, user=helper).status == "left"
    assert not services.is_organiser(helper, initiative)
    with pytest.raises(DomainError, match="do not help run"):
        services.step_down(co_organiser=helper, initiative=initiative)
    # Someone who stepped down can be invited back.
    services.invite_co_organiser(lead=lead, initiative=initiative, invitee=helper)
    services.accept_invitation(invitee=helper, initiative=initiative)
    assert services.is_organiser(helper, initiative)
    assert leads(initiative) == [lead.pk]


def test_handing_over_the_lead_swaps_roles_and_keeps_exactly_one_lead():
    initiative, lead = led()
    helper = co_organiser_of(initiative)
    services.hand_over_lead(lead=lead, initiative=initiative, to_user=helper)
    assert leads(initiative) == [helper.pk]
    assert InitiativeRole.objects.get(initiative=initiative, user=lead).role == "co_organiser"
    assert services.is_organiser(lead, initiative)
    # The old lead can now step down; the new one cannot.
    services.step_down(co_organiser=lead, initiative=initiative)
    with pytest.raises(DomainError, match="always needs a lead"):
        services.step_down(co_organiser=helper, initiative=initiative)
    assert leads(initiative) == [helper.pk]


def test_the_lead_goes_only_to_an_active_co_organiser():
    initiative, lead = led()
    invited = MembershipFactory(group=initiative.group).user
    services.invite_co_organiser(lead=lead, initiative=initiative, invitee=invited)
    member = MembershipFactory(group=initiative.group).user
    helper = co_organiser_of(initiative)
    for target in (invited, member, lead):
        with pytest.raises(DomainError):
            services.hand_over_lead(lead=lead, initiative=initiative, to_user=target)
    with pytest.raises(DomainError, match="Only the lead"):
        services.hand_over_lead(lead=helper, initiative=initiative, to_user=helper)
    assert leads(initiative) == [lead.pk]


def test_the_database_refuses_a_second_lead():
    initiative, _lead = led()
    with pytest.raises(IntegrityError), transaction.atomic():
        InitiativeRoleFactory(initiative=initiative, role="lead", status="active")


def test_there_is_always_exactly_one_lead_through_a_busy_life():
    group = GroupFactory()
    people = [MembershipFactory(group=group).user for _ in range(4)]
    initiative = propose(people[0], group)
    current = people[0]
    for person in people[1:]:
        services.invite_co_organiser(lead=current, initiative=initiative, invitee=person)
        services.accept_invitation(invitee=person, initiative=initiative)
        assert leads(initiative) == [current.pk]
        services.hand_over_lead(lead=current, initiative=initiative, to_user=person)
        assert leads(initiative) == [person.pk]
        services.step_down(co_organiser=current, initiative=initiative)
        current = person
    active = InitiativeRole.objects.filter(initiative=initiative, status="active")
    assert list(active.values_list("user_id", "role")) == [(current.pk, "lead")]


# --- Discover -------------------------------------------------------------------------------------------------------


def titles(queryset):
    return {initiative.title for initiative in queryset}


def test_members_only_groups_initiatives_are_listed_only_to_their_members():
    public = GroupFactory()
    private = GroupFactory(visibility="members", neighbourhood=public.neighbourhood)
    InitiativeFactory(group=public, title="Open garden")
    InitiativeFactory(group=private, title="Secret supper club")
    InitiativeFactory(group=None, neighbourhood=public.neighbourhood, title="Area litter pick")
    member = MembershipFactory(group=private).user
    pending = MembershipFactory(group=private, status="pending").user
    everyone = {"Open garden", "Area litter pick"}
    assert titles(selectors.list_initiatives(viewer=None)) == everyone
    assert titles(selectors.list_initiatives(viewer=UserFactory())) == everyone
    assert titles(selectors.list_initiatives(viewer=pending)) == everyone
    assert titles(selectors.list_initiatives(viewer=member)) == everyone | {"Secret supper club"}
    assert titles(selectors.list_initiatives(viewer=UserFactory(), text="supper")) == set()
    assert titles(selectors.list_initiatives(viewer=member, text="supper")) == {"Secret supper club"}


def test_near_me_keeps_my_groups_and_my_neighbourhoods():
    home = GroupFactory()
    next_door = GroupFactory(neighbourhood=home.neighbourhood)
    far_away = GroupFactory()
    me = MembershipFactory(group=home).user
    InitiativeFactory(group=home, title="Ours")
    InitiativeFactory(group=next_door, title="Next door")
    InitiativeFactory(group=None, neighbourhood=home.neighbourhood, title="Whole area")
    InitiativeFactory(group=far_away, title="Far away")
    assert titles(selectors.list_initiatives(viewer=me, scope="near")) == {"Ours", "Next door", "Whole area"}
    assert titles(selectors.list_initiatives(viewer=me, scope="all")) == {"Ours", "Next door", "Whole area", "Far away"}
    assert titles(selectors.list_initiatives(viewer=UserFactory(), scope="near")) == set()


def test_filters_by_category_and_status_and_hides_archived_unless_asked():
    group = GroupFactory()
    InitiativeFactory(group=group, title="Garden", category="green_spaces", status="active")
    InitiativeFactory(group=group, title="Lunch club", category="food", status="planning")
    InitiativeFactory(group=group, title="Old fair", category="arts", status="archived")
    assert titles(selectors.list_initiatives(viewer=None)) == {"Garden", "Lunch club"}
    assert titles(selectors.list_initiatives(viewer=None, category="food")) == {"Lunch club"}
    assert titles(selectors.list_initiatives(viewer=None, status="active")) == {"Garden"}
    assert titles(selectors.list_initiatives(viewer=None, status="archived")) == {"Old fair"}
    assert titles(selectors.list_initiatives(viewer=None, category="food", status="active")) == set()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search runs on PostgreSQL")
def test_full_text_search_finds_words_in_the_title_summary_and_description():
    group = GroupFactory()
    InitiativeFactory(group=group, title="Community gardens", summary="Growing food.", description="")
    InitiativeFactory(group=group, title="Lunch club", summary="Hot meals for older neighbours.", description="")
    InitiativeFactory(
        group=group, title="Street party", summary="Once a year.", description="Bring bunting and a **trestle** table"
    )
    InitiativeFactory(group=group, title="Gardd gymunedol", summary="Tyfu bwyd gyda'n gilydd.", description="")
    assert titles(selectors.list_initiatives(viewer=None, text="garden")) == {"Community gardens"}  # stemmed
    assert titles(selectors.list_initiatives(viewer=None, text="meals")) == {"Lunch club"}  # summary
    assert titles(selectors.list_initiatives(viewer=None, text="trestle")) == {"Street party"}  # description
    assert titles(selectors.list_initiatives(viewer=None, text="gymunedol")) == {"Gardd gymunedol"}  # Welsh
    assert titles(selectors.list_initiatives(viewer=None, text="bwyd")) == {"Gardd gymunedol"}
    assert titles(selectors.list_initiatives(viewer=None, text="bunting table")) == {"Street party"}
    assert titles(selectors.list_initiatives(viewer=None, text="skatepark")) == set()
    # Odd punctuation is searched as words, never an error.
    assert titles(selectors.list_initiatives(viewer=None, text="'\"garden & | ! (")) == {"Community gardens"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search runs on PostgreSQL")
def test_search_puts_title_matches_first():
    group = GroupFactory()
    InitiativeFactory(group=group, title="Lunch club", summary="With a little garden.")
    InitiativeFactory(group=group, title="Garden club", summary="Every Saturday.")
    found = [i.title for i in selectors.list_initiatives(viewer=None, text="garden")]
    assert found == ["Garden club", "Lunch club"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search runs on PostgreSQL")
def test_an_edit_is_searchable_at_once_and_the_old_words_are_not():
    initiative, lead = led()
    services.edit_initiative(
        editor=lead,
        initiative=initiative,
        expected_version=1,
        title="Orchard",
        summary="Fruit for the street.",
        description="Apple *trees*",
    )
    assert titles(selectors.list_initiatives(viewer=None, text="orchards")) == {"Orchard"}
    assert titles(selectors.list_initiatives(viewer=None, text="apple")) == {"Orchard"}
    assert titles(selectors.list_initiatives(viewer=None, text="garden")) == set()
    # Rows written in bulk, as the demo and imports write them, are searchable too: the database keeps the document.
    Initiative.objects.filter(pk=initiative.pk).update(summary="A skatepark")
    assert titles(selectors.list_initiatives(viewer=None, text="skatepark")) == {"Orchard"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search runs on PostgreSQL")
def test_a_search_reads_the_index_instead_of_every_initiative():
    group = GroupFactory()
    InitiativeFactory(group=group, title="Community gardens")
    found = selectors.list_initiatives(viewer=None, text="garden")
    with connection.cursor() as cursor:
        # A handful of rows: leave the planner only the search index, or reading every row, to find the matches.
        for path in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{path} = off")
        sql, params = found.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert search.INDEX_NAME in plan, plan
    # The page never loads the document itself: only the database reads it.
    assert "search_document" in found.get().get_deferred_fields()


def test_the_contains_search_used_without_postgresql(monkeypatch):
    group = GroupFactory()
    InitiativeFactory(group=group, title="Community gardens", summary="Growing food.", description="")
    InitiativeFactory(group=group, title="Lunch club", summary="Hot meals.", description="Near the garden gate")
    monkeypatch.setattr(search, "connection", type("Sqlite", (), {"vendor": "sqlite"})())
    assert titles(selectors.list_initiatives(viewer=None, text="GARDEN")) == {"Community gardens", "Lunch club"}
    assert titles(selectors.list_initiatives(viewer=None, text="garden gate")) == {"Lunch club"}


def test_the_list_shows_each_initiative_once_whatever_the_memberships():
    group = GroupFactory(visibility="members")
    me = MembershipFactory(group=group).user
    for _ in range(3):
        MembershipFactory(group=group)
    InitiativeFactory(group=group)
    assert selectors.list_initiatives(viewer=me).count() == 1
    assert selectors.list_initiatives(viewer=me, scope="near").count() == 1


def test_group_initiatives_are_the_groups_current_ones_in_one_query(django_assert_num_queries):
    group = GroupFactory()
    for n in range(5):
        InitiativeFactory(group=group, title=f"Now {n}")
    InitiativeFactory(group=group, title="Gone", status="archived")
    InitiativeFactory(title="Elsewhere")
    with django_assert_num_queries(1):
        latest = list(selectors.group_initiatives(group=group)[:3])
        assert [i.title for i in latest] == ["Now 4", "Now 3", "Now 2"]
        assert [i.backed for i in latest] == [False, False, False]
        assert {i.group.name for i in latest} == {group.name}
