"""The year itself: people and street groups, memberships, connections, posts and comments, events and RSVPs, and
(in `initiatives`) the initiatives, each written in bulk with the dates it would have had."""

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Profile, User
from core.text import render_markdown
from initiatives.models import Backing, CouncilOffer, Initiative, InitiativeRole, Outcome, VolunteerRole
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

from ..services import snapshots
from .initiatives import write as write_initiatives
from .samples import COMMENTS, EVENTS, FIRST_NAMES, GROUP_NAMES, INITIALS, PLACES, POSTS

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


KINDS = tuple(POSTS)
FULFILLABLE = (Post.Kind.OFFER, Post.Kind.REQUEST)
JOIN_POLICIES = (Group.JoinPolicy.CODE, Group.JoinPolicy.OPEN, Group.JoinPolicy.APPROVAL)
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


class YearWriter:
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
        write_initiatives(self, groups)

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
    year = YearWriter(council=council, officer=officer, now=now, rng=rng, prefix=prefix)
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
