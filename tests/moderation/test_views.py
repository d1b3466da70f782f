"""The block button, its confirmation page, and "People you have blocked" in account settings: who can reach them,
what they say, and what they cost."""

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from moderation import services
from moderation.models import Block
from neighbourhoods.models import Connection, Wave
from notifications import services as notifications
from notifications.models import Notification
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

BLOCKED = reverse("moderation:blocked")
NEIGHBOURS = reverse("neighbourhoods:neighbours")


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def main(response) -> str:
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


def member(group, name: str, *, in_directory: bool = True, **membership):
    membership = MembershipFactory(group=group, user=UserFactory(profile__display_name=name), **membership)
    profile = membership.user.profile
    profile.in_directory = in_directory
    profile.save()
    return membership


def block_url(membership, next_url: str | None = None) -> str:
    url = reverse("moderation:block", args=[membership.pk])
    return f"{url}?next={quote(next_url)}" if next_url else url


@pytest.fixture
def street():
    """Ann (the viewer) and Ben, both listed in a group's directory."""
    group = GroupFactory(name="Moira Terrace")
    ann = member(group, "Ann Viewer")
    ben = member(group, "Ben Target")
    return group, ann, ben


# --- The confirmation page ------------------------------------------------------------------------------------


def test_the_confirmation_page_explains_blocking_and_changes_nothing(street):
    group, ann, ben = street
    directory = reverse("neighbourhoods:directory", args=[group.slug])
    response = client_for(ann.user).get(block_url(ben, directory))
    assert response.status_code == 200
    html = main(response)
    assert "Block Ben Target?" in html
    assert "Neither of you can wave to the other" in html
    assert "If you are connected, the connection ends." in html
    assert "We don\u2019t tell Ben Target." in html
    assert f'action="{reverse("moderation:block", args=[ben.pk])}"' in html
    assert f'value="{directory}"' in html  # where to go back to, carried through the form
    assert f'href="{directory}"' in html  # "No, go back"
    assert not Block.objects.exists()


def test_confirming_blocks_and_goes_back_where_the_person_came_from(street):
    group, ann, ben = street
    directory = reverse("neighbourhoods:directory", args=[group.slug])
    client = client_for(ann.user)
    response = client.post(block_url(ben), {"next": directory})
    assert response.status_code == 302
    assert response.url == directory
    assert Block.objects.filter(blocker=ann.user, blocked=ben.user).exists()
    page = client.get(directory)
    assert "You have blocked Ben Target." in main(page)
    assert "Ben Target" not in main(page).replace("You have blocked Ben Target.", "")


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", ""])
def test_an_outside_or_missing_return_address_goes_to_my_neighbours(street, next_url):
    _, ann, ben = street
    response = client_for(ann.user).post(block_url(ben), {"next": next_url})
    assert response.status_code == 302
    assert response.url == NEIGHBOURS


def test_blocking_yourself_is_a_form_error(street):
    _, ann, _ = street
    client = client_for(ann.user)
    for response in (client.get(block_url(ann)), client.post(block_url(ann), {"next": ""})):
        assert response.status_code == 200
        html = main(response)
        assert "There is a problem" in html
        assert "You cannot block yourself." in html
        assert "Yes, block" not in html
    assert "Error:" in client.post(block_url(ann)).content.decode().split("<title>")[1]
    assert not Block.objects.exists()


def test_someone_already_blocked_is_said_so_and_blocking_again_changes_nothing(street):
    _, ann, ben = street
    client = client_for(ann.user)
    services.block(blocker=ann.user, blocked=ben.user)
    html = main(client.get(block_url(ben)))
    assert "You have already blocked Ben Target." in html
    assert "Yes, block" not in html
    assert client.post(block_url(ben)).status_code == 302
    assert Block.objects.count() == 1


def test_the_page_does_not_say_whether_they_have_blocked_you(street):
    """Someone who blocked you is missing from your directory, so their block page answers as for anyone unlisted
    (a 404), like the directory's wave page: no page answers differently because of their block."""
    group, ann, ben = street
    unlisted = member(group, "Una Unlisted", in_directory=False)
    services.block(blocker=ben.user, blocked=ann.user)
    client = client_for(ann.user)
    for target in (ben, unlisted):
        assert client.get(block_url(target)).status_code == 404
        assert client.get(reverse("neighbourhoods:wave-create", args=[group.slug, target.pk])).status_code == 404
    assert "Ben Target" not in client.get(block_url(ben)).content.decode()


def test_a_visitor_is_sent_to_sign_in(street):
    _, _, ben = street
    response = Client().post(block_url(ben))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not Block.objects.exists()


def _others(street):
    """Memberships the viewer may not block by: no shared group, not active, or someone they do not know by name."""
    group, _ann, _ben = street
    elsewhere = member(GroupFactory(), "Elsie Elsewhere")
    return {
        "another group": elsewhere,
        "pending": member(group, "Pat Pending", status="pending", joined_at=None, verified_at=None),
        "left": member(group, "Lee Left", status="left"),
        "banned": member(group, "Bo Banned", status="banned"),
        "not listed": member(group, "Una Unlisted", in_directory=False),
    }


@pytest.mark.parametrize("who", ["another group", "pending", "left", "banned", "not listed"])
def test_people_you_share_no_group_with_or_do_not_know_by_name_are_a_404(street, who):
    _, ann, _ = street
    target = _others(street)[who]
    client = client_for(ann.user)
    for response in (client.get(block_url(target)), client.post(block_url(target))):
        assert response.status_code == 404
        assert target.user.profile.display_name not in response.content.decode()
    assert not Block.objects.exists()


def test_a_membership_in_a_group_you_left_is_a_404(street):
    _, ann, ben = street
    ann.status = "left"
    ann.save()
    assert client_for(ann.user).post(block_url(ben)).status_code == 404
    assert not Block.objects.exists()


def test_an_unknown_membership_is_a_404(street):
    _, ann, _ = street
    assert client_for(ann.user).get(reverse("moderation:block", args=[999999])).status_code == 404


def test_someone_unlisted_can_be_blocked_once_they_wave_or_are_connected(street):
    group, ann, _ = street
    waver = member(group, "Wyn Waver", in_directory=False)
    friend = member(group, "Fran Friend", in_directory=False)
    Wave.objects.create(sender=waver.user, recipient=ann.user, group=group)
    low, high = sorted([ann.user, friend.user], key=lambda u: u.pk)
    Connection.objects.create(user_low=low, user_high=high, group=group)
    client = client_for(ann.user)
    for target in (waver, friend):
        assert client.post(block_url(target), {"next": NEIGHBOURS}).status_code == 302
    assert set(Block.objects.values_list("blocked_id", flat=True)) == {waver.user_id, friend.user_id}
    assert not Wave.objects.exists()
    assert not Connection.objects.exists()


# --- Where the button is --------------------------------------------------------------------------------------


def test_the_directory_offers_block_next_to_everyone_but_you(street):
    group, ann, ben = street
    response = client_for(ann.user).get(reverse("neighbourhoods:directory", args=[group.slug]))
    html = main(response)
    assert reverse("moderation:block", args=[ben.pk]) in html
    assert reverse("moderation:block", args=[ann.pk]) not in html
    assert '<span class="visually-hidden"> Ben Target</span>' in html


def test_my_neighbours_offers_block_next_to_waves_and_connections(street):
    group, ann, ben = street
    cai = member(group, "Cai Connected", in_directory=False)
    stranger = member(GroupFactory(), "Sid Stranger")  # connected, but in no group with Ann now
    Wave.objects.create(sender=ben.user, recipient=ann.user, group=group)
    for other in (cai.user, stranger.user):
        low, high = sorted([ann.user, other], key=lambda u: u.pk)
        Connection.objects.create(user_low=low, user_high=high, group=group)
    html = main(client_for(ann.user).get(NEIGHBOURS))
    assert reverse("moderation:block", args=[ben.pk]) in html
    assert reverse("moderation:block", args=[cai.pk]) in html
    assert "Sid Stranger" in html
    assert reverse("moderation:block", args=[stranger.pk]) not in html


def test_account_settings_link_to_the_people_you_have_blocked(street):
    _, ann, _ = street
    html = client_for(ann.user).get(reverse("accounts:profile")).content.decode()
    assert f'href="{BLOCKED}"' in html


# --- People you have blocked ----------------------------------------------------------------------------------


def test_the_list_shows_only_your_own_blocks(street):
    group, ann, ben = street
    cai = member(group, "Cai Other")
    services.block(blocker=ann.user, blocked=ben.user)
    services.block(blocker=cai.user, blocked=ann.user)  # not Ann's to see or lift
    response = client_for(ann.user).get(BLOCKED)
    assert response.status_code == 200
    html = main(response)
    assert "Ben Target" in html
    assert "Cai Other" not in html
    assert 'aria-current="page"' in response.content.decode().split(f'href="{BLOCKED}"', 1)[1][:30]


def test_the_list_when_you_have_blocked_nobody(street):
    _, ann, _ = street
    assert "You have not blocked anyone." in main(client_for(ann.user).get(BLOCKED))


def test_unblocking_lifts_your_block_and_tells_only_you(street, mailoutbox):
    _, ann, ben = street
    block = services.block(blocker=ann.user, blocked=ben.user)
    client = client_for(ann.user)
    response = client.post(reverse("moderation:unblock", args=[block.pk]))
    assert response.status_code == 302
    assert response.url == BLOCKED
    assert not Block.objects.exists()
    assert "You have unblocked Ben Target." in main(client.get(BLOCKED))
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_unblocking_needs_a_post(street):
    _, ann, ben = street
    block = services.block(blocker=ann.user, blocked=ben.user)
    assert client_for(ann.user).get(reverse("moderation:unblock", args=[block.pk])).status_code == 405
    assert Block.objects.exists()


def test_nobody_can_lift_someone_elses_block_not_even_the_person_blocked(street):
    _, ann, ben = street
    block = services.block(blocker=ann.user, blocked=ben.user)
    stranger = UserFactory()
    for user in (ben.user, stranger):
        assert client_for(user).post(reverse("moderation:unblock", args=[block.pk])).status_code == 404
    assert Block.objects.filter(pk=block.pk).exists()


def test_the_blocked_list_needs_signing_in():
    response = Client().get(BLOCKED)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


# --- What the pages cost --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 120])
def test_the_blocked_list_runs_a_fixed_number_of_queries(street, size, django_assert_max_num_queries):
    _, ann, _ = street
    people = User.objects.bulk_create([User(email=f"blocked{n}@example.org", password="!") for n in range(size)])
    Block.objects.bulk_create([Block(blocker=ann.user, blocked=p) for p in people])
    client = client_for(ann.user)
    notifications.unread_count(ann.user)  # the header's count is cached, as after signing in
    with django_assert_max_num_queries(4):  # session, user, the count, one page of blocks with names
        response = client.get(BLOCKED)
    assert response.status_code == 200
    assert len(response.context["blocks"]) == min(size, 50)


@pytest.mark.parametrize("size", [2, 60])
def test_the_confirmation_page_runs_a_fixed_number_of_queries(size, django_assert_max_num_queries):
    viewer = UserFactory()
    groups = [GroupFactory() for _ in range(size // 2 + 1)]
    for group in groups:
        MembershipFactory(group=group, user=viewer)
        for n in range(size):
            member(group, f"Neighbour {n}")
    target = member(groups[-1], "Ben Target")
    client = client_for(viewer)
    notifications.unread_count(viewer)
    with django_assert_max_num_queries(4):  # session, user, the person, whether already blocked
        response = client.get(block_url(target))
    assert response.status_code == 200
    with django_assert_max_num_queries(16):  # the same, then the block with its locks, waves and connection
        response = client.post(block_url(target), {"next": NEIGHBOURS})
    assert response.status_code == 302


@pytest.mark.parametrize("size", [5, 200])
def test_the_directory_and_my_neighbours_keep_their_queries_with_blocks_about(
    street, size, django_assert_max_num_queries
):
    group, ann, _ = street
    for n in range(size):
        other = member(group, f"Neighbour {n}")
        if n % 3 == 0:
            services.block(blocker=ann.user, blocked=other.user)
        elif n % 3 == 1:
            Wave.objects.create(sender=other.user, recipient=ann.user, group=group)
        else:
            low, high = sorted([ann.user, other.user], key=lambda u: u.pk)
            Connection.objects.create(user_low=low, user_high=high, group=group)
    client = client_for(ann.user)
    notifications.unread_count(ann.user)
    with django_assert_max_num_queries(9):  # as without blocks: the checks are part of the same queries
        response = client.get(reverse("neighbourhoods:directory", args=[group.slug]))
    assert response.context["people"].paginator.count == 2 + size - len(range(0, size, 3))
    with django_assert_max_num_queries(6):
        response = client.get(NEIGHBOURS)
    assert len(response.context["waves_received"]) == min(len(range(1, size, 3)), 50)
