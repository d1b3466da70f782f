"""Demo street groups for the embedded quick start, built through the app's own actions so every rule holds.

Cardiff's areas come from `demo_data/`. Run again, it changes nothing: the groups are only made once.
"""

from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from . import services
from .areas import import_areas
from .models import Event, Group, Membership, Neighbourhood, Post, Postcode

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"


def _postcodes(*codes: str) -> list[Postcode]:
    return list(Postcode.objects.filter(code__in=codes))


def _at(days: int, hour: int, minute: int = 0):
    local = timezone.localtime() + timedelta(days=days)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


@transaction.atomic
def seed(people: dict[str, User]) -> bool:
    """Load Cardiff's areas and, once, three street groups with members, posts, events, waves and connections.

    `people` maps demo roles and neighbour keys to users. Returns whether the groups were made this time.
    """
    import_areas(DEMO_DATA / "areas.csv", DEMO_DATA / "boundaries.geojson")
    if Group.objects.filter(name="Clifton Street Neighbours").exists():
        return False

    splott = Neighbourhood.objects.get(name="Splott")
    grangetown = Neighbourhood.objects.get(name="Grangetown")
    butetown = Neighbourhood.objects.get(name="Butetown")
    omar, rhiannon = people["organiser"], people["resident"]
    n = people  # the neighbours, by first name

    # --- Clifton Street: joined by the codes on door-drop flyers ---------------------------------------------
    clifton = services.create_group(
        founder=omar,
        neighbourhood=splott,
        name="Clifton Street Neighbours",
        postcodes=_postcodes("CF24 2AA", "CF24 2BW", "CF24 2EA"),
        streets="Clifton Street, Moira Terrace",
        about="For everyone living on Clifton Street and Moira Terrace. Say hello, borrow a ladder, "
        "and come to the litter pick on the first Saturday of the month.",
        join_policy=Group.JoinPolicy.CODE,
        unverified_can_post=True,
    )
    flyers = services.create_join_code(organiser=omar, group=clifton, label="Spring flyers, Moira Terrace", max_uses=60)
    for person in [rhiannon, n["aled"], n["bethan"], n["chidi"], n["dafydd"], n["eleri"], n["farah"], n["gareth"]]:
        services.join_with_code(user=person, code=flyers.code)
    services.promote_to_organiser(organiser=omar, membership=Membership.objects.get(group=clifton, user=n["bethan"]))
    services.create_join_code(organiser=omar, group=clifton, label="Christmas card drop", max_uses=40)

    hello = services.create_post(
        author=rhiannon,
        group=clifton,
        kind=Post.Kind.HELLO,
        title="Helo! New at number 14",
        body="Hi all, I moved into number 14 in the spring with my partner and our dog, Mabli. "
        "I love gardening and I'm learning to bake bread. **Do say hello** if you see us out!",
    )
    services.add_comment(author=omar, post=hello, body="Croeso! Lovely to have you on the street.")
    services.add_comment(author=n["eleri"], post=hello, body="Welcome! Mabli has already made friends with our cat.")
    services.thank_post(user=omar, post=hello)
    services.thank_post(user=n["eleri"], post=hello)

    ladder = services.create_post(
        author=n["aled"],
        group=clifton,
        kind=Post.Kind.OFFER,
        title="Ladder and hedge trimmer to lend",
        body="I have a 3-metre ladder and a hedge trimmer. Knock on number 3 or reply here.",
    )
    services.add_comment(author=rhiannon, post=ladder, body="Could I borrow the trimmer on Saturday, please?")
    services.mark_fulfilled(author=n["aled"], post=ladder)
    services.thank_post(user=rhiannon, post=ladder)

    shopping = services.create_post(
        author=n["farah"],
        group=clifton,
        kind=Post.Kind.REQUEST,
        title="Help with a weekly shop for my neighbour?",
        body="Mrs Evans at number 22 is recovering from a fall. Could anyone pick up a few things from the shop "
        "on Thursdays for the next month?",
    )
    services.add_comment(author=n["gareth"], post=shopping, body="Happy to do Thursdays. I go anyway.")
    services.create_post(
        author=omar,
        group=clifton,
        kind=Post.Kind.NOTICE,
        title="Bin collection moves to Friday next week",
        body="Because of the bank holiday, bins go out on **Friday** instead of Thursday.",
    )
    services.create_post(
        author=n["chidi"],
        group=clifton,
        kind=Post.Kind.QUESTION,
        title="Anyone know a good plumber?",
        body="Our boiler is making a strange noise. Recommendations welcome.",
    )
    services.create_post(
        author=n["dafydd"],
        group=clifton,
        kind=Post.Kind.RECOMMENDATION,
        title="Splott Market on Saturdays",
        body="Great veg stall and the best Welsh cakes in town. Worth a visit.",
    )
    services.create_post(
        author=n["eleri"],
        group=clifton,
        kind=Post.Kind.LOST_FOUND,
        title="Found: a set of keys by the post box",
        body="Blue keyring with a small lighthouse. I've kept them safe at number 9.",
    )

    litter_pick = services.create_event(
        creator=omar,
        group=clifton,
        title="Litter pick and tea",
        description="Gloves, bags and grabbers provided. Tea and Welsh cakes afterwards at number 9.",
        starts_at=_at(5, 10),
        ends_at=_at(5, 12),
        place="Meet by the post box on Clifton Street",
        capacity=15,
        cost="Free",
        step_free=True,
        child_friendly=True,
    )
    for person in [rhiannon, n["aled"], n["eleri"], n["gareth"]]:
        services.rsvp(user=person, event=litter_pick, status="going")
    services.rsvp(user=n["chidi"], event=litter_pick, status="maybe")

    workshop = services.create_event(
        creator=n["bethan"],
        group=clifton,
        title="Bike repair workshop",
        description="Bring your bike and learn to fix a puncture and adjust your brakes.",
        starts_at=_at(12, 18, 30),
        ends_at=_at(12, 20, 30),
        place="Back lane behind Moira Terrace",
        capacity=3,
        cost="Free, donations to the tool fund welcome",
        access_notes="Outdoors on a flat lane.",
    )
    for person in [n["dafydd"], n["farah"], n["chidi"], rhiannon, n["gareth"]]:
        services.rsvp(user=person, event=workshop, status="going")  # the last two go on the waiting list

    coffee = services.create_event(
        creator=omar,
        group=clifton,
        title="Coffee morning",
        description="A chance to meet the neighbours over a cuppa.",
        starts_at=_at(3, 10),
        ends_at=_at(3, 11, 30),
        place="Splott Community Hall",
        cost="Free",
        step_free=True,
        hearing_loop=True,
        quiet_space=True,
    )
    for person in [rhiannon, n["eleri"], n["bethan"]]:
        services.rsvp(user=person, event=coffee, status="going")
    # It already happened: move it into the past for the archive.
    Event.objects.filter(pk=coffee.pk).update(starts_at=_at(-10, 10), ends_at=_at(-10, 11, 30))

    # --- Grangetown Green: an organiser approves each request -----------------------------------------------
    green = services.create_group(
        founder=n["hannah"],
        neighbourhood=grangetown,
        name="Grangetown Green Friends",
        postcodes=_postcodes("CF11 7BS", "CF11 7DY", "CF11 7HA"),
        streets="Pentre Gardens, Clive Street",
        about="Neighbours looking after the little green on Pentre Gardens: planting, picnics and a bench.",
        join_policy=Group.JoinPolicy.APPROVAL,
    )
    for person in [n["imran"], n["jess"], n["kwame"]]:
        membership = services.join_group(user=person, group=green)
        services.approve_membership(organiser=n["hannah"], membership=membership)
    services.join_group(user=n["lowri"], group=green)  # waiting for approval
    services.join_group(user=rhiannon, group=green)  # waiting for approval
    services.create_post(
        author=n["hannah"],
        group=green,
        kind=Post.Kind.NOTICE,
        title="Bulb planting in October",
        body="The council is giving us 500 daffodil bulbs. Bring a trowel!",
    )

    # --- Butetown Lunch Club: members only ------------------------------------------------------------------
    lunch = services.create_group(
        founder=n["farah"],
        neighbourhood=butetown,
        name="Butetown Lunch Club",
        postcodes=_postcodes("CF10 5AA"),
        about="A weekly lunch for older neighbours and anyone who fancies company.",
        join_policy=Group.JoinPolicy.OPEN,
        visibility=Group.Visibility.MEMBERS,
        events_by=Group.EventsBy.ORGANISERS,
    )
    services.join_group(user=n["kwame"], group=lunch)
    services.create_event(
        creator=n["farah"],
        group=lunch,
        title="Thursday lunch",
        description="Soup, bread and a chat.",
        starts_at=_at(2, 12, 30),
        ends_at=_at(2, 14),
        place="Butetown Community Centre",
        capacity=20,
        cost="£3",
        step_free=True,
        hearing_loop=True,
    )

    # --- Waves and connections ------------------------------------------------------------------------------
    for sender, recipient in [(rhiannon, n["aled"]), (omar, n["eleri"]), (n["gareth"], n["farah"])]:
        wave = services.send_wave(sender=sender, recipient=recipient, group=clifton, message="Good to meet you!")
        services.answer_wave(recipient=recipient, wave=wave, accept=True)
    services.send_wave(sender=n["eleri"], recipient=rhiannon, group=clifton, message="Fancy a cuppa? I'm at number 9.")
    return True
