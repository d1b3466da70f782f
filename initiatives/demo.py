"""Demo initiatives for the embedded quick start: one in every state, with volunteers, pledges, decisions, council
backing and outcomes — built through the app's own actions, so every rule holds. Made once; run again, nothing changes.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from neighbourhoods.models import Council, CouncilMembership, Group, Neighbourhood

from .models import Backing, Decision, Initiative
from .services import asks, council, decisions, initiatives, outcomes, support, updates, volunteering


def _at(days: int, hour: int, minute: int = 0):
    local = timezone.localtime() + timedelta(days=days)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _move(initiative: Initiative, by: User, *statuses: str) -> None:
    for status in statuses:
        initiatives.change_status(by=by, initiative=initiative, to_status=status)


def _back(*, initiative: Initiative, offer, by: User, officer: User, note: str, message: str) -> Backing:
    backing = council.request_offer(by=by, initiative=initiative, offer=offer, note=note)
    return council.approve_backing(officer=officer, backing=backing, message=message)


@transaction.atomic
def seed(people: dict[str, User]) -> bool:
    """Make Cardiff's council officer, offers and the demo initiatives, once. Returns whether they were made now."""
    if Initiative.objects.filter(slug="clifton-street-community-garden").exists():
        return False
    cardiff = Council.objects.get(code="W06000015")
    olivia = people["officer"]
    CouncilMembership.objects.get_or_create(council=cardiff, user=olivia, defaults={"role": "admin"})
    omar, rhiannon, n = people["organiser"], people["resident"], people
    clifton = Group.objects.get(name="Clifton Street Neighbours")
    green = Group.objects.get(name="Grangetown Green Friends")

    grant = council.publish_offer(
        officer=olivia,
        council=cardiff,
        kind="grant",
        title="Small grant up to £500",
        description="For projects that bring neighbours together: plants, materials, refreshments, printing.",
        eligibility="Street groups and community initiatives in Cardiff with at least five supporters.",
        amount=Decimal("500"),
        unlock_supporters=5,
    )
    tools = council.publish_offer(
        officer=olivia,
        council=cardiff,
        kind="equipment",
        title="Compost and garden tools from the parks team",
        description="Twenty bags of compost and a loan of spades, forks and wheelbarrows for a month.",
        amount=Decimal("250"),
        unlock_supporters=3,
    )
    skip = council.publish_offer(
        officer=olivia,
        council=cardiff,
        kind="skip",
        title="A skip for a street clean-up",
        description="We deliver and collect a skip, and waive the permit fee.",
        amount=Decimal("180"),
    )
    council.publish_offer(
        officer=olivia,
        council=cardiff,
        kind="venue",
        title="Community room at Splott Hub",
        description="Free use of the community room on weekday evenings for meetings and clubs.",
    )
    council.publish_offer(
        officer=olivia,
        council=cardiff,
        kind="advice",
        title="Advice on permissions and road closures",
        description="Our team helps with licences, road closure orders for street parties and insurance.",
    )

    # --- A community garden, active, backed by the council ----------------------------------------------------
    garden = initiatives.propose_initiative(
        proposer=omar,
        group=clifton,
        title="Clifton Street Community Garden",
        summary="Turning the empty plot behind the chapel into a garden everyone on the street can use.",
        description="The plot has been empty for years. We want **raised beds**, a bench and fruit trees.\n\n"
        "- Saturday working parties\n- A watering rota\n- Seeds and cuttings swapped",
        category=Initiative.Category.GREEN_SPACES,
        place="Plot behind Capel Clifton, Clifton Street",
    )
    initiatives.invite_co_organiser(lead=omar, initiative=garden, invitee=n["bethan"])
    initiatives.accept_invitation(invitee=n["bethan"], initiative=garden)
    _move(garden, omar, "planning", "active")
    for person, note in [
        (rhiannon, "I'll bring cuttings!"),
        (n["aled"], ""),
        (n["eleri"], "At last!"),
        (n["gareth"], ""),
    ]:
        support.support(supporter=person, initiative=garden, note=note)
    dig = volunteering.add_role(
        organiser=omar,
        initiative=garden,
        title="Dig the raised beds",
        description="Bring gloves if you have them. Tea provided.",
        slots=6,
        starts_at=_at(9, 10),
        ends_at=_at(9, 13),
    )
    rota = volunteering.add_role(
        organiser=n["bethan"],
        initiative=garden,
        title="Watering rota",
        description="Twenty minutes, one evening a week, through the summer.",
        slots=7,
    )
    for person in [rhiannon, n["aled"], n["eleri"]]:
        volunteering.sign_up(user=person, role=dig)
    for person in [n["gareth"], rhiannon]:
        volunteering.sign_up(user=person, role=rota)
    money = asks.add_ask(
        organiser=omar, initiative=garden, kind="money", title="Timber for raised beds", target=Decimal("300")
    )
    compost = asks.add_ask(
        organiser=omar, initiative=garden, kind="materials", title="Bags of compost", target=Decimal("20"), unit="bags"
    )
    asks.add_ask(
        organiser=n["bethan"],
        initiative=garden,
        kind="permission",
        title="Permission from the chapel to use the plot",
        target=Decimal("1"),
        unit="letter",
    )
    asks.pledge(user=n["aled"], ask=money, amount=Decimal("50"), note="From the Clifton Arms quiz night")
    asks.pledge(user=rhiannon, ask=money, amount=Decimal("25"))
    asks.pledge(user=n["eleri"], ask=compost, amount=Decimal("8"), note="Left over from my allotment")
    trees = decisions.open_decision(
        organiser=omar,
        initiative=garden,
        kind="proposal",
        question="Shall we plant three fruit trees along the back wall?",
        description="Apple, pear and plum. They need little care once established.",
        closes_at=_at(6, 20),
    )
    decisions.vote(user=rhiannon, decision=trees, position="agree", reason="Fruit for everyone!")
    decisions.vote(user=n["aled"], decision=trees, position="agree")
    decisions.vote(user=n["gareth"], decision=trees, position="abstain")
    day = decisions.open_decision(
        organiser=n["bethan"],
        initiative=garden,
        kind="poll",
        question="Which day suits the working parties?",
        closes_at=_at(2, 20),
        options=["Saturday morning", "Sunday afternoon", "Wednesday evening"],
    )
    options = list(day.options.all())
    for person, option in [(rhiannon, options[0]), (n["aled"], options[0]), (n["eleri"], options[1])]:
        decisions.vote(user=person, decision=day, option=option)
    Decision.objects.filter(pk=day.pk).update(closes_at=timezone.now() - timedelta(minutes=5))
    decisions.close_decision(decision=Decision.objects.get(pk=day.pk))
    updates.post_update(
        author=omar,
        initiative=garden,
        title="The chapel said yes!",
        body="We have permission to use the plot for three years. First working party next Saturday.",
    )
    _back(
        initiative=garden,
        offer=tools,
        by=omar,
        officer=olivia,
        note="We have 4 supporters and a plan for raised beds; the tools would get us started.",
        message="Delighted to help. The parks team will drop everything off on Friday.",
    )

    # --- A litter pick, completed, with its outcome on the ledger ----------------------------------------------
    litter = initiatives.propose_initiative(
        proposer=n["eleri"],
        group=clifton,
        title="Moira Terrace spring clean",
        summary="A big tidy of the back lanes before the summer.",
        category=Initiative.Category.STREETS,
        place="Back lanes of Moira Terrace",
    )
    support.support(supporter=omar, initiative=litter)
    _back(
        initiative=litter,
        offer=skip,
        by=n["eleri"],
        officer=olivia,
        note="Lots of dumped rubbish in the lanes.",
        message="Skip booked for the 12th.",
    )
    _move(litter, n["eleri"], "planning", "active", "completed")
    outcomes.record_outcome(
        organiser=n["eleri"],
        initiative=litter,
        people_involved=14,
        volunteer_hours=Decimal("31.5"),
        what_changed="Thirty bags of rubbish and two mattresses gone; the lanes are clear and neighbours met "
        "many people they had never spoken to.",
    )

    # --- Others, one in each remaining state -------------------------------------------------------------------
    bench = initiatives.propose_initiative(
        proposer=n["hannah"],
        group=green,
        title="A bench for Pentre Gardens",
        summary="Somewhere to sit on the green, made by neighbours.",
        category=Initiative.Category.GREEN_SPACES,
    )
    for person in [n["imran"], n["jess"]]:
        support.support(supporter=person, initiative=bench)
    party = initiatives.propose_initiative(
        proposer=n["dafydd"],
        neighbourhood=Neighbourhood.objects.get(name="Splott"),
        title="Splott summer street party",
        summary="Close the road, bring a dish, meet the neighbours.",
        category=Initiative.Category.ARTS,
        place="Clifton Street (road closure)",
    )
    _move(party, n["dafydd"], "planning")
    homework = initiatives.propose_initiative(
        proposer=n["chidi"],
        group=clifton,
        title="Homework club",
        summary="A quiet place for children on the street to do homework, with volunteers to help.",
        category=Initiative.Category.YOUNG_PEOPLE,
    )
    _move(homework, n["chidi"], "paused")
    swap = initiatives.propose_initiative(
        proposer=n["gareth"],
        group=clifton,
        title="Tool library in the garage",
        summary="Share ladders, drills and hedge trimmers instead of everyone buying their own.",
        category=Initiative.Category.MUTUAL_AID,
    )
    _move(swap, n["gareth"], "archived")
    del grant  # published for initiatives to request; none has enough supporters yet
    return True
