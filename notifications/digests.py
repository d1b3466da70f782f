"""Daily and weekly digests: who is due, what goes in each email, and sending each one exactly once.

The path (see STYLE.md, "From a change to an email and a digest line"): beat runs `digest_tasks.queue_digests`
hourly; it asks `due_users` for everyone whose digest is due at this hour in Europe/London and queues
`send_digests(ids, period, period_start)` per batch. `send_digests` builds a whole batch with a fixed set of queries
(whatever the batch size), renders each email once in its reader's language from the lines rendered when each
notification was recorded, and sends the batch over one SMTP connection.

Never twice, never lost. A `DigestDelivery(user, period, period_start)` row is claimed for everyone in the batch
whose account still exists before anything is sent. Each email is then stamped `sent_at` in its own committed
transaction *after* the whole message has been handed to the mail server but *before* the final "." that asks the
server to accept it, and its lines are stamped `digested_at` only once the server has said yes. So:

- a claim without `sent_at` means the server never accepted that email (a connection that drops before the "."
  delivers nothing), and any later attempt sends it: a worker killed mid-batch loses nothing;
- a claim with `sent_at` is never sent again, whoever looks at it: a task run twice, a message redelivered by the
  broker after a worker died, or two workers on the same batch at once (the stamp is conditional on the row, so
  only one of them sends the "."; the other drops its connection mid-message, which the server discards).

What no sender can know is whether a process killed right after the stamp got its "." out. That instant is kept to
two adjacent writes (the COMMIT to PostgreSQL, then the "." to the mail server, without waiting for the database's
answer in between; see `_Stamp`), and it errs towards "never twice": such a digest counts as sent, and because its
lines are stamped `digested_at` only after the server's "250", they stay waiting and the person's next digest carries
them. At worst a killed process leaves one person a digest late (or, if the server had in fact accepted it, with the
same lines again next time); it never sends anyone the same digest twice. A server that refuses the "." has the
stamp taken back: for a 4xx the task retries; a 5xx is logged and the batch goes on (the person's news waits for
their next digest), so one email a server will never take does not hold up the rest. One that hangs up after the "." is
treated as having accepted it.

Permission is checked again when the email is built, from the object each notification links to: a hidden or
deleted post or comment, a deleted event, initiative or decision, a group the reader left or was removed or banned
from, a members-only group they are not an active member of, or a group's organiser-only page (a join request) when
they no longer organise it, never reaches the email; nor does a notification about someone the reader has blocked,
or who has blocked them, since it was recorded. News of an event that has already started is dropped as past.
"""

import binascii
import contextlib
import logging
import secrets
import select
import smtplib
import socket
import struct
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.header import Header
from email.utils import formatdate
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import psycopg
from django.conf import settings
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import DatabaseError, connection
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.template.loader import get_template
from django.urls import Resolver404, resolve, reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from psycopg import pq

from accounts.models import User
from initiatives.models import Ask, Decision, Initiative, VolunteerRole
from moderation.models import Block as PersonBlock
from neighbourhoods.models import Comment, Event, Group, Membership, Post

from . import preferences, unsubscribe
from .models import DEFAULT_FREQUENCY, Category, DeliverySettings, DigestDelivery, Frequency, Notification, Preference

logger = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
Period = DigestDelivery.Period
# People per `send_digests` task: one set of queries and one SMTP connection each.
BATCH_SIZE = 200
DEFAULT_HOUR = DeliverySettings._meta.get_field("digest_hour").default
DEFAULT_WEEKDAY = DeliverySettings._meta.get_field("digest_weekday").default
# A beat tick missed (beat restarting, a deploy) is caught up within this many hours on the same day.
CATCH_UP_HOURS = 3
PERIOD_LENGTH = {Period.DAILY: timedelta(days=1), Period.WEEKLY: timedelta(days=7)}
UPCOMING = timedelta(days=7)
# Long enough to reach the next digest of the same kind.
CLOSING_SOON = {Period.DAILY: timedelta(days=2), Period.WEEKLY: timedelta(days=7)}
# A busy group fills an email quickly: past this, a section links to the site for the rest.
MAX_ITEMS = 8
LIVE_INITIATIVE_STATUSES = [Initiative.Status.IDEA, Initiative.Status.PLANNING, Initiative.Status.ACTIVE]
_INITIATIVE = ["initiative__slug", "initiative__title", "initiative__group_id", "initiative__neighbourhood_id"]
ROLE_FIELDS = ["pk", "title", "slots", "filled", *_INITIATIVE]
ASK_FIELDS = ["pk", "title", *_INITIATIVE]
DECISION_FIELDS = ["pk", "question", "closes_at", *_INITIATIVE]
LEFT_STATUSES = {Membership.Status.LEFT, Membership.Status.REMOVED, Membership.Status.BANNED}

SUBJECT_TEMPLATE = "notifications/emails/digest.subject.txt"
TEXT_TEMPLATE = "notifications/emails/digest.txt"
HTML_TEMPLATE = "notifications/emails/digest.html"
BLOCK_TEXT_TEMPLATE = "notifications/emails/_digest_block.txt"
BLOCK_HTML_TEMPLATE = "notifications/emails/_digest_block.html"
SECTION_TEXT_TEMPLATE = "notifications/emails/_digest_section.txt"
SECTION_HTML_TEMPLATE = "notifications/emails/_digest_section.html"
TEMPLATES = [
    SUBJECT_TEMPLATE,
    TEXT_TEMPLATE,
    HTML_TEMPLATE,
    BLOCK_TEXT_TEMPLATE,
    BLOCK_HTML_TEMPLATE,
    SECTION_TEXT_TEMPLATE,
    SECTION_HTML_TEMPLATE,
]

# Section keys in the order they appear under each group.
NEIGHBOURS, POSTS, EVENTS, INITIATIVES, DECISIONS = "neighbours", "posts", "events", "initiatives", "decisions"
SECTION_ORDER = [NEIGHBOURS, POSTS, EVENTS, INITIATIVES, DECISIONS]
SECTION_OF_CATEGORY = {
    Category.MEMBERSHIP: NEIGHBOURS,
    Category.NEIGHBOURS: NEIGHBOURS,
    Category.POSTS: POSTS,
    Category.REPLIES: POSTS,
    Category.EVENTS: EVENTS,
    Category.MY_EVENTS: EVENTS,
    Category.INITIATIVES: INITIATIVES,
    Category.ORGANISING: INITIATIVES,
    Category.COUNCIL: INITIATIVES,
    Category.DECISIONS: DECISIONS,
}


def section_titles() -> dict[str, str]:
    """The section headings in the active language (looked up once per language per process)."""
    return _section_titles(translation.get_language())


@lru_cache(maxsize=16)
def _section_titles(language: str) -> dict[str, str]:
    return {
        NEIGHBOURS: _("New neighbours"),
        POSTS: _("Posts"),
        EVENTS: _("Upcoming events"),
        INITIATIVES: _("Initiatives that need help"),
        DECISIONS: _("Decisions closing soon"),
    }


# --- Who is due -----------------------------------------------------------------------------------------------


def period_start_for(now: datetime) -> date:
    """The day a digest due at `now` belongs to: the date in Europe/London."""
    return now.astimezone(LONDON).date()


def due_moment(period_start: date, hour: int) -> datetime:
    """When a digest for `period_start` at `hour` is due. It includes what was recorded before this moment."""
    return datetime.combine(period_start, time(hour), tzinfo=LONDON)


def frequency_expression() -> Case | Coalesce:
    """Each notification's frequency for its recipient now: their choice, or the category's default."""
    chosen = Preference.objects.filter(user=OuterRef("recipient"), category=OuterRef("category")).values("frequency")
    default = Case(
        *[When(category=category, then=Value(str(frequency))) for category, frequency in DEFAULT_FREQUENCY.items()],
        default=Value(Frequency.IN_APP.value),
    )
    return Coalesce(Subquery(chosen[:1]), default)


def digestible(period: str) -> "QuerySet[Notification]":  # noqa: F821
    """Notifications not yet in a digest or an email of their own whose recipient wants their category in this
    period's digest (someone who moves a category from "straight away" to a digest does not get a line twice)."""
    return (
        Notification.objects.filter(digested_at__isnull=True, delivered_at__isnull=True)
        .annotate(frequency=frequency_expression())
        .filter(frequency=period)
    )


def due_users(period: str, now: datetime, batch_size: int = BATCH_SIZE) -> Iterator[list[int]]:
    """Ids of people whose `period` digest is due at `now`, in batches of `batch_size`, one query in all.

    Due means: it is their hour (`digest_hour`, 8 by default, or up to `CATCH_UP_HOURS` after it if a beat tick was
    missed) in Europe/London, on their weekday for weekly digests (`digest_weekday`, Saturday by default); they are
    active, have not paused notification emails and their address has not bounced; no digest for this period has
    been sent to them yet; and at least one notification recorded before their hour is waiting for this digest.
    A claim left unsent by a failed attempt does not stop them being due, so a later tick finishes the job.
    """
    _check_period(period)
    local = now.astimezone(LONDON)
    start = local.date()
    hours = [h for h in range(local.hour - CATCH_UP_HOURS + 1, local.hour + 1) if h >= 0]
    waiting = Q()
    for hour in hours:
        pending = digestible(period).filter(recipient=OuterRef("pk"), created_at__lt=due_moment(start, hour))
        waiting |= Q(hour=hour) & Q(Exists(pending))
    users = (
        User.objects.filter(is_active=True)
        .filter(preferences.deliverable_filter())
        .annotate(hour=Coalesce(F("delivery_settings__digest_hour"), Value(DEFAULT_HOUR)))
    )
    if period == Period.WEEKLY:
        users = users.annotate(weekday=Coalesce(F("delivery_settings__digest_weekday"), Value(DEFAULT_WEEKDAY)))
        users = users.filter(weekday=local.weekday())
    sent = DigestDelivery.objects.filter(user=OuterRef("pk"), period=period, period_start=start, sent_at__isnull=False)
    ids = users.filter(hour__in=hours).filter(waiting).exclude(Exists(sent)).order_by("pk").values_list("pk", flat=True)
    batch: list[int] = []
    for user_id in ids.iterator(chunk_size=2000):
        batch.append(user_id)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- What goes in a digest ------------------------------------------------------------------------------------


@dataclass
class Item:
    text: str
    url: str


@dataclass
class Section:
    key: str
    title: str = ""
    items: list[Item] = field(default_factory=list)
    more: int = 0


@dataclass
class Block:
    """One group (or a neighbourhood, for neighbourhood-wide initiatives, or "elsewhere") in one person's digest."""

    title: str
    url: str
    sort: tuple
    sections: dict[str, Section] = field(default_factory=dict)

    def add(self, key: str, item: Item) -> None:
        section = self.sections.setdefault(key, Section(key))
        if len(section.items) < MAX_ITEMS:
            section.items.append(item)
        else:
            section.more += 1


class Reader(NamedTuple):
    """What sending needs of a person, read as a plain row (cheaper than a user, profile and settings instance)."""

    pk: int
    email: str
    language: str
    name: str
    hour: int  # the hour their digests arrive


class Claim(NamedTuple):
    """A person's `DigestDelivery` row for this digest, as a plain row."""

    pk: int
    sent_at: datetime | None


@dataclass
class Digest:
    user: Reader
    claim: Claim
    blocks: list[Block]
    categories: Counter
    lines: list[int]  # every notification this digest deals with, shown or dropped


class Line(NamedTuple):
    """What a digest needs of one notification, read as a plain row (cheaper than a model instance)."""

    pk: int
    recipient_id: int
    category: str
    url: str
    line: str
    actor_id: int | None


@dataclass(frozen=True)
class Ref:
    """What a notification's link points at, found from its URL without a query."""

    group_slug: str | None = None
    initiative_slug: str | None = None
    post_id: int | None = None
    comment_id: int | None = None
    event_id: int | None = None
    decision_id: int | None = None
    organisers_only: bool = False  # a page only the group's organisers may open (join requests, joining codes)


# A group's pages only its organisers may open: news linking to them is for organisers, and stops with the role.
ORGANISER_PAGES = frozenset({"member-list", "member-action", "code-list", "flyer", "code-revoke"})


@lru_cache(maxsize=20_000)
def ref_for(url: str) -> Ref:
    """The objects a notification's URL names. Every member of a group is sent the same URL, so this is cached."""
    if not url:
        return Ref()
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return Ref()
    kwargs = match.kwargs
    comment_id = kwargs.get("comment_id")
    if comment_id is None and parts.fragment.startswith("comment-") and parts.fragment[8:].isdigit():
        comment_id = int(parts.fragment[8:])
    if match.namespace == "neighbourhoods" and "slug" in kwargs:
        return Ref(
            group_slug=kwargs["slug"],
            post_id=kwargs.get("post_id"),
            comment_id=comment_id,
            event_id=kwargs.get("event_id"),
            organisers_only=match.url_name in ORGANISER_PAGES,
        )
    if match.namespace == "initiatives" and "slug" in kwargs:
        return Ref(initiative_slug=kwargs["slug"], decision_id=kwargs.get("decision_id"))
    return Ref()


class BatchContext:
    """Everything a batch of digests needs beyond the notifications themselves, each kind in one query."""

    def __init__(self, user_ids: list[int], notifications: list[Line], period: str, now: datetime, live: bool = True):
        self.period = period
        self.now = now
        refs = [ref_for(url) for url in {n.url for n in notifications}]  # a group's members share their links
        initiative_slugs = {r.initiative_slug for r in refs if r.initiative_slug}
        self.initiatives = {
            i.slug: i
            for i in Initiative.objects.filter(slug__in=initiative_slugs)
            .select_related("neighbourhood")
            .only("pk", "slug", "title", "group_id", "neighbourhood__name")
        }
        self.memberships: dict[int, dict[int, str]] = defaultdict(dict)
        self.joined_recently: set[tuple[int, int]] = set()  # (user, group): they count among the new neighbours
        since = now - PERIOD_LENGTH[period]
        self.organising: set[tuple[int, int]] = set()  # (user, group): an active organiser of it
        for user_id, group_id, status, role, joined_at in Membership.objects.filter(user_id__in=user_ids).values_list(
            "user_id", "group_id", "status", "role", "joined_at"
        ):
            self.memberships[user_id][group_id] = status
            if status == Membership.Status.ACTIVE and role == Membership.Role.ORGANISER:
                self.organising.add((user_id, group_id))
            if joined_at is not None and since <= joined_at < now:
                self.joined_recently.add((user_id, group_id))
        member_groups = {g for by_group in self.memberships.values() for g, s in by_group.items() if s == "active"}
        group_slugs = {r.group_slug for r in refs if r.group_slug}
        named_groups = {i.group_id for i in self.initiatives.values() if i.group_id}
        self.groups = {
            g.pk: g
            for g in Group.objects.filter(Q(slug__in=group_slugs) | Q(pk__in=member_groups | named_groups))
            .select_related("neighbourhood")
            .only("pk", "slug", "name", "visibility", "neighbourhood__name")
        }
        self.group_by_slug = {g.slug: g for g in self.groups.values()}
        self.group_urls: dict[int, str] = {}
        self.neighbourhood_names = {g.neighbourhood_id: g.neighbourhood.name for g in self.groups.values()}
        self.neighbourhood_names.update({i.neighbourhood_id: i.neighbourhood.name for i in self.initiatives.values()})
        self.hidden_posts = self._missing(Post, {r.post_id for r in refs if r.post_id}, hidden_at__isnull=True)
        self.hidden_comments = self._missing(
            Comment, {r.comment_id for r in refs if r.comment_id}, hidden_at__isnull=True
        )
        # An event that has started is past news: a reminder, a change or a new event no longer worth reading.
        self.gone_events = self._missing(Event, {r.event_id for r in refs if r.event_id}, starts_at__gt=now)
        self.gone_decisions = self._missing(Decision, {r.decision_id for r in refs if r.decision_id})
        self.kept_apart = self._blocks(user_ids, {n.actor_id for n in notifications if n.actor_id})
        self._places: dict[str, tuple | None] = {}
        if live:  # what is happening now, for the digest's own sections (not needed to check who may see what)
            self._live(member_groups)

    @staticmethod
    def _missing(model, ids: set[int], **still) -> set[int]:
        """The ids among `ids` with no row, or with one that no longer matches `still` (one query)."""
        if not ids:
            return set()
        return ids - set(model.objects.filter(pk__in=ids, **still).values_list("pk", flat=True))

    @staticmethod
    def _blocks(user_ids: list[int], actor_ids: set[int]) -> set[tuple[int, int]]:
        """(reader, actor) for every reader in the batch and actor of their lines kept apart by a block, whichever of
        the two made it (one query for the batch)."""
        if not actor_ids:
            return set()
        pairs = PersonBlock.objects.filter(
            Q(blocker_id__in=user_ids, blocked_id__in=actor_ids) | Q(blocker_id__in=actor_ids, blocked_id__in=user_ids)
        ).values_list("blocker_id", "blocked_id")
        return {pair for blocker, blocked in pairs for pair in ((blocker, blocked), (blocked, blocker))}

    def _live(self, member_groups: set[int]) -> None:
        """What is happening now in the batch's groups: a query per kind for the whole batch, never per person."""
        neighbourhoods = {self.groups[g].neighbourhood_id for g in member_groups if g in self.groups}
        in_groups = Q(group_id__in=member_groups)
        since = self.now - PERIOD_LENGTH[self.period]
        self.joined = Counter(
            dict(
                Membership.objects.filter(in_groups, status="active", joined_at__gte=since, joined_at__lt=self.now)
                .values_list("group_id")
                .annotate(n=Count("pk"))
                .values_list("group_id", "n")
            )
        )
        self.events: dict[int, list[Event]] = defaultdict(list)
        for event in Event.objects.filter(
            in_groups, cancelled_at__isnull=True, starts_at__gte=self.now, starts_at__lt=self.now + UPCOMING
        ).only("pk", "group_id", "title", "starts_at", "place"):
            self.events[event.group_id].append(event)
        live = Q(initiative__status__in=LIVE_INITIATIVE_STATUSES) & (
            Q(initiative__group_id__in=member_groups)
            | Q(initiative__group__isnull=True, initiative__neighbourhood_id__in=neighbourhoods)
        )
        self.help: dict[tuple, list[tuple[str, object]]] = defaultdict(list)
        roles = (
            VolunteerRole.objects.filter(live, filled__lt=F("slots"))
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=self.now))
            .select_related("initiative")
            .only(*ROLE_FIELDS)
            .order_by("starts_at", "pk")
        )
        for role in roles:
            self.help[self._place(role.initiative)].append(("role", role))
        for ask in Ask.objects.filter(live, pledged__lt=F("target")).select_related("initiative").only(*ASK_FIELDS):
            self.help[self._place(ask.initiative)].append(("ask", ask))
        self.closing: dict[tuple, list[Decision]] = defaultdict(list)
        for decision in (
            Decision.objects.filter(
                Q(initiative__group_id__in=member_groups)
                | Q(initiative__group__isnull=True, initiative__neighbourhood_id__in=neighbourhoods),
                status=Decision.Status.OPEN,
                closes_at__gt=self.now,
                closes_at__lte=self.now + CLOSING_SOON[self.period],
            )
            .exclude(initiative__status=Initiative.Status.ARCHIVED)
            .select_related("initiative")
            .only(*DECISION_FIELDS)
            .order_by("closes_at")
        ):
            self.closing[self._place(decision.initiative)].append(decision)

    @staticmethod
    def _place(initiative: Initiative) -> tuple:
        if initiative.group_id:
            return ("group", initiative.group_id)
        return ("neighbourhood", initiative.neighbourhood_id)

    def group_url(self, group: Group) -> str:
        url = self.group_urls.get(group.pk)
        if url is None:
            url = self.group_urls[group.pk] = _absolute(group.get_absolute_url())
        return url

    def place_of(self, notification: Line) -> tuple | None:
        """The block a notification belongs in, or None if its reader may no longer see it."""
        user_id = notification.recipient_id
        if notification.actor_id is not None and (user_id, notification.actor_id) in self.kept_apart:
            return None  # one of them has blocked the other since it was recorded
        # Whatever does not depend on the reader is worked out once per link (a group's members share them).
        found = self._places.get(notification.url, _UNSEEN)
        if found is _UNSEEN:
            found = self._places[notification.url] = self._place_of_link(notification.url)
        if found is None or len(found) == 2:
            return found
        place, group = found[:2], found[2]
        if found[3]:  # an organisers' page: only for someone who still organises the group
            return place if (user_id, group.pk) in self.organising else None
        status = self.memberships[user_id].get(group.pk)
        # News about the reader's own membership ("you were let in") is what a former member should still hear.
        if notification.category != Category.MEMBERSHIP:
            if status in LEFT_STATUSES:
                return None
            if group.visibility == Group.Visibility.MEMBERS and status != Membership.Status.ACTIVE:
                return None
        return place

    def _place_of_link(self, url: str) -> tuple | None:
        """Where a link's object lives, whoever reads it: None if it is hidden or gone, ("group", its id, the group,
        whether only organisers may open it) for a group's (the reader's membership is checked by `place_of`),
        otherwise the place itself."""
        ref = ref_for(url)
        if ref.post_id in self.hidden_posts or ref.comment_id in self.hidden_comments:
            return None
        if ref.event_id in self.gone_events or ref.decision_id in self.gone_decisions:
            return None
        group = None
        if ref.group_slug:
            group = self.group_by_slug.get(ref.group_slug)
            if group is None:
                return None  # the group was deleted
        elif ref.initiative_slug:
            initiative = self.initiatives.get(ref.initiative_slug)
            if initiative is None:
                return None
            if initiative.group_id is None:
                return ("neighbourhood", initiative.neighbourhood_id)
            group = self.groups.get(initiative.group_id)
            if group is None:
                return None
        if group is None:
            return ("elsewhere", 0)
        return ("group", group.pk, group, ref.organisers_only)

    def shape_of(self, user_id: int, notifications: list[Line]) -> tuple:
        """Everything a person's digest is built from, apart from their name and address: two people with the same
        shape (and language) get the same email."""
        lines = tuple((n.category, n.url, n.line, self.place_of(n)) for n in notifications)
        places = tuple((place, (user_id, place[1]) in self.joined_recently) for place in self.member_places(user_id))
        return lines, places

    def member_places(self, user_id: int) -> list[tuple]:
        groups = [g for g, s in self.memberships[user_id].items() if s == Membership.Status.ACTIVE and g in self.groups]
        places = [("group", g) for g in groups]
        places += [("neighbourhood", n) for n in sorted({self.groups[g].neighbourhood_id for g in groups})]
        return places


_UNSEEN = object()


def _absolute(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else f"{settings.SITE_URL}{url}"


def _when(moment: datetime) -> str:
    return formats.date_format(moment.astimezone(LONDON), "D j M, H:i")


class LiveItems:
    """Items drawn from what is happening now, rendered once per language per batch and shared by every reader."""

    def __init__(self, batch: BatchContext):
        self.batch = batch
        self.cache: dict[tuple, list[tuple[str, Item]]] = {}

    def for_place(self, place: tuple, user_id: int) -> list[tuple[str, Item]]:
        key = (translation.get_language(), place, (user_id, place[1]) in self.batch.joined_recently)
        if key not in self.cache:
            self.cache[key] = self._render(place, user_id)
        return self.cache[key]

    def _render(self, place: tuple, user_id: int) -> list[tuple[str, Item]]:
        batch = self.batch
        items: list[tuple[str, Item]] = []
        kind, pk = place
        if kind == "group":
            group = batch.groups[pk]
            # A reader who joined this week is not news to themselves.
            joined = batch.joined.get(pk, 0) - ((user_id, pk) in batch.joined_recently)
            if joined > 0:
                text = ngettext(
                    "%(count)s neighbour joined the group", "%(count)s neighbours joined the group", joined
                ) % {"count": joined}
                items.append((NEIGHBOURS, Item(text, _absolute(group.get_absolute_url()))))
            for event in batch.events.get(pk, []):
                text = _("%(title)s, %(when)s at %(place)s") % {
                    "title": event.title,
                    "when": _when(event.starts_at),
                    "place": event.place,
                }
                url = reverse("neighbourhoods:event-detail", args=[group.slug, event.pk])
                items.append((EVENTS, Item(text, _absolute(url))))
        for what, thing in batch.help.get(place, []):
            initiative = thing.initiative
            if what == "role":
                left = thing.slots - thing.filled
                text = ngettext(
                    "%(initiative)s needs %(count)s more volunteer: %(role)s",
                    "%(initiative)s needs %(count)s more volunteers: %(role)s",
                    left,
                ) % {"initiative": initiative.title, "count": left, "role": thing.title}
                url = reverse("initiatives:volunteer", args=[initiative.slug])
            else:
                text = _("%(initiative)s still needs: %(ask)s") % {"initiative": initiative.title, "ask": thing.title}
                url = reverse("initiatives:asks", args=[initiative.slug])
            items.append((INITIATIVES, Item(text, _absolute(url))))
        for decision in batch.closing.get(place, []):
            text = _("Closes %(when)s: %(question)s") % {
                "when": _when(decision.closes_at),
                "question": decision.question,
            }
            url = reverse("initiatives:decision-detail", args=[decision.initiative.slug, decision.pk])
            items.append((DECISIONS, Item(text, _absolute(url))))
        return items


def build_digest(user: Reader, claim: Claim, notifications: list[Line], batch: BatchContext, live: LiveItems) -> Digest:
    """One person's digest, in the active language: their notifications' lines grouped by group, then what is
    happening now in their groups. `blocks` is empty when nothing they may still see is left."""
    blocks: dict[tuple, Block] = {}
    included: list[int] = []
    categories: Counter = Counter()
    for notification in notifications:
        place = batch.place_of(notification)
        if place is None:
            continue
        included.append(notification.pk)
        categories[notification.category] += 1
        text = notification.line or _("There is news for you about “%(category)s”.") % {
            "category": Category(notification.category).label
        }
        url = _absolute(notification.url or reverse("notifications:list"))
        _block(blocks, place, batch).add(SECTION_OF_CATEGORY.get(notification.category, POSTS), Item(text, url))
    if included:
        for place in batch.member_places(user.pk):
            for key, item in live.for_place(place, user.pk):
                _block(blocks, place, batch).add(key, item)
    titles = section_titles()
    ordered = sorted(blocks.values(), key=lambda b: b.sort)
    for block in ordered:
        block.sections = {key: block.sections[key] for key in SECTION_ORDER if key in block.sections}
        for section in block.sections.values():
            section.title = titles[section.key]
    return Digest(
        user=user,
        claim=claim,
        blocks=ordered if included else [],
        categories=categories,
        lines=[n.pk for n in notifications],
    )


def _block(blocks: dict[tuple, Block], place: tuple, batch: BatchContext) -> Block:
    block = blocks.get(place)
    if block is None:
        kind, pk = place
        if kind == "group":
            group = batch.groups[pk]
            block = Block(group.name, batch.group_url(group), (0, group.name.casefold(), pk))
        elif kind == "neighbourhood":
            name = batch.neighbourhood_names.get(pk, "")
            block = Block(_("Across %(neighbourhood)s") % {"neighbourhood": name}, "", (1, name.casefold(), pk))
        else:
            block = Block(_("Elsewhere"), "", (2, "", 0))
        blocks[place] = block
    return block


# --- Rendering and sending ------------------------------------------------------------------------------------


class Renderer:
    """Renders one batch's emails. Each notification's line was rendered when it was recorded; a group's block is
    the same for most of its members, so each distinct block is rendered once per language and reused."""

    def __init__(self, period: str, period_start: date):
        self.period = period
        self.period_start = period_start
        self.blocks: dict[tuple, tuple[str, str]] = {}
        self.sections: dict[tuple, tuple[str, str]] = {}
        self.frames: dict[tuple, tuple[str, str, str]] = {}
        self.settings_url = _absolute(reverse("notifications:preferences"))
        self.templates = {name: get_template(name) for name in TEMPLATES}
        self.wires: dict[int, WireShape] = {}  # by id() of a Rendered this batch keeps
        self.encoded_lines: dict[str, bytes] = {}  # each line of the emails, quoted-printable, as it goes over SMTP
        self.unsubscribe = unsubscribe.TokenMaker()
        self.message_id = (f"<digest.{period}.{period_start:%Y%m%d}.", f"@{_mail_domain()}>")  # around the person

    def _block(self, block: Block) -> tuple[str, str]:
        language = translation.get_language()
        sections = [self._section(language, section) for section in block.sections.values()]
        # Each section's rendering is kept for the batch, so its id names it.
        key = (language, block.title, block.url, tuple(map(id, sections)))
        if key not in self.blocks:
            self.blocks[key] = tuple(
                self.templates[template].render(
                    {"block": {"title": block.title, "url": block.url, "sections": [s[part] for s in sections]}}
                )
                for part, template in enumerate([BLOCK_TEXT_TEMPLATE, BLOCK_HTML_TEMPLATE])
            )
        return self.blocks[key]

    def _section(self, language: str, section: Section) -> tuple[str, str]:
        """A section's text and HTML, rendered once per language and content: readers whose blocks differ in one
        section (a newcomer's count of new neighbours, say) share the rest."""
        key = (language, section.title, tuple((item.text, item.url) for item in section.items), section.more)
        rendered = self.sections.get(key)
        if rendered is None:
            context = {"section": {"title": section.title, "items": key[2], "more": section.more}}
            rendered = self.sections[key] = (
                self.templates[SECTION_TEXT_TEMPLATE].render(context),
                self.templates[SECTION_HTML_TEMPLATE].render(context),
            )
        return rendered

    def _frame(self, count: int, categories: tuple[str, ...]) -> tuple[str, str, str]:
        """Subject, text and HTML around the blocks, rendered once per language and shape, with placeholders for
        what differs per person (name, blocks, unsubscribe link)."""
        key = (translation.get_language(), count, categories)
        if key not in self.frames:
            subject = " ".join(self.templates[SUBJECT_TEMPLATE].render({"period": self.period, "count": count}).split())
            context = {
                "subject": subject,
                "name": NAME,
                "period": self.period,
                "blocks": BLOCKS,
                "categories": ", ".join(str(Category(c).label) for c in categories),
                "settings_url": self.settings_url,
                "unsubscribe_url": UNSUBSCRIBE,
            }
            self.frames[key] = (
                subject,
                self.templates[TEXT_TEMPLATE].render(context),
                self.templates[HTML_TEMPLATE].render(context),
            )
        return self.frames[key]

    def render(self, digest: Digest) -> "Rendered":
        """A digest's email in the active language (the caller sets the reader's), all but the reader's name and
        unsubscribe link, which `message` fills in. Readers whose digests hold the same lines share one."""
        # The one-click link stands for the whole email: it turns this digest off, whatever categories it carries.
        category = unsubscribe.digest_token_category(self.period)
        subject, text, html = self._frame(sum(digest.categories.values()), tuple(sorted(digest.categories)))
        blocks = [self._block(block) for block in digest.blocks]
        return Rendered(
            subject,
            text.replace(BLOCKS, "".join(t for t, _h in blocks)),
            html.replace(BLOCKS, "".join(h for _t, h in blocks)),
            category,
            digest.categories,
        )

    def _personal(self, rendered: "Rendered", user: Reader) -> tuple[str, str, dict[str, str]]:
        """What differs per reader: their name, their unsubscribe link and the headers."""
        name = user.name
        unsubscribe_url = self.unsubscribe.url(user.pk, rendered.category)
        headers = {
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # The same id for every attempt at this digest, so a mail system that sees it twice can tell.
            "Message-ID": f"{self.message_id[0]}{user.pk}{self.message_id[1]}",
        }
        return name, unsubscribe_url, headers

    def message(self, rendered: "Rendered", user: Reader) -> mail.EmailMultiAlternatives:
        """The email for one reader: a rendered digest with their name and unsubscribe link."""
        name, unsubscribe_url, headers = self._personal(rendered, user)
        text = rendered.text.replace(NAME, name).replace(UNSUBSCRIBE, unsubscribe_url)
        html = rendered.html.replace(NAME, escape(name)).replace(UNSUBSCRIBE, escape(unsubscribe_url))
        message = mail.EmailMultiAlternatives(rendered.subject, text, to=[user.email], headers=headers)
        message.attach_alternative(html, "text/html")
        return message

    def wire(self, rendered: "Rendered", user: Reader) -> tuple["Envelope", bytes]:
        """The same email as `message`, as the bytes that go over SMTP: encoded once per rendered digest, with only
        the reader's own lines (their name, their unsubscribe link) encoded per reader."""
        shape = self.wires.get(id(rendered))
        if shape is None:
            shape = self.wires[id(rendered)] = WireShape(rendered, self.encoded_lines)
        name, unsubscribe_url, headers = self._personal(rendered, user)
        return Envelope(settings.DEFAULT_FROM_EMAIL, [user.email], stuffed=True), shape.fill(
            user.email, name, unsubscribe_url, headers
        )


class Rendered(NamedTuple):
    subject: str
    text: str  # with the NAME and UNSUBSCRIBE placeholders still in
    html: str
    category: str  # what the one-click unsubscribe link stands for (this period's digest)
    categories: Counter


# Placeholders in a rendered frame. No name, line or link can contain a NUL character (forms refuse it and
# PostgreSQL cannot store it), so filling them in one after another cannot bring in another placeholder.
NAME, BLOCKS, UNSUBSCRIBE = "\x00name\x00", "\x00blocks\x00", "\x00unsubscribe\x00"


@lru_cache(maxsize=1)
def _mail_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


@lru_cache(maxsize=64)
def _sanitized(address: str, encoding: str) -> str:
    return sanitize_address(address, encoding)


_SPECIALS = frozenset(' <>"(),;:\\[]\r\n')  # characters that make an address more than plain


def _address(address: str, encoding: str) -> str:
    """`sanitize_address`, without the cost of the email package's parser for a plain ASCII address."""
    if address.isascii() and address.count("@") == 1 and _SPECIALS.isdisjoint(address):
        return address
    return _sanitized(address, encoding)


@lru_cache(maxsize=64)
def _quoted(address: str) -> str:
    return smtplib.quoteaddr(address)


def _envelope(address: str) -> str:
    """The address as MAIL FROM / RCPT TO want it (what `smtplib` does, without re-parsing a plain address)."""
    return f"<{address}>" if _address(address, "ascii") is address and address.isascii() else _quoted(address)


class Envelope(NamedTuple):
    """Who an email is from and to, for sending bytes already built (what `_start` needs of an `EmailMessage`)."""

    from_email: str
    to: list[str]
    encoding: str | None = None
    stuffed: bool = False  # the bytes already have their leading dots doubled

    def recipients(self) -> list[str]:
        return self.to


def _qp_line(line: str) -> bytes:
    """One line quoted-printable encoded, as it goes over SMTP: soft line breaks written as CRLF (SMTP allows no
    bare LF) and a "." starting a line doubled (RFC 5321 §4.5.2), so the whole message need not be scanned again."""
    line = line.replace("\r\n", "\n").replace("\r", "\n")  # a line break typed into a name, say
    encoded = binascii.b2a_qp(line.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    if encoded[:1] == b"." or b"\n." in encoded:
        encoded = smtplib._quote_periods(encoded)
    return encoded


def _qp_lines(content: str, html: bool, encoded: dict[str, bytes]) -> list[bytes | tuple[str, bool]]:
    """`content` quoted-printable encoded line by line (each line on its own is valid quoted-printable), as runs
    of encoded bytes and, in between, the lines holding a placeholder, left to encode per reader. `encoded` keeps
    each line's encoding for the batch (most lines recur in the emails of one group)."""
    chunks: list[bytes | tuple[str, bool]] = []
    run: list[bytes] = []
    for line in content.split("\n"):
        if NAME in line or UNSUBSCRIBE in line:
            chunks.append(b"".join(run))
            chunks.append((line, html))
            run = [b"\r\n"]
        else:
            done = encoded.get(line)
            if done is None:
                done = encoded[line] = _qp_line(line)
            run.append(done)
            run.append(b"\r\n")
    run.pop()  # no line break after the last line: the part's own CRLF follows
    chunks.append(b"".join(run))
    return chunks


class WireShape:
    """One rendered digest as the bytes that go over SMTP, built once and filled in per reader: the headers and the
    two quoted-printable parts Django would write (leading dots already doubled), written directly rather than
    through the `email` package, whose header folding costs more than the rest of an email."""

    def __init__(self, rendered: "Rendered", encoded: dict[str, bytes] | None = None):
        encoded = {} if encoded is None else encoded
        encoding = settings.DEFAULT_CHARSET
        subject = rendered.subject
        if not subject.isascii():
            subject = Header(subject, "utf-8").encode(linesep="\r\n")
        self.subject = f"Subject: {subject}"
        self.sender = f"From: {_sanitized(settings.DEFAULT_FROM_EMAIL, encoding)}"
        self.encoding = encoding
        self.boundary = f"==============={secrets.token_hex(12)}=="
        self.parts = [
            (
                f'--{self.boundary}\r\nContent-Type: {mimetype}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode(),
                _qp_lines(content, html, encoded),
            )
            for content, mimetype, html in ((rendered.text, "text/plain", False), (rendered.html, "text/html", True))
        ]
        self.end = f"--{self.boundary}--\r\n".encode()

    def fill(self, to: str, name: str, unsubscribe_url: str, extra: dict[str, str]) -> bytes:
        headers = [
            self.subject,
            self.sender,
            f"To: {_address(to, self.encoding)}",
            f"Date: {formatdate(localtime=False)}",
            "MIME-Version: 1.0",
            *(f"{header}: {value}" for header, value in extra.items()),
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"',
        ]
        chunks = ["\r\n".join(headers).encode(), b"\r\n\r\n"]
        escaped = None
        for head, lines in self.parts:
            chunks.append(head)
            for chunk in lines:
                if isinstance(chunk, bytes):
                    chunks.append(chunk)
                    continue
                line, html = chunk
                if html:
                    escaped = escaped or (escape(name), escape(unsubscribe_url))
                    line = line.replace(NAME, escaped[0]).replace(UNSUBSCRIBE, escaped[1])
                else:
                    line = line.replace(NAME, name).replace(UNSUBSCRIBE, unsubscribe_url)
                chunks.append(_qp_line(line))
            chunks.append(b"\r\n")
        chunks.append(self.end)
        return b"".join(chunks)


class AlreadySent(Exception):
    """Another attempt stamped this digest first: this one must not finish sending it."""


STAMP_SQL = (
    "UPDATE notifications_digestdelivery SET sent_at = %s, notification_count = %s WHERE id = %s AND sent_at IS NULL"
)
UNSTAMP_SQL = (
    "UPDATE notifications_digestdelivery SET sent_at = NULL, notification_count = 0 WHERE id = %s AND sent_at = %s"
)


class _Stamp:
    """The `sent_at` stamp of one digest, committed just before the server is asked to accept the email, and the
    `digested_at` stamp of its lines once it has.

    On PostgreSQL, outside any transaction (as in a worker), the stamp is a transaction whose COMMIT is written to
    the database and, without waiting for the answer, the final "." straight after: two writes microseconds apart.
    A COMMIT that reached the database's socket is carried out even if this process dies the next instant, and a
    "." that reached the mail server's socket is delivered even if this process dies (RFC 5321 §4.1.1.4 has the
    server process a message once its "." arrives). The stamp's UPDATE goes out before the message does and the
    answers come back later, so the database works while the mail server does. The lines of the email before,
    which the server has accepted by then, are stamped in the same transaction (`carry`), so each email costs the
    database one transaction; the last email's lines are stamped on their own. Anywhere else (SQLite, or inside a
    caller's transaction, as in tests) the stamp is plain statements followed by the ".", read at once, and the
    lines are stamped on their own once the server has said yes.
    """

    def __init__(self, claim_pk: int, count: int, lines: list[int], carry: "_Stamp | None" = None, pgconn=None):
        self.claim_pk = claim_pk
        self.count = count
        self.lines = lines
        self.at = timezone.now()
        self.outstanding = False
        self.asked = False
        # An email the server has accepted, whose lines this stamp's transaction stamps. Until that transaction
        # commits, this stamp answers for them: if it does not, `_carried_on_their_own` stamps them.
        self.carried = carry
        # The raw connection (see `_raw_connection`), or None where the stamp is plain statements.
        self.pgconn = pgconn
        self._raw = pgconn is not None

    @property
    def carries(self) -> bool:
        """Whether this stamp can take the previous email's lines into its own transaction."""
        return self._raw

    def begin(self) -> None:
        """Start taking the row. On PostgreSQL the statement goes out now and its answer is read in `commit_then`,
        so the database works while the message goes to the mail server. The carried email's lines are stamped in
        the same transaction (or, anywhere else, on their own now)."""
        self.asked = False
        if not self._raw:
            carried, self.carried = self.carried, None
            if carried is not None:
                carried.mark_lines()
                carried.settle()
            return
        pgconn = self.pgconn
        # The transaction takes the row: a concurrent attempt waits on its lock, then finds it stamped. The values
        # are a timestamp and integers this code made, written as literals.
        at, count, pk = self.at.isoformat(), int(self.count), int(self.claim_pk)
        statements = ["BEGIN", f"EXECUTE digest_stamp('{at}', {count}, {pk})"]
        if self.carried is not None and self.carried.lines:
            statements.insert(1, self.carried.lines_sql())
        _send(pgconn, "; ".join(statements).encode())
        self.asked = True

    def _carried_on_their_own(self) -> None:
        """This stamp's transaction will not commit: stamp the carried email's lines by themselves, if the database
        lets us (if not, they wait for the person's next digest, as after a killed process)."""
        carried, self.carried = self.carried, None
        if carried is not None:
            with contextlib.suppress(Exception):
                carried.mark_lines()
                carried.settle()

    def abandon(self) -> None:
        """Give the row back untouched (the email was not sent)."""
        if self.asked:
            self.asked = False
            pgconn = self.pgconn
            with contextlib.suppress(DatabaseError):
                _collect(pgconn)
            _run(pgconn, b"ROLLBACK")
            self._carried_on_their_own()

    def commit_then(self, finish) -> bool:
        """Stamp, commit, then `finish()`. False (and nothing done) if another attempt stamped it first."""
        if not self._raw:
            with connection.cursor() as cursor:
                cursor.execute(STAMP_SQL, [self.at, self.count, self.claim_pk])
                if not cursor.rowcount:
                    return False
            finish()
            return True
        pgconn = self.pgconn
        self.asked = False
        try:
            result = _collect(pgconn)
        except DatabaseError:
            _run(pgconn, b"ROLLBACK")
            self._carried_on_their_own()
            raise
        if result.command_tuples != 1:
            _run(pgconn, b"ROLLBACK")
            self._carried_on_their_own()
            return False
        self.carried = None  # committed with this stamp
        _send(pgconn, b"COMMIT")
        self.outstanding = True
        try:
            finish()
        except BaseException:
            self.settle()
            raise
        return True

    def settle(self) -> None:
        """Read the answer to the statement still on its way (the COMMIT, or the lines' stamp), if any."""
        if not self.outstanding:
            return
        self.outstanding = False
        _collect(self.pgconn)

    def take_back(self) -> None:
        self.settle()
        with connection.cursor() as cursor:
            cursor.execute(UNSTAMP_SQL, [self.claim_pk, self.at])

    def lines_sql(self) -> str:
        ids = ",".join(str(int(pk)) for pk in self.lines)
        return f"EXECUTE digest_lines('{self.at.isoformat()}', '{{{ids}}}')"

    def mark_lines(self) -> None:
        """Stamp the digest's lines `digested_at` on their own, once the server has accepted it. On PostgreSQL the
        statement goes out without waiting (its answer is read by `settle`)."""
        self.settle()
        if not self._raw:
            Notification.objects.filter(pk__in=self.lines, digested_at__isnull=True).update(digested_at=self.at)
            return
        _send(self.pgconn, self.lines_sql().encode())
        self.outstanding = True


# The two statements every email runs, prepared once per database connection (parsed and planned once, not per
# email). Prepared statements outlive a rolled-back transaction, and end with the connection.
PREPARED = {
    "digest_stamp": "PREPARE digest_stamp (timestamptz, integer, bigint) AS UPDATE notifications_digestdelivery"
    " SET sent_at = $1, notification_count = $2 WHERE id = $3 AND sent_at IS NULL",
    "digest_lines": "PREPARE digest_lines (timestamptz, bigint[]) AS UPDATE notifications_notification"
    " SET digested_at = $1 WHERE id = ANY($2) AND digested_at IS NULL",
}
_prepared = weakref.WeakSet()  # connections known to have them


def _raw_connection():
    """The raw PostgreSQL connection (statements prepared) for a batch's stamps, when they may use it: on
    PostgreSQL, outside any transaction, as in a worker. None anywhere else (SQLite, or inside a caller's
    transaction, as in tests), where each stamp is plain statements."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    return _prepared_connection()


def _prepared_connection():
    """The raw connection, with the stamps' statements prepared on it: whichever this session lacks, once."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    if pgconn not in _prepared:
        names = ", ".join(f"'{name}'" for name in PREPARED)
        found = _run(pgconn, f"SELECT name FROM pg_prepared_statements WHERE name IN ({names})".encode())  # noqa: S608
        have = {found.get_value(row, 0).decode() for row in range(found.ntuples)}
        missing = [sql for name, sql in PREPARED.items() if name not in have]
        if missing:
            _run(pgconn, "; ".join(missing).encode())
        _prepared.add(pgconn)
    return pgconn


def _send(pgconn, query: bytes) -> None:
    try:
        pgconn.send_query(query)
        while pgconn.flush():
            select.select([], [pgconn.socket], [])
    except psycopg.Error as error:  # a lost connection, say: reported as the ORM would report it
        raise DatabaseError(str(error)) from error


def _run(pgconn, query: bytes):
    """Run statements on the raw connection and return the last result (raising on an error)."""
    _send(pgconn, query)
    return _collect(pgconn)


def _collect(pgconn):
    """Wait for a statement's results; raise `DatabaseError` if it failed, else return the last one."""
    last = failed = None
    try:
        while True:
            if pgconn.is_busy():
                pgconn.consume_input()  # most answers have arrived by now, with no need to wait for them
                while pgconn.is_busy():
                    select.select([pgconn.socket], [], [])
                    pgconn.consume_input()
            result = pgconn.get_result()
            if result is None:
                break
            if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
                failed = result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b"statement failed"
            last = result
    except psycopg.Error as error:  # a lost connection, say: reported as the ORM would report it
        raise DatabaseError(str(error)) from error
    if failed is not None:
        raise DatabaseError(failed.decode(errors="replace"))
    return last


class _InFlight:
    """An email whose final "." has been sent and whose server answer has not been read yet."""

    def __init__(self, digest: Digest, stamp: _Stamp, smtp):
        self.digest, self.stamp, self.smtp = digest, stamp, smtp

    def read_reply(self) -> None:
        """Read the server's answer; raise (with the stamp taken back) if it refused the email.

        The stamp's COMMIT answer is left to be read just before the next stamp, so the database's flush to disk
        overlaps the next email's first commands."""
        if self.smtp is None:
            return
        code, reply = self.smtp.getreply()
        if code != 250:
            self.stamp.take_back()
            raise smtplib.SMTPDataError(code, reply)


def _start(
    backend,
    digest: Digest,
    message: "mail.EmailMessage | Envelope",
    payload: bytes | None,
    before_stamp=None,
    carry: _Stamp | None = None,
    pgconn=None,
) -> _InFlight:
    """Hand one digest to the mail server up to its final ".", stamping it just before that (and `carry`'s lines,
    an email the server has accepted, with it; see `_Stamp.begin`) on `pgconn` (see `_raw_connection`).

    Raises `AlreadySent` if another attempt stamped it first, or a server error (nothing stamped).
    """
    stamp = _Stamp(digest.claim.pk, sum(digest.categories.values()), digest.lines, carry, pgconn)
    if not isinstance(backend, SMTPBackend):
        _begin(stamp, before_stamp)

        # Backends that are not a mail server (memory, files, console) accept or fail in one call.
        def finish() -> None:
            backend.send_messages([message])

        try:
            if not stamp.commit_then(finish):
                raise AlreadySent
        except AlreadySent:
            raise
        except Exception:
            stamp.take_back()
            raise
        stamp.settle()
        return _InFlight(digest, stamp, None)
    smtp = backend.connection
    encoding = message.encoding or settings.DEFAULT_CHARSET
    sender = _sanitized(message.from_email, encoding)
    recipients = [_address(address, encoding) for address in message.recipients()]
    if payload is None:
        payload = message.message().as_bytes(linesep="\r\n")
    # The stamp's statement goes to the database now; its answer is read once the message body is with the server.
    _begin(stamp, before_stamp)
    try:
        smtp.ehlo_or_helo_if_needed()
        code, reply = smtp.docmd("mail", f"FROM:{_envelope(sender)}")
        if code != 250:
            smtp.rset()
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = smtp.docmd("rcpt", f"TO:{_envelope(recipient)}")
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = smtp.docmd("data")
        if code != 354:
            smtp.rset()
            raise smtplib.SMTPDataError(code, reply)
        data = payload if getattr(message, "stuffed", False) else smtplib._quote_periods(payload)
        # The server holds the whole message now, and accepts it when the final "." arrives.
        smtp.send(data if data.endswith(b"\r\n") else data + b"\r\n")
    except BaseException:
        stamp.abandon()
        raise
    try:
        if not stamp.commit_then(lambda: smtp.send(b".\r\n")):
            raise AlreadySent
    except smtplib.SMTPServerDisconnected:
        stamp.take_back()  # the "." never left: nothing was accepted
        raise
    except AlreadySent:
        raise
    except Exception:
        # The database failed before the ".": hang up mid-message (the server discards it) rather than QUIT, which
        # the server would read as more of the message.
        _drop_connection(backend)
        raise
    return _InFlight(digest, stamp, smtp)


def _begin(stamp: _Stamp, before_stamp=None) -> None:
    """Read what the last stamp left outstanding, then begin this one; if either fails, the lines this stamp
    carries are stamped on their own."""
    try:
        if before_stamp is not None:
            before_stamp()
        stamp.begin()
    except BaseException:
        stamp._carried_on_their_own()
        raise


def _drop_connection(backend) -> None:
    """Close the socket without QUIT: a message left unterminated is discarded by the server, never delivered."""
    smtp = getattr(backend, "connection", None)
    if smtp is not None:
        try:
            smtp.close()
        finally:
            backend.connection = None


def _open(backend) -> None:
    backend.open()
    smtp = getattr(backend, "connection", None)
    if isinstance(backend, SMTPBackend) and smtp is not None and smtp.sock is not None:
        # The final "." is a tiny write after the stamp: send it at once instead of waiting for the server to
        # acknowledge the body (Nagle's algorithm), which would add up to 40 ms per email.
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _kernel_timeouts(smtp.sock)


def _kernel_timeouts(sock) -> None:
    """Hand the socket's timeout (EMAIL_TIMEOUT) to the kernel. Python's timeout mode asks the kernel whether the
    socket is ready before every read and write (a batch makes thousands); the kernel's own send and receive
    timeouts cost nothing per call, and a server that stops answering still fails the batch with an `OSError`
    after the same wait (smtplib reports it as a lost connection, and the task retries)."""
    timeout = sock.gettimeout()
    if not timeout:
        return
    seconds = int(timeout)
    limit = struct.pack("ll", seconds, int((timeout - seconds) * 1_000_000))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
    except OSError:
        return  # a platform without them keeps Python's timeout
    sock.settimeout(None)


def send_digests(user_ids: Iterable[int], period: str, period_start: date | str) -> int:
    """Build and send the `period` digest for `period_start` to each of these people, once. Returns how many went.

    Safe to run twice, after a crash, or on two workers at once (see the module docstring). People whose account
    was deactivated, who paused emails or bounced, or whose digest is empty once permissions are checked again, get
    nothing; their claims are released. An account deleted since the batch was queued gets no claim at all. Every
    notification that was in a sent digest, or was dropped because its reader may no longer see it, is stamped
    `digested_at`. A failure part-way stamps what was sent, then raises so the task can retry.
    """
    _check_period(period)
    if isinstance(period_start, str):
        period_start = date.fromisoformat(period_start)
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    now = timezone.now()
    claims = _claim(ids, period, period_start, now)
    # Who may still be sent one: active, not paused, not bounced (anyone else's claim is released below). Without
    # a name of their own they are greeted as their account was named when it was made: by their address's first part.
    users = {
        pk: Reader(
            pk,
            email,
            language or settings.LANGUAGE_CODE,
            name or email.split("@")[0],
            DEFAULT_HOUR if hour is None else hour,
        )
        for pk, email, language, name, hour in User.objects.filter(pk__in=ids, is_active=True)
        .filter(preferences.deliverable_filter())
        .values_list("pk", "email", "profile__language", "profile__display_name", "delivery_settings__digest_hour")
    }
    # What each person's digest includes: what was recorded before their hour (most of a batch shares one).
    by_hour: dict[int, list[int]] = defaultdict(list)
    for pk, user in users.items():
        by_hour[user.hour].append(pk)
    before_their_hour = Q(pk__in=[])
    for hour, people in by_hour.items():
        before_their_hour |= Q(recipient_id__in=people, created_at__lt=due_moment(period_start, hour))
    by_user: dict[int, list[Line]] = defaultdict(list)
    rows = digestible(period).filter(before_their_hour).order_by("created_at", "pk").values_list(*Line._fields)
    for row in rows:
        notification = Line._make(row)
        by_user[notification.recipient_id].append(notification)

    finished: list[int] = []  # notifications to stamp digested
    release: list[int] = []  # claims to give back: nothing was sent
    candidates = []
    for pk in ids:
        claim, user = claims.get(pk), users.get(pk)
        if claim is None:
            continue  # their account is gone
        if claim.sent_at is not None:
            # Stamped by an earlier attempt. Lines it left undigested belong to a digest that attempt may not have
            # finished sending (it died in the instant after the stamp): they wait for the person's next digest.
            continue
        if user is None or not by_user[pk]:
            release.append(claim.pk)
        else:
            candidates.append(pk)
    batch = BatchContext(candidates, [n for pk in candidates for n in by_user[pk]], period, now)
    live = LiveItems(batch)
    renderer = Renderer(period, period_start)

    smtp = isinstance(mail.get_connection(), SMTPBackend)

    # Neighbours in one group mostly get the same digest: one is built and rendered per distinct shape.
    shapes: dict[tuple, Rendered | None] = {}

    def prepared() -> Iterator[tuple[Digest, mail.EmailMessage | Envelope, bytes | None]]:
        # Built one at a time, while the server works on the previous email; no query runs in here.
        for pk in candidates:
            user = users[pk]
            shape = (user.language, batch.shape_of(pk, by_user[pk]))
            if shape not in shapes:
                # Built and rendered in the reader's language; what follows is the same in any.
                with translation.override(user.language):
                    digest = build_digest(user, claims[pk], by_user[pk], batch, live)
                    shapes[shape] = renderer.render(digest) if digest.blocks else None
            rendered = shapes[shape]
            if rendered is None:
                # Nothing left that they may see: no email, and the dropped lines are done with.
                release.append(claims[pk].pk)
                finished.extend(n.pk for n in by_user[pk])
                continue
            digest = Digest(user, claims[pk], [], rendered.categories, [n.pk for n in by_user[pk]])
            if smtp:
                yield digest, *renderer.wire(rendered, user)
            else:
                yield digest, renderer.message(rendered, user), None

    sent = 0
    failure: Exception | None = None
    try:
        if candidates:
            sent, failure = _send_all(prepared(), by_user, finished)
    finally:
        if finished:
            Notification.objects.filter(pk__in=finished, digested_at__isnull=True).update(digested_at=now)
        if release:
            DigestDelivery.objects.filter(pk__in=release, sent_at__isnull=True).delete()
    if failure is not None:
        logger.warning("Sent %s %s digests before the mail server refused one", sent, period)
        raise failure
    return sent


def _claim(ids: list[int], period: str, period_start: date, now: datetime) -> dict[int, Claim]:
    """Claim this digest for each of these people whose account still exists (a claim already there is kept), in one
    statement whatever the batch size, and return everyone's claim by person."""
    model, ops = DigestDelivery, connection.ops
    # Besides the person: the period, its first day, when it was claimed, and no notifications counted yet.
    fields = {"period": period, "period_start": period_start, "claimed_at": now, "notification_count": 0}
    columns = [model._meta.get_field(name).column for name in ["user", *fields]]
    values = [model._meta.get_field(name).get_db_prep_save(value, connection) for name, value in fields.items()]
    user_pk = ops.quote_name(User._meta.pk.column)
    with connection.cursor() as cursor:
        # The people come from the users table, so an account deleted since the batch was queued gets no claim.
        cursor.execute(
            f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({', '.join(map(ops.quote_name, columns))}) "  # noqa: S608
            f"SELECT {user_pk}, {', '.join(['%s'] * len(values))} FROM {ops.quote_name(User._meta.db_table)} "
            # In order, as every attempt at the batch takes them, so two at once cannot deadlock.
            f"WHERE {user_pk} IN ({', '.join(['%s'] * len(ids))}) ORDER BY {user_pk} ON CONFLICT DO NOTHING",
            [*values, *ids],
        )
    return {
        user_id: Claim(pk, sent_at)
        for user_id, pk, sent_at in model.objects.filter(
            user_id__in=ids, period=period, period_start=period_start
        ).values_list("user_id", "pk", "sent_at")
    }


def _send_all(prepared, by_user, finished: list[int]) -> tuple[int, Exception | None]:
    """Send every message over one connection (a new one only after abandoning a message another attempt sent).

    Each email's server answer is read after the next email is built, so building overlaps the server's work.
    """
    sent = 0
    backend = None
    in_flight: _InFlight | None = None
    unsettled: _Stamp | None = None  # the last stamp whose COMMIT answer is still to be read
    carry: _Stamp | None = None  # an accepted email whose lines go into the next stamp's transaction
    pgconn = None

    def accepted(flight: _InFlight) -> None:
        nonlocal sent, unsettled, carry
        try:
            flight.read_reply()
        except smtplib.SMTPDataError as error:
            if error.smtp_code < 500:
                raise
            # Refused for good (its stamp is taken back): retrying the batch would only hold up the people after it.
            logger.warning("The mail server refused the digest for user %s: %s", flight.digest.user.pk, error)
            return
        sent += 1
        unsettled = flight.stamp
        if flight.stamp.carries:
            carry = flight.stamp
        else:
            flight.stamp.mark_lines()

    def settle() -> None:
        if unsettled is not None:
            unsettled.settle()

    def take_carry() -> _Stamp | None:
        nonlocal carry
        taken, carry = carry, None
        return taken

    try:
        pgconn = _raw_connection()
        for digest, message, payload in prepared:
            if backend is None:
                backend = mail.get_connection(fail_silently=False)
                _open(backend)
            if in_flight is not None:
                flight, in_flight = in_flight, None
                accepted(flight)
            try:
                in_flight = _start(
                    backend, digest, message, payload, before_stamp=settle, carry=take_carry(), pgconn=pgconn
                )
            except AlreadySent:
                _drop_connection(backend)
                _open(backend)
            except smtplib.SMTPRecipientsRefused as error:
                if not preferences.mailbox_refused(error):
                    raise
                # A bad address: retrying the batch would not help it. It bounced, so its owner's mail stops.
                preferences.record_bounce(digest.user.email, preferences.refusal_reason(error))
                logger.warning("The mail server refused the digest for user %s: %s", digest.user.pk, error.recipients)
        if in_flight is not None:
            flight, in_flight = in_flight, None
            accepted(flight)
        settle()
        if carry is not None:
            last = take_carry()
            last.mark_lines()
            last.settle()
    except Exception as error:
        # If the server hung up after a ".", that stamp stands (the email may have been accepted).
        return sent, error
    finally:
        for stamp in (unsettled, in_flight.stamp if in_flight is not None else None):
            if stamp is not None:
                with contextlib.suppress(Exception):
                    stamp.settle()
        if carry is not None:
            # Accepted, but the batch stopped before the next stamp could take its lines: stamp them now if we can.
            with contextlib.suppress(Exception):
                carry.mark_lines()
                carry.settle()
        if backend is not None:
            try:
                backend.close()
            except Exception:  # a connection already broken has nothing left to close
                _drop_connection(backend)
    return sent, None


def _check_period(period: str) -> None:
    if period not in Period.values:
        raise ValueError(f"Unknown digest period {period!r}")
