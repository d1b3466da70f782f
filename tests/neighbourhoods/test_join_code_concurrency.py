from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from core.exceptions import DomainError
from neighbourhoods import services
from neighbourhoods.models import JoinCode, Membership
from tests.factories import JoinCodeFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_a_code_limited_to_five_uses_lets_exactly_five_in_under_a_rush():
    code = JoinCodeFactory(max_uses=5, group__join_policy="code")
    people = UserFactory.create_batch(20)

    def join(user):
        try:
            services.join_with_code(user=user, code=code.code)
            return "joined"
        except DomainError:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(join, people))

    assert outcomes.count("joined") == 5
    assert outcomes.count("refused") == 15
    assert Membership.objects.filter(group=code.group, status="active").count() == 5
    assert JoinCode.objects.get(pk=code.pk).uses == 5


def _leave_together(group, memberships) -> list[str]:
    """Two organisers press "Leave" at the same moment; return how each fared."""
    import threading

    start = threading.Barrier(len(memberships))
    outcomes = []

    def leave(membership):
        start.wait()
        try:
            services.leave_group(member=membership.user, group=group)
            outcomes.append("left")
        except DomainError:
            outcomes.append("refused")
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=leave, args=(m,)) for m in memberships]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_organisers_stepping_down_at_once_leave_exactly_one_and_nobody_sees_a_crash():
    from tests.factories import GroupFactory, MembershipFactory

    for _ in range(5):
        group = GroupFactory()
        organisers = MembershipFactory.create_batch(2, group=group, role="organiser")
        assert sorted(_leave_together(group, organisers)) == ["left", "refused"]
        assert Membership.objects.organisers().filter(group=group).count() == 1


def test_a_group_called_new_gets_an_address_that_works(db):
    from tests.factories import PostcodeFactory, UserFactory

    postcode = PostcodeFactory()
    group = services.create_group(founder=UserFactory(), neighbourhood=postcode.neighbourhood, name="New", postcodes=[])
    assert group.slug != "new"
