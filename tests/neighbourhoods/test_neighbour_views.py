"""The neighbour directory, waves, "My neighbours" and suggestions, as each kind of person sees them."""

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Tag
from neighbourhoods.models import Connection, Group, Wave
from neighbourhoods.selectors.neighbours import suggestion_token, suggestions
from neighbourhoods.services.neighbours import answer_wave, send_wave
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def main(response) -> str:
    """The page's main content: the header shows the signed-in person's own name, which is not under test."""
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


def tag(kind: str, name: str) -> Tag:
    return Tag.objects.get_or_create(kind=kind, slug=name.lower().replace(" ", "-"), defaults={"name": name})[0]


def listed(group, name: str, *, interests=(), skills=(), in_directory=True, **membership):
    """An active member of `group` called `name`, listed in the directory (unless told otherwise)."""
    membership = MembershipFactory(group=group, **membership)
    profile = membership.user.profile
    profile.display_name = name
    profile.in_directory = in_directory
    profile.save()
    profile.interests.set([tag(Tag.Kind.INTEREST, i) for i in interests])
    profile.skills.set([tag(Tag.Kind.SKILL, s) for s in skills])
    return membership


@pytest.fixture
def world():
    """A public group and a person in every role towards it; the member and the organiser are listed."""
    group = GroupFactory(join_policy="approval")
    other_group = GroupFactory()
    people = {
        "visitor": None,
        "resident": UserFactory(),
        "pending": MembershipFactory(group=group, status="pending", verified_at=None).user,
        "member": listed(group, "Marnie Member", interests=["Gardening"]).user,
        "banned": MembershipFactory(group=group, status="banned").user,
        "organiser": listed(group, "Olwen Organiser", role="organiser", skills=["Can lend tools"]).user,
        "other_organiser": MembershipFactory(group=other_group, role="organiser").user,
    }
    return group, people


ROLES = ["visitor", "resident", "pending", "member", "banned", "organiser", "other_organiser"]
# Public group: signed-in outsiders are refused (403); members-only group: the same people get a 404.
PUBLIC = {"visitor": 302, "resident": 403, "pending": 403, "member": 200, "banned": 403, "organiser": 200,
          "other_organiser": 403}  # fmt: skip
MEMBERS_ONLY = {**PUBLIC, "resident": 404, "pending": 404, "banned": 404, "other_organiser": 404}


def _pages(group):
    target = listed(group, "Tom Target")
    return {
        "directory": reverse("neighbourhoods:directory", args=[group.slug]),
        "wave": reverse("neighbourhoods:wave-create", args=[group.slug, target.pk]),
    }


@pytest.mark.parametrize("visibility", ["public", "members"])
@pytest.mark.parametrize("page", ["directory", "wave"])
@pytest.mark.parametrize("role", ROLES)
def test_directory_and_wave_pages_are_for_members(world, visibility, page, role):
    group, people = world
    Group.objects.filter(pk=group.pk).update(visibility=visibility)
    url = _pages(group)[page]
    response = client_for(people[role]).get(url)
    expected = (PUBLIC if visibility == "public" else MEMBERS_ONLY)[role]
    assert response.status_code == expected
    if expected == 302:
        assert response.url.startswith(reverse("account_login"))
    if expected == 200:
        assert "Tom Target" in response.content.decode()
    else:
        assert "Tom Target" not in response.content.decode()
        assert "Olwen Organiser" not in response.content.decode()


@pytest.mark.parametrize("visibility", ["public", "members"])
@pytest.mark.parametrize("role", ROLES)
def test_only_members_can_send_a_wave(world, visibility, role):
    group, people = world
    Group.objects.filter(pk=group.pk).update(visibility=visibility)
    url = _pages(group)["wave"]
    client_for(people[role]).post(url, {"message": "Hello!"})
    assert Wave.objects.filter(recipient__profile__display_name="Tom Target").exists() == (
        role in ("member", "organiser")
    )


def test_an_unknown_group_is_a_404(world):
    _, people = world
    response = client_for(people["member"]).get(reverse("neighbourhoods:directory", args=["nowhere"]))
    assert response.status_code == 404


# --- The directory -------------------------------------------------------------------------------------------------


def test_the_directory_shows_only_opted_in_active_members_and_never_an_email(world):
    group, people = world
    hidden = listed(group, "Harriet Hidden", interests=["Gardening"], in_directory=False)
    gone = listed(group, "Lenny Left", status="left")
    elsewhere = listed(GroupFactory(), "Elsie Elsewhere")
    response = client_for(people["member"]).get(reverse("neighbourhoods:directory", args=[group.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Marnie Member" in html
    assert "Olwen Organiser" in html
    assert "Gardening" in html
    assert "Can lend tools" in html
    assert "Verified neighbour" in html
    assert "2 neighbours listed" in html
    for name in ("Harriet Hidden", "Lenny Left", "Elsie Elsewhere"):
        assert name not in html
    for membership in group.memberships.select_related("user"):
        assert membership.user.email not in html
    for person in (hidden, gone, elsewhere):
        assert person.user.email not in html
    assert "@" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert html.count("<h1") == 1


def test_a_members_own_card_has_no_wave_button(world):
    group, people = world
    me = group.memberships.get(user=people["member"])
    html = client_for(people["member"]).get(reverse("neighbourhoods:directory", args=[group.slug])).content.decode()
    assert "(you)" in html
    assert reverse("neighbourhoods:wave-create", args=[group.slug, me.pk]) not in html
    them = group.memberships.get(user=people["organiser"])
    assert reverse("neighbourhoods:wave-create", args=[group.slug, them.pk]) in html


def test_members_who_are_not_listed_are_invited_to_opt_in(world):
    group, _ = world
    shy = MembershipFactory(group=group).user
    html = client_for(shy).get(reverse("neighbourhoods:directory", args=[group.slug])).content.decode()
    assert "You are not listed here yet" in html
    assert reverse("accounts:profile") in html


def test_connected_neighbours_are_marked_and_have_no_wave_button(world):
    group, people = world
    wave = send_wave(sender=people["member"], recipient=people["organiser"], group=group)
    answer_wave(recipient=people["organiser"], wave=wave, accept=True)
    them = group.memberships.get(user=people["organiser"])
    html = client_for(people["member"]).get(reverse("neighbourhoods:directory", args=[group.slug])).content.decode()
    assert "Connected with you" in html
    assert reverse("neighbourhoods:wave-create", args=[group.slug, them.pk]) not in html


def test_filtering_by_interest_and_by_skill(world):
    group, people = world
    listed(group, "Gwen Gardener", interests=["Gardening", "Cooking"], skills=["Can lend tools"])
    listed(group, "Colin Cook", interests=["Cooking"])
    client = client_for(people["member"])
    url = reverse("neighbourhoods:directory", args=[group.slug])

    html = main(client.get(url, {"interest": "gardening"}))
    assert "Gwen Gardener" in html
    assert "Marnie Member" in html
    assert "Colin Cook" not in html
    assert "Olwen Organiser" not in html

    html = main(client.get(url, {"skill": "can-lend-tools"}))
    assert "Gwen Gardener" in html
    assert "Olwen Organiser" in html
    assert "Colin Cook" not in html
    assert "Marnie Member" not in html

    html = main(client.get(url, {"interest": "cooking", "skill": "can-lend-tools"}))
    assert "Gwen Gardener" in html
    assert "Colin Cook" not in html
    assert "Olwen Organiser" not in html
    assert "1 neighbour listed" in html


def test_the_filter_offers_only_tags_of_listed_members(world):
    group, people = world
    listed(group, "Harriet Hidden", interests=["Secret hobby"], in_directory=False)
    listed(GroupFactory(), "Elsie Elsewhere", interests=["Knitting"])
    response = client_for(people["member"]).get(reverse("neighbourhoods:directory", args=[group.slug]))
    choices = dict(response.context["form"].fields["interest"].choices)
    assert "gardening" in choices
    assert "secret-hobby" not in choices
    assert "knitting" not in choices


def test_an_unknown_filter_is_explained_not_a_500(world):
    group, people = world
    response = client_for(people["member"]).get(
        reverse("neighbourhoods:directory", args=[group.slug]), {"interest": "<script>"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "No one listed has that" in html
    assert "<title>Error:" in html
    assert "<script>" not in html
    assert "Marnie Member" in html  # the list is shown unfiltered


def test_the_directory_is_paginated(world):
    group, people = world
    for n in range(30):
        listed(group, f"Neighbour {n:02d}")
    client = client_for(people["member"])
    url = reverse("neighbourhoods:directory", args=[group.slug])
    first = client.get(url).content.decode()
    assert "32 neighbours listed" in first
    assert "Page 1 of 2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "Page 2 of 2" in second


def _fill_directory(group, count):
    interests = [tag(Tag.Kind.INTEREST, name) for name in ("Gardening", "Cooking", "Cycling")]
    skills = [tag(Tag.Kind.SKILL, name) for name in ("Can lend tools", "Dog walking")]
    for n in range(count):
        profile = MembershipFactory(group=group, verified_at=None if n % 3 else timezone.now()).user.profile
        profile.in_directory = True
        profile.save()
        profile.interests.set(interests[: 1 + n % 3])
        profile.skills.set(skills[: n % 2 + 1])


@pytest.mark.parametrize("size", [5, 500])
def test_the_directory_runs_a_fixed_number_of_queries(world, size, django_assert_max_num_queries):
    group, people = world
    _fill_directory(group, size)
    client = client_for(people["member"])
    with django_assert_max_num_queries(9):  # session, user, group, membership, filter tags, count, page, 2 tag sets
        response = client.get(reverse("neighbourhoods:directory", args=[group.slug]))
    assert response.status_code == 200
    with django_assert_max_num_queries(9):  # session, user, group, membership, filter tags, count, page, 2 tag sets
        response = client.get(reverse("neighbourhoods:directory", args=[group.slug]), {"interest": "cooking"})
    assert response.status_code == 200


# --- Waving --------------------------------------------------------------------------------------------------------


def test_waving_from_the_directory(world):
    group, people = world
    them = group.memberships.get(user=people["organiser"])
    client = client_for(people["member"])
    url = reverse("neighbourhoods:wave-create", args=[group.slug, them.pk])
    page = client.get(url).content.decode()
    assert "Wave to Olwen Organiser" in page
    response = client.post(url, {"message": "  Hello from number 3!  "})
    assert response.status_code == 302
    assert response.url == reverse("neighbourhoods:directory", args=[group.slug])
    wave = Wave.objects.get()
    assert (wave.sender, wave.recipient, wave.group, wave.message) == (
        people["member"],
        people["organiser"],
        group,
        "Hello from number 3!",
    )
    followed = client.get(response.url).content.decode()
    assert "You waved to Olwen Organiser" in followed


def test_a_refused_wave_is_a_form_error_that_keeps_the_message(world):
    group, people = world
    send_wave(sender=people["organiser"], recipient=people["member"], group=group)
    them = group.memberships.get(user=people["organiser"])
    response = client_for(people["member"]).post(
        reverse("neighbourhoods:wave-create", args=[group.slug, them.pk]), {"message": "Hi there, neighbour"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Answer their wave" in html
    assert "Hi there, neighbour" in html
    assert "<title>Error:" in html
    assert Wave.objects.count() == 1


def test_a_message_that_is_too_long_is_a_form_error(world):
    group, people = world
    them = group.memberships.get(user=people["organiser"])
    response = client_for(people["member"]).post(
        reverse("neighbourhoods:wave-create", args=[group.slug, them.pk]), {"message": "x" * 281}
    )
    assert response.status_code == 200
    assert "280 characters or fewer" in response.content.decode()
    assert not Wave.objects.exists()


@pytest.mark.parametrize("who", ["unlisted", "pending", "other_group"])
def test_you_cannot_open_a_wave_page_for_someone_not_listed_here(world, who):
    group, people = world
    target = {
        "unlisted": lambda: listed(group, "Harriet Hidden", in_directory=False),
        "pending": lambda: listed(group, "Penny Pending", status="pending"),
        "other_group": lambda: listed(GroupFactory(), "Elsie Elsewhere"),
    }[who]()
    client = client_for(people["member"])
    url = reverse("neighbourhoods:wave-create", args=[group.slug, target.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"message": "hi"}).status_code == 404
    assert not Wave.objects.exists()


def test_waving_to_yourself_from_the_directory_is_refused_kindly(world):
    group, people = world
    me = group.memberships.get(user=people["member"])
    client = client_for(people["member"])
    response = client.post(reverse("neighbourhoods:wave-create", args=[group.slug, me.pk]), {"message": "hi"})
    assert response.status_code == 302
    assert "You cannot wave to yourself" in client.get(response.url).content.decode()
    assert not Wave.objects.exists()


def test_a_wave_message_is_escaped_for_the_recipient(world):
    group, people = world
    send_wave(sender=people["member"], recipient=people["organiser"], group=group, message="<b>hi</b> & bye")
    html = client_for(people["organiser"]).get(reverse("neighbourhoods:neighbours")).content.decode()
    assert "&lt;b&gt;hi&lt;/b&gt; &amp; bye" in html
    assert "<b>hi</b>" not in html


# --- My neighbours -------------------------------------------------------------------------------------------------


def test_my_neighbours_is_for_signed_in_people(client):
    response = client.get(reverse("neighbourhoods:neighbours"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_recipient_sees_who_waved_and_waves_back(world):
    group, people = world
    send_wave(sender=people["member"], recipient=people["organiser"], group=group, message="Fancy a cuppa?")
    client = client_for(people["organiser"])
    html = client.get(reverse("neighbourhoods:neighbours")).content.decode()
    assert "Marnie Member" in html
    assert "Fancy a cuppa?" in html
    wave = Wave.objects.get()
    response = client.post(reverse("neighbourhoods:wave-answer", args=[wave.pk]), {"answer": "accept"})
    assert response.status_code == 302
    assert response.url == reverse("neighbourhoods:neighbours")
    assert Connection.objects.count() == 1
    html = client.get(response.url).content.decode()
    assert "You and Marnie Member are now connected" in html
    assert "1 connection" in html
    # The sender now sees the recipient's name among their connections.
    html = client_for(people["member"]).get(reverse("neighbourhoods:neighbours")).content.decode()
    assert "Olwen Organiser" in html
    assert "No waves waiting for a reply" in html


def test_declining_a_wave(world):
    group, people = world
    wave = send_wave(sender=people["member"], recipient=people["organiser"], group=group)
    client = client_for(people["organiser"])
    client.post(reverse("neighbourhoods:wave-answer", args=[wave.pk]), {"answer": "decline"})
    wave.refresh_from_db()
    assert wave.status == Wave.Status.DECLINED
    assert not Connection.objects.exists()
    html = client.get(reverse("neighbourhoods:neighbours")).content.decode()
    assert "You declined the wave from Marnie Member" in html
    assert "No waves waiting for you" in html


def test_answering_twice_is_a_message_not_an_error(world):
    group, people = world
    wave = send_wave(sender=people["member"], recipient=people["organiser"], group=group)
    client = client_for(people["organiser"])
    client.post(reverse("neighbourhoods:wave-answer", args=[wave.pk]), {"answer": "decline"})
    response = client.post(reverse("neighbourhoods:wave-answer", args=[wave.pk]), {"answer": "accept"})
    assert response.status_code == 302
    assert "already answered" in client.get(response.url).content.decode()
    assert not Connection.objects.exists()


def test_a_nonsense_answer_changes_nothing(world):
    group, people = world
    wave = send_wave(sender=people["member"], recipient=people["organiser"], group=group)
    response = client_for(people["organiser"]).post(
        reverse("neighbourhoods:wave-answer", args=[wave.pk]), {"answer": "maybe"}
    )
    assert response.status_code == 302
    wave.refresh_from_db()
    assert wave.status == Wave.Status.OPEN


@pytest.mark.parametrize("role", ["member", "resident", "banned", "other_organiser"])
def test_only_the_recipient_can_answer_a_wave(world, role):
    group, people = world
    wave = send_wave(sender=people["member"], recipient=people["organiser"], group=group)
    response = client_for(people[role]).post(
        reverse("neighbourhoods:wave-answer", args=[wave.pk]), {"answer": "accept"}
    )
    assert response.status_code == 404
    wave.refresh_from_db()
    assert wave.status == Wave.Status.OPEN


def test_answering_needs_a_post(world):
    group, people = world
    wave = send_wave(sender=people["member"], recipient=people["organiser"], group=group)
    response = client_for(people["organiser"]).get(reverse("neighbourhoods:wave-answer", args=[wave.pk]))
    assert response.status_code == 405


@pytest.mark.parametrize(("role", "removed"), [("member", True), ("organiser", True), ("resident", False)])
def test_removing_a_connection(world, role, removed):
    group, people = world
    wave = send_wave(sender=people["member"], recipient=people["organiser"], group=group)
    connection = answer_wave(recipient=people["organiser"], wave=wave, accept=True)
    response = client_for(people[role]).post(reverse("neighbourhoods:connection-remove", args=[connection.pk]))
    assert response.status_code == (302 if removed else 404)
    assert Connection.objects.exists() is not removed


def _fill_my_neighbours(me, group, count):
    for n in range(count):
        other = MembershipFactory(group=group).user
        if n % 2:
            low, high = sorted([me, other], key=lambda u: u.pk)
            Connection.objects.create(user_low=low, user_high=high, group=group)
        elif n % 4 == 0:
            Wave.objects.create(sender=other, recipient=me, group=group, message=f"Hello {n}")
        else:
            Wave.objects.create(sender=me, recipient=other, group=group, message=f"Hi {n}")


@pytest.mark.parametrize("size", [5, 500])
def test_my_neighbours_runs_a_fixed_number_of_queries(world, size, django_assert_max_num_queries):
    group, people = world
    _fill_my_neighbours(people["member"], group, size)
    client = client_for(people["member"])
    with django_assert_max_num_queries(6):  # session, user, waves in, waves out, count, connections page
        response = client.get(reverse("neighbourhoods:neighbours"))
    assert response.status_code == 200
    assert response.context["connections"].paginator.count == size // 2


# --- Suggestions ---------------------------------------------------------------------------------------------------


@pytest.fixture
def gardeners():
    """A group where the viewer likes gardening and cooking, with neighbours who do and do not share that."""
    group = GroupFactory()
    viewer = listed(group, "Vera Viewer", interests=["Gardening", "Cooking"]).user
    people = {
        "both": listed(group, "Bobbie Both", interests=["Cooking", "Gardening", "Chess"]),
        "gardening": listed(group, "Gerry Gardens", interests=["Gardening"]),
        "chess": listed(group, "Chester Chess", interests=["Chess"]),
        "unlisted": listed(group, "Ursula Unlisted", interests=["Gardening"], in_directory=False),
        "pending": listed(group, "Penny Pending", interests=["Gardening"], status="pending"),
        "elsewhere": listed(GroupFactory(), "Elsie Elsewhere", interests=["Gardening"]),
    }
    return group, viewer, people


def test_suggestions_are_listed_members_who_share_an_interest(gardeners):
    group, viewer, people = gardeners
    found = suggestions(group=group, viewer=viewer)
    assert [s.membership_id for s in found] == [people["both"].pk, people["gardening"].pk]
    assert [s.interest for s in found] == ["Cooking", "Gardening"]
    assert len(suggestions(group=group, viewer=viewer, limit=1)) == 1


def test_suggestions_leave_out_connections_open_waves_and_recent_declines(gardeners):
    group, viewer, people = gardeners
    both, gardening = people["both"].user, people["gardening"].user
    send_wave(sender=both, recipient=viewer, group=group)
    assert [s.membership_id for s in suggestions(group=group, viewer=viewer)] == [people["gardening"].pk]
    answer_wave(recipient=viewer, wave=Wave.objects.get(sender=both), accept=True)
    assert [s.membership_id for s in suggestions(group=group, viewer=viewer)] == [people["gardening"].pk]
    answer_wave(recipient=gardening, wave=send_wave(sender=viewer, recipient=gardening, group=group), accept=False)
    assert suggestions(group=group, viewer=viewer) == []


def test_no_suggestions_for_non_members_or_people_without_interests(gardeners):
    group, _, people = gardeners
    assert suggestions(group=group, viewer=UserFactory()) == []
    outsider = listed(GroupFactory(), "Otto Outsider", interests=["Gardening"]).user
    assert suggestions(group=group, viewer=outsider) == []
    assert suggestions(group=group, viewer=listed(group, "Nina No-interests").user) == []
    assert suggestions(group=group, viewer=people["pending"].user) == []


def test_suggestions_cost_one_query(gardeners, django_assert_num_queries):
    group, viewer, _ = gardeners
    for n in range(20):
        listed(group, f"Extra {n}", interests=["Gardening"])
    with django_assert_num_queries(1):
        assert len(suggestions(group=group, viewer=viewer)) == 3


def test_the_suggestions_panel_never_shows_names(gardeners, rf):
    group, viewer, people = gardeners
    request = rf.get("/")
    request.user = viewer
    html = render_to_string(
        "neighbourhoods/_suggestions.html",
        {"suggestions": suggestions(group=group, viewer=viewer), "group": group},
        request=request,
    )
    assert "A neighbour who is also into Gardening" in html
    assert "A neighbour who is also into Cooking" in html
    token = suggestion_token(group=group, viewer=viewer, membership_id=people["both"].pk)
    assert reverse("neighbourhoods:suggestion-wave", args=[group.slug, token]) in html
    # The address carries an opaque token, never the membership id the directory's named wave page uses.
    assert f"/suggestions/{people['both'].pk}/" not in html
    for membership in people.values():
        assert membership.user.profile.display_name not in html
        assert membership.user.email not in html


def test_the_suggestions_panel_is_empty_without_suggestions():
    assert render_to_string("neighbourhoods/_suggestions.html", {"suggestions": []}).strip() == ""


def test_waving_to_a_suggestion_reveals_only_the_senders_name(gardeners):
    group, viewer, people = gardeners
    target = people["gardening"]
    client = client_for(viewer)
    url = reverse(
        "neighbourhoods:suggestion-wave",
        args=[group.slug, suggestion_token(group=group, viewer=viewer, membership_id=target.pk)],
    )
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "who is also into Gardening" in html
    assert "Gerry Gardens" not in html
    assert target.user.email not in html

    response = client.post(url, {"message": "I grow too many courgettes"})
    assert response.status_code == 302
    assert response.url == group.get_absolute_url()
    assert Wave.objects.filter(sender=viewer, recipient=target.user, group=group).exists()
    # The sender's own page does not reveal whom the suggestion was…
    mine = client.get(reverse("neighbourhoods:neighbours")).content.decode()
    assert "To a neighbour in" in mine
    assert "Gerry Gardens" not in mine
    # …but the recipient sees who waved.
    theirs = client_for(target.user).get(reverse("neighbourhoods:neighbours")).content.decode()
    assert "Vera Viewer" in theirs
    assert "I grow too many courgettes" in theirs
    # Once they wave back, both see each other's names.
    client_for(target.user).post(
        reverse("neighbourhoods:wave-answer", args=[Wave.objects.get().pk]), {"answer": "accept"}
    )
    assert "Gerry Gardens" in client.get(reverse("neighbourhoods:neighbours")).content.decode()


@pytest.mark.parametrize("who", ["chess", "unlisted", "pending", "elsewhere"])
def test_only_real_suggestions_can_be_waved_to_anonymously(gardeners, who):
    group, viewer, people = gardeners
    token = suggestion_token(group=group, viewer=viewer, membership_id=people[who].pk)
    url = reverse("neighbourhoods:suggestion-wave", args=[group.slug, token])
    client = client_for(viewer)
    assert client.get(url).status_code == 404
    assert client.post(url, {"message": "hi"}).status_code == 404
    assert not Wave.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("visitor", 302), ("resident", 403), ("banned", 403)])
def test_suggestion_waves_are_for_members(gardeners, role, status):
    group, _, people = gardeners
    user = {"visitor": None, "resident": UserFactory(), "banned": MembershipFactory(group=group, status="banned").user}
    token = suggestion_token(group=group, viewer=user[role] or UserFactory(), membership_id=people["gardening"].pk)
    url = reverse("neighbourhoods:suggestion-wave", args=[group.slug, token])
    assert client_for(user[role]).get(url).status_code == status


def test_a_suggestion_token_works_only_for_the_viewer_it_was_made_for(gardeners):
    group, viewer, people = gardeners
    target = people["gardening"]
    someone_else = MembershipFactory(group=group).user
    token = suggestion_token(group=group, viewer=viewer, membership_id=target.pk)
    url = reverse("neighbourhoods:suggestion-wave", args=[group.slug, token])
    assert client_for(someone_else).get(url).status_code == 404
    assert client_for(viewer).get(url).status_code == 200
    forged = reverse("neighbourhoods:suggestion-wave", args=[group.slug, str(target.pk)])
    assert client_for(viewer).get(forged).status_code == 404
