"""A council's team: admins invite officers by email, withdraw invitations and remove officers (never the last
admin); the invited person accepts through the signed link with the invited, verified address."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from core.exceptions import DomainError
from engagement.models import OfficerInvite
from engagement.services import team
from engagement.tasks import send_officer_invite
from neighbourhoods.models import CouncilMembership
from tests.factories import CouncilFactory, CouncilMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def team_url(council, name="team", *args):
    return reverse(f"engagement:{name}", args=[council.slug, *args])


def accept_path(invite) -> str:
    return reverse("engagement:invite-accept", args=[team.invite_link_token(invite)])


@pytest.fixture
def council():
    return CouncilFactory(name="Cardiff Council", slug="cardiff")


@pytest.fixture
def admin(council):
    return CouncilMembershipFactory(council=council, role="admin").user


# --- Who may manage the team ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("visitor", 302), ("resident", 404), ("officer_elsewhere", 404), ("officer", 200), ("admin", 200)],
)
def test_officers_see_the_team_and_only_its_admins_change_it(client, council, role, status):
    user = {
        "visitor": None,
        "resident": UserFactory,
        "officer_elsewhere": lambda: CouncilMembershipFactory(role="admin").user,
        "officer": lambda: CouncilMembershipFactory(council=council).user,
        "admin": lambda: CouncilMembershipFactory(council=council, role="admin").user,
    }[role]
    if user is not None:
        client.force_login(user())
    page = client.get(team_url(council))
    assert page.status_code == status
    if status == 200:
        assert ("Send the invitation" in page.content.decode()) == (role == "admin")
    response = client.post(team_url(council), {"email": "someone@example.org", "role": "admin"})
    assert response.status_code == {"visitor": 302, "admin": 302, "officer": 403}.get(role, status)
    assert OfficerInvite.objects.exists() == (role == "admin")
    if role == "officer":
        membership = CouncilMembership.objects.filter(council=council).first()
        assert client.post(team_url(council, "officer-remove", membership.pk)).status_code == 403


def test_an_admin_without_two_step_sign_in_cannot_invite(client, council):
    client.force_login(CouncilMembershipFactory(council=council, role="admin", totp=False).user)
    response = client.post(team_url(council), {"email": "someone@example.org", "role": "admin"})
    assert response.status_code == 403
    assert "two-step sign-in" in response.content.decode()
    assert not OfficerInvite.objects.exists()


# --- Inviting --------------------------------------------------------------------------------------------------------


def test_an_admin_invites_by_email_and_the_email_goes_once_committed(
    client, council, admin, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(admin)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            team_url(council), {"email": "  New.Officer@Cardiff.gov.uk ", "role": "officer"}, follow=True
        )
    assert "Invitation sent to new.officer@cardiff.gov.uk." in response.content.decode()
    assert len(callbacks) == 1  # the task is queued only once the invitation is committed
    sent = OfficerInvite.objects.get()
    assert (sent.email, sent.role, sent.invited_by) == ("new.officer@cardiff.gov.uk", "officer", admin)
    assert sent.expires_at > timezone.now() + timedelta(days=13)

    assert send_officer_invite(sent.pk) is True  # the task body, run in-process
    (message,) = mailoutbox
    assert message.to == ["new.officer@cardiff.gov.uk"]
    assert message.subject == "Join Cardiff Council's team on Stronger Streets"
    assert accept_path(sent) in message.body
    html = message.alternatives[0][0]
    assert accept_path(sent) in html
    assert 'lang="en-gb"' in html
    assert "as an officer" in message.body
    waiting = client.get(team_url(council)).content.decode().split('id="invites-heading"')[1]
    assert "new.officer@cardiff.gov.uk as Officer" in waiting


def test_the_email_is_in_the_recipients_language_when_they_have_an_account(council, admin, mailoutbox):
    person = UserFactory(email="swyddog@example.org")
    Profile.objects.filter(user=person).update(language="cy")
    sent = team.invite_officer(admin=admin, council=council, email="swyddog@example.org", role="admin")
    send_officer_invite(sent.pk)
    assert 'lang="cy"' in mailoutbox[0].alternatives[0][0]


def test_bad_input_keeps_what_was_typed(client, council, admin):
    client.force_login(admin)
    response = client.post(team_url(council), {"email": "not-an-address", "role": "officer"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "<title>Error:" in content
    assert "Enter an email address like" in content
    assert 'value="not-an-address"' in content
    response = client.post(team_url(council), {"email": "a@example.org", "role": "emperor"})
    assert "Choose a role." in response.content.decode()
    assert not OfficerInvite.objects.exists()


def test_someone_already_on_the_team_is_not_invited_again(client, council, admin):
    client.force_login(admin)
    response = client.post(team_url(council), {"email": admin.email.upper(), "role": "officer"})
    assert f"{admin.email} is already on the team." in response.content.decode()
    assert not OfficerInvite.objects.exists()


def test_inviting_again_replaces_the_old_link(client, council, admin):
    first = team.invite_officer(admin=admin, council=council, email="a@example.org", role="officer")
    second = team.invite_officer(admin=admin, council=council, email="a@example.org", role="admin")
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert second.is_open
    response = client.get(accept_path(first))
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_an_admin_withdraws_an_invitation(client, council, admin):
    sent = team.invite_officer(admin=admin, council=council, email="a@example.org", role="officer")
    client.force_login(admin)
    response = client.post(team_url(council, "invite-revoke", sent.pk), follow=True)
    assert "its link no longer works" in response.content.decode()
    sent.refresh_from_db()
    assert sent.revoked_at is not None
    elsewhere = CouncilMembershipFactory(role="admin")
    other = team.invite_officer(admin=elsewhere.user, council=elsewhere.council, email="b@example.org", role="officer")
    assert client.post(team_url(council, "invite-revoke", other.pk)).status_code == 404
    assert client.get(team_url(council, "invite-revoke", sent.pk)).status_code == 405


# --- Accepting -------------------------------------------------------------------------------------------------------


def test_the_invited_person_signs_in_with_the_invited_address_and_joins(client, council, admin):
    sent = team.invite_officer(admin=admin, council=council, email="new@cardiff.gov.uk", role="officer")
    path = accept_path(sent)

    visitor = client.get(path)
    assert visitor.status_code == 200
    content = visitor.content.decode()
    assert "as an officer" in content
    assert f"{reverse('account_login')}?next=" in content
    assert f"{reverse('account_signup')}?next=" in content

    someone_else = UserFactory(email="other@example.org")
    client.force_login(someone_else)
    assert "This invitation is for new@cardiff.gov.uk" in client.get(path).content.decode()
    client.post(path)
    assert not CouncilMembership.objects.filter(user=someone_else).exists()

    unverified = UserFactory(email="new@cardiff.gov.uk")
    EmailAddress.objects.filter(user=unverified).update(verified=False)
    client.force_login(unverified)
    client.post(path)
    assert not CouncilMembership.objects.filter(user=unverified).exists()
    EmailAddress.objects.filter(user=unverified).update(verified=True)

    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("engagement:dashboard", args=[council.slug])
    membership = CouncilMembership.objects.get(user=unverified)
    assert (membership.council, membership.role) == (council, "officer")
    sent.refresh_from_db()
    assert (sent.accepted_by, sent.accepted_at is not None) == (unverified, True)
    # Without two-step sign-in yet, the dashboard explains how to turn it on.
    assert client.get(response["Location"]).status_code == 403

    used = client.get(path)
    assert used.status_code == 410
    assert "already been used" in used.content.decode()


def test_an_expired_or_tampered_link_says_so(client, council, admin):
    sent = team.invite_officer(admin=admin, council=council, email="new@cardiff.gov.uk", role="officer")
    path = accept_path(sent)
    tampered = client.get(path[:-3] + "xyz/")
    assert tampered.status_code == 404
    assert "This invitation link does not work" in tampered.content.decode()
    assert client.get(reverse("engagement:invite-accept", args=["nonsense"])).status_code == 404
    OfficerInvite.objects.filter(pk=sent.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(UserFactory(email="new@cardiff.gov.uk"))
    expired = client.post(path)
    assert expired.status_code == 410
    assert "has expired" in expired.content.decode()
    assert not CouncilMembership.objects.filter(user__email="new@cardiff.gov.uk").exists()


def test_an_invitation_is_used_once(council, admin):
    sent = team.invite_officer(admin=admin, council=council, email="new@cardiff.gov.uk", role="admin")
    person = UserFactory(email="new@cardiff.gov.uk")
    team.accept_invite(user=person, invite=sent)
    with pytest.raises(DomainError, match="already been used"):
        team.accept_invite(user=person, invite=sent)
    assert CouncilMembership.objects.get(user=person).role == "admin"


# --- Removing --------------------------------------------------------------------------------------------------------


def test_an_admin_removes_an_officer_but_never_the_last_admin(client, council, admin):
    officer = CouncilMembershipFactory(council=council).user
    client.force_login(admin)
    page = client.get(team_url(council)).content.decode()
    assert officer.email in page
    assert "only admin" in page
    theirs = CouncilMembership.objects.get(user=officer)
    mine = CouncilMembership.objects.get(user=admin)

    response = client.post(team_url(council, "officer-remove", mine.pk), follow=True)
    assert "at least one admin" in response.content.decode()
    assert CouncilMembership.objects.filter(pk=mine.pk).exists()

    client.post(team_url(council, "officer-remove", theirs.pk))
    assert not CouncilMembership.objects.filter(pk=theirs.pk).exists()

    elsewhere = CouncilMembershipFactory()
    assert client.post(team_url(council, "officer-remove", elsewhere.pk)).status_code == 404
    assert CouncilMembership.objects.filter(pk=elsewhere.pk).exists()


def test_with_two_admins_one_may_leave(client, council, admin):
    CouncilMembershipFactory(council=council, role="admin")
    mine = CouncilMembership.objects.get(user=admin)
    client.force_login(admin)
    response = client.post(team_url(council, "officer-remove", mine.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert client.get(team_url(council)).status_code == 404


@pytest.mark.parametrize("size", [2, 12])
def test_the_team_page_runs_a_fixed_number_of_queries(client, council, admin, django_assert_max_num_queries, size):
    for _ in range(size):
        CouncilMembershipFactory(council=council)
        team.invite_officer(admin=admin, council=council, email=f"{_}{size}@example.org", role="officer")
    client.force_login(admin)
    with django_assert_max_num_queries(8):
        assert client.get(team_url(council)).status_code == 200


def test_an_invitations_link_is_the_same_whenever_it_is_built(council, admin, monkeypatch):
    sent = team.invite_officer(admin=admin, council=council, email="new@cardiff.gov.uk", role="officer")
    monkeypatch.setattr("time.time", lambda: 1_796_000_000.0)
    first = team.invite_link_token(sent)
    monkeypatch.setattr("time.time", lambda: 1_796_086_401.0)  # a day and a second later
    assert team.invite_link_token(sent) == first
    assert team.invite_from_link(first) == sent
    # Another invitation, or this one with its secret changed, has another link.
    other = team.invite_officer(admin=admin, council=council, email="other@cardiff.gov.uk", role="officer")
    assert team.invite_link_token(other) != first
    OfficerInvite.objects.filter(pk=sent.pk).update(token="rotated")
    assert team.invite_from_link(first) is None
    # A link made the earlier way (with a timestamp) still opens its invitation.
    earlier = signing.dumps({"invite": other.pk, "token": other.token}, salt=team.SIGNING_SALT, compress=True)
    assert team.invite_from_link(earlier) == other
