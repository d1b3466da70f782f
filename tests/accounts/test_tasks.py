import time
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts import services
from accounts.models import User
from accounts.tasks import purge_unverified_accounts
from tests.factories import UserFactory


def make_unverified(email: str, days_old: int) -> User:
    user = User.objects.create_user(email, "a-long-and-unusual-passphrase", display_name="Never confirmed")
    EmailAddress.objects.create(user=user, email=email, verified=False, primary=True)
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=days_old))
    return user


@pytest.mark.django_db
def test_unverified_accounts_are_deleted_after_a_week_and_no_one_else():
    stale = make_unverified("stale@example.org", days_old=8)
    fresh = make_unverified("fresh@example.org", days_old=2)
    verified = UserFactory()
    User.objects.filter(pk=verified.pk).update(date_joined=timezone.now() - timedelta(days=30))
    staff = make_unverified("staff@example.org", days_old=30)
    User.objects.filter(pk=staff.pk).update(is_staff=True)

    assert services.purge_unverified_accounts() == 1
    assert set(User.objects.values_list("pk", flat=True)) == {fresh.pk, verified.pk, staff.pk}
    assert not User.objects.filter(pk=stale.pk).exists()
    # Running it again deletes nothing more.
    assert services.purge_unverified_accounts() == 0


@pytest.mark.worker
def test_a_real_worker_runs_the_task_from_the_redis_broker(celery_worker_process):
    stale = make_unverified("stale@example.org", days_old=8)
    keep = UserFactory()

    purge_unverified_accounts.delay()

    deadline = time.monotonic() + 30
    while User.objects.filter(pk=stale.pk).exists():
        assert time.monotonic() < deadline, "the worker did not run the task within 30 seconds"
        time.sleep(0.2)
    assert User.objects.filter(pk=keep.pk).exists()
