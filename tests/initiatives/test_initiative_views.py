"""The initiative pages: who sees and does what (role by state), proposing, editing with conflicts, status, the
team, support, updates, discovery, and query budgets that do not grow with the data."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from initiatives.models import (
    Backing,
    Initiative,
    InitiativeRole,
    StatusChange,
    Support,
    TimelineEntry,
    Update,
)
from initiatives.services import initiatives as services
from neighbourhoods.models import Group, Membership
from notifications.models import Notification
from tests.factories import (
    CouncilMembershipFactory,
    CouncilOfferFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = [
    "visitor",
    "resident",
    "pending",
    "member",
    "lead",
    "co_organiser",
    "officer_here",
    "officer_elsewhere",
]
MEMBERS = {"member", "lead", "co_organiser"}
ORGANISERS = {"lead", "co_organiser"}
STATUSES = [value for value, _label in Initiative.Status.choices]
OPEN_TO_SUPPORT = {"idea", "planning", "active", "paused"}


def url(name, initiative=None, **query):
    address = reverse(f"initiatives:{name}", args=[initiative.slug] if initiative is not None else [])
    if query:
        address += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return address


def make(*, visibility="public", status="idea", **kwargs):
    """An initiative with a lead, a co-organiser and a supporter called Zebedee (a member)."""
    group = GroupFactory(visibility=visibility)
    initiative = InitiativeFactory(group=group, status=status, **kwargs)
    lead = MembershipFactory(group=group).user
    InitiativeRoleFactory(initiative=initiative, user=lead, role="lead", status="active")
    helper = MembershipFactory(group=group).user
    InitiativeRoleFactory(initiative=initiative, user=helper, role="co_organiser", status="active")
    zebedee = MembershipFactory(group=group, user__profile__display_name="Zebedee").user
    Support.objects.create(initiative=initiative, user=zebedee, note="Count me in")
    Initiative.objects.filter(pk=initiative.pk).update(support_count=1)
    initiative.refresh_from_db()
    return initiative, {"lead": lead, "co_organiser": helper}


def person(role, initiative, team):
    group = initiative.group
    if role == "visitor":
        return None
    if role in team:
        return team[role]
    if role == "resident":
        return UserFactory()
    if role == "pending":
        return MembershipFactory(group=group, status="pending").user
    if role == "member":
        return MembershipFactory(group=group).user
    if role == "officer_here":
        return CouncilMembershipFactory(council=initiative.neighbourhood.council).user
    return CouncilMembershipFactory().user  # an officer of another council


def as_role(client, role, initiative, team):
    user = person(role, initiative, team)
    if user is not None:
        client.force_login(user)
    return user


def sees(role, visibility) -> bool:
    return visibility == "public" or role in MEMBERS


# --- Reading: role by visibility -------------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", ["public", "members"])
@pytest.mark.parametrize("role", ROLES)
def test_who_sees_the_initiative_its_updates_and_its_team(client, role, visibility):
    initiative, team = make(visibility=visibility, title="Secret supper club")
    as_role(client, role, initiative, team)
    for page in (url("detail", initiative), url("updates", initiative)):
        response = client.get(page)
        if sees(role, visibility):
            assert response.status_code == 200, page
            assert "Secret supper club" in response.content.decode()
        else:
            assert response.status_code == 404, page
            assert b"Secret supper club" not in response.content
    team_page = client.get(url("team", initiative))
    if role == "visitor":
        assert team_page.status_code == 302
    else:
        assert team_page.status_code == (200 if sees(role, visibility) else 404)


@pytest.mark.parametrize("visibility", ["public", "members"])
@pytest.mark.parametrize("role", ROLES)
def test_members_only_initiatives_never_reach_lists_or_search_results_of_non_members(client, role, visibility):
    initiative, team = make(visibility=visibility, title="Secret supper club", summary="Fennel and figs.")
    as_role(client, role, initiative, team)
    everywhere = {"scope": "all"}
    for query in ({}, {"q": "supper"}, {"q": "fennel"}, {"category": initiative.category}, {"status": "idea"}):
        content = client.get(url("list"), everywhere | query).content.decode()
        assert ("Secret supper club" in content) == sees(role, visibility), query
        # Near me (the default for signed-in people) is narrower still: it never adds anything.
        if not sees(role, visibility):
            assert "Secret supper club" not in client.get(url("list"), query).content.decode()


@pytest.mark.parametrize("visibility", ["public", "members"])
@pytest.mark.parametrize("role", ROLES)
def test_supporters_names_are_for_members_and_the_count_for_everyone(client, role, visibility):
    initiative, team = make(visibility=visibility)
    as_role(client, role, initiative, team)
    response = client.get(url("detail", initiative))
    if not sees(role, visibility):
        assert response.status_code == 404
        return
    content = response.content.decode()
    assert "1 neighbour supports this" in content
    assert ("Zebedee" in content) == (role in MEMBERS)
    assert ("Count me in" in content) == (role in MEMBERS)
    assert ("Running this initiative" in content) == (role in ORGANISERS)
    assert ("Support this initiative</button>" in content) == (role in MEMBERS)
    # The team is public-facing: everyone who sees the initiative sees who runs it.
    assert team["lead"].profile.display_name in content


# --- Writing: role by state ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("role", ROLES)
def test_who_may_support_in_each_state(client, role, status):
    initiative, team = make(status=status)
    user = as_role(client, role, initiative, team)
    response = client.post(url("support", initiative), {"action": "support", "note": "Yes!"})
    assert response.status_code == 302
    if role == "visitor":
        assert response["Location"].startswith(reverse("account_login"))
        return
    assert response["Location"].startswith(url("detail", initiative))
    allowed = role in MEMBERS and status in OPEN_TO_SUPPORT
    assert Support.objects.filter(initiative=initiative, user=user).exists() == allowed
    assert Initiative.objects.get(pk=initiative.pk).support_count == (2 if allowed else 1)
    messages = [str(m) for m in response.wsgi_request._messages]
    if allowed:
        assert messages == ["Thank you for supporting this initiative!"]
    elif role in MEMBERS:
        assert messages == [f"This initiative is “{status.capitalize()}”, so it is no longer taking support."]
    else:
        assert messages == ["Only members of the group can support this initiative. Join the group first."]


@pytest.mark.parametrize("role", ROLES)
def test_non_members_cannot_support_a_members_only_initiative_and_learn_nothing(client, role):
    initiative, team = make(visibility="members")
    user = as_role(client, role, initiative, team)
    response = client.post(url("support", initiative), {"action": "support"})
    if role == "visitor":
        assert response.status_code == 302
    elif role in MEMBERS:
        assert response.status_code == 302
        assert Support.objects.filter(initiative=initiative, user=user).exists()
    else:
        assert response.status_code == 404
        assert not Support.objects.filter(initiative=initiative, user=user).exists()


@pytest.mark.parametrize("visibility", ["public", "members"])
@pytest.mark.parametrize("role", ROLES)
def test_who_may_open_the_organiser_pages(client, role, visibility):
    initiative, team = make(visibility=visibility)
    as_role(client, role, initiative, team)
    for page in (url("edit", initiative), url("update-create", initiative)):
        response = client.get(page)
        if role == "visitor":
            assert response.status_code == 302
        elif role in ORGANISERS:
            assert response.status_code == 200
        elif sees(role, visibility):
            assert response.status_code == 403
        else:
            assert response.status_code == 404


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("role", ROLES)
def test_who_may_change_the_status_in_each_state(client, role, status):
    initiative, team = make(status=status)
    as_role(client, role, initiative, team)
    following = sorted(Initiative.TRANSITIONS[status])
    target = following[0] if following else "idea"
    response = client.post(url("status", initiative), {"to_status": target})
    initiative.refresh_from_db()
    if role in ORGANISERS:
        assert response.status_code == 302
        assert initiative.status == (target if following else status)
        assert StatusChange.objects.filter(initiative=initiative).exists() == bool(following)
    else:
        assert response.status_code == (302 if role == "visitor" else 403)
        assert initiative.status == status
        assert not StatusChange.objects.exists()


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("role", ROLES)
def test_who_may_edit_and_post_updates_in_each_state(client, role, status):
    initiative, team = make(status=status)
    as_role(client, role, initiative, team)
    edit = client.post(
        url("edit", initiative),
        {"title": "Changed", "summary": "New words.", "category": "food", "place": "", "description": "", "version": 1},
    )
    update = client.post(url("update-create", initiative), {"title": "News", "body": "Something happened."})
    initiative.refresh_from_db()
    may = role in ORGANISERS and status != "archived"
    assert (initiative.title == "Changed") == may
    assert Update.objects.filter(initiative=initiative).exists() == may
    if role in ORGANISERS:
        assert edit.status_code == 302
        assert update.status_code == (302 if may else 200)
    else:
        assert edit.status_code == update.status_code == (302 if role == "visitor" else 403)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_lead_invites_and_hands_over(client, role):
    initiative, team = make()
    as_role(client, role, initiative, team)
    candidate = MembershipFactory(group=initiative.group).user
    invite = client.post(url("team", initiative), {"action": "invite", "invitee": candidate.pk})
    hand = client.post(url("team", initiative), {"action": "hand_over", "to_user": team["co_organiser"].pk})
    if role == "lead":
        assert invite.status_code == hand.status_code == 302
        assert InitiativeRole.objects.get(initiative=initiative, user=candidate).status == "invited"
        assert (
            InitiativeRole.objects.get(initiative=initiative, role="lead", status="active").user == team["co_organiser"]
        )
    else:
        assert invite.status_code == hand.status_code == (302 if role == "visitor" else 403)
        assert not InitiativeRole.objects.filter(user=candidate).exists()
        assert InitiativeRole.objects.get(initiative=initiative, role="lead", status="active").user == team["lead"]


# --- Proposing ------------------------------------------------------------------------------------------------------


def test_the_propose_page_offers_my_groups_and_neighbourhoods_and_preselects_the_group(client):
    home = GroupFactory(name="Moira Terrace")
    other = GroupFactory(name="Clifton Street")
    me = MembershipFactory(group=home).user
    MembershipFactory(group=other, user=me)
    MembershipFactory(group=GroupFactory(name="Not mine"), user=me, status="pending")
    client.force_login(me)
    response = client.get(url("create", group=home.slug))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Moira Terrace" in content
    assert "Clifton Street" in content
    assert "Not mine" not in content
    assert f"Everyone in {home.neighbourhood.name}" in content
    assert re.search(rf'value="group:{home.slug}"[^>]*checked', content)


def test_proposing_creates_the_initiative_and_goes_to_its_page(client):
    group = GroupFactory()
    me = MembershipFactory(group=group).user
    client.force_login(me)
    response = client.post(
        url("create"),
        {
            "where": f"group:{group.slug}",
            "title": "Lunch club",
            "summary": "Hot meals on Tuesdays.",
            "description": "At the *chapel* hall.",
            "category": "food",
            "place": "Chapel hall",
        },
    )
    initiative = Initiative.objects.get()
    assert response.status_code == 302
    assert response["Location"] == initiative.get_absolute_url()
    assert initiative.group == group
    page = client.get(response["Location"]).content.decode()
    assert "Lunch club" in page
    assert "<em>chapel</em>" in page
    assert "proposed this initiative" in page
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', page)


def test_a_neighbourhood_wide_proposal(client):
    group = GroupFactory()
    me = MembershipFactory(group=group).user
    client.force_login(me)
    response = client.post(
        url("create"),
        {
            "where": f"area:{group.neighbourhood.slug}",
            "title": "Area litter pick",
            "summary": "All streets.",
            "category": "streets",
        },
    )
    assert response.status_code == 302
    initiative = Initiative.objects.get()
    assert initiative.group is None
    assert initiative.neighbourhood == group.neighbourhood


def test_bad_input_on_the_propose_page_keeps_what_was_typed(client):
    group = GroupFactory()
    me = MembershipFactory(group=group).user
    stranger_group = GroupFactory()
    client.force_login(me)
    response = client.post(
        url("create"),
        {"where": f"group:{stranger_group.slug}", "title": "", "summary": "My words stay here", "category": "x"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error:" in content
    assert "Give the initiative a title." in content
    assert "Choose one of your street groups or neighbourhoods." in content
    assert "Choose one of the categories." in content
    assert "My words stay here" in content
    assert not Initiative.objects.exists()


def test_someone_without_a_group_is_told_to_join_one(client):
    client.force_login(UserFactory())
    response = client.get(url("create"))
    assert response.status_code == 200
    assert "join your street group first" in response.content.decode()
    assert client.post(url("create"), {"title": "x"}).status_code == 200
    assert not Initiative.objects.exists()


# --- Editing and conflicts ------------------------------------------------------------------------------------------


def edit_data(initiative, **changes):
    return {
        "title": initiative.title,
        "summary": initiative.summary,
        "description": initiative.description,
        "category": initiative.category,
        "place": initiative.place,
        "version": initiative.version,
        **changes,
    }


def test_the_edit_form_carries_the_version_and_saves(client):
    initiative, team = make()
    client.force_login(team["lead"])
    form = client.get(url("edit", initiative)).content.decode()
    assert re.search(r'<input type="hidden" name="version" value="1"', form)
    response = client.post(url("edit", initiative), edit_data(initiative, title="Bigger garden"))
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert (initiative.title, initiative.version) == ("Bigger garden", 2)


def test_a_stale_edit_shows_the_latest_version_and_what_was_typed_without_saving_it(client):
    initiative, team = make(title="Garden", summary="Original summary.")
    opened = edit_data(initiative)  # the lead opens the form at version 1
    services.edit_initiative(
        editor=team["co_organiser"], initiative=initiative, expected_version=1, summary="Helper's summary."
    )
    client.force_login(team["lead"])
    response = client.post(url("edit", initiative), {**opened, "title": "Lead's new title"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error:" in content
    assert "Someone else changed this initiative while you were editing." in content
    # The form holds the latest version, at its new version number…
    assert re.search(r'<input type="text" name="title" value="Garden"', content)
    assert "Helper&#x27;s summary." in content
    assert re.search(r'<input type="hidden" name="version" value="2"', content)
    # …and what the lead typed is shown beside it, not saved and not silently kept in the form.
    assert "Your changes were not saved" in content
    assert "Lead&#x27;s new title" in content
    initiative.refresh_from_db()
    assert (initiative.title, initiative.summary, initiative.version) == ("Garden", "Helper's summary.", 2)
    # Submitting the refreshed form works.
    again = client.post(url("edit", initiative), edit_data(initiative, title="Lead's new title"))
    assert again.status_code == 302
    initiative.refresh_from_db()
    assert (initiative.title, initiative.summary, initiative.version) == ("Lead's new title", "Helper's summary.", 3)


def test_a_tampered_version_is_an_error_not_a_crash(client):
    initiative, team = make()
    client.force_login(team["lead"])
    response = client.post(url("edit", initiative), edit_data(initiative, version="abc", title="X"))
    assert response.status_code == 200
    assert Initiative.objects.get(pk=initiative.pk).title != "X"


# --- Status ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_the_status_buttons_are_exactly_the_allowed_moves(client, status):
    initiative, team = make(status=status)
    client.force_login(team["co_organiser"])
    content = client.get(url("detail", initiative)).content.decode()
    offered = set(re.findall(r'name="to_status" value="(\w+)"', content))
    assert offered == Initiative.TRANSITIONS[status]


def test_a_refused_move_says_what_is_possible(client):
    initiative, team = make(status="idea")
    client.force_login(team["lead"])
    response = client.post(url("status", initiative), {"to_status": "completed"}, follow=True)
    assert "From here it can move to: Planning, Paused, Archived." in response.content.decode()
    response = client.post(url("status", initiative), {"to_status": "nonsense"}, follow=True)
    assert "Choose one of the statuses offered." in response.content.decode()
    assert Initiative.objects.get(pk=initiative.pk).status == "idea"


def test_a_move_shows_on_the_timeline_with_a_note_kept(client):
    initiative, team = make(status="idea")
    client.force_login(team["lead"])
    response = client.post(url("status", initiative), {"to_status": "planning", "note": "We have a plot"}, follow=True)
    content = response.content.decode()
    assert "The initiative is now “Planning”." in content
    assert f"{team['lead'].profile.display_name} moved this initiative to planning." in content
    assert StatusChange.objects.get(initiative=initiative).note == "We have a plot"


# --- The team -------------------------------------------------------------------------------------------------------


def test_the_invite_list_offers_members_not_yet_on_the_team_by_display_name(client):
    initiative, team = make()
    candidate = MembershipFactory(group=initiative.group, user__profile__display_name="Gwen at 12").user
    MembershipFactory(group=initiative.group, status="pending", user__profile__display_name="Pending Pat")
    MembershipFactory(user__profile__display_name="Elsewhere Ed")
    client.force_login(team["lead"])
    content = client.get(url("team", initiative)).content.decode()
    select = re.search(r'<select name="invitee".*?</select>', content, re.S).group(0)
    assert f'<option value="{candidate.pk}">Gwen at 12</option>' in select
    assert "Pending Pat" not in select
    assert "Elsewhere Ed" not in select
    assert f'value="{team["co_organiser"].pk}"' not in select
    assert f'value="{team["lead"].pk}"' not in select
    assert "@" not in select  # no email addresses


def test_inviting_accepting_and_stepping_down_through_the_pages(client):
    initiative, team = make()
    guest = MembershipFactory(group=initiative.group).user
    client.force_login(team["lead"])
    response = client.post(url("team", initiative), {"action": "invite", "invitee": guest.pk})
    assert response.status_code == 302
    assert Notification.objects.filter(event="initiative.invited", recipient=guest).exists()

    client.force_login(guest)
    detail = client.get(url("detail", initiative)).content.decode()
    assert "You are invited to help run this initiative" in detail
    client.post(url("team", initiative), {"action": "accept"})
    assert InitiativeRole.objects.get(initiative=initiative, user=guest).status == "active"
    assert client.get(url("edit", initiative)).status_code == 200

    client.post(url("team", initiative), {"action": "step_down"})
    assert InitiativeRole.objects.get(initiative=initiative, user=guest).status == "left"
    assert client.get(url("edit", initiative)).status_code == 403


def test_declining_and_a_bad_invite_choice(client):
    initiative, team = make()
    guest = MembershipFactory(group=initiative.group).user
    services.invite_co_organiser(lead=team["lead"], initiative=initiative, invitee=guest)
    client.force_login(guest)
    client.post(url("team", initiative), {"action": "decline"})
    assert InitiativeRole.objects.get(initiative=initiative, user=guest).status == "declined"
    client.force_login(team["lead"])
    outsider = UserFactory()
    response = client.post(url("team", initiative), {"action": "invite", "invitee": outsider.pk})
    assert response.status_code == 200
    assert "Choose someone from the list." in response.content.decode()
    assert "<title>Error:" in response.content.decode()
    response = client.post(url("team", initiative), {"action": "explode"})
    assert response.status_code == 302


def test_the_lead_cannot_step_down_but_can_hand_over(client):
    initiative, team = make()
    client.force_login(team["lead"])
    response = client.post(url("team", initiative), {"action": "step_down"}, follow=True)
    assert "always needs a lead" in response.content.decode()
    response = client.post(url("team", initiative), {"action": "hand_over", "to_user": team["co_organiser"].pk})
    assert response.status_code == 302
    leads = InitiativeRole.objects.filter(initiative=initiative, role="lead", status="active")
    assert [role.user for role in leads] == [team["co_organiser"]]
    response = client.post(url("team", initiative), {"action": "step_down"})
    assert InitiativeRole.objects.get(initiative=initiative, user=team["lead"]).status == "left"


# --- Support and updates --------------------------------------------------------------------------------------------


def test_support_with_a_note_then_withdraw(client):
    initiative, _team = make()
    me = MembershipFactory(group=initiative.group, user__profile__display_name="Nia").user
    client.force_login(me)
    client.post(url("support", initiative), {"action": "support", "note": "I have a wheelbarrow"})
    content = client.get(url("detail", initiative)).content.decode()
    assert "2 neighbours support this" in content
    assert "You support this initiative." in content
    assert "I have a wheelbarrow" in content
    assert "Withdraw my support" in content
    client.post(url("support", initiative), {"action": "withdraw"})
    assert not Support.objects.filter(user=me).exists()
    assert Initiative.objects.get(pk=initiative.pk).support_count == 1
    response = client.post(url("support", initiative), {"action": "support", "note": "x" * 300}, follow=True)
    assert response.status_code == 200
    assert not Support.objects.filter(user=me).exists()


def test_posting_an_update_lists_it_and_puts_it_on_the_timeline(client):
    initiative, team = make()
    client.force_login(team["lead"])
    response = client.post(url("update-create", initiative), {"title": "Beds dug", "body": "All *six* of them."})
    assert response.status_code == 302
    assert response["Location"] == url("updates", initiative)
    updates = client.get(url("updates", initiative)).content.decode()
    assert "Beds dug" in updates
    assert "<em>six</em>" in updates
    detail = client.get(url("detail", initiative)).content.decode()
    assert "posted an update: Beds dug" in detail
    assert Notification.objects.filter(event="initiative.update_posted").count() == 1  # Zebedee, the supporter


def test_an_empty_update_is_refused_with_the_typed_text_kept(client):
    initiative, team = make()
    client.force_login(team["lead"])
    response = client.post(url("update-create", initiative), {"title": "Only a title", "body": ""})
    assert response.status_code == 200
    assert "Write what has happened." in response.content.decode()
    assert "Only a title" in response.content.decode()
    assert not Update.objects.exists()


# --- Discover, badges -----------------------------------------------------------------------------------------------


def test_the_list_filters_and_shows_the_backed_badge(client):
    group = GroupFactory()
    garden = InitiativeFactory(group=group, title="Garden", category="green_spaces", status="active")
    InitiativeFactory(group=group, title="Lunch club", category="food", status="idea")
    offer = CouncilOfferFactory(council=group.neighbourhood.council)
    Backing.objects.create(offer=offer, initiative=garden, status="approved")
    content = client.get(url("list")).content.decode()
    assert "Garden" in content
    assert "Lunch club" in content
    assert f"Backed by {group.neighbourhood.council.name}" in content
    content = client.get(url("list"), {"category": "food"}).content.decode()
    assert "Lunch club" in content
    assert "Garden" not in content
    content = client.get(url("list"), {"status": "active"}).content.decode()
    assert "Garden" in content
    assert "Lunch club" not in content
    # Nonsense filters are ignored with a message, never a crash.
    response = client.get(url("list"), {"category": "nonsense", "status": "???"})
    assert response.status_code == 200
    assert "Choose one of the categories." in response.content.decode()
    detail = client.get(url("detail", garden)).content.decode()
    assert f"Backed by {group.neighbourhood.council.name}" in detail


def test_signed_in_people_see_initiatives_near_them_first(client):
    home = GroupFactory()
    far = GroupFactory()
    InitiativeFactory(group=home, title="Ours")
    InitiativeFactory(group=far, title="Far away")
    client.force_login(MembershipFactory(group=home).user)
    content = client.get(url("list")).content.decode()
    assert "Ours" in content
    assert "Far away" not in content
    content = client.get(url("list"), {"scope": "all"}).content.decode()
    assert "Far away" in content
    client.force_login(UserFactory())
    content = client.get(url("list")).content.decode()
    assert "See initiatives everywhere" in content


def test_a_neighbourhood_wide_initiative_page(client):
    area = NeighbourhoodFactory()
    lead = MembershipFactory(group=GroupFactory(neighbourhood=area)).user
    initiative = services.propose_initiative(proposer=lead, neighbourhood=area, title="Area fair", summary="All.")
    content = client.get(url("detail", initiative)).content.decode()
    assert f"Everyone in {area.name}" in content
    client.force_login(MembershipFactory(group=GroupFactory(neighbourhood=area)).user)
    assert "Support this initiative</button>" in client.get(url("detail", initiative)).content.decode()


# --- Query budgets --------------------------------------------------------------------------------------------------


def bulk_people(group: Group, count: int, prefix: str) -> list[User]:
    users = User.objects.bulk_create([User(email=f"{prefix}{n}@example.org", password="!") for n in range(count)])
    Profile.objects.bulk_create([Profile(user=u, display_name=f"{prefix.title()} {n}") for n, u in enumerate(users)])
    Membership.objects.bulk_create(
        [Membership(group=group, user=u, status="active", joined_at=timezone.now()) for u in users]
    )
    return users


def busy_initiative(size: int):
    """An initiative with `size` supporters, co-organisers, invitations, updates and timeline entries."""
    initiative, team = make()
    group = initiative.group
    supporters = bulk_people(group, size, f"fan{size}-")
    Support.objects.bulk_create([Support(initiative=initiative, user=u, note="Yes") for u in supporters])
    Initiative.objects.filter(pk=initiative.pk).update(support_count=size + 1)
    helpers = bulk_people(group, size, f"helper{size}-")
    InitiativeRole.objects.bulk_create(
        [
            InitiativeRole(initiative=initiative, user=u, role="co_organiser", status="active" if n % 2 else "invited")
            for n, u in enumerate(helpers)
        ]
    )
    Update.objects.bulk_create(
        [
            Update(
                initiative=initiative, author=team["lead"], title=f"Update {n}", body="News", body_html="<p>News</p>"
            )
            for n in range(size)
        ]
    )
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                initiative=initiative,
                kind="update",
                actor=team["lead"],
                message="%(name)s posted",
                params={"name": "X"},
            )
            for _ in range(size)
        ]
    )
    offer = CouncilOfferFactory(council=group.neighbourhood.council)
    Backing.objects.create(offer=offer, initiative=initiative, status="approved")
    return initiative, team


# session, user, initiative (with badge), viewer's role, officer check, membership check,
# own support, supporters' names, team, latest updates, timeline count, timeline page
DETAIL_BUDGET = 12


@pytest.mark.parametrize("size", [5, 100])
@pytest.mark.parametrize("viewer", ["lead", "member", "visitor"])
def test_the_initiative_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size, viewer):
    initiative, team = busy_initiative(size)
    if viewer == "lead":
        client.force_login(team["lead"])
    elif viewer == "member":
        client.force_login(MembershipFactory(group=initiative.group).user)
    with django_assert_max_num_queries(DETAIL_BUDGET):
        response = client.get(url("detail", initiative))
    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('class="timeline__entry') == min(size, 30)
    assert "Backed by" in content
    if viewer != "visitor":
        # Zebedee supported first; the page names the first 50 and counts the rest.
        assert content.count(f"Fan{size}-") == min(size, 49)
        assert ("and 51 more" in content) == (size == 100)
    else:
        assert f"Fan{size}-" not in content


# session, user, memberships for visibility + page (one query), count
LIST_BUDGET = 4


@pytest.mark.parametrize("size", [5, 100])
@pytest.mark.parametrize("query", [{}, {"q": "garden"}, {"scope": "all", "category": "green_spaces"}])
def test_the_list_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size, query):
    group = GroupFactory(visibility="members")
    me = MembershipFactory(group=group).user
    public = GroupFactory(neighbourhood=group.neighbourhood)
    Initiative.objects.bulk_create(
        [
            Initiative(
                group=group if n % 2 else public,
                neighbourhood=group.neighbourhood,
                title=f"Community garden {n}",
                slug=f"garden-{size}-{n}",
                summary="Growing together.",
                category="green_spaces",
            )
            for n in range(size)
        ]
    )
    offer = CouncilOfferFactory(council=group.neighbourhood.council)
    Backing.objects.bulk_create(
        [Backing(offer=offer, initiative=i, status="approved") for i in Initiative.objects.all()[:3]]
    )
    client.force_login(me)
    with django_assert_max_num_queries(LIST_BUDGET):
        response = client.get(url("list"), query)
    assert response.status_code == 200
    assert response.content.decode().count('class="card initiative-card"') == min(size, 20)


def count_queries(client, page: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page)
    assert response.status_code == 200
    return len(queries)


def test_query_counts_are_the_same_with_5_and_100_rows(client):
    counts = {}
    for size in (5, 100):
        initiative, team = busy_initiative(size)
        client.force_login(team["lead"])
        counts[size] = [
            count_queries(client, url("detail", initiative)),
            count_queries(client, url("detail", initiative) + "?timeline=2"),
            count_queries(client, url("updates", initiative)),
            count_queries(client, url("team", initiative)),
            count_queries(client, url("list")),
            count_queries(client, url("list") + "?q=garden"),
        ]
    assert counts[5] == counts[100]
