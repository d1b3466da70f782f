"""Councils with figures for the dashboard tests: snapshot rows written directly (fast, any size), or real activity."""

import random
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from engagement.metrics import STORED
from engagement.models import EngagementSnapshot
from neighbourhoods.models import Council, Neighbourhood
from tests.factories import CouncilFactory, CouncilMembershipFactory, NeighbourhoodFactory


@dataclass
class Place:
    council: Council
    areas: list[Neighbourhood] = field(default_factory=list)
    officer: object = None


def snapshot_council(
    *,
    size: int,
    seed: int = 1,
    slug: str | None = None,
    values=None,
    wards=("Adamsdown", "Splott", ""),
    council: Council | None = None,
) -> Place:
    """A council of `size` neighbourhoods (deciles 1 to 10, a few wards, some without households) and one snapshot
    for today with figures from `values(rng, key)` (default: a mix of zeros, small and larger numbers)."""
    rng = random.Random(seed)
    council = council or CouncilFactory(**({"slug": slug} if slug else {}))
    areas = [
        NeighbourhoodFactory(
            council=council,
            imd_decile=index % 10 + 1,
            ward=wards[index % len(wards)],
            households=None if index % 7 == 6 else rng.randint(200, 3000),
        )
        for index in range(size)
    ]

    def default(rng, key):
        return rng.choice([0, 0, rng.randint(1, 9), rng.randint(1, 14), rng.randint(10, 400)])

    values = values or default
    today = timezone.localdate()
    rows = []
    for area in areas:
        figures = {key: values(rng, key) for key in STORED}
        figures["know_one"] = min(figures["know_one"], figures["members"])
        figures["know_three"] = min(figures["know_three"], figures["know_one"])
        rows.append(EngagementSnapshot(neighbourhood=area, date=today, households=area.households, **figures))
    EngagementSnapshot.objects.bulk_create(rows)
    return Place(council, areas)


@pytest.fixture
def officer_client(client):
    """Sign `client` in as an officer (with two-step sign-in) of a place's (or a plain) council."""

    def sign_in(place: Place | Council, role: str = "officer"):
        council = place.council if isinstance(place, Place) else place
        officer = CouncilMembershipFactory(council=council, role=role).user
        if isinstance(place, Place):
            place.officer = officer
        client.force_login(officer)
        return client

    return sign_in
