"""Blocking, checked for what the person blocked could work out from the pages they can reach, and for bad input."""

import pytest
from django.test import Client
from django.urls import reverse

from moderation import services
from moderation.models import Block
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

# Far past the largest id PostgreSQL can store.
HUGE = 10**30


def listed(group, name: str):
    membership = MembershipFactory(group=group, user=UserFactory(profile__display_name=name))
    membership.user.profile.in_directory = True
    membership.user.profile.save()
    return membership


@pytest.fixture
def street():
    group = GroupFactory()
    return group, listed(group, "Ann Viewer"), listed(group, "Ben Target")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_block_page_and_the_wave_page_agree_about_someone_who_blocked_you(street):
    # Before the fix the block page still answered (the person is listed in the directory) while the wave page was
    # a 404: only a block makes that pair, so comparing them told Ann that Ben had blocked her.
    group, ann, ben = street
    services.block(blocker=ben.user, blocked=ann.user)
    client = signed_in(ann.user)
    block_page = client.get(reverse("moderation:block", args=[ben.pk]))
    wave_page = client.get(reverse("neighbourhoods:wave-create", args=[group.slug, ben.pk]))
    assert block_page.status_code == wave_page.status_code == 404
    assert client.post(reverse("moderation:block", args=[ben.pk])).status_code == 404
    assert list(Block.objects.values_list("blocker_id", "blocked_id")) == [(ben.user_id, ann.user_id)]


def test_your_own_block_is_still_shown_whoever_else_blocked_whom(street):
    _, ann, ben = street
    services.block(blocker=ann.user, blocked=ben.user)
    services.block(blocker=ben.user, blocked=ann.user)
    response = signed_in(ann.user).get(reverse("moderation:block", args=[ben.pk]))
    assert response.status_code == 200
    assert "You have already blocked Ben Target." in response.content.decode()


def test_someone_unlisted_you_blocked_can_still_be_looked_up_on_the_block_page(street):
    # The block took away the wave or connection that let Ann name Ben; her own block still does.
    _, ann, ben = street
    ben.user.profile.in_directory = False
    ben.user.profile.save()
    services.block(blocker=ann.user, blocked=ben.user)
    response = signed_in(ann.user).get(reverse("moderation:block", args=[ben.pk]))
    assert response.status_code == 200
    assert "You have already blocked Ben Target." in response.content.decode()


def test_block_pages_with_impossible_ids_are_404s_not_errors(street):
    _, ann, _ = street
    client = signed_in(ann.user)
    assert client.get(reverse("moderation:block", args=[HUGE])).status_code == 404
    assert client.post(reverse("moderation:block", args=[HUGE])).status_code == 404
    assert client.post(reverse("moderation:unblock", args=[HUGE])).status_code == 404
    assert client.get(reverse("moderation:blocked"), {"page": "not-a-number"}).status_code == 200
