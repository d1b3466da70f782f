"""Privacy and access rules that hold across the initiative features."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from core.exceptions import DomainError
from initiatives.models import Initiative
from initiatives.selectors.initiatives import invite_candidates
from initiatives.services import asks, decisions, initiatives, updates, volunteering
from notifications.models import Notification
from tests.factories import (
    AskFactory,
    CouncilMembershipFactory,
    DecisionFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    VolunteerRoleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def initiative():
    initiative = InitiativeFactory(status="active")
    InitiativeRoleFactory(initiative=initiative, user=MembershipFactory(group=initiative.group).user)
    return initiative


def lead_of(initiative):
    return initiative.roles.get(role="lead").user


def test_the_public_timeline_never_names_volunteers_or_pledgers(initiative):
    member = MembershipFactory(group=initiative.group, user__profile__display_name="Pledger Pat").user
    volunteering.sign_up(user=member, role=VolunteerRoleFactory(initiative=initiative))
    asks.pledge(user=member, ask=AskFactory(initiative=initiative), amount=Decimal("4"))
    officer = CouncilMembershipFactory(council=initiative.neighbourhood.council).user
    for viewer in (None, officer):
        client = Client()
        if viewer is not None:
            client.force_login(viewer)
        html = client.get(initiative.get_absolute_url()).content.decode()
        assert "A neighbour volunteered as" in html
        assert "A neighbour pledged" in html
        assert "Pledger Pat" not in html


def test_a_neighbourhood_wide_lead_cannot_list_a_members_only_groups_members():
    open_group = GroupFactory()
    secret = GroupFactory(neighbourhood=open_group.neighbourhood, visibility="members")
    lead = MembershipFactory(group=open_group).user
    neighbour = MembershipFactory(group=open_group).user
    hidden = MembershipFactory(group=secret).user
    initiative = InitiativeFactory(group=None, neighbourhood=open_group.neighbourhood)
    InitiativeRoleFactory(initiative=initiative, user=lead)
    candidates = set(invite_candidates(initiative=initiative, lead=lead))
    assert neighbour in candidates
    assert hidden not in candidates
    # A lead who belongs to the members-only group may invite its members.
    insider = MembershipFactory(group=secret).user
    assert hidden in set(invite_candidates(initiative=initiative, lead=insider))


def test_people_who_left_a_members_only_group_hear_nothing_more_of_its_initiatives():
    initiative = InitiativeFactory(group__visibility="members", status="active")
    lead = MembershipFactory(group=initiative.group).user
    InitiativeRoleFactory(initiative=initiative, user=lead)
    stayed = MembershipFactory(group=initiative.group)
    left = MembershipFactory(group=initiative.group)
    for membership in (stayed, left):
        initiative.supports.create(user=membership.user)
    left.status = "removed"
    left.save()
    updates.post_update(author=lead, initiative=initiative, title="Secret plan", body="Members-only details")
    recipients = set(Notification.objects.filter(event="initiative.update_posted").values_list("recipient", flat=True))
    assert recipients == {stayed.user_id}


def test_a_lead_who_is_no_longer_a_member_cannot_organise(initiative):
    lead = lead_of(initiative)
    initiative.group.memberships.filter(user=lead).update(status="banned")
    with pytest.raises(DomainError):
        updates.post_update(author=lead, initiative=initiative, title="Still here", body="Hello")
    with pytest.raises(DomainError):
        initiatives.change_status(by=lead, initiative=initiative, to_status="paused")
    client = Client()
    client.force_login(lead)
    response = client.post(reverse("initiatives:update-create", args=[initiative.slug]), {"title": "x", "body": "y"})
    assert response.status_code in (403, 404)
    assert not initiative.updates.exists()
    initiative.refresh_from_db()
    assert initiative.status == "active"


def test_archived_initiatives_take_no_more_votes(initiative):
    decision = DecisionFactory(initiative=initiative)
    voter = MembershipFactory(group=initiative.group).user
    Initiative.objects.filter(pk=initiative.pk).update(status="archived")
    decision.refresh_from_db()
    with pytest.raises(DomainError, match="archived"):
        decisions.vote(user=voter, decision=decision, position="agree")
    assert not decision.votes.exists()


def test_the_admin_cannot_skip_the_lifecycle(admin_client, initiative):
    url = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="status"' not in page
