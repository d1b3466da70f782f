import pytest

from core import demo
from initiatives.models import Backing, Decision, Initiative, Outcome, Pledge, VolunteerSignup
from neighbourhoods.models import RSVP, Connection, Event, Group, Membership, Post, Wave

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    models = [Group, Membership, Post, Event, RSVP, Wave, Connection, Initiative, Backing, Pledge, VolunteerSignup]
    return {model.__name__: model.objects.count() for model in models}


def test_the_demo_seed_covers_every_feature_and_runs_twice_without_duplicating():
    results, made = demo.seed()
    assert made is True
    assert {person.role for person, _ in results} == {"resident", "organiser", "council officer", "admin"}
    first = counts()

    assert set(Post.objects.values_list("kind", flat=True)) == set(Post.Kind.values)
    assert Post.objects.filter(fulfilled_at__isnull=False).exists()
    assert Group.objects.filter(visibility="members").exists()
    assert set(Group.objects.values_list("join_policy", flat=True)) == set(Group.JoinPolicy.values)
    assert Membership.objects.filter(status="pending").exists()
    assert Membership.objects.filter(role="organiser").count() >= 4
    assert RSVP.objects.filter(status="waitlisted").exists()
    assert Event.objects.filter(ends_at__lt=demo.neighbourhoods_demo.timezone.now()).exists()
    assert Wave.objects.filter(status="open").exists()
    assert Connection.objects.exists()

    assert set(Initiative.objects.values_list("status", flat=True)) == set(Initiative.Status.values)
    assert Backing.objects.filter(status="approved").count() >= 2
    assert Outcome.objects.exists()
    assert Pledge.objects.exists()
    assert VolunteerSignup.objects.exists()
    assert set(Decision.objects.values_list("status", flat=True)) == {"open", "closed"}

    _, made_again = demo.seed()
    assert made_again is False
    assert counts() == first
