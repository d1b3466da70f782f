import pytest
from django.test import Client
from django.urls import reverse

from neighbourhoods.models import Group, JoinCode, Membership
from tests.factories import (
    GroupFactory,
    JoinCodeFactory,
    MembershipFactory,
    PostcodeFactory,
    PostFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def world():
    """One group and a person in every role towards it."""
    postcode = PostcodeFactory(code="CF24 2AA")
    group = GroupFactory(neighbourhood=postcode.neighbourhood, join_policy="approval", postcodes=[postcode])
    other_group = GroupFactory()
    people = {
        "visitor": None,
        "resident": UserFactory(),
        "pending": MembershipFactory(group=group, status="pending", verified_at=None).user,
        "member": MembershipFactory(group=group).user,
        "banned": MembershipFactory(group=group, status="banned").user,
        "organiser": MembershipFactory(group=group, role="organiser").user,
        "other_organiser": MembershipFactory(group=other_group, role="organiser").user,
    }
    return group, people


# --- Finding a group ----------------------------------------------------------------------------------------------


def test_a_covered_postcode_shows_its_neighbourhood_and_groups_with_member_counts(client, world):
    group, _ = world
    response = client.get(reverse("neighbourhoods:find"), {"postcode": "cf242aa"})
    html = response.content.decode()
    assert f"CF24 2AA is in {group.neighbourhood.name}" in html
    assert group.name in html
    assert "2 members" in html  # member and organiser and... active only
    assert group.get_absolute_url() in html


def test_a_members_only_group_is_listed_without_its_member_count(client, world):
    group, _ = world
    Group.objects.filter(pk=group.pk).update(visibility="members")
    html = client.get(reverse("neighbourhoods:find"), {"postcode": "CF24 2AA"}).content.decode()
    assert group.name in html
    assert "members</p>" not in html.replace("Members-only", "")
    assert "Members-only group" in html


def test_a_covered_postcode_without_groups_invites_you_to_start_one(client):
    PostcodeFactory(code="CF11 6AB")
    html = client.get(reverse("neighbourhoods:find"), {"postcode": "CF11 6AB"}).content.decode()
    assert "There is no street group here yet" in html
    assert reverse("neighbourhoods:group-create") + "?postcode=CF11%206AB" in html


def test_finding_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    postcode = PostcodeFactory(code="CF24 2AA")
    for _ in range(5):
        MembershipFactory(group=GroupFactory(neighbourhood=postcode.neighbourhood, postcodes=[postcode]))
    with django_assert_max_num_queries(2):
        small = client.get(reverse("neighbourhoods:find"), {"postcode": "CF24 2AA"})
    for _ in range(30):
        MembershipFactory.create_batch(
            3, group=GroupFactory(neighbourhood=postcode.neighbourhood, postcodes=[postcode])
        )
    with django_assert_max_num_queries(2):
        large = client.get(reverse("neighbourhoods:find"), {"postcode": "CF24 2AA"})
    assert len(large.context["result"].groups) == 35 > len(small.context["result"].groups)


# --- Starting a group ---------------------------------------------------------------------------------------------


def test_starting_a_group_from_the_form(signed_in_client, user):
    postcode = PostcodeFactory(code="CF24 2AA")
    response = signed_in_client.post(
        reverse("neighbourhoods:group-create"),
        {
            "name": "Clifton Street",
            "postcodes": "cf24 2aa",
            "streets": "Clifton Street",
            "about": "Hello!",
            "join_policy": "code",
            "visibility": "members",
            "events_by": "organisers",
        },
    )
    group = Group.objects.get(name="Clifton Street")
    assert response.status_code == 302
    assert response.url == group.get_absolute_url()
    assert group.neighbourhood == postcode.neighbourhood
    assert group.visibility == "members"
    assert not group.unverified_can_post  # the unticked box
    assert Membership.objects.get(group=group, user=user).is_organiser


@pytest.mark.parametrize(
    ("postcodes", "message"),
    [
        ("", "This field is required."),
        ("ZZ99 9ZZ", "is not a UK postcode"),
        ("CF11 9XY", "We do not cover CF11 9XY yet"),
    ],
)
def test_bad_group_input_keeps_what_was_typed(signed_in_client, postcodes, message):
    PostcodeFactory(code="CF24 2AA")
    response = signed_in_client.post(
        reverse("neighbourhoods:group-create"),
        {
            "name": "My street",
            "postcodes": postcodes,
            "join_policy": "open",
            "visibility": "public",
            "events_by": "members",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'value="My street"' in html
    assert not Group.objects.filter(name="My street").exists()


def test_postcodes_from_two_neighbourhoods_are_refused(signed_in_client):
    PostcodeFactory(code="CF24 2AA")
    PostcodeFactory(code="CF10 5AA")
    response = signed_in_client.post(
        reverse("neighbourhoods:group-create"),
        {
            "name": "X",
            "postcodes": "CF24 2AA, CF10 5AA",
            "join_policy": "open",
            "visibility": "public",
            "events_by": "members",
        },
    )
    assert "different neighbourhoods" in response.content.decode()


def test_a_duplicate_name_is_a_form_error(signed_in_client, world):
    group, _ = world
    response = signed_in_client.post(
        reverse("neighbourhoods:group-create"),
        {
            "name": group.name.upper(),
            "postcodes": "CF24 2AA",
            "join_policy": "open",
            "visibility": "public",
            "events_by": "members",
        },
    )
    assert response.status_code == 200
    assert "already a group" in response.content.decode()


def test_visitors_are_asked_to_sign_in_before_starting_a_group(client):
    response = client.get(reverse("neighbourhoods:group-create"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


# --- The group's home ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees_content", "text"),
    [
        ("visitor", True, "Sign in to join"),
        ("resident", True, "Ask to join"),
        ("pending", True, "You have asked to join"),
        ("member", True, "You are a member of this group"),
        ("banned", True, "You cannot join this group"),
        ("organiser", True, "You are an organiser of this group"),
        ("other_organiser", True, "Ask to join"),
    ],
)
def test_group_home_for_each_role_in_a_public_group(world, role, sees_content, text):
    group, people = world
    PostFactory(group=group, title="Bins on Thursday")
    html = client_for(people[role]).get(group.get_absolute_url()).content.decode()
    assert text in html
    assert ("Bins on Thursday" in html) is sees_content
    assert ("2 members" in html) is sees_content


@pytest.mark.parametrize(
    ("role", "sees_content"),
    [
        ("visitor", False),
        ("resident", False),
        ("pending", False),
        ("member", True),
        ("banned", False),
        ("organiser", True),
        ("other_organiser", False),
    ],
)
def test_members_only_group_home_shows_content_to_members_only(world, role, sees_content):
    group, people = world
    Group.objects.filter(pk=group.pk).update(visibility="members")
    PostFactory(group=group, title="Bins on Thursday")
    response = client_for(people[role]).get(group.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert group.name in html
    assert ("Bins on Thursday" in html) is sees_content
    assert ("2 members" in html) is sees_content
    assert (reverse("neighbourhoods:board", args=[group.slug]) in html) is sees_content


def test_group_home_leaves_out_posts_by_someone_the_member_is_kept_apart_from(world):
    from moderation.services import block

    group, people = world
    PostFactory(group=group, author=people["organiser"], title="Bins on Thursday")
    PostFactory(group=group, author=people["resident"], title="Trampoline for sale")
    block(blocker=people["resident"], blocked=people["member"])  # the author blocked the reader
    html = client_for(people["member"]).get(group.get_absolute_url()).content.decode()
    assert "Bins on Thursday" in html
    assert "Trampoline for sale" not in html
    assert "Trampoline for sale" in client_for(people["organiser"]).get(group.get_absolute_url()).content.decode()


def test_an_unknown_group_is_a_404(client):
    assert client.get(reverse("neighbourhoods:group-detail", args=["nowhere"])).status_code == 404


@pytest.mark.parametrize("size", [5, 60])
def test_group_home_runs_a_fixed_number_of_queries(world, size, django_assert_max_num_queries):
    group, people = world
    MembershipFactory.create_batch(size, group=group)
    PostFactory.create_batch(size, group=group)
    MembershipFactory.create_batch(size, group=group, status="pending")
    client = client_for(people["organiser"])
    with django_assert_max_num_queries(9):
        response = client.get(group.get_absolute_url())
    assert response.status_code == 200


# --- Joining and leaving through the pages ------------------------------------------------------------------------


def test_asking_to_join_and_being_approved(world):
    group, people = world
    resident = client_for(people["resident"])
    response = resident.post(reverse("neighbourhoods:group-join", args=[group.slug]), follow=True)
    assert "An organiser will look at your request soon" in response.content.decode()
    membership = Membership.objects.get(group=group, user=people["resident"])
    organiser = client_for(people["organiser"])
    page = organiser.get(reverse("neighbourhoods:member-list", args=[group.slug])).content.decode()
    assert people["resident"].profile.display_name in page
    response = organiser.post(
        reverse("neighbourhoods:member-action", args=[group.slug, membership.pk, "approve"]), follow=True
    )
    assert "is now a member" in response.content.decode()
    membership.refresh_from_db()
    assert membership.is_active
    assert membership.is_verified


def test_joining_a_code_group_with_the_code_from_its_home_page(world):
    group, people = world
    Group.objects.filter(pk=group.pk).update(join_policy="code")
    code = JoinCodeFactory(group=group)
    resident = client_for(people["resident"])
    bad = resident.post(reverse("neighbourhoods:group-join", args=[group.slug]), {"code": "WRONG123"}, follow=True)
    assert "That code is not right" in bad.content.decode()
    resident.post(reverse("neighbourhoods:group-join", args=[group.slug]), {"code": code.code})
    assert Membership.objects.get(group=group, user=people["resident"]).is_verified


def test_the_flyer_short_address_joins_with_the_code_filled_in(world):
    group, people = world
    code = JoinCodeFactory(group=group)
    resident = client_for(people["resident"])
    page = resident.get(reverse("neighbourhoods:join-code", args=[code.code]))
    assert f'value="{code.code}"' in page.content.decode()
    response = resident.post(reverse("neighbourhoods:join-code"), {"code": code.code.lower()})
    assert response.status_code == 302
    assert response.url == group.get_absolute_url()
    assert Membership.objects.get(group=group, user=people["resident"]).verified_by == "code"


def test_a_used_up_code_on_the_flyer_page_is_a_form_error_keeping_the_code(world):
    group, people = world
    code = JoinCodeFactory(group=group, max_uses=1, uses=1)
    response = client_for(people["resident"]).post(reverse("neighbourhoods:join-code"), {"code": code.code})
    html = response.content.decode()
    assert "expired or has been used up" in html
    assert f'value="{code.code}"' in html


def test_visitors_following_a_flyer_are_asked_to_sign_in_first(client):
    code = JoinCodeFactory()
    response = client.get(reverse("neighbourhoods:join-code", args=[code.code]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_last_organiser_is_told_why_they_cannot_leave(world):
    group, people = world
    response = client_for(people["organiser"]).post(
        reverse("neighbourhoods:group-leave", args=[group.slug]), follow=True
    )
    assert "Make another member an organiser before you leave" in response.content.decode()


def test_a_member_leaves(world):
    group, people = world
    response = client_for(people["member"]).post(reverse("neighbourhoods:group-leave", args=[group.slug]))
    assert response.status_code == 302
    assert Membership.objects.get(group=group, user=people["member"]).status == "left"


# --- Organiser pages ----------------------------------------------------------------------------------------------


ORGANISER_PAGES = ["member-list", "code-list", "group-edit"]


@pytest.mark.parametrize("page", ORGANISER_PAGES)
@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("visitor", 302),
        ("resident", 403),
        ("pending", 403),
        ("member", 403),
        ("banned", 403),
        ("organiser", 200),
        ("other_organiser", 403),
    ],
)
def test_organiser_pages_are_for_organisers(world, page, role, status):
    group, people = world
    response = client_for(people[role]).get(reverse(f"neighbourhoods:{page}", args=[group.slug]))
    assert response.status_code == status


@pytest.mark.parametrize("action", ["approve", "decline", "remove", "ban", "promote", "demote"])
@pytest.mark.parametrize("role", ["member", "other_organiser", "resident"])
def test_only_organisers_can_act_on_members(world, action, role):
    group, people = world
    target = Membership.objects.get(group=group, user=people["pending"])
    response = client_for(people[role]).post(
        reverse("neighbourhoods:member-action", args=[group.slug, target.pk, action])
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.status == "pending"


def test_an_unknown_member_action_is_refused(world):
    group, people = world
    target = Membership.objects.get(group=group, user=people["member"])
    response = client_for(people["organiser"]).post(
        reverse("neighbourhoods:member-action", args=[group.slug, target.pk, "explode"])
    )
    assert response.status_code == 403


def test_acting_on_a_membership_of_another_group_is_a_404(world):
    group, people = world
    elsewhere = MembershipFactory()
    response = client_for(people["organiser"]).post(
        reverse("neighbourhoods:member-action", args=[group.slug, elsewhere.pk, "remove"])
    )
    assert response.status_code == 404


@pytest.mark.parametrize("size", [5, 120])
def test_the_member_list_runs_a_fixed_number_of_queries(world, size, django_assert_max_num_queries):
    group, people = world
    MembershipFactory.create_batch(size, group=group)
    MembershipFactory.create_batch(size, group=group, status="pending")
    organiser = client_for(people["organiser"])
    with django_assert_max_num_queries(8):
        response = organiser.get(reverse("neighbourhoods:member-list", args=[group.slug]))
    assert response.status_code == 200


def test_organisers_make_a_code_and_print_its_flyer(world, settings):
    group, people = world
    organiser = client_for(people["organiser"])
    response = organiser.post(
        reverse("neighbourhoods:code-list", args=[group.slug]), {"label": "Moira Terrace", "max_uses": "40"}
    )
    assert response.status_code == 302
    code = JoinCode.objects.get(group=group)
    assert code.max_uses == 40
    flyer = organiser.get(reverse("neighbourhoods:flyer", args=[group.slug, code.pk]))
    html = flyer.content.decode()
    assert group.name in html
    assert code.code in html
    assert f"{settings.SITE_URL}/j/{code.code}/" in html
    assert '<svg role="img" aria-label="QR code' in html
    assert "flyer.css" in html
    a4 = organiser.get(reverse("neighbourhoods:flyer", args=[group.slug, code.pk]), {"size": "a4"})
    assert "flyer--a4" in a4.content.decode()


def test_a_bad_code_form_keeps_what_was_typed(world):
    group, people = world
    response = client_for(people["organiser"]).post(
        reverse("neighbourhoods:code-list", args=[group.slug]), {"label": "Moira", "max_uses": "0"}
    )
    assert response.status_code == 200
    assert 'value="Moira"' in response.content.decode()
    assert not JoinCode.objects.exists()


def test_withdrawing_a_code(world):
    group, people = world
    code = JoinCodeFactory(group=group)
    client_for(people["organiser"]).post(reverse("neighbourhoods:code-revoke", args=[group.slug, code.pk]))
    code.refresh_from_db()
    assert code.revoked_at is not None


def test_group_settings_are_saved(world):
    group, people = world
    response = client_for(people["organiser"]).post(
        reverse("neighbourhoods:group-edit", args=[group.slug]),
        {
            "name": "Renamed",
            "postcodes": "CF24 2AA",
            "join_policy": "open",
            "visibility": "members",
            "unverified_can_post": "on",
            "events_by": "organisers",
        },
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.join_policy, group.visibility, group.events_by) == (
        "Renamed",
        "open",
        "members",
        "organisers",
    )
