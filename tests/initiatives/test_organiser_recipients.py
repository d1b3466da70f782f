"""Who hears what an initiative's organisers hear: the lead and accepted co-organisers who are still members where
the initiative lives. Someone who left the group, or was removed or banned from it, keeps their initiative role on
paper but has no organiser rights, and gets no more of the organisers' notifications."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from accounts.models import User
from initiatives.models import Initiative, InitiativeRole
from initiatives.selectors import is_organiser, organisers
from initiatives.services import asks, council, volunteering
from neighbourhoods.models import Group, Membership
from neighbourhoods.services import membership
from notifications.models import Notification
from tests.factories import (
    AskFactory,
    CouncilMembershipFactory,
    CouncilOfferFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    VolunteerRoleFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class Team:
    group: Group
    initiative: Initiative
    lead: User
    co_organiser: User
    group_organiser: User
    officer: User


def make_team(*, neighbourhood_wide: bool = False) -> Team:
    """An initiative with a lead and a co-organiser, both members of its street group (which has an organiser of its
    own), in a council's area with an officer. A neighbourhood-wide initiative lives in the whole area."""
    area = NeighbourhoodFactory()
    group = GroupFactory(neighbourhood=area)
    initiative = InitiativeFactory(
        group=None if neighbourhood_wide else group, neighbourhood=area, status="planning", support_count=50
    )
    lead, co_organiser = (
        InitiativeRoleFactory(initiative=initiative, role=role, membership=False).user
        for role in ("lead", "co_organiser")
    )
    for user in (lead, co_organiser):
        MembershipFactory(group=group, user=user)
    group_organiser = MembershipFactory(group=group, role="organiser").user
    officer = CouncilMembershipFactory(council=area.council).user
    return Team(group, initiative, lead, co_organiser, group_organiser, officer)


def end_membership(team: Team, user: User, how: str) -> None:
    """`user` leaves `team.group`, or its organiser removes or bans them, through the real services."""
    if how == "left":
        membership.leave_group(member=user, group=team.group)
    else:
        member = Membership.objects.get(group=team.group, user=user)
        action = membership.remove_member if how == "removed" else membership.ban_member
        action(organiser=team.group_organiser, membership=member)
    # The initiative role itself is untouched: only the membership rule takes them off the list.
    assert InitiativeRole.objects.get(initiative=team.initiative, user=user).status == InitiativeRole.Status.ACTIVE


def volunteer_signs_up(team: Team) -> str:
    volunteer = MembershipFactory(group=team.group).user
    volunteering.sign_up(user=volunteer, role=VolunteerRoleFactory(initiative=team.initiative, slots=3))
    return "initiative.volunteer_signed_up"


def neighbour_pledges(team: Team) -> str:
    ask = AskFactory(initiative=team.initiative, kind="money", title="Seeds", target=Decimal("200"), unit="")
    asks.pledge(user=MembershipFactory(group=team.group).user, ask=ask, amount="20")
    return "initiative.pledge_received"


def council_approves(team: Team, backing) -> str:
    council.approve_backing(officer=team.officer, backing=backing, message="Happy to help.")
    return "council.offer_approved"


def council_declines(team: Team, backing) -> str:
    council.decline_backing(officer=team.officer, backing=backing, message="Not this year.")
    return "council.offer_declined"


EVENTS = {
    "volunteer signed up": volunteer_signs_up,
    "pledge received": neighbour_pledges,
    "council offer approved": council_approves,
    "council offer declined": council_declines,
}


def happen(team: Team, event: str, *, after) -> set[int]:
    """Make `event` happen, with `after` run just before it (a request to the council is made while everyone is
    still an organiser), and return who was notified of it."""
    needs_request = event.startswith("council")
    backing = None
    if needs_request:
        offer = CouncilOfferFactory(council=team.initiative.neighbourhood.council, created_by=team.officer)
        backing = council.request_offer(by=team.lead, initiative=team.initiative, offer=offer)
    after()
    name = EVENTS[event](team, backing) if needs_request else EVENTS[event](team)
    return set(Notification.objects.filter(event=name).values_list("recipient_id", flat=True))


@pytest.mark.parametrize("event", EVENTS)
def test_the_lead_and_co_organisers_who_are_still_members_are_told(event):
    team = make_team()
    assert happen(team, event, after=lambda: None) == {team.lead.pk, team.co_organiser.pk}


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("how", ["left", "removed", "banned"])
@pytest.mark.parametrize("former", ["lead", "co_organiser"])
def test_an_organiser_no_longer_in_the_group_is_not_told(former, how, event):
    team = make_team()
    gone, staying = (team.lead, team.co_organiser) if former == "lead" else (team.co_organiser, team.lead)
    assert happen(team, event, after=lambda: end_membership(team, gone, how)) == {staying.pk}


def test_for_a_neighbourhood_wide_initiative_membership_of_any_street_group_in_the_area_counts():
    team = make_team(neighbourhood_wide=True)
    other_group = GroupFactory(neighbourhood=team.initiative.neighbourhood)
    MembershipFactory(group=other_group, user=team.lead)
    MembershipFactory(group=GroupFactory(), user=team.co_organiser)  # a group in another area does not count

    # Both leave the one street group: the lead is still a member elsewhere in the area, the co-organiser is not.
    def both_leave():
        end_membership(team, team.lead, "left")
        end_membership(team, team.co_organiser, "left")

    assert happen(team, "council offer approved", after=both_leave) == {team.lead.pk}


def test_the_list_agrees_with_organiser_rights_and_is_one_query(django_assert_num_queries):
    team = make_team()
    invited = InitiativeRoleFactory(initiative=team.initiative, role="co_organiser", status="invited").user
    stepped_down = InitiativeRoleFactory(initiative=team.initiative, role="co_organiser", status="left").user
    end_membership(team, team.co_organiser, "removed")
    everyone = [team.lead, team.co_organiser, invited, stepped_down, team.group_organiser, team.officer]

    with django_assert_num_queries(1):
        listed = {user.pk for user in organisers(team.initiative)}

    assert listed == {team.lead.pk}
    assert listed == {user.pk for user in everyone if is_organiser(user, team.initiative)}
