import re
from io import StringIO

import pytest
from allauth.mfa.totp.internal.auth import validate_totp_code
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from core import demo
from engagement import selectors
from engagement.models import EngagementSnapshot
from initiatives.models import Backing, Decision, Initiative, Outcome, Pledge, Support, TimelineEntry, VolunteerSignup
from neighbourhoods.models import (
    RSVP,
    Comment,
    Connection,
    Council,
    Event,
    Group,
    Membership,
    Neighbourhood,
    Post,
    Wave,
)

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    models = [Group, Membership, Post, Comment, Event, RSVP, Wave, Connection, Initiative, Backing, Pledge, Support]
    models += [VolunteerSignup, TimelineEntry, User, EngagementSnapshot]
    return {model.__name__: model.objects.count() for model in models}


def test_the_demo_seed_covers_every_feature_and_runs_twice_without_duplicating(settings):
    results, made, year_made = demo.seed()
    assert made is True
    assert year_made is True
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

    _, made_again, year_again = demo.seed()
    assert made_again is False
    assert year_again is False
    assert counts() == first

    settings.DEBUG = True
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "0 new people, 4 already there" in again.getvalue()
    assert "Nothing new" in again.getvalue()
    assert "Made" not in again.getvalue()
    assert demo.DEMO_TOTP_SECRET in again.getvalue()
    assert counts() == first


def test_a_year_of_activity_gives_the_council_dashboards_real_shapes_with_made_up_neighbours():
    demo.seed()
    cardiff = Council.objects.get(code="W06000015")
    areas = Neighbourhood.objects.filter(council=cardiff)

    # People joined all through the last twelve months, more in some places than others.
    joined = list(
        Membership.objects.filter(user__email__startswith="demo-neighbour-").values_list("joined_at", flat=True)
    )
    assert len({(moment.year, moment.month) for moment in joined}) >= 12
    members = {area.name: area.groups.filter(memberships__status="active").count() for area in areas}
    assert members["Roath"] > 5 * members["Adamsdown"]

    # A weekly snapshot for each of the past 52 weeks and today, for every neighbourhood.
    dates = EngagementSnapshot.objects.values_list("date", flat=True).distinct()
    assert len(dates) == 53
    assert EngagementSnapshot.objects.count() == 53 * areas.count()
    series = [point for _, point in selectors.snapshot_series(cardiff, metric="members")]
    assert len(series) == 53
    assert series[0].value is None or series[0].value < series[-1].value
    assert series[-1].value >= 400

    # The overview shows figures big enough to publish and small ones hidden as "<10".
    table = selectors.council_table(cardiff)
    counts_shown = [
        cell for row in table.rows for key, cell in row.cells.items() if key in ("members", "new_members", "know_one")
    ]
    assert any(cell.suppressed for cell in counts_shown)
    assert any(cell.value is not None and cell.value >= 10 for cell in counts_shown)
    assert table.totals.cells["volunteer_hours"].value
    assert table.totals.cells["offers_approved"].value or table.totals.cells["offers_approved"].suppressed

    # The most deprived areas are where neighbours are connecting least.
    gaps, _ = selectors.connection_gaps(cardiff)
    assert {"Adamsdown", "Butetown"} <= {gap.row.label for gap in gaps}

    # Initiatives in every state, each with the history that brought it there.
    generated = Initiative.objects.filter(slug__contains="-demo-")
    assert set(generated.values_list("status", flat=True)) == set(Initiative.Status.values)
    for initiative in generated.prefetch_related("status_changes"):
        assert [change.to_status for change in initiative.status_changes.all()][-1] == initiative.status

    # Everyone in it is made up: example.org addresses, short made-up names, no way to sign in as them.
    neighbours = User.objects.filter(email__startswith="demo-neighbour-").select_related("profile")
    assert neighbours.count() > 500
    for person in neighbours:
        assert person.email.endswith("@example.org")
        assert not person.has_usable_password()
        assert re.fullmatch(r"\w+ [A-Z]\.", person.profile.display_name)
        assert person.profile.bio == ""


def test_the_demo_officer_signs_in_with_the_published_authenticator_key(client):
    demo.seed()
    code = StringIO()
    call_command("demo_code", stdout=code)
    current = code.getvalue().split()[0]
    assert validate_totp_code(demo.DEMO_TOTP_SECRET, current)

    response = client.post(
        reverse("account_login"), {"login": "officer@example.org", "password": demo.DEMO_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": current})
    assert response.status_code == 302
    trends = client.get(reverse("engagement:trends", kwargs={"council_slug": "cardiff-council"}))
    assert trends.status_code == 200
    assert "Cardiff Council" in trends.content.decode()
