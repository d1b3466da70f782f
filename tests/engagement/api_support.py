"""Helpers for the council API tests: officers with two-step sign-in, their tokens, councils with snapshot figures,
and walking JSON responses."""

import random
from collections.abc import Callable, Iterator

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone

from engagement.api import tokens
from engagement.metrics import STORED
from engagement.models import EngagementSnapshot
from neighbourhoods.models import Council, CouncilMembership
from tests.factories import CouncilFactory, CouncilMembershipFactory, NeighbourhoodFactory

WARDS = ("Adamsdown", "Splott", "")


def with_two_step(user):
    """Turn on two-step sign-in (an authenticator app) for `user`, as officers must have it."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    return user


def make_officer(council: Council, *, role: str = CouncilMembership.Role.OFFICER, user=None):
    kwargs = {"user": user} if user is not None else {}
    return with_two_step(CouncilMembershipFactory(council=council, role=role, **kwargs).user)


def make_token(council: Council, officer=None, *, name: str = "Ward reports") -> str:
    """A working token of `council` (for a new officer unless one is given); returns the full token."""
    officer = officer or make_officer(council)
    return tokens.create_api_token(officer=officer, council=council, name=name)[1]


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def default_value(rng: random.Random, key: str) -> int:
    return rng.choice([0, 0, rng.randint(1, 9), rng.randint(1, 14), rng.randint(10, 400)])


def snapshot_council(
    *, size: int, seed: int = 1, values: Callable[[random.Random, str], int] | None = None, council=None
) -> tuple[Council, list]:
    """A council of `size` neighbourhoods (deciles 1 to 10 in turn, a few wards, some without households) with one
    snapshot for today whose figures come from `values(rng, key)` (default: zeros, small and larger numbers)."""
    rng = random.Random(seed)
    council = council or CouncilFactory()
    areas = [
        NeighbourhoodFactory(
            council=council,
            imd_decile=index % 10 + 1,
            ward=WARDS[index % len(WARDS)],
            households=None if index % 7 == 6 else rng.randint(200, 3000),
        )
        for index in range(size)
    ]
    values = values or default_value
    today = timezone.localdate()
    rows = []
    for area in areas:
        figures = {key: values(rng, key) for key in STORED}
        figures["know_one"] = min(figures["know_one"], figures["members"])
        figures["know_three"] = min(figures["know_three"], figures["know_one"])
        rows.append(EngagementSnapshot(neighbourhood=area, date=today, households=area.households, **figures))
    EngagementSnapshot.objects.bulk_create(rows)
    return council, areas


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
