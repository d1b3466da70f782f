"""Helpers for the council API tests: officers with two-step sign-in, their tokens, councils with snapshot figures,
and walking JSON responses."""

import random
from collections.abc import Callable, Iterator

from engagement.api import tokens
from neighbourhoods.models import Council, CouncilMembership
from tests.engagement.conftest import snapshot_council as dashboard_council
from tests.factories import CouncilMembershipFactory, activate_totp

WARDS = ("Adamsdown", "Splott", "")


def with_two_step(user):
    """Turn on two-step sign-in (an authenticator app) for `user`, as officers must have it."""
    activate_totp(user)
    return user


def make_officer(council: Council, *, role: str = CouncilMembership.Role.OFFICER, user=None):
    """An officer of `council` with two-step sign-in (the factory turns it on)."""
    kwargs = {"user": user} if user is not None else {}
    return CouncilMembershipFactory(council=council, role=role, **kwargs).user


def make_token(council: Council, officer=None, *, name: str = "Ward reports") -> str:
    """A working token of `council` (for a new officer unless one is given); returns the full token."""
    officer = officer or make_officer(council)
    return tokens.create_api_token(officer=officer, council=council, name=name)[1]


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def snapshot_council(
    *, size: int, seed: int = 1, values: Callable[[random.Random, str], int] | None = None, council=None
) -> tuple[Council, list]:
    """A council of `size` neighbourhoods with one snapshot for today (see the dashboard tests' `snapshot_council`),
    as (council, neighbourhoods)."""
    place = dashboard_council(size=size, seed=seed, values=values, council=council, wards=WARDS)
    return place.council, place.areas


def published_cells(data) -> Iterator[dict]:
    """Every published figure (an object with value, display and suppressed) anywhere in a JSON response."""
    if isinstance(data, dict):
        if {"value", "display", "suppressed"} <= set(data):
            yield data
        for value in data.values():
            yield from published_cells(value)
    elif isinstance(data, list):
        for item in data:
            yield from published_cells(item)


def keys_in(data) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from keys_in(value)
    elif isinstance(data, list):
        for item in data:
            yield from keys_in(item)
