import os

import pytest

from tests import preflight


def pytest_configure(config):
    # Only the controlling process checks; xdist workers inherit its answer.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    found = preflight.problem()
    if found:
        pytest.exit(found, returncode=3)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (this worker's own Redis database), so rate limits never leak."""
    from django.core.cache import cache

    cache.clear()
    return


@pytest.fixture
def password() -> str:
    return "correct-horse-battery-staple"


@pytest.fixture
def user(db, password):
    from tests.factories import UserFactory

    return UserFactory(password=password)


@pytest.fixture
def signed_in_client(client, user):
    client.force_login(user)
    return client
