"""A year of neighbourhood activity, for the demo and the dashboard benchmark: fictional residents joining street
groups at different rates, posting and commenting, meeting at events, getting to know each other, running
initiatives the council backs — then a snapshot for every week of the past year, written by the same
`take_snapshots` the nightly task runs, so every figure on the dashboards comes from the real metrics.

The rows are written in bulk with the dates they would have had (a few thousand for the Cardiff demo, close to a
million for the benchmark), so nothing is notified and no email is sent. Nobody here is real: first names and
initials come from short fixed lists, every email address is @example.org, no address is stored anywhere, and no
one can sign in as them (their passwords are unusable).
"""

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_noop

from accounts.models import Profile, User
from core.text import render_markdown
from initiatives.models import (
    Backing,
    CouncilOffer,
    Initiative,
    InitiativeRole,
    Outcome,
    StatusChange,
    Support,
    TimelineEntry,
    VolunteerRole,
    VolunteerSignup,
)
from initiatives.services.initiatives import PROPOSED_MESSAGE, STATUS_MESSAGES
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
    Postcode,
)

from .services import snapshots

YEAR = timedelta(days=365)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class AreaPlan:
    """How one neighbourhood's year went."""

    neighbourhood: Neighbourhood
    residents: int  # how many joined a street group here during the year
    groups: int = 2
    pace: float = 1.0  # how joining spread over the year: 1 steadily, below 1 mostly early, above 1 mostly lately
    campaign: float | None = None  # when a door-drop flyer campaign brought a wave of joins (0 a year ago, 1 now)
    campaign_share: float = 0.0  # the share of the year's joiners who came with it
    connections: float = 1.0  # neighbours each resident has confirmed meeting, on average, by now
    posts: float = 1.0  # notice-board posts per resident per year
    events: int = 6  # events per street group per year
    turnout: float = 0.15  # the share of a group's members who go to one of its events
    initiatives: tuple[str, ...] = ()  # each initiative's status now


FIRST_NAMES = (
    "Aled", "Alys", "Amara", "Anwen", "Arjun", "Bethan", "Bronwen", "Caio", "Carys", "Cerys", "Chen", "Dafydd",
    "Delyth", "Dewi", "Efa", "Elin", "Emrys", "Ffion", "Gethin", "Gwen", "Hamza", "Hana", "Huw", "Idris", "Ifan",
    "Iolo", "Jac", "Kemi", "Lleucu", "Lowri", "Mabli", "Macsen", "Mali", "Meera", "Megan", "Nia", "Nico", "Osian",
    "Priya", "Rhodri", "Rhys", "Rosa", "Sami", "Seren", "Siôn", "Tegan", "Tomos", "Wil", "Yusuf", "Zara",
)  # fmt: skip
INITIALS = "ABCDEFGHJKLMNOPRSTW"
GROUP_NAMES = ("Neighbours", "Park Friends", "Green Streets", "Terraces", "Allotment Neighbours", "Lanes", "Corner")
POSTS = {
    Post.Kind.HELLO: ("Hello from a new neighbour", "Just moved in with two cats. Say hello if you see me about!"),
    Post.Kind.OFFER: ("Ladder to lend", "A long ladder in the shed, free to borrow. Reply here and I'll drop it off."),
    Post.Kind.REQUEST: ("Anyone with a drill?", "Two shelves to put up. **Could I borrow a drill** at the weekend?"),
    Post.Kind.NOTICE: ("Bins go out on Friday", "Bank holiday next week, so the bins go out a day late."),
    Post.Kind.QUESTION: ("Good plumber?", "Our boiler is making a strange noise. Any recommendations?"),
    Post.Kind.RECOMMENDATION: ("Great bakery", "The new bakery by the park does brilliant Welsh cakes."),
    Post.Kind.LOST_FOUND: ("Found: a set of keys", "Blue keyring found by the post box. I've kept them safe."),
}  # fmt: skip
COMMENTS = (
    "Welcome! Lovely to have you here.", "Happy to help, I'll message you.", "Thanks, that's really kind.",
    "Count me in.", "We had the same problem last winter.", "Great idea!", "See you there.", "Diolch!",
)  # fmt: skip
EVENTS = (
    ("Litter pick", "Gloves and bags provided. Tea afterwards."), ("Coffee morning", "Meet the neighbours."),
    ("Street picnic", "Bring a dish to share."), ("Plant swap", "Bring cuttings, take cuttings."),
    ("Quiz night", "Teams of four, small prizes."), ("Bulb planting", "Daffodils along the verges."),
    ("Repair café", "Bring something broken."), ("Games afternoon", "Board games for all ages."),
)  # fmt: skip
KINDS = tuple(POSTS)
FULFILLABLE = (Post.Kind.OFFER, Post.Kind.REQUEST)
JOIN_POLICIES = (Group.JoinPolicy.CODE, Group.JoinPolicy.OPEN, Group.JoinPolicy.APPROVAL)
VOLUNTEER_ROLES = (("Helpers on the day", 10), ("Set-up crew", 4))
BACKED_MESSAGE = gettext_noop("%(council)s backed this initiative: %(offer)s")  # as `approve_backing` records it
PLACES = ("The community hall", "By the park gates", "The church hall", "The green")
INITIATIVES = (
    ("community fridge", Initiative.Category.FOOD, "Share food that would otherwise go to waste."),
    ("corner planters", Initiative.Category.GREEN_SPACES, "Planters and benches where the street meets the park."),
    ("summer street party", Initiative.Category.ARTS, "Close the road, bring a dish, meet the neighbours."),
    ("homework club", Initiative.Category.YOUNG_PEOPLE, "A quiet place for homework, with volunteers to help."),
    ("safer crossing", Initiative.Category.STREETS, "A safer way across the main road to the school."),
    ("tool library", Initiative.Category.MUTUAL_AID, "Share ladders, drills and trimmers instead of buying."),
    ("tea and chat", Initiative.Category.OLDER_NEIGHBOURS, "A weekly cuppa for older neighbours and anyone else."),
    ("wildflower verges", Initiative.Category.GREEN_SPACES, "Let the verges grow wild for bees and butterflies."),
    ("warm space", Initiative.Category.OLDER_NEIGHBOURS, "Somewhere warm to spend winter afternoons."),
    ("underpass mural", Initiative.Category.ARTS, "Local artists and children paint the underpass."),
)
# The steps an initiative took to reach its status now, and how many days each step took.
PATHS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "idea": (),
    "planning": (("planning", 7, 30),),
    "active": (("planning", 10, 30), ("active", 20, 45)),
    "completed": (("planning", 10, 25), ("active", 15, 35), ("completed", 40, 90)),
    "paused": (("planning", 10, 30), ("paused", 20, 60)),
    "archived": (("archived", 20, 80),),
}
# Models whose `created_at` fills itself in on insert: history written here brings its own.
BACKDATED = (Profile, Group, Membership, Connection, Post, Comment, Event, RSVP, Initiative, InitiativeRole)
BACKDATED += (VolunteerRole, Outcome, Backing)
BATCH = 2000


@contextmanager
def keeping_created_at(models=BACKDATED) -> Iterator[None]:
    """Let `bulk_create` keep the `created_at` each row was given instead of stamping it with the time now.

    Demo and benchmark history only (one process writing its own seed); restored however the block ends."""
    fields = [model._meta.get_field("created_at") for model in models]
    before = [field.auto_now_add for field in fields]
    for field in fields:
        field.auto_now_add = False
    try:
        yield
    finally:
        for field, value in zip(fields, before, strict=True):
            field.auto_now_add = value


def first_email(prefix: str) -> str:
    return f"{prefix}-neighbour-{1:06d}@example.org"


class _Year:
    """Builds the rows for a batch of neighbourhoods, stage by stage (each stage needs the ids of the one before)."""

    def __init__(self, *, council: Council, officer: User | None, now: datetime, rng: random.Random, prefix: str):
        self.council, self.officer, self.now, self.rng, self.prefix = council, officer, now, rng, prefix
        self.start = now - YEAR
        self.people = 0
        self.counts: Counter = Counter()
        self.offers = list(CouncilOffer.objects.filter(council=council, is_open=True).order_by("pk"))
        self.html = {text: render_markdown(text) for _, text in POSTS.values()}
        self.html |= {text: render_markdown(text) for text in COMMENTS}
        self.html |= {text: render_markdown(text) for _, text in EVENTS}

    # --- time ---------------------------------------------------------------------------------------------------

    def between(self, earliest: datetime, latest: datetime) -> datetime:
        if latest <= earliest:
            return earliest
        return earliest + (latest - earliest) * self.rng.random()

    def soon_after(self, moment: datetime, mean_days: float) -> datetime:
        return moment + timedelta(days=self.rng.expovariate(1 / mean_days))

    def join_times(self, plan: AreaPlan) -> list[datetime]:
        times = []
        for _ in range(plan.residents):
            if plan.campaign is not None and self.rng.random() < plan.campaign_share:
                fraction = plan.campaign + self.rng.random() * 3 / 52  # a campaign's wave lasts about three weeks
            else:
                fraction = self.rng.random() ** plan.pace
            times.append(self.start + YEAR * min(fraction, 0.999))
        return sorted(times)

    def save(self, model, rows: list) -> list:
        model.objects.bulk_create(rows, batch_size=BATCH)
        self.counts[model.__name__] += len(rows)
        return rows

    # --- the stages ---------------------------------------------------------------------------------------------

    def write(self, plans: Sequence[AreaPlan]) -> None:
        """Everything for these neighbourhoods. Rows refer to rows made before them in the same batch: bulk inserts
        return ids, which `bulk_create` then fills into the rows that point at them."""
        groups = self.people_and_groups(plans)  # [(group, plan, [(user, joined)])]
        memberships, connections, posts, comments, events, rsvps = [], [], [], [], [], []
        for group, plan, mine in groups:
            memberships += self.memberships(group, mine)
            connections += self.connections(group, plan, mine)
            for post in self.posts(group, plan, mine):
                posts.append(post)
                comments += self.comments(post, mine)
            for event in self.events(group, plan, mine):
                events.append(event)
                rsvps += self.rsvps(event, plan, mine)
        self.save(Membership, memberships)
        self.save(Connection, connections)
        self.save(Post, posts)
        self.save(Comment, comments)
        self.save(Event, events)
        self.save(RSVP, rsvps)
        self.initiatives(groups)

    def people_and_groups(self, plans: Sequence[AreaPlan]) -> list[tuple[Group, AreaPlan, list]]:
        users, profiles, groups = [], [], []
        postcodes: dict[int, list[int]] = {}
        for area_id, postcode_id in Postcode.objects.filter(
            neighbourhood__in=[plan.neighbourhood for plan in plans]
        ).values_list("neighbourhood_id", "pk"):
            postcodes.setdefault(area_id, []).append(postcode_id)
        links = []
        for plan in plans:
            weights = [1 / (n + 1) for n in range(plan.groups)]  # the first group is the biggest
            people: list[list] = [[] for _ in range(plan.groups)]
            for when in self.join_times(plan):
                self.people += 1
                user = User(
                    email=f"{self.prefix}-neighbour-{self.people:06d}@example.org",
                    password="!",  # noqa: S106 - unusable: nobody can sign in as a demo neighbour
                    date_joined=when - timedelta(hours=1),
                )
                users.append(user)
                profiles.append(
                    Profile(
                        user=user,
                        display_name=f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(INITIALS)}.",
                        language="cy" if self.rng.random() < 0.15 else "en-gb",
                        created_at=user.date_joined,
                    )
                )
                people[self.rng.choices(range(plan.groups), weights)[0]].append((user, when))
            for index, mine in enumerate(people):
                if not mine:
                    continue
                suffix = GROUP_NAMES[index % len(GROUP_NAMES)]
                if index >= len(GROUP_NAMES):
                    suffix += f" {index // len(GROUP_NAMES) + 1}"
                name = f"{plan.neighbourhood.name} {suffix}"
                group = Group(
                    neighbourhood=plan.neighbourhood,
                    name=name,
                    slug=f"{plan.neighbourhood.slug}-{slugify(suffix)}"[:140],
                    about="Neighbours looking out for each other: say hello, borrow, lend and meet up.",
                    join_policy=JOIN_POLICIES[index % len(JOIN_POLICIES)],
                    # Members-only groups count in the figures like any other; what they say never does.
                    visibility=Group.Visibility.MEMBERS if index % 4 == 3 else Group.Visibility.PUBLIC,
                    unverified_can_post=True,
                    created_by=mine[0][0],
                    created_at=mine[0][1] - timedelta(hours=2),
                )
                groups.append((group, plan, mine))
                area_postcodes = postcodes.get(plan.neighbourhood.pk, [])
                links += [(group, code) for code in self.rng.sample(area_postcodes, min(2, len(area_postcodes)))]
        self.save(User, users)
        self.save(Profile, profiles)
        self.save(Group, [group for group, _, _ in groups])
        through = Group.postcodes.through
        self.save(through, [through(group_id=group.pk, postcode_id=code) for group, code in links])
        return groups

    def memberships(self, group: Group, mine: list) -> list[Membership]:
        rows = []
        for n, (user, when) in enumerate(mine):
            roll = self.rng.random()
            if n == 0:
                verified, how = when, Membership.VerifiedBy.FOUNDER
            elif roll < 0.8:
                verified, how = when, Membership.VerifiedBy.CODE
            elif roll < 0.92:
                verified, how = min(self.soon_after(when, 2), self.now), Membership.VerifiedBy.APPROVAL
            else:
                verified, how = None, ""
            rows.append(
                Membership(
                    group=group,
                    user=user,
                    role=Membership.Role.ORGANISER if n in (0, 25) else Membership.Role.MEMBER,
                    status=Membership.Status.ACTIVE,
                    verified_at=verified,
                    verified_by=how,
                    joined_at=when,
                    created_at=when,
                )
            )
        return rows

    def connections(self, group: Group, plan: AreaPlan, mine: list) -> list[Connection]:
        if len(mine) < 2:
            return []
        # A few neighbours know many others (the connectors); most know one or two.
        weights = [self.rng.paretovariate(1.5) for _ in mine]
        wanted = round(len(mine) * plan.connections / 2)
        seen, rows = set(), []
        for _ in range(wanted * 3):
            if len(rows) >= wanted:
                break
            (a, a_joined), (b, b_joined) = self.rng.choices(mine, weights)[0], self.rng.choice(mine)
            low, high = sorted((a.pk, b.pk))
            when = self.soon_after(max(a_joined, b_joined), 30)
            if low == high or (low, high) in seen or when >= self.now:
                continue
            seen.add((low, high))
            rows.append(Connection(user_low_id=low, user_high_id=high, group=group, created_at=when))
        return rows

    def posts(self, group: Group, plan: AreaPlan, mine: list) -> list[Post]:
        rows = []
        for _ in range(round(len(mine) * plan.posts)):
            author, joined = self.rng.choice(mine)
            kind = self.rng.choice(KINDS)
            title, body = POSTS[kind]
            when = self.between(joined, self.now)
            rows.append(
                Post(
                    group=group,
                    author=author,
                    kind=kind,
                    title=title,
                    body=body,
                    body_html=self.html[body],
                    created_at=when,
                    fulfilled_at=self.between(when, self.now) if kind in FULFILLABLE else None,
                )
            )
        return rows

    def comments(self, post: Post, mine: list) -> list[Comment]:
        rows = []
        for _ in range(self.rng.choice((0, 0, 1, 1, 2, 3))):
            author, joined = self.rng.choice(mine)
            when = self.soon_after(max(post.created_at, joined), 2)
            if when < self.now:
                body = self.rng.choice(COMMENTS)
                rows.append(Comment(post=post, author=author, body=body, body_html=self.html[body], created_at=when))
        return rows

    def events(self, group: Group, plan: AreaPlan, mine: list) -> list[Event]:
        begun = group.created_at
        # The group's share of the year's events, evenly spread since it began, and one still to come.
        count = round(plan.events * (self.now - begun) / YEAR)
        moments = [begun + (self.now - begun) * (n + 0.5) / count for n in range(count)]
        moments.append(self.now + timedelta(days=self.rng.randint(3, 20)))
        rows = []
        for n, moment in enumerate(moments):
            title, description = self.rng.choice(EVENTS)
            morning = n % 2 == 1
            starts = timezone.localtime(moment).replace(
                hour=10 if morning else 18, minute=0 if morning else 30, second=0, microsecond=0
            )
            rows.append(
                Event(
                    group=group,
                    created_by=mine[0][0],
                    title=title,
                    description=description,
                    description_html=self.html[description],
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2),
                    place=self.rng.choice(PLACES),
                    cost="Free",
                    step_free=self.rng.random() < 0.6,
                    created_at=max(starts - timedelta(days=21), begun),
                )
            )
        return rows

    def rsvps(self, event: Event, plan: AreaPlan, mine: list) -> list[RSVP]:
        rows = []
        for user, joined in mine:
            if joined >= min(event.starts_at, self.now):
                continue
            roll = self.rng.random()
            if roll >= plan.turnout * 1.3:
                continue
            status = RSVP.Status.GOING if roll < plan.turnout else RSVP.Status.MAYBE
            when = self.between(max(event.created_at, joined), min(event.starts_at, self.now))
            rows.append(RSVP(event=event, user=user, status=status, created_at=when))
        event.going_count = sum(1 for rsvp in rows if rsvp.status == RSVP.Status.GOING)
        return rows

    def initiatives(self, groups: list[tuple[Group, AreaPlan, list]]) -> None:
        by_area: dict[int, list] = {}
        for entry in groups:
            by_area.setdefault(entry[1].neighbourhood.pk, []).append(entry)
        initiatives, roles, changes, entries, supports = [], [], [], [], []
        volunteer_roles, signups, outcomes, backings = [], [], [], []
        for area_groups in by_area.values():
            for n, status in enumerate(area_groups[0][1].initiatives):
                group, plan, mine = area_groups[n % len(area_groups)]
                steps = [(to, timedelta(days=self.rng.randint(low, high))) for to, low, high in PATHS[status]]
                latest = self.now - sum((length for _, length in steps), timedelta()) - 2 * DAY
                proposed = self.between(max(group.created_at + 7 * DAY, latest - 120 * DAY), latest)
                history = [("idea", proposed)]
                for to, length in steps:
                    history.append((to, history[-1][1] + length))
                reached = dict(history)
                what, category, summary = INITIATIVES[(plan.neighbourhood.pk + n) % len(INITIATIVES)]
                title = f"{plan.neighbourhood.name} {what}"
                earlier = [user for user, joined in mine if joined < proposed]
                lead = self.rng.choice(earlier or [mine[0][0]])
                backers = [user for user, _ in mine if user is not lead]
                chosen = self.rng.sample(backers, min(len(backers), self.rng.randint(2, 25)))
                supported = [(user, self.soon_after(proposed, 20)) for user in chosen]
                supported = [(user, when) for user, when in supported if when < self.now]
                initiative = Initiative(
                    group=group if n % 3 else None,  # every third is for the whole neighbourhood
                    neighbourhood=plan.neighbourhood,
                    title=title,
                    slug=f"{slugify(title)}-{self.prefix}-{plan.neighbourhood.pk}-{n}"[:140],
                    summary=summary,
                    category=category,
                    status=status,
                    created_by=lead,
                    support_count=len(supported),
                    created_at=proposed,
                )
                initiatives.append(initiative)
                roles.append(
                    InitiativeRole(
                        initiative=initiative,
                        user=lead,
                        role=InitiativeRole.Role.LEAD,
                        status=InitiativeRole.Status.ACTIVE,
                        created_at=proposed,
                    )
                )
                supports += [Support(initiative=initiative, user=user, created_at=when) for user, when in supported]
                name = lead.profile.display_name
                previous = ""
                for to, when in history:
                    changes.append(
                        StatusChange(
                            initiative=initiative, from_status=previous, to_status=to, changed_by=lead, created_at=when
                        )
                    )
                    entries.append(
                        TimelineEntry(
                            initiative=initiative,
                            kind=TimelineEntry.Kind.STATUS if previous else TimelineEntry.Kind.CREATED,
                            actor=lead,
                            message=STATUS_MESSAGES[to] if previous else PROPOSED_MESSAGE,
                            params={"name": name},
                            created_at=when,
                        )
                    )
                    previous = to
                if "planning" in reached and status != Initiative.Status.ARCHIVED:
                    for title, slots in VOLUNTEER_ROLES[: 1 + len(mine) // 40]:
                        role = VolunteerRole(
                            initiative=initiative, title=title, slots=slots, created_at=reached["planning"]
                        )
                        volunteers = self.rng.sample(backers, min(slots, len(backers), self.rng.randint(1, slots)))
                        role.filled = len(volunteers)
                        volunteer_roles.append(role)
                        signups += [
                            VolunteerSignup(role=role, user=user, created_at=self.between(role.created_at, self.now))
                            for user in volunteers
                        ]
                if "completed" in reached:
                    people = max(len(supported), 3)
                    outcomes.append(
                        Outcome(
                            initiative=initiative,
                            people_involved=people,
                            volunteer_hours=Decimal(people * self.rng.randint(15, 40)) / 10,
                            what_changed="Neighbours who had never spoken now say hello, and the work got done.",
                            recorded_by=lead,
                            created_at=reached["completed"],
                        )
                    )
                backing = self.backing(initiative, lead, reached)
                if backing is not None:
                    backings.append(backing)
                    if backing.status == Backing.Status.APPROVED:
                        entries.append(
                            TimelineEntry(
                                initiative=initiative,
                                kind=TimelineEntry.Kind.COUNCIL,
                                actor=self.officer,
                                message=BACKED_MESSAGE,
                                params={"council": self.council.name, "offer": backing.offer.title},
                                created_at=backing.decided_at,
                            )
                        )
        self.save(Initiative, initiatives)
        self.save(InitiativeRole, roles)
        self.save(StatusChange, changes)
        self.save(TimelineEntry, entries)
        self.save(Support, supports)
        self.save(VolunteerRole, volunteer_roles)
        self.save(VolunteerSignup, signups)
        self.save(Outcome, outcomes)
        self.save(Backing, backings)

    def backing(self, initiative: Initiative, lead: User, reached: dict) -> Backing | None:
        """Once active, an initiative asked for one of the council's offers and got it (and most took it up); one
        still planning has asked and waits for an answer."""
        if not self.offers or initiative.status in (Initiative.Status.IDEA, Initiative.Status.ARCHIVED):
            return None
        offer = self.offers[self.rng.randrange(len(self.offers))]
        if "active" not in reached:
            if initiative.status != Initiative.Status.PLANNING:
                return None
            return Backing(
                offer=offer,
                initiative=initiative,
                request_note="Could the council help us get started?",
                requested_by=lead,
                created_at=self.between(reached["planning"], self.now),
            )
        decided = self.soon_after(reached["active"], 5)
        if decided >= self.now:
            return None
        taken = self.soon_after(decided, 12)
        return Backing(
            offer=offer,
            initiative=initiative,
            status=Backing.Status.APPROVED,
            request_note="We have a plan and neighbours ready to help.",
            requested_by=lead,
            response="Delighted to help.",
            decided_by=self.officer,
            decided_at=decided,
            taken_up_at=taken if taken < self.now else None,
            created_at=reached["active"],
        )


def seed_year(
    *,
    council: Council,
    plans: Sequence[AreaPlan],
    officer: User | None = None,
    prefix: str = "demo",
    seed: int = 2026,
    per_batch: int = 20,
) -> Counter:
    """Write a year of activity for the neighbourhoods in `plans`, `per_batch` neighbourhoods per transaction (so a
    large council never holds one long transaction), ending now. Approved council backings are answered by
    `officer`. The same `seed` gives the same year. Returns how many rows of each kind were written."""
    now = timezone.now()
    rng = random.Random(seed)  # noqa: S311 - made-up history, not a secret
    year = _Year(council=council, officer=officer, now=now, rng=rng, prefix=prefix)
    with keeping_created_at():
        for first in range(0, len(plans), per_batch):
            with transaction.atomic():
                year.write(plans[first : first + per_batch])
    return year.counts


def seed_snapshots(*, council: Council, weeks: int = 52) -> int:
    """A snapshot of `council` for today and the same weekday in each of the past `weeks` weeks, as
    `backfill_snapshots` writes them. Returns the number of rows written."""
    councils = Council.objects.filter(pk=council.pk)
    return sum(snapshots.take_snapshots(on=day, councils=councils) for day in snapshots.backfill_dates(weeks=weeks))


# --- Cardiff, for the demo ------------------------------------------------------------------------------------

# Seven neighbourhoods, seven different years. Roath and Cathays grow steadily; Splott takes off after a door-drop
# flyer campaign; Riverside started strong and slowed; Grangetown is small and steady. The two most deprived,
# Butetown and Adamsdown, are the gaps: Butetown's members rarely get to know each other, and hardly anyone in
# Adamsdown has joined. Large areas pass the small-number threshold, small ones show "<10".
CARDIFF = {
    "Roath": {
        "residents": 170,
        "groups": 4,
        "pace": 0.9,
        "connections": 2.6,
        "posts": 1.4,
        "events": 10,
        "turnout": 0.14,
        "initiatives": ("completed", "completed", "active", "active", "planning", "idea", "archived"),
    },
    "Cathays": {
        "residents": 140,
        "groups": 3,
        "pace": 1.0,
        "campaign": 0.78,
        "campaign_share": 0.3,
        "connections": 1.7,
        "posts": 1.1,
        "events": 8,
        "turnout": 0.12,
        "initiatives": ("completed", "active", "paused", "idea"),
    },
    "Splott": {
        "residents": 95,
        "groups": 2,
        "pace": 2.0,
        "campaign": 0.55,
        "campaign_share": 0.35,
        "connections": 2.2,
        "posts": 1.3,
        "events": 9,
        "turnout": 0.18,
        "initiatives": ("active", "planning", "idea"),
    },
    "Grangetown": {
        "residents": 55,
        "groups": 2,
        "pace": 1.0,
        "connections": 1.5,
        "posts": 0.9,
        "events": 6,
        "turnout": 0.15,
        "initiatives": ("completed", "planning"),
    },
    "Riverside": {
        "residents": 40,
        "groups": 2,
        "pace": 0.5,
        "connections": 1.2,
        "posts": 0.7,
        "events": 5,
        "turnout": 0.12,
        "initiatives": ("active", "archived"),
    },
    "Butetown": {
        "residents": 24,
        "groups": 1,
        "pace": 1.3,
        "connections": 0.3,
        "posts": 0.6,
        "events": 4,
        "turnout": 0.2,
        "initiatives": ("idea",),
    },
    "Adamsdown": {
        "residents": 7,
        "groups": 1,
        "pace": 1.0,
        "connections": 0.3,
        "posts": 0.4,
        "events": 2,
        "turnout": 0.3,
    },
}
DEMO_PREFIX = "demo"


def seed(people: dict[str, User]) -> bool:
    """Cardiff's year of activity and a year of weekly snapshots, once. Returns whether they were made now."""
    if User.objects.filter(email=first_email(DEMO_PREFIX)).exists():
        return False
    council = Council.objects.get(code="W06000015")
    areas = {area.name: area for area in council.neighbourhoods.all()}
    plans = [AreaPlan(neighbourhood=areas[name], **plan) for name, plan in CARDIFF.items() if name in areas]
    seed_year(council=council, plans=plans, officer=people.get("officer"), prefix=DEMO_PREFIX)
    seed_snapshots(council=council)
    return True
