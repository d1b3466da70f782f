"""Asks and pledges: organisers list what an initiative needs, members pledge towards it, progress shows in words and
as a bar, bad amounts are refused with a clear message and nothing written, and the page runs a fixed number of
queries."""

import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from core.exceptions import DomainError
from initiatives import timeline
from initiatives.models import Ask, Initiative, Pledge, TimelineEntry
from initiatives.selectors.asks import AskProgress, format_amount
from initiatives.services import asks as services
from neighbourhoods.models import Group, Membership
from notifications.models import Notification
from tests.factories import (
    AskFactory,
    CouncilMembershipFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ["visitor", "member", "non_member", "lead", "co_organiser", "officer", "other_officer"]
ORGANISERS = {"lead", "co_organiser"}
MEMBERS = {"member", "lead", "co_organiser"}  # the lead and co-organisers are members of the group too
BAD_AMOUNTS = [
    ("0", "more than 0"),
    ("-5", "more than 0"),
    ("abc", "as a number"),
    ("1e12", "up to 1,000,000"),
    ("1000000.01", "up to 1,000,000"),
    ("12.505", "at most 2 decimal places"),
    ("NaN", "as a number"),
    ("", "as a number"),
]


def make_initiative(*, visibility: str = Group.Visibility.PUBLIC, status: str = "planning") -> Initiative:
    group = GroupFactory(visibility=visibility)
    initiative = InitiativeFactory(group=group, status=status)
    lead = MembershipFactory(group=group).user
    InitiativeRoleFactory(initiative=initiative, user=lead, role="lead")
    initiative.lead = lead
    return initiative


def person(role: str, initiative: Initiative) -> User | None:
    if role == "visitor":
        return None
    if role == "member":
        return MembershipFactory(group=initiative.group).user
    if role == "non_member":
        return UserFactory()
    if role == "lead":
        return initiative.lead
    if role == "co_organiser":
        user = MembershipFactory(group=initiative.group).user
        InitiativeRoleFactory(initiative=initiative, user=user, role="co_organiser")
        return user
    if role == "officer":
        return CouncilMembershipFactory(council=initiative.neighbourhood.council).user
    return CouncilMembershipFactory().user


def member(initiative: Initiative, name: str | None = None) -> User:
    user = MembershipFactory(group=initiative.group).user
    if name:
        Profile.objects.filter(user=user).update(display_name=name)
        user.refresh_from_db()
    return user


def money(initiative: Initiative, target="500", title="Money for seeds") -> Ask:
    return AskFactory(initiative=initiative, kind="money", title=title, target=Decimal(target), unit="")


def url(name: str, initiative: Initiative, obj=None) -> str:
    args = [initiative.slug] if obj is None else [initiative.slug, obj.pk]
    return reverse(f"initiatives:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def written() -> tuple:
    """Everything a pledge writes, to prove a refused one wrote nothing."""
    return (
        Pledge.objects.count(),
        list(Ask.objects.order_by("pk").values_list("pledged", flat=True)),
        TimelineEntry.objects.count(),
        Notification.objects.count(),
    )


# --- Amounts and how they read ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "unit", "amount", "text"),
    [
        ("money", "", "120", "£120"),
        ("money", "", "12.5", "£12.50"),
        ("money", "", "1200.00", "£1,200"),
        ("materials", "bags", "20", "20 bags"),
        ("materials", "kg", "2.50", "2.5 kg"),
        ("permission", "", "1", "1"),
    ],
)
def test_amounts_read_as_people_write_them(kind, unit, amount, text):
    assert format_amount(Ask(kind=kind, unit=unit), Decimal(amount)) == text


@pytest.mark.parametrize(
    ("pledged", "percent", "bar", "over"),
    [("0", 0, 0, ""), ("120", 24, 24, ""), ("499.99", 99, 99, ""), ("500", 100, 100, ""), ("600", 120, 100, "£100")],
)
def test_progress_is_a_share_of_the_target_and_the_bar_stops_at_full(pledged, percent, bar, over):
    progress = AskProgress(ask=Ask(kind="money", target=Decimal("500"), pledged=Decimal(pledged)), pledge_count=1)
    assert (progress.percent, progress.bar, progress.over_text) == (percent, bar, over)
    assert progress.is_met == (Decimal(pledged) >= 500)


# --- Services: managing asks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "co_organiser"])
def test_organisers_list_what_is_needed_and_money_is_always_in_pounds(role):
    initiative = make_initiative()
    organiser = person(role, initiative)
    cash = services.add_ask(
        organiser=organiser, initiative=initiative, kind="money", title="Seeds", target="250.50", unit="quid"
    )
    assert (cash.kind, cash.target, cash.unit, cash.pledged) == ("money", Decimal("250.50"), "", Decimal("0"))
    bags = services.add_ask(
        organiser=organiser, initiative=initiative, kind="materials", title="Compost", target=20, unit=" bags "
    )
    assert (bags.target, bags.unit) == (Decimal("20"), "bags")
    for kind in ("skills", "space", "permission"):
        services.add_ask(organiser=organiser, initiative=initiative, kind=kind, title=kind, target=1)
    assert initiative.asks.count() == 5


@pytest.mark.parametrize("role", ["member", "non_member", "officer", "other_officer"])
def test_only_organisers_manage_asks(role):
    initiative = make_initiative()
    someone = person(role, initiative)
    ask = money(initiative)
    with pytest.raises(DomainError, match="lead and co-organisers"):
        services.add_ask(organiser=someone, initiative=initiative, kind="money", title="More", target=5)
    with pytest.raises(DomainError, match="lead and co-organisers"):
        services.edit_ask(organiser=someone, ask=ask, kind="money", title="Changed", target=5)
    with pytest.raises(DomainError, match="lead and co-organisers"):
        services.remove_ask(organiser=someone, ask=ask)
    ask.refresh_from_db()
    assert (ask.title, ask.target) == ("Money for seeds", Decimal("500"))
    assert Ask.objects.count() == 1


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("0", "more than 0"),
        ("-1", "more than 0"),
        ("lots", "as a number"),
        ("1000001", "up to 1,000,000"),
        ("1e12", "up to 1,000,000"),
        ("9.999", "at most 2 decimal places"),
    ],
)
def test_a_target_must_be_a_sensible_amount(target, message):
    initiative = make_initiative()
    with pytest.raises(DomainError, match=message):
        services.add_ask(organiser=initiative.lead, initiative=initiative, kind="money", title="Seeds", target=target)
    assert not Ask.objects.exists()


def test_an_unknown_kind_is_refused():
    initiative = make_initiative()
    with pytest.raises(DomainError, match="Choose what kind"):
        services.add_ask(organiser=initiative.lead, initiative=initiative, kind="favours", title="Seeds", target=5)


def test_once_pledged_an_asks_kind_and_unit_stay_but_its_target_can_move():
    initiative = make_initiative()
    ask = AskFactory(initiative=initiative, kind="materials", unit="bags", target=20)
    services.pledge(user=member(initiative), ask=ask, amount="15")
    with pytest.raises(DomainError, match="kind and unit cannot change"):
        services.edit_ask(organiser=initiative.lead, ask=ask, kind="money", title="Compost", target=20)
    with pytest.raises(DomainError, match="kind and unit cannot change"):
        services.edit_ask(organiser=initiative.lead, ask=ask, kind="materials", title="Compost", target=20, unit="kg")
    services.edit_ask(organiser=initiative.lead, ask=ask, kind="materials", title="Compost", target=10, unit="bags")
    ask.refresh_from_db()
    assert (ask.title, ask.target, ask.pledged, ask.unit) == ("Compost", Decimal("10"), Decimal("15"), "bags")


def test_removing_an_ask_removes_its_pledges_and_tells_the_pledgers():
    initiative = make_initiative()
    ask = money(initiative)
    pledgers = [member(initiative) for _ in range(2)]
    for user in pledgers:
        services.pledge(user=user, ask=ask, amount=10)
    assert services.remove_ask(organiser=initiative.lead, ask=ask) == 2
    assert not Ask.objects.exists()
    assert not Pledge.objects.exists()
    told = Notification.objects.filter(event="initiative.ask_removed")
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted(u.pk for u in pledgers)


@pytest.mark.parametrize("status", ["completed", "archived"])
def test_a_finished_initiatives_asks_stay_as_they_were(status):
    initiative = make_initiative(status=status)
    ask = money(initiative)
    with pytest.raises(DomainError, match="finished"):
        services.add_ask(organiser=initiative.lead, initiative=initiative, kind="money", title="More", target=5)
    with pytest.raises(DomainError, match="finished"):
        services.edit_ask(organiser=initiative.lead, ask=ask, kind="money", title="More", target=5)
    with pytest.raises(DomainError, match="finished"):
        services.remove_ask(organiser=initiative.lead, ask=ask)
    assert Ask.objects.filter(pk=ask.pk, title="Money for seeds").exists()


# --- Services: pledging ------------------------------------------------------------------------------------------


def test_a_pledge_raises_the_total_records_the_timeline_and_tells_the_organisers():
    initiative = make_initiative()
    co_organiser = person("co_organiser", initiative)
    ask = money(initiative)
    giver = member(initiative, name="Ann")
    promise = services.pledge(user=giver, ask=ask, amount="120", note=" I'll bring it Saturday ")
    assert (promise.amount, promise.note, promise.user) == (Decimal("120.00"), "I'll bring it Saturday", giver)
    ask.refresh_from_db()
    assert ask.pledged == Decimal("120")
    entry = TimelineEntry.objects.get(initiative=initiative)
    assert entry.kind == TimelineEntry.Kind.PLEDGE
    assert timeline.render(entry) == "A neighbour pledged £120 towards Money for seeds"
    assert entry.url == url("asks", initiative)
    told = Notification.objects.filter(event="initiative.pledge_received")
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted([initiative.lead.pk, co_organiser.pk])
    assert set(told.values_list("category", flat=True)) == {"organising"}
    assert told.first().context["amount"] == "£120"

    services.pledge(user=giver, ask=ask, amount=Decimal("0.50"))
    ask.refresh_from_db()
    assert ask.pledged == Decimal("120.50")
    assert Pledge.objects.filter(user=giver).count() == 2


def test_quantities_pledge_in_their_unit():
    initiative = make_initiative()
    ask = AskFactory(initiative=initiative, kind="materials", title="Compost", target=20, unit="bags")
    services.pledge(user=member(initiative, name="Bryn"), ask=ask, amount=5)
    assert timeline.render(TimelineEntry.objects.get()) == "A neighbour pledged 5 bags towards Compost"


@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_bad_amounts_are_refused_clearly_and_nothing_is_written(amount, message):
    initiative = make_initiative()
    ask = money(initiative)
    giver = member(initiative)
    before = written()
    with pytest.raises(DomainError, match=message):
        services.pledge(user=giver, ask=ask, amount=amount)
    assert written() == before


def test_absurd_pledges_are_refused_but_generous_ones_are_welcome():
    initiative = make_initiative()
    ask = money(initiative, target="50")
    giver = member(initiative)
    before = written()
    with pytest.raises(DomainError, match="more than ten times what is needed \\(£50\\)"):
        services.pledge(user=giver, ask=ask, amount="500.01")
    assert written() == before
    # Over the target is fine and shows as over.
    services.pledge(user=giver, ask=ask, amount="400")
    services.pledge(user=member(initiative), ask=ask, amount="100")
    ask.refresh_from_db()
    assert ask.pledged == Decimal("500")
    # But not past ten times the target in all.
    before = written()
    with pytest.raises(DomainError, match="already has plenty pledged"):
        services.pledge(user=member(initiative), ask=ask, amount="0.01")
    assert written() == before


@pytest.mark.parametrize("role", ["non_member", "officer", "other_officer"])
def test_only_members_pledge(role):
    initiative = make_initiative()
    ask = money(initiative)
    with pytest.raises(DomainError, match="Only members"):
        services.pledge(user=person(role, initiative), ask=ask, amount=5)
    assert not Pledge.objects.exists()
    ask.refresh_from_db()
    assert ask.pledged == 0


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("idea", None),
        ("planning", None),
        ("active", None),
        ("paused", "paused"),
        ("completed", "finished"),
        ("archived", "finished"),
    ],
)
def test_pledges_are_taken_while_the_initiative_is_live(status, message):
    initiative = make_initiative(status=status)
    ask = money(initiative)
    giver = member(initiative)
    if message is None:
        services.pledge(user=giver, ask=ask, amount=5)
        assert Pledge.objects.filter(user=giver).exists()
    else:
        with pytest.raises(DomainError, match=message):
            services.pledge(user=giver, ask=ask, amount=5)
        assert not Pledge.objects.exists()


def test_withdrawing_a_pledge_lowers_the_total_and_only_the_pledger_may():
    initiative = make_initiative()
    ask = money(initiative)
    giver, other = member(initiative), member(initiative)
    keep = services.pledge(user=giver, ask=ask, amount="30")
    take_back = services.pledge(user=giver, ask=ask, amount="20.25")
    with pytest.raises(DomainError, match="your own pledges"):
        services.withdraw_pledge(user=other, pledge=take_back)
    with pytest.raises(DomainError, match="your own pledges"):
        services.withdraw_pledge(user=initiative.lead, pledge=take_back)
    assert services.withdraw_pledge(user=giver, pledge=take_back).pledged == Decimal("30")
    with pytest.raises(DomainError, match="already been withdrawn"):
        services.withdraw_pledge(user=giver, pledge=take_back)
    ask.refresh_from_db()
    assert ask.pledged == Decimal("30")
    assert list(Pledge.objects.all()) == [keep]


@pytest.mark.parametrize(("status", "allowed"), [("paused", True), ("completed", False), ("archived", False)])
def test_withdrawing_a_pledge_is_allowed_until_the_initiative_finishes(status, allowed):
    initiative = make_initiative()
    ask = money(initiative)
    giver = member(initiative)
    promise = services.pledge(user=giver, ask=ask, amount="30")
    Initiative.objects.filter(pk=initiative.pk).update(status=status)
    if allowed:
        services.withdraw_pledge(user=giver, pledge=promise)
        assert not Pledge.objects.exists()
    else:
        with pytest.raises(DomainError, match="kept as they were"):
            services.withdraw_pledge(user=giver, pledge=promise)
        assert Pledge.objects.count() == 1
        assert Ask.objects.get().pledged == Decimal("30")


# --- Pages: who sees and does what ------------------------------------------------------------------------------


def expected_read(visibility: str, role: str) -> int:
    return 200 if visibility == Group.Visibility.PUBLIC or role in MEMBERS else 404


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_the_asks_page_follows_who_may_see_the_initiative(client, visibility, role):
    initiative = make_initiative(visibility=visibility)
    ask = money(initiative, title="Secret seed fund")
    services.pledge(user=member(initiative, name="Zebedee Pledger"), ask=ask, amount="120", note="From the bake sale")
    as_role(client, role, initiative)
    response = client.get(url("asks", initiative))
    expected = expected_read(visibility, role)
    assert response.status_code == expected
    content = response.content.decode()
    if expected == 404:
        assert "Secret seed fund" not in content
        return
    assert "£120 of £500 pledged (24%)" in content
    assert re.search(r'<progress[^>]*max="100"[^>]*value="24"', content)
    # Who pledged, and their notes, are for the lead and co-organisers only.
    assert ("Zebedee Pledger" in content) == (role in ORGANISERS)
    assert ("From the bake sale" in content) == (role in ORGANISERS)
    assert ("Add something the initiative needs" in content) == (role in ORGANISERS)
    assert ("Pledge towards Secret seed fund" in content) == (role in MEMBERS)


def as_role(client, role, initiative):
    user = person(role, initiative)
    if user is not None:
        client.force_login(user)
    return user


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_who_may_pledge(client, visibility, role):
    initiative = make_initiative(visibility=visibility)
    ask = money(initiative)
    as_role(client, role, initiative)
    response = client.post(url("pledge", initiative, ask), {f"ask-{ask.pk}-amount": "25"}, follow=True)
    ask.refresh_from_db()
    assert ask.pledged == (Decimal("25") if role in MEMBERS else 0)
    assert Pledge.objects.exists() == (role in MEMBERS)
    if role == "visitor":
        assert reverse("account_login") in response.redirect_chain[0][0]
    elif expected_read(visibility, role) == 404:
        assert response.status_code == 404
    elif role in MEMBERS:
        assert "You pledged £25 towards Money for seeds" in " ".join(messages_of(response))
    else:
        assert "Only members of the group can pledge" in " ".join(messages_of(response))


@pytest.mark.parametrize("visibility", [Group.Visibility.PUBLIC, Group.Visibility.MEMBERS])
@pytest.mark.parametrize("role", ROLES)
def test_only_organisers_open_the_pages_that_manage_asks(client, visibility, role):
    initiative = make_initiative(visibility=visibility)
    ask = money(initiative)
    as_role(client, role, initiative)
    for page in (url("ask-create", initiative), url("ask-edit", initiative, ask), url("ask-delete", initiative, ask)):
        response = client.get(page)
        if role == "visitor":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("account_login"))
        elif role in ORGANISERS:
            assert response.status_code == 200
        elif expected_read(visibility, role) == 404:
            assert response.status_code == 404
        else:
            assert response.status_code == 403
    client.post(url("ask-create", initiative), {"kind": "materials", "title": "Spades", "target": "4", "unit": ""})
    assert Ask.objects.filter(title="Spades").exists() == (role in ORGANISERS)
    client.post(url("ask-delete", initiative, ask))
    assert Ask.objects.filter(pk=ask.pk).exists() == (role not in ORGANISERS)


@pytest.mark.parametrize(("typed", "message"), BAD_AMOUNTS)
def test_a_bad_pledge_is_explained_beside_its_ask_and_keeps_what_was_typed(client, typed, message):
    initiative = make_initiative()
    other = money(initiative, title="Paint")
    ask = money(initiative)
    client.force_login(member(initiative))
    before = written()
    response = client.post(
        url("pledge", initiative, ask), {f"ask-{ask.pk}-amount": typed, f"ask-{ask.pk}-note": "Keep my note"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.startswith("<!DOCTYPE html>")
    assert re.search(r"<title>Error:", content)
    assert message in content
    assert 'value="Keep my note"' in content
    if typed:
        assert f'value="{typed}"' in content
    assert f'id="ask-{ask.pk}-error-summary-title"' in content
    assert f'id="ask-{other.pk}-error-summary-title"' not in content
    assert written() == before


def test_an_absurd_pledge_through_the_page_is_explained(client):
    initiative = make_initiative()
    ask = money(initiative, target="50")
    client.force_login(member(initiative))
    response = client.post(url("pledge", initiative, ask), {f"ask-{ask.pk}-amount": "5000"})
    assert response.status_code == 200
    assert "more than ten times what is needed (£50)" in response.content.decode()
    assert not Pledge.objects.exists()


def test_money_can_be_typed_as_people_write_it(client):
    initiative = make_initiative()
    ask = money(initiative, target="5000")
    client.force_login(member(initiative))
    response = client.post(url("pledge", initiative, ask), {f"ask-{ask.pk}-amount": " £1,200.50 "})
    assert response.status_code == 302
    assert response["Location"] == url("asks", initiative) + f"#ask-{ask.pk}"
    assert Pledge.objects.get().amount == Decimal("1200.50")


def test_over_pledging_shows_as_over_the_target_with_a_full_bar(client):
    initiative = make_initiative()
    ask = money(initiative, target="500")
    services.pledge(user=member(initiative), ask=ask, amount="600")
    content = client.get(url("asks", initiative)).content.decode()
    assert "£600 of £500 pledged (120%)" in content
    assert re.search(r'<progress[^>]*value="100"', content)
    assert "£100 more than needed" in content


def test_a_pledger_sees_and_withdraws_their_own_pledges(client):
    initiative = make_initiative()
    ask = money(initiative)
    giver = member(initiative)
    promise = services.pledge(user=giver, ask=ask, amount="20")
    services.pledge(user=member(initiative), ask=ask, amount="30")
    client.force_login(giver)
    content = client.get(url("asks", initiative)).content.decode()
    assert "Your pledges" in content
    assert "Withdraw your pledge of £20" in content
    assert "Withdraw your pledge of £30" not in content
    response = client.post(url("pledge-withdraw", initiative, promise), follow=True)
    assert "Your pledge towards Money for seeds has been withdrawn." in messages_of(response)
    ask.refresh_from_db()
    assert ask.pledged == Decimal("30")


def test_someone_elses_pledge_cannot_be_withdrawn_through_the_page(client):
    initiative = make_initiative()
    ask = money(initiative)
    promise = services.pledge(user=member(initiative), ask=ask, amount="20")
    client.force_login(member(initiative))
    response = client.post(url("pledge-withdraw", initiative, promise), follow=True)
    assert "You can only withdraw your own pledges." in messages_of(response)
    assert Pledge.objects.filter(pk=promise.pk).exists()
    # A pledge to another initiative is not found here at all.
    elsewhere = make_initiative()
    assert client.post(url("pledge-withdraw", elsewhere, promise)).status_code == 404


def test_adding_an_ask_through_the_form(client):
    initiative = make_initiative()
    client.force_login(initiative.lead)
    response = client.post(
        url("ask-create", initiative),
        {"kind": "money", "title": "Seeds", "description": "Veg seeds", "target": "£250", "unit": "ignored"},
    )
    assert response.status_code == 302
    ask = Ask.objects.get()
    assert (ask.kind, ask.title, ask.target, ask.unit) == ("money", "Seeds", Decimal("250"), "")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"target": "0"}, "target", "more than 0"),
        ({"target": "-20"}, "target", "more than 0"),
        ({"target": "abc"}, "target", "as a number"),
        ({"target": "1e12"}, "target", "up to 1,000,000"),
        ({"target": "10.555"}, "target", "2 decimal places"),
        ({"kind": "favours"}, "kind", "Choose what kind"),
        ({"title": ""}, "title", "Say what is needed"),
    ],
)
def test_a_bad_ask_keeps_what_was_typed_and_explains(client, data, field, message):
    initiative = make_initiative()
    client.force_login(initiative.lead)
    posted = {"kind": "materials", "title": "Keep this", "description": "And this", "target": "20", "unit": "bags"}
    response = client.post(url("ask-create", initiative), posted | data)
    assert response.status_code == 200
    content = response.content.decode()
    assert re.search(r"<title>Error:", content)
    assert message in " ".join(response.context["form"].errors[field])
    assert "And this" in content
    assert not Ask.objects.exists()


def test_changing_the_kind_after_pledges_is_explained_on_the_form(client):
    initiative = make_initiative()
    ask = AskFactory(initiative=initiative, kind="materials", unit="bags", target=20, title="Compost")
    services.pledge(user=member(initiative), ask=ask, amount=3)
    client.force_login(initiative.lead)
    edit = url("ask-edit", initiative, ask)
    assert 'value="20"' in client.get(edit).content.decode()
    response = client.post(edit, {"kind": "money", "title": "Compost", "target": "20", "unit": ""})
    assert response.status_code == 200
    assert "kind and unit cannot change" in response.content.decode()
    ask.refresh_from_db()
    assert ask.kind == "materials"


def test_removing_an_ask_asks_first(client):
    initiative = make_initiative()
    ask = money(initiative)
    services.pledge(user=member(initiative), ask=ask, amount=3)
    client.force_login(initiative.lead)
    confirm = client.get(url("ask-delete", initiative, ask)).content.decode()
    assert "There is 1 pledge towards this" in confirm
    assert Ask.objects.exists()
    assert client.post(url("ask-delete", initiative, ask)).status_code == 302
    assert not Ask.objects.exists()


def test_pledging_only_takes_posts(client):
    initiative = make_initiative()
    ask = money(initiative)
    client.force_login(member(initiative))
    assert client.get(url("pledge", initiative, ask)).status_code == 405


def test_a_paused_initiative_takes_no_pledges_and_says_why(client):
    initiative = make_initiative(status="paused")
    ask = money(initiative)
    client.force_login(member(initiative))
    content = client.get(url("asks", initiative)).content.decode()
    assert "paused" in content
    assert "Pledge towards" not in content
    response = client.post(url("pledge", initiative, ask), {f"ask-{ask.pk}-amount": "5"})
    assert "paused" in response.content.decode()
    assert not Pledge.objects.exists()


# --- Query budgets -----------------------------------------------------------------------------------------------


def fill(initiative: Initiative, size: int, me: User) -> None:
    """`size` asks, `size` pledges from other people spread across them, and one of the viewer's on each."""
    asks = Ask.objects.bulk_create(
        [
            Ask(initiative=initiative, kind="money" if n % 2 else "materials", title=f"Need {n}", target=100, unit="")
            for n in range(size)
        ]
    )
    users = User.objects.bulk_create(
        [User(email=f"giver{initiative.pk}-{n}@example.org", password="!") for n in range(size)]
    )
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Giver {n}") for n, u in enumerate(users)])
    Membership.objects.bulk_create(
        [Membership(group=initiative.group, user=u, status="active", joined_at=timezone.now()) for u in users]
    )
    pledges = [Pledge(ask=asks[n % size], user=u, amount=5, note="Happy to") for n, u in enumerate(users)]
    pledges += [Pledge(ask=ask, user=me, amount=1) for ask in asks]
    Pledge.objects.bulk_create(pledges)
    for ask in asks:
        Ask.objects.filter(pk=ask.pk).update(pledged=sum(p.amount for p in pledges if p.ask_id == ask.pk))


@pytest.mark.parametrize("size", [5, 100])
@pytest.mark.parametrize("viewer", ["lead", "member", "visitor"])
def test_the_asks_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size, viewer):
    initiative = make_initiative()
    me = initiative.lead if viewer != "member" else member(initiative)
    fill(initiative, size, me)
    if viewer != "visitor":
        client.force_login(me)
    # session, user, initiative, the viewer's role in it, officer?, member?, the viewer's pledges, asks with
    # counts, and for organisers everyone's pledges with profiles
    with django_assert_max_num_queries(9):
        response = client.get(url("asks", initiative))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('class="card ask"') == size
    assert content.count("<progress") == size
    if viewer == "lead":
        assert content.count("Happy to") == size
    else:
        assert "Happy to" not in content
    if viewer == "member":
        assert content.count("Withdraw your pledge of") == size


@pytest.mark.parametrize("size", [5, 100])
def test_a_refused_pledge_re_shows_the_page_in_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    initiative = make_initiative()
    me = member(initiative)
    fill(initiative, size, me)
    client.force_login(me)
    ask = initiative.asks.first()
    # The page's queries plus the ask being pledged to.
    with django_assert_max_num_queries(10):
        response = client.post(url("pledge", initiative, ask), {f"ask-{ask.pk}-amount": "abc"})
    assert response.status_code == 200
    assert response.content.decode().count('class="card ask"') == size


# --- Pledges arriving together -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_simultaneous_pledges_keep_the_total_true_and_stop_at_ten_times_the_target():
    initiative = InitiativeFactory(status="active")
    ask = Ask.objects.create(initiative=initiative, kind="money", title="Seeds", target=Decimal("10"))
    users = User.objects.bulk_create([User(email=f"rush{n}@example.org", password="!") for n in range(40)])
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Neighbour {n}") for n, u in enumerate(users)])
    Membership.objects.bulk_create(
        [Membership(group=initiative.group, user=u, status="active", joined_at=timezone.now()) for u in users]
    )
    start = Barrier(20)

    def pledge_for(batch: list[User]) -> list[str]:
        outcomes = []
        try:
            start.wait(timeout=30)
            for user in batch:
                try:
                    services.pledge(user=user, ask=ask, amount="5")
                except DomainError:
                    outcomes.append("refused")
                else:
                    outcomes.append("pledged")
            return outcomes
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = [r for batch in pool.map(pledge_for, [users[i::20] for i in range(20)]) for r in batch]

    # Ten times £10 is £100: exactly twenty £5 pledges fit.
    assert results.count("pledged") == 20
    assert results.count("refused") == 20
    ask.refresh_from_db()
    assert ask.pledged == Decimal("100") == sum(p.amount for p in Pledge.objects.filter(ask=ask))
