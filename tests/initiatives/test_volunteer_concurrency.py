"""Sixty neighbours press "Sign up" at the same moment for twenty places, on real PostgreSQL."""

import contextlib
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Profile, User
from core.exceptions import DomainError
from initiatives.models import TimelineEntry, VolunteerRole, VolunteerSignup
from initiatives.services import volunteering as services
from neighbourhoods.models import Membership
from notifications.models import Notification
from tests.factories import GroupFactory, InitiativeFactory, InitiativeRoleFactory, MembershipFactory

PEOPLE = 60
PLACES = 20
THREADS = 20  # each thread signs up three people: enough contention without exhausting PostgreSQL's connections


@pytest.mark.django_db(transaction=True)
def test_simultaneous_sign_ups_fill_every_place_and_never_overbook():
    group = GroupFactory()
    initiative = InitiativeFactory(group=group, status="active")
    lead = MembershipFactory(group=group).user
    InitiativeRoleFactory(initiative=initiative, user=lead, role="lead")
    role = VolunteerRole.objects.create(initiative=initiative, title="Litter pick", slots=PLACES)
    users = User.objects.bulk_create([User(email=f"keen{n}@example.org", password="!") for n in range(PEOPLE)])
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Neighbour {n}") for n, u in enumerate(users)])
    Membership.objects.bulk_create(
        [Membership(group=group, user=u, status="active", joined_at=timezone.now()) for u in users]
    )
    # Every thread waits here until all are ready, so their first sign-ups really do arrive together.
    start = Barrier(THREADS)

    def sign_up_for(batch: list[User]) -> list[str]:
        outcomes = []
        try:
            start.wait(timeout=30)
            for user in batch:
                try:
                    services.sign_up(user=user, role=role)
                except DomainError as error:
                    outcomes.append(error.message)
                else:
                    outcomes.append("signed up")
            return outcomes
        finally:
            connection.close()  # each thread has its own connection; leave none open

    batches = [users[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        # Anything other than a DomainError (a deadlock, a broken constraint) would be raised here.
        results = [outcome for batch in pool.map(sign_up_for, batches) for outcome in batch]

    assert len(results) == PEOPLE
    assert results.count("signed up") == PLACES
    assert results.count("All places for this role are taken.") == PEOPLE - PLACES
    assert VolunteerSignup.objects.filter(role=role).count() == PLACES
    assert VolunteerSignup.objects.filter(role=role).values("user").distinct().count() == PLACES
    role.refresh_from_db()
    assert role.filled == PLACES
    assert role.places_left == 0
    # One timeline entry and one note to the lead per volunteer who got a place, none for those turned away.
    assert TimelineEntry.objects.filter(initiative=initiative, kind="volunteer").count() == PLACES
    assert Notification.objects.filter(event="initiative.volunteer_signed_up", recipient=lead).count() == PLACES

    # A place given up goes to the next person who asks, and the count stays true.
    leaving = VolunteerSignup.objects.filter(role=role).first().user
    services.withdraw(user=leaving, role=role)
    latecomer = next(
        u for u in users if not VolunteerSignup.objects.filter(role=role, user=u).exists() and u != leaving
    )
    services.sign_up(user=latecomer, role=role)
    role.refresh_from_db()
    assert role.filled == PLACES == VolunteerSignup.objects.filter(role=role).count()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_sign_ups_and_withdrawals_keep_the_count_true():
    group = GroupFactory()
    initiative = InitiativeFactory(group=group, status="active")
    role = VolunteerRole.objects.create(initiative=initiative, title="Tea urn", slots=10)
    users = User.objects.bulk_create([User(email=f"churn{n}@example.org", password="!") for n in range(30)])
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Neighbour {n}") for n, u in enumerate(users)])
    Membership.objects.bulk_create(
        [Membership(group=group, user=u, status="active", joined_at=timezone.now()) for u in users]
    )
    start = Barrier(10)

    def churn(batch: list[User]) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(3):
                for user in batch:
                    try:
                        services.sign_up(user=user, role=role)
                    except DomainError:
                        continue
                    services.withdraw(user=user, role=role)
                for user in batch:
                    with contextlib.suppress(DomainError):
                        services.sign_up(user=user, role=role)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(churn, [users[i::10] for i in range(10)]))

    role.refresh_from_db()
    assert role.filled == VolunteerSignup.objects.filter(role=role).count() == 10
