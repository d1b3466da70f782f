from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from core.exceptions import DomainError
from neighbourhoods import services
from neighbourhoods.models import Group, JoinCode, Membership
from tests.factories import GroupFactory, JoinCodeFactory, MembershipFactory, PostcodeFactory, UserFactory

pytestmark = pytest.mark.django_db


def status_of(user, group) -> str:
    return Membership.objects.get(user=user, group=group).status


# --- Starting a group ---------------------------------------------------------------------------------------------


def test_starting_a_group_makes_the_founder_its_verified_organiser():
    founder = UserFactory()
    postcode = PostcodeFactory()
    group = services.create_group(
        founder=founder, neighbourhood=postcode.neighbourhood, name="  Clifton Street  ", postcodes=[postcode]
    )
    assert group.name == "Clifton Street"
    assert group.slug == "clifton-street"
    assert list(group.postcodes.all()) == [postcode]
    membership = Membership.objects.get(group=group)
    assert membership.user == founder
    assert membership.is_organiser
    assert membership.is_verified


def test_names_are_unique_within_a_neighbourhood_but_not_across_them():
    postcode = PostcodeFactory()
    services.create_group(founder=UserFactory(), neighbourhood=postcode.neighbourhood, name="Clifton St", postcodes=[])
    with pytest.raises(DomainError, match="already a group"):
        services.create_group(
            founder=UserFactory(), neighbourhood=postcode.neighbourhood, name="clifton st", postcodes=[]
        )
    elsewhere = PostcodeFactory()
    other = services.create_group(
        founder=UserFactory(), neighbourhood=elsewhere.neighbourhood, name="Clifton St", postcodes=[]
    )
    assert other.slug != "clifton-st"  # slugs stay unique across the whole site


def test_only_people_with_a_verified_email_start_groups():
    founder = UserFactory()
    EmailAddress.objects.filter(user=founder).update(verified=False)
    postcode = PostcodeFactory()
    with pytest.raises(DomainError, match="Confirm your email"):
        services.create_group(founder=founder, neighbourhood=postcode.neighbourhood, name="X", postcodes=[])
    assert not Group.objects.exists()


def test_a_group_cannot_take_postcodes_from_another_neighbourhood():
    postcode, stranger = PostcodeFactory(), PostcodeFactory()
    with pytest.raises(DomainError):
        services.create_group(
            founder=UserFactory(), neighbourhood=postcode.neighbourhood, name="X", postcodes=[postcode, stranger]
        )
    assert not Group.objects.exists()
    assert not Membership.objects.exists()


# --- Joining ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "status"), [("open", "active"), ("approval", "pending")])
def test_joining_follows_the_groups_policy(policy, status):
    group = GroupFactory(join_policy=policy)
    user = UserFactory()
    membership = services.join_group(user=user, group=group)
    assert membership.status == status
    assert not membership.is_verified


def test_a_code_group_refuses_a_plain_join():
    group = GroupFactory(join_policy="code")
    with pytest.raises(DomainError, match="join code"):
        services.join_group(user=UserFactory(), group=group)
    assert not Membership.objects.filter(group=group).exists()


def test_joining_twice_is_refused_clearly():
    group = GroupFactory(join_policy="approval")
    user = UserFactory()
    services.join_group(user=user, group=group)
    with pytest.raises(DomainError, match="already asked"):
        services.join_group(user=user, group=group)
    assert Membership.objects.filter(group=group, user=user).count() == 1


def test_banned_people_cannot_join_again_by_any_route():
    membership = MembershipFactory(status="banned")
    code = JoinCodeFactory(group=membership.group)
    with pytest.raises(DomainError, match="cannot join"):
        services.join_group(user=membership.user, group=membership.group)
    with pytest.raises(DomainError, match="cannot join"):
        services.join_with_code(user=membership.user, code=code.code)
    assert status_of(membership.user, membership.group) == "banned"
    code.refresh_from_db()
    assert code.uses == 0


def test_people_who_left_can_come_back():
    membership = MembershipFactory(status="left", group__join_policy="open")
    services.join_group(user=membership.user, group=membership.group)
    assert status_of(membership.user, membership.group) == "active"


def test_a_join_code_joins_and_verifies_and_counts_its_use():
    code = JoinCodeFactory(group__join_policy="code", max_uses=2)
    user = UserFactory()
    membership = services.join_with_code(user=user, code=f"  {code.code.lower()} ")
    assert membership.is_active
    assert membership.is_verified
    assert membership.verified_by == "code"
    code.refresh_from_db()
    assert code.uses == 1


def test_a_join_code_verifies_an_existing_unverified_member():
    membership = MembershipFactory(verified_at=None, verified_by="")
    code = JoinCodeFactory(group=membership.group)
    services.join_with_code(user=membership.user, code=code.code)
    membership.refresh_from_db()
    assert membership.is_verified


@pytest.mark.parametrize(
    "code_kwargs",
    [
        {"expires_at": timezone.now() - timedelta(minutes=1)},
        {"max_uses": 1, "uses": 1},
        {"revoked_at": timezone.now()},
    ],
)
def test_expired_used_up_or_withdrawn_codes_are_refused(code_kwargs):
    code = JoinCodeFactory(**code_kwargs)
    user = UserFactory()
    with pytest.raises(DomainError, match="expired or has been used up"):
        services.join_with_code(user=user, code=code.code)
    assert not Membership.objects.filter(user=user).exists()


def test_an_unknown_code_is_refused():
    with pytest.raises(DomainError, match="not right"):
        services.join_with_code(user=UserFactory(), code="NOPE1234")


# --- Running the membership ---------------------------------------------------------------------------------------


@pytest.fixture
def organiser_membership():
    return MembershipFactory(role="organiser", group__join_policy="approval")


def test_approval_lets_someone_in_and_verifies_them(organiser_membership):
    group = organiser_membership.group
    pending = services.join_group(user=UserFactory(), group=group)
    services.approve_membership(organiser=organiser_membership.user, membership=pending)
    pending.refresh_from_db()
    assert pending.is_active
    assert pending.verified_by == "approval"


def test_declining_a_request_lets_them_ask_again(organiser_membership):
    user = UserFactory()
    pending = services.join_group(user=user, group=organiser_membership.group)
    services.decline_membership(organiser=organiser_membership.user, membership=pending)
    assert not Membership.objects.filter(user=user).exists()
    assert services.join_group(user=user, group=organiser_membership.group).status == "pending"


def test_members_cannot_run_the_membership(organiser_membership):
    member = MembershipFactory(group=organiser_membership.group)
    pending = services.join_group(user=UserFactory(), group=organiser_membership.group)
    for action in (services.approve_membership, services.decline_membership, services.remove_member):
        with pytest.raises(DomainError, match="organisers"):
            action(organiser=member.user, membership=pending)
    assert pending.status == "pending"


def test_organisers_of_another_group_cannot_act_here(organiser_membership):
    other = MembershipFactory(role="organiser")
    target = MembershipFactory(group=organiser_membership.group)
    with pytest.raises(DomainError):
        services.remove_member(organiser=other.user, membership=target)
    assert status_of(target.user, target.group) == "active"


def test_remove_ban_promote_and_demote(organiser_membership):
    organiser = organiser_membership.user
    group = organiser_membership.group
    member = MembershipFactory(group=group)
    services.promote_to_organiser(organiser=organiser, membership=member)
    assert Membership.objects.get(pk=member.pk).is_organiser
    services.demote_organiser(organiser=organiser, membership=member)
    assert not Membership.objects.get(pk=member.pk).is_organiser
    services.remove_member(organiser=organiser, membership=member)
    assert status_of(member.user, group) == "removed"
    services.ban_member(organiser=organiser, membership=Membership.objects.get(pk=member.pk))
    assert status_of(member.user, group) == "banned"


def test_a_group_always_keeps_an_organiser(organiser_membership):
    organiser = organiser_membership.user
    group = organiser_membership.group
    with pytest.raises(DomainError, match="only organiser"):
        services.leave_group(member=organiser, group=group)
    with pytest.raises(DomainError, match="at least one organiser"):
        services.demote_organiser(organiser=organiser, membership=organiser_membership)
    # With a co-organiser, either may step back — but not both.
    co = MembershipFactory(group=group, role="organiser")
    services.leave_group(member=organiser, group=group)
    with pytest.raises(DomainError):
        services.leave_group(member=co.user, group=group)
    assert Membership.objects.organisers().filter(group=group).count() == 1


def test_organisers_cannot_remove_or_ban_themselves(organiser_membership):
    with pytest.raises(DomainError, match="yourself"):
        services.ban_member(organiser=organiser_membership.user, membership=organiser_membership)


def test_members_leave(organiser_membership):
    member = MembershipFactory(group=organiser_membership.group)
    services.leave_group(member=member.user, group=member.group)
    assert status_of(member.user, member.group) == "left"
    with pytest.raises(DomainError, match="not a member"):
        services.leave_group(member=member.user, group=member.group)


# --- Vouching -----------------------------------------------------------------------------------------------------


def test_two_vouches_from_verified_members_verify_someone():
    newcomer = MembershipFactory(verified_at=None, verified_by="")
    group = newcomer.group
    first, second = MembershipFactory(group=group), MembershipFactory(group=group)
    services.vouch_for(voucher=first.user, membership=newcomer)
    newcomer.refresh_from_db()
    assert not newcomer.is_verified
    with pytest.raises(DomainError, match="already vouched"):
        services.vouch_for(voucher=first.user, membership=newcomer)
    services.vouch_for(voucher=second.user, membership=newcomer)
    newcomer.refresh_from_db()
    assert newcomer.is_verified
    assert newcomer.verified_by == "vouches"


def test_unverified_members_and_outsiders_cannot_vouch():
    newcomer = MembershipFactory(verified_at=None, verified_by="")
    unverified = MembershipFactory(group=newcomer.group, verified_at=None)
    outsider = MembershipFactory()
    for voucher in (unverified.user, outsider.user):
        with pytest.raises(DomainError, match="Only verified members"):
            services.vouch_for(voucher=voucher, membership=newcomer)
    verified = MembershipFactory(group=newcomer.group)
    with pytest.raises(DomainError, match="yourself"):
        services.vouch_for(voucher=verified.user, membership=verified)
    assert not newcomer.vouches.exists()


# --- Join codes ---------------------------------------------------------------------------------------------------


def test_organisers_make_and_withdraw_codes(organiser_membership):
    code = services.create_join_code(
        organiser=organiser_membership.user, group=organiser_membership.group, label=" Moira Terrace ", max_uses=30
    )
    assert len(code.code) == 8
    assert not set(code.code) & set("01OIL5S")
    assert code.label == "Moira Terrace"
    services.revoke_join_code(organiser=organiser_membership.user, join_code=code)
    code.refresh_from_db()
    assert not code.is_usable


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"expires_at": timezone.now() - timedelta(days=1)}, "future"),
        ({"max_uses": 0}, "at least one use"),
    ],
)
def test_bad_code_settings_are_refused(organiser_membership, kwargs, message):
    with pytest.raises(DomainError, match=message):
        services.create_join_code(organiser=organiser_membership.user, group=organiser_membership.group, **kwargs)
    assert not JoinCode.objects.exists()


def test_members_cannot_make_codes(organiser_membership):
    member = MembershipFactory(group=organiser_membership.group)
    with pytest.raises(DomainError):
        services.create_join_code(organiser=member.user, group=member.group)


@pytest.mark.parametrize("how", ["leave", "remove", "ban"])
def test_someone_leaving_gives_their_event_place_to_the_first_person_waiting(how):
    from neighbourhoods.models import RSVP
    from tests.factories import EventFactory

    organiser = MembershipFactory(role="organiser")
    group = organiser.group
    event = EventFactory(group=group, capacity=1)
    leaver, waiting = MembershipFactory(group=group), MembershipFactory(group=group)
    services.rsvp(user=leaver.user, event=event, status="going")
    services.rsvp(user=waiting.user, event=event, status="going")
    assert RSVP.objects.get(user=waiting.user).status == "waitlisted"

    if how == "leave":
        services.leave_group(member=leaver.user, group=group)
    elif how == "remove":
        services.remove_member(organiser=organiser.user, membership=leaver)
    else:
        services.ban_member(organiser=organiser.user, membership=leaver)

    assert not RSVP.objects.filter(user=leaver.user).exists()
    assert RSVP.objects.get(user=waiting.user).status == "going"
    event.refresh_from_db()
    assert event.going_count == 1


def test_a_code_for_another_group_is_refused_and_left_unused():
    code = JoinCodeFactory(max_uses=1)
    here = GroupFactory(join_policy="code")
    user = UserFactory()
    with pytest.raises(DomainError, match="different group"):
        services.join_with_code(user=user, code=code.code, group=here)
    assert not Membership.objects.filter(user=user).exists()
    code.refresh_from_db()
    assert code.uses == 0
