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
