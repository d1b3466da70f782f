"""Two hundred neighbours press "Going" at the same moment for fifty places, on real PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Profile, User
from neighbourhoods.models import RSVP, Event, Membership
from neighbourhoods.services import events as services
from tests.factories import EventFactory, GroupFactory

PEOPLE = 200
PLACES = 50
THREADS = 20


@pytest.mark.django_db(transaction=True)
def test_simultaneous_replies_never_overbook_and_the_rest_wait_in_line():
    group = GroupFactory()
    event = EventFactory(group=group, capacity=PLACES)
    users = User.objects.bulk_create([User(email=f"rush{n}@example.org", password="!") for n in range(PEOPLE)])
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Neighbour {n}") for n, u in enumerate(users)])
    Membership.objects.bulk_create(
        [Membership(group=group, user=u, status="active", joined_at=timezone.now()) for u in users]
    )
    # Every thread waits here until all are ready, so their first replies really do arrive together.
    start = Barrier(THREADS)

    def reply_for(batch: list[User]) -> list[str]:
        try:
            start.wait(timeout=30)
            return [services.rsvp(user=u, event=event, status="going").status for u in batch]
        finally:
            connection.close()  # each thread has its own connection; leave none open

    batches = [users[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = [status for batch in pool.map(reply_for, batches) for status in batch]

    assert len(results) == PEOPLE  # no reply raised
    assert results.count("going") == PLACES
    assert results.count("waitlisted") == PEOPLE - PLACES
    in_db = RSVP.objects.filter(event=event)
    assert in_db.filter(status=RSVP.Status.GOING).count() == PLACES
    assert in_db.filter(status=RSVP.Status.WAITLISTED).count() == PEOPLE - PLACES
    assert in_db.values("user").distinct().count() == PEOPLE
    event.refresh_from_db()
    assert event.going_count == PLACES

    # The first person to drop out hands their place to whoever has waited longest.
    first_waiting = in_db.filter(status=RSVP.Status.WAITLISTED).order_by("updated_at", "pk").first()
    leaving = in_db.filter(status=RSVP.Status.GOING).first()
    services.rsvp(user=leaving.user, event=event, status="not_going")
    first_waiting.refresh_from_db()
    assert first_waiting.status == RSVP.Status.GOING
    assert Event.objects.get(pk=event.pk).going_count == PLACES
