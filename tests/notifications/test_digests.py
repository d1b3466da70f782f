import itertools
import socket
from collections import Counter
from datetime import date, datetime, timedelta
from smtplib import SMTPDataError, SMTPRecipientsRefused, SMTPServerDisconnected
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Profile, User
from notifications import digest_tasks, digests, unsubscribe
from notifications.models import Category, DeliverySettings, DigestDelivery, Frequency, Notification, Preference
from tests.factories import (
    AskFactory,
    CommentFactory,
    DecisionFactory,
    EventFactory,
    GroupFactory,
    InitiativeFactory,
    MembershipFactory,
    PostFactory,
    UserFactory,
    VolunteerRoleFactory,
)

LONDON = ZoneInfo("Europe/London")
_keys = itertools.count()


def notify(recipient, *, line="Sam posted in Elm Street", url="", category=Category.POSTS, age=timedelta(days=1)):
    """A notification recorded `age` ago (before today's digest hour, wherever the clock is)."""
    notification = Notification.objects.create(
        recipient=recipient,
        event="post.created",
        category=category,
        dedupe_key=f"test:{next(_keys)}:{recipient.pk}",
        line=line,
        url=url,
    )
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - age)
    return notification


def today() -> date:
    return digests.period_start_for(timezone.now())


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def due(period, now) -> list[int]:
    return [pk for batch in digests.due_users(period, now) for pk in batch]


def waiting_since(user, moment, category=Category.POSTS):
    notification = notify(user, category=category)
    Notification.objects.filter(pk=notification.pk).update(created_at=moment)
    return notification


# --- Who is due -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_weekly_digest_is_due_at_eight_on_saturday_london_time_by_default_in_summer_and_winter():
    user = UserFactory()
    waiting_since(user, london(2026, 1, 1, 12))
    # 6 June 2026 is a Saturday in British Summer Time: 08:xx in London is 07:xx UTC.
    assert due("weekly", datetime(2026, 6, 6, 7, 5, tzinfo=ZoneInfo("UTC"))) == [user.pk]
    assert due("weekly", datetime(2026, 6, 6, 6, 5, tzinfo=ZoneInfo("UTC"))) == []
    # 3 January 2026 is a Saturday in winter, when London is on UTC.
    assert due("weekly", datetime(2026, 1, 3, 8, 5, tzinfo=ZoneInfo("UTC"))) == [user.pk]
    assert due("weekly", datetime(2026, 1, 3, 7, 5, tzinfo=ZoneInfo("UTC"))) == []
    # Not on other days.
    assert due("weekly", london(2026, 6, 5, 8, 5)) == []
    assert due("weekly", london(2026, 6, 7, 8, 5)) == []


@pytest.mark.django_db
def test_each_person_gets_their_own_hour_and_weekday():
    early, late = UserFactory(), UserFactory()
    DeliverySettings.objects.create(user=early, digest_hour=6, digest_weekday=DeliverySettings.Weekday.MONDAY)
    DeliverySettings.objects.create(user=late, digest_hour=19, digest_weekday=DeliverySettings.Weekday.SATURDAY)
    for user in (early, late):
        waiting_since(user, london(2026, 6, 1, 1))
    assert due("weekly", london(2026, 6, 8, 6, 0)) == [early.pk]  # Monday
    assert due("weekly", london(2026, 6, 6, 6, 0)) == []  # Saturday, too early for `late`
    assert due("weekly", london(2026, 6, 6, 19, 0)) == [late.pk]


@pytest.mark.django_db
def test_a_daily_digest_is_due_every_day_for_categories_set_to_daily():
    user = UserFactory()
    waiting_since(user, london(2026, 6, 1, 1), category=Category.DECISIONS)  # daily by default
    for day in range(2, 9):
        assert due("daily", london(2026, 6, day, 8, 0)) == [user.pk]
    assert due("weekly", london(2026, 6, 6, 8, 0)) == []


@pytest.mark.django_db
def test_a_missed_hourly_tick_is_caught_up_within_three_hours_the_same_day():
    user = UserFactory()
    waiting_since(user, london(2026, 6, 1, 1))
    assert due("weekly", london(2026, 6, 6, 10, 0)) == [user.pk]
    assert due("weekly", london(2026, 6, 6, 11, 0)) == []


@pytest.mark.django_db
def test_only_what_was_recorded_before_their_hour_and_still_waiting_makes_someone_due():
    after_hour, digested, immediate, chosen_weekly = (UserFactory() for _ in range(4))
    waiting_since(after_hour, london(2026, 6, 6, 8, 30))
    Notification.objects.filter(pk=waiting_since(digested, london(2026, 6, 5)).pk).update(digested_at=timezone.now())
    waiting_since(immediate, london(2026, 6, 5), category=Category.REPLIES)  # emailed straight away by default
    waiting_since(chosen_weekly, london(2026, 6, 5), category=Category.REPLIES)
    Preference.objects.create(user=chosen_weekly, category=Category.REPLIES, frequency=Frequency.WEEKLY)
    assert due("weekly", london(2026, 6, 6, 9, 0)) == [chosen_weekly.pk]


@pytest.mark.django_db
def test_people_who_paused_bounced_left_or_already_got_it_are_not_due():
    keen, paused, bounced, inactive, sent, claimed_only = (UserFactory() for _ in range(6))
    for user in (keen, paused, bounced, inactive, sent, claimed_only):
        waiting_since(user, london(2026, 6, 5))
    DeliverySettings.objects.create(user=paused, paused=True)
    DeliverySettings.objects.create(user=bounced, bounced_at=timezone.now())
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    DigestDelivery.objects.create(user=sent, period="weekly", period_start=date(2026, 6, 6), sent_at=timezone.now())
    # A claim an attempt left unsent does not count: the next tick finishes the job.
    DigestDelivery.objects.create(user=claimed_only, period="weekly", period_start=date(2026, 6, 6))
    assert due("weekly", london(2026, 6, 6, 8, 0)) == [keen.pk, claimed_only.pk]


@pytest.mark.django_db
def test_due_users_come_in_batches():
    users = [UserFactory() for _ in range(5)]
    for user in users:
        waiting_since(user, london(2026, 6, 5))
    batches = list(digests.due_users("weekly", london(2026, 6, 6, 8, 0), batch_size=2))
    assert batches == [[users[0].pk, users[1].pk], [users[2].pk, users[3].pk], [users[4].pk]]


@pytest.mark.django_db
def test_the_hourly_task_queues_one_send_per_batch_and_period(monkeypatch):
    weekly, daily = UserFactory(), UserFactory()
    waiting_since(weekly, london(2026, 6, 5))
    waiting_since(daily, london(2026, 6, 5), category=Category.DECISIONS)
    calls = []
    monkeypatch.setattr(digest_tasks.send_digests, "delay", lambda *args: calls.append(args))
    assert digest_tasks.queue_digests(now=london(2026, 6, 6, 8, 1).isoformat()) == 2
    assert sorted(calls, key=lambda call: call[1]) == [
        ([daily.pk], "daily", "2026-06-06"),
        ([weekly.pk], "weekly", "2026-06-06"),
    ]


def test_beat_queues_digests_every_hour():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["notifications.queue_digests"]
    assert entry["task"] == digest_tasks.queue_digests.name
    assert entry["schedule"].minute == {0}
    assert entry["schedule"].hour == set(range(24))


def test_the_send_task_retries_mail_server_failures_with_jittered_backoff():
    task = digest_tasks.send_digests
    assert OSError in task.autoretry_for
    assert any(issubclass(SMTPDataError, kind) for kind in task.autoretry_for)
    assert task.retry_backoff
    assert task.retry_jitter


def test_workers_reuse_their_database_connection():
    from config.celery import app

    assert app.conf.get("CELERY_DB_REUSE_MAX") >= 100


def test_workers_run_more_processes_than_cores_and_load_the_urls_before_forking():
    import os

    from celery.signals import worker_init
    from django.urls import clear_url_caches, get_resolver

    from config.celery import app, load_url_patterns

    assert app.conf.worker_concurrency == 2 * len(os.sched_getaffinity(0))
    assert any(receiver() is load_url_patterns for _key, receiver in worker_init.receivers)
    clear_url_caches()
    load_url_patterns()
    assert "url_patterns" in get_resolver().__dict__  # loaded, so forked processes share it


@pytest.mark.django_db
def test_notification_pages_leave_room_for_the_stamps_so_they_skip_the_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'notifications_notification'")
        assert cursor.fetchone() == (["fillfactor=85"],)


@pytest.mark.django_db
def test_postgresql_runs_without_its_jit_compiler():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


# --- What goes in a digest ------------------------------------------------------------------------------------


@pytest.fixture
def neighbourhood_scene():
    """A reader in two groups with a week of news, and things happening in one of them."""
    elm = GroupFactory(name="Elm Street")
    oak = GroupFactory(name="Oak Road", neighbourhood=elm.neighbourhood)
    reader = MembershipFactory(group=elm, joined_at=timezone.now() - timedelta(days=60)).user
    MembershipFactory(group=oak, user=reader, joined_at=timezone.now() - timedelta(days=60))
    MembershipFactory(group=elm)  # a new neighbour this week
    notify(reader, line="Ann posted in Oak Road: “Lost cat”", url=PostFactory(group=oak).get_absolute_url())
    notify(reader, line="Bo posted in Elm Street: “Skip on Friday”", url=PostFactory(group=elm).get_absolute_url())
    garden = InitiativeFactory(group=elm, title="Elm garden", status="active")
    notify(reader, line="Elm garden posted an update", url=garden.get_absolute_url(), category=Category.INITIATIVES)
    EventFactory(group=elm, title="Bulb planting", starts_at=timezone.now() + timedelta(days=3))
    EventFactory(group=elm, title="Far-off fair", starts_at=timezone.now() + timedelta(days=12))
    EventFactory(group=elm, title="Called-off party", cancelled_at=timezone.now())
    VolunteerRoleFactory(initiative=garden, title="Weeder", slots=3)
    VolunteerRoleFactory(initiative=garden, title="Full role", slots=1, filled=1)
    AskFactory(initiative=garden, title="Bags of compost")
    AskFactory(initiative=garden, title="Spades", target=2, pledged=2)
    DecisionFactory(initiative=garden, question="Fruit trees?", closes_at=timezone.now() + timedelta(days=2))
    DecisionFactory(initiative=garden, question="Next year?", closes_at=timezone.now() + timedelta(days=30))
    other = GroupFactory(name="Ash Close")
    EventFactory(group=other, title="Not my street's event", starts_at=timezone.now() + timedelta(days=2))
    return reader


@pytest.mark.django_db
def test_a_digest_groups_lines_by_group_with_what_is_coming_up(neighbourhood_scene, mailoutbox):
    reader = neighbourhood_scene
    assert digests.send_digests([reader.pk], "weekly", today()) == 1
    [message] = mailoutbox
    assert message.to == [reader.email]
    assert message.subject == "Your weekly round-up: 3 new things from your neighbours"
    body = message.body
    # Groups in name order, each with its sections in a fixed order.
    assert body.index("== Elm Street ==") < body.index("== Oak Road ==")
    elm = body[body.index("== Elm Street ==") : body.index("== Oak Road ==")]
    oak = body[body.index("== Oak Road ==") :]
    order = ["New neighbours", "Posts", "Upcoming events", "Initiatives that need help", "Decisions closing soon"]
    assert [elm.index(title) for title in order] == sorted(elm.index(title) for title in order)
    assert "1 neighbour joined the group" in elm
    assert "Skip on Friday" in elm
    assert "Lost cat" in oak
    assert "Elm garden posted an update" in elm
    assert "Bulb planting" in elm
    assert "Elm garden needs 3 more volunteers: Weeder" in elm
    assert "Elm garden still needs: Bags of compost" in elm
    assert "Fruit trees?" in elm
    for absent in ("Far-off fair", "Called-off party", "Full role", "Spades", "Next year?", "Not my street's event"):
        assert absent not in body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert html.count("<h1") == 1
    assert "Bulb planting" in html
    assert "Lost cat" in html
    claim = DigestDelivery.objects.get(user=reader)
    assert claim.sent_at is not None
    assert claim.notification_count == 3
    assert not Notification.objects.filter(recipient=reader, digested_at__isnull=True).exists()


@pytest.mark.django_db
def test_every_digest_carries_one_click_unsubscribe_headers_and_a_stable_message_id(mailoutbox):
    user = UserFactory()
    notify(user, category=Category.POSTS)
    notify(user, category=Category.POSTS)
    notify(user, category=Category.EVENTS)
    digests.send_digests([user.pk], "weekly", today())
    [message] = mailoutbox
    headers = message.extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http")
    assert "/unsubscribe/" in headers["List-Unsubscribe"]
    from notifications.unsubscribe import read_token

    token = headers["List-Unsubscribe"].rstrip("/>").rsplit("/", 1)[1]
    # The link stands for the whole email, not for one of the categories in it.
    assert read_token(token) == (user.pk, "digest:weekly")
    assert "Stop these weekly emails" in message.body
    assert headers["Message-ID"] == f"<digest.weekly.{today():%Y%m%d}.{user.pk}@127.0.0.1>"


@pytest.mark.django_db
def test_a_digest_is_written_in_its_readers_language(mailoutbox):
    user = UserFactory()
    Profile.objects.filter(user=user).update(language="cy")
    notify(user)
    digests.send_digests([user.pk], "weekly", today())
    [(html, _mimetype)] = mailoutbox[0].alternatives
    assert '<html lang="cy">' in html


@pytest.mark.django_db
def test_a_long_section_links_to_the_site_for_the_rest(mailoutbox):
    user = UserFactory()
    for n in range(digests.MAX_ITEMS + 3):
        notify(user, line=f"Post number {n}")
    digests.send_digests([user.pk], "weekly", today())
    body = mailoutbox[0].body
    assert f"Post number {digests.MAX_ITEMS - 1}" in body
    assert f"Post number {digests.MAX_ITEMS}" not in body
    assert "And 3 more on the site." in body


@pytest.mark.django_db
def test_an_empty_digest_is_not_sent_and_its_claim_is_released(mailoutbox):
    group = GroupFactory()
    user = MembershipFactory(group=group).user
    hidden = PostFactory(group=group, hidden_at=timezone.now())
    dropped = notify(user, url=hidden.get_absolute_url())
    assert digests.send_digests([user.pk], "weekly", today()) == 0
    assert mailoutbox == []
    assert not DigestDelivery.objects.exists()
    dropped.refresh_from_db()
    assert dropped.digested_at is not None  # done with: it will not make them due again
    # Someone with nothing waiting at all gets nothing either.
    assert digests.send_digests([UserFactory().pk], "weekly", today()) == 0
    assert mailoutbox == []


@pytest.mark.django_db
def test_paused_or_bounced_people_get_nothing_and_keep_their_lines(mailoutbox):
    paused, bounced = UserFactory(), UserFactory()
    DeliverySettings.objects.create(user=paused, paused=True)
    DeliverySettings.objects.create(user=bounced, bounced_at=timezone.now())
    kept = [notify(paused), notify(bounced)]
    assert digests.send_digests([paused.pk, bounced.pk], "weekly", today()) == 0
    assert mailoutbox == []
    assert not DigestDelivery.objects.exists()
    assert Notification.objects.filter(pk__in=[n.pk for n in kept], digested_at__isnull=True).count() == 2


@pytest.mark.django_db
def test_someone_deactivated_after_being_queued_gets_nothing_and_keeps_their_lines(mailoutbox):
    gone, still = UserFactory(), UserFactory()
    kept = notify(gone)
    notify(still)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    assert digests.send_digests([gone.pk, still.pk], "weekly", today()) == 1
    assert [m.to for m in mailoutbox] == [[still.email]]
    assert list(DigestDelivery.objects.values_list("user_id", flat=True)) == [still.pk]
    assert Notification.objects.get(pk=kept.pk).digested_at is None


@pytest.mark.django_db
def test_someone_without_a_profile_gets_the_site_language_and_is_greeted_by_their_address(mailoutbox):
    user = UserFactory(email="sam.jones@example.org")
    Profile.objects.filter(user=user).delete()
    notify(user, line="Sam posted in Elm Street")
    assert digests.send_digests([user.pk], "weekly", today()) == 1
    [message] = mailoutbox
    assert message.subject.startswith("Your weekly round-up")  # English, the site's language
    assert message.body.startswith("Hello sam.jones,")
    assert "Sam posted in Elm Street" in message.body


def _kept_and_dropped(reader, dropped_url, *, category=Category.POSTS):
    keep_group = GroupFactory(name="Kept Street")
    MembershipFactory(group=keep_group, user=reader)
    notify(reader, line="Still fine to see", url=PostFactory(group=keep_group).get_absolute_url())
    notify(reader, line="Should never arrive", url=dropped_url, category=category)


def _post_in_my_group(reader, **post):
    group = GroupFactory()
    MembershipFactory(group=group, user=reader)
    return PostFactory(group=group, **post)


def case_hidden_post(reader):
    return _post_in_my_group(reader, hidden_at=timezone.now()).get_absolute_url()


def case_deleted_post(reader):
    post = _post_in_my_group(reader)
    url = post.get_absolute_url()
    post.delete()
    return url


def case_hidden_comment(reader):
    comment = CommentFactory(post=_post_in_my_group(reader), hidden_at=timezone.now())
    return f"{comment.post.get_absolute_url()}#comment-{comment.pk}"


def case_group_turned_members_only(reader):
    # They support an initiative in a public group they never joined; then the group went members-only.
    group = GroupFactory(visibility="members")
    return InitiativeFactory(group=group).get_absolute_url()


def _membership_ended(status):
    def case(reader):
        group = GroupFactory()
        MembershipFactory(group=group, user=reader, status=status)
        return PostFactory(group=group).get_absolute_url()

    return case


def case_deleted_event(reader):
    group = GroupFactory()
    MembershipFactory(group=group, user=reader)
    event = EventFactory(group=group)
    url = event.get_absolute_url()
    event.delete()
    return url


def case_deleted_decision(reader):
    group = GroupFactory()
    MembershipFactory(group=group, user=reader)
    decision = DecisionFactory(initiative=InitiativeFactory(group=group))
    url = f"/initiatives/{decision.initiative.slug}/decisions/{decision.pk}/"
    decision.delete()
    return url


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case",
    [
        case_hidden_post,
        case_deleted_post,
        case_hidden_comment,
        case_group_turned_members_only,
        _membership_ended("left"),
        _membership_ended("removed"),
        _membership_ended("banned"),
        case_deleted_event,
        case_deleted_decision,
    ],
    ids=[
        "hidden post",
        "deleted post",
        "hidden comment",
        "members-only group, not a member",
        "left the group",
        "removed from the group",
        "banned from the group",
        "deleted event",
        "deleted decision",
    ],
)
def test_permission_is_checked_again_when_the_digest_is_built(case, mailoutbox):
    reader = UserFactory()
    _kept_and_dropped(reader, case(reader))
    assert digests.send_digests([reader.pk], "weekly", today()) == 1
    body = mailoutbox[0].body
    assert "Still fine to see" in body
    assert "Should never arrive" not in body
    assert DigestDelivery.objects.get(user=reader).notification_count == 1
    # The dropped line is done with too, so it never turns up in a later digest.
    assert not Notification.objects.filter(recipient=reader, digested_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_former_member_still_hears_about_their_membership_itself(mailoutbox):
    reader = UserFactory()
    group = GroupFactory(visibility="members")
    MembershipFactory(group=group, user=reader, status="removed")
    Preference.objects.create(user=reader, category=Category.MEMBERSHIP, frequency=Frequency.WEEKLY)
    notify(reader, line="You are no longer a member", url=group.get_absolute_url(), category=Category.MEMBERSHIP)
    assert digests.send_digests([reader.pk], "weekly", today()) == 1
    assert "You are no longer a member" in mailoutbox[0].body


@pytest.mark.django_db
def test_a_public_group_member_sees_public_posts_and_members_only_news_of_their_own_group(mailoutbox):
    reader = UserFactory()
    private = GroupFactory(visibility="members")
    MembershipFactory(group=private, user=reader)
    notify(reader, line="Private but mine", url=PostFactory(group=private).get_absolute_url())
    assert digests.send_digests([reader.pk], "weekly", today()) == 1
    assert "Private but mine" in mailoutbox[0].body


# --- Exactly once, one connection, fixed queries ---------------------------------------------------------------


@pytest.mark.django_db
def test_running_the_same_batch_twice_sends_nothing_twice(mailoutbox):
    users = [UserFactory() for _ in range(3)]
    for user in users:
        notify(user)
    assert digests.send_digests([u.pk for u in users], "weekly", today()) == 3
    assert digests.send_digests([u.pk for u in users], "weekly", today()) == 0
    digest_tasks.send_digests.apply(args=([u.pk for u in users], "weekly", today().isoformat())).get()
    assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in users)
    assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == 3


@pytest.mark.django_db
def test_a_claim_left_unsent_by_a_dead_attempt_is_sent_and_a_sent_one_is_not(mailoutbox):
    unsent, sent = UserFactory(), UserFactory()
    for user in (unsent, sent):
        notify(user)
    DigestDelivery.objects.create(user=unsent, period="weekly", period_start=today())
    DigestDelivery.objects.create(user=sent, period="weekly", period_start=today(), sent_at=timezone.now())
    assert digests.send_digests([unsent.pk, sent.pk], "weekly", today()) == 1
    assert [m.to for m in mailoutbox] == [[unsent.email]]
    assert Notification.objects.get(recipient=unsent).digested_at is not None
    # A dead attempt may have stamped `sent` in the instant before the server got the final ".": its lines are left
    # for the person's next digest rather than being lost.
    assert Notification.objects.get(recipient=sent).digested_at is None
    next_week = today() + timedelta(days=7)
    assert digests.send_digests([sent.pk], "weekly", next_week) == 1
    assert mailoutbox[-1].to == [sent.email]


class CountingBackend(LocmemBackend):
    opened = 0

    def open(self):
        CountingBackend.opened += 1
        return super().open()


@pytest.mark.django_db
def test_a_batch_goes_out_over_one_connection(settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.opened = 0
    users = [UserFactory() for _ in range(5)]
    for user in users:
        notify(user)
    assert digests.send_digests([u.pk for u in users], "weekly", today()) == 5
    assert CountingBackend.opened == 1
    assert len(mailoutbox) == 5


def seed_users(count: int, group, extra_group) -> list[int]:
    """`count` members of `group`, each with the same kinds of news waiting, written in a handful of statements."""
    start = User.objects.count()
    users = User.objects.bulk_create([User(email=f"bulk{start + n}@example.org", password="!") for n in range(count)])
    Profile.objects.bulk_create([Profile(user=u, display_name=f"Neighbour {u.pk}") for u in users])
    from neighbourhoods.models import Membership

    both = (group, extra_group)
    Membership.objects.bulk_create(
        [Membership(group=g, user=u, status="active", joined_at=timezone.now()) for u in users for g in both]
    )
    posts = [PostFactory(group=group), PostFactory(group=extra_group)]
    news = [(Category.POSTS, posts[0]), (Category.EVENTS, posts[1])]
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=u,
                actor=post.author,
                event="post.created",
                category=c,
                dedupe_key=f"bulk:{u.pk}:{i}",
                url=post.get_absolute_url(),
            )
            for u in users
            for i, (c, post) in enumerate(news)
        ]
    )
    Notification.objects.filter(recipient__in=users).update(created_at=timezone.now() - timedelta(days=1))
    return [u.pk for u in users]


@pytest.mark.django_db
def test_a_batch_is_built_with_the_same_queries_whatever_its_size(mailoutbox):
    group, extra = GroupFactory(), GroupFactory()
    EventFactory(group=group, starts_at=timezone.now() + timedelta(days=2))
    VolunteerRoleFactory(initiative=InitiativeFactory(group=group, status="active"))
    DecisionFactory(initiative=InitiativeFactory(group=extra), closes_at=timezone.now() + timedelta(days=1))
    small, large = seed_users(10, group, extra), seed_users(200, group, extra)

    blocks_read = []

    def run(ids):
        with CaptureQueriesContext(connection) as queries:
            assert digests.send_digests(ids, "weekly", today()) == len(ids)
        per_email = [
            q
            for q in queries
            if q["sql"].startswith(digests.STAMP_SQL.split(" SET ")[0])
            or q["sql"].startswith('UPDATE "notifications_notification" SET "digested_at"')
        ]
        blocks_read.append(sum('"moderation_block"' in q["sql"] for q in queries))
        return len(queries) - len(per_email), len(per_email)

    small_build, small_ledger = run(small)
    large_build, large_ledger = run(large)
    assert small_build == large_build  # reads and bulk writes: fixed per batch
    assert small_build <= 20
    assert blocks_read == [1, 1]  # who is kept apart from whom: one query for the whole batch
    # Per email, only the stamp that makes it go out once (and the lines it stamps digested in the same commit).
    assert (small_ledger, large_ledger) == (2 * 10, 2 * 200)
    assert len(mailoutbox) == 210


# --- A real SMTP server ---------------------------------------------------------------------------------------


class Sink:
    """A local SMTP server that records what it accepts."""

    def __init__(self):
        self.accepted: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.accepted.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def refuse_once(sink: "Sink", *, the: int):
    """Make the sink answer "try again later" to the `the`-th message only. Returns its own handler."""
    original = sink.handle_DATA
    count = {"n": 0}

    async def refusing(server, session, envelope):
        count["n"] += 1
        if count["n"] == the:
            return "451 Try again later"
        return await original(server, session, envelope)

    sink.handle_DATA = refusing
    return original


@pytest.fixture
def smtp_sink(settings):
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    controller.stop()


@pytest.mark.django_db
def test_over_smtp_each_digest_is_accepted_once_and_a_refusal_is_retried_later(smtp_sink):
    users = [UserFactory() for _ in range(3)]
    for user in users:
        notify(user)
    ids = [u.pk for u in users]
    first = users[0]
    refuse_once(smtp_sink, the=2)
    with pytest.raises(SMTPDataError):
        digests.send_digests(ids, "weekly", today())
    assert [to for to, _ in smtp_sink.accepted] == [[first.email]]
    claims = dict(DigestDelivery.objects.values_list("user_id", "sent_at"))
    assert claims[first.pk] is not None
    assert claims[users[1].pk] is None  # its stamp was taken back when the server said no
    # The retry sends the rest, and nothing twice.
    assert digests.send_digests(ids, "weekly", today()) == 2
    assert sorted(to[0] for to, _ in smtp_sink.accepted) == sorted(u.email for u in users)
    content = smtp_sink.accepted[0][1]
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in content
    assert b"Content-Type: multipart/alternative" in content


@pytest.mark.django_db(transaction=True)
def test_an_email_refused_for_good_does_not_hold_up_the_rest_of_the_batch(smtp_sink):
    users, news = _people_with_news(4)
    original = smtp_sink.handle_DATA

    async def rejecting_the_second(server, session, envelope):
        if envelope.rcpt_tos == [users[1].email]:
            return "554 5.7.1 Message rejected"
        return await original(server, session, envelope)

    smtp_sink.handle_DATA = rejecting_the_second
    assert digests.send_digests([u.pk for u in users], "weekly", today()) == 3  # no error for the task to retry
    assert sorted(to[0] for to, _ in smtp_sink.accepted) == sorted(u.email for u in users if u != users[1])
    assert DigestDelivery.objects.get(user=users[1]).sent_at is None
    assert not _digested(news[users[1].pk])  # their news waits for a digest that can be delivered
    assert _digested([pk for user in users if user != users[1] for pk in news[user.pk]])


def refuse_address(sink: "Sink", address: str, reply: str) -> None:
    async def handle_rcpt(server, session, envelope, rcpt, options):
        if rcpt == address:
            return reply
        envelope.rcpt_tos.append(rcpt)
        return "250 OK"

    sink.handle_RCPT = handle_rcpt  # read when the next connection opens


@pytest.mark.django_db(transaction=True)
def test_a_digest_to_a_bad_mailbox_is_a_bounce_and_the_rest_of_the_batch_goes(smtp_sink):
    users, news = _people_with_news(3)
    refuse_address(smtp_sink, users[0].email, "550 5.1.1 No such user")
    assert digests.send_digests([u.pk for u in users], "weekly", today()) == 2
    assert sorted(to[0] for to, _ in smtp_sink.accepted) == sorted(u.email for u in users[1:])
    bounce = DeliverySettings.objects.get(user=users[0])
    assert (bounce.bounced_at is not None, bounce.bounce_reason) == (True, "550 5.1.1 No such user")
    assert not _digested(news[users[0].pk])  # still on the site; no email goes to a bounced address


@pytest.mark.django_db(transaction=True)
def test_a_refusal_about_the_server_fails_the_batch_for_a_retry_and_stops_no_ones_mail(smtp_sink):
    users, _news = _people_with_news(2)
    refuse_address(smtp_sink, users[1].email, "550 5.7.1 Relaying denied")
    with pytest.raises(SMTPRecipientsRefused):
        digests.send_digests([u.pk for u in users], "weekly", today())
    assert [to for to, _ in smtp_sink.accepted] == [[users[0].email]]
    assert not DeliverySettings.objects.filter(bounced_at__isnull=False).exists()
    assert DigestDelivery.objects.get(user=users[1]).sent_at is None  # the retry sends it


@pytest.mark.django_db
def test_a_server_that_stops_answering_fails_the_batch_after_email_timeout(smtp_sink, settings):
    import asyncio
    import time as clock

    settings.EMAIL_TIMEOUT = 1
    user = UserFactory()
    notify(user)

    async def silent(server, session, envelope):
        await asyncio.sleep(4)
        return "250 OK"

    smtp_sink.handle_DATA = silent
    started = clock.monotonic()
    with pytest.raises(SMTPServerDisconnected):
        digests.send_digests([user.pk], "weekly", today())
    assert clock.monotonic() - started < 3.5


@pytest.mark.django_db
def test_a_digest_another_attempt_stamped_mid_send_is_abandoned_before_the_server_accepts_it(smtp_sink, monkeypatch):
    users = [UserFactory() for _ in range(3)]
    for user in users:
        notify(user)
    racer = DigestDelivery.objects.create(user=users[1], period="weekly", period_start=today())
    real_commit_then = digests._Stamp.commit_then

    def racing_commit_then(self, finish):
        # Another worker stamps the second digest while this one is sending its body.
        if self.claim_pk == racer.pk:
            DigestDelivery.objects.filter(pk=racer.pk).update(sent_at=timezone.now())
        return real_commit_then(self, finish)

    monkeypatch.setattr(digests._Stamp, "commit_then", racing_commit_then)
    assert digests.send_digests([u.pk for u in users], "weekly", today()) == 2
    assert sorted(to[0] for to, _ in smtp_sink.accepted) == sorted([users[0].email, users[2].email])


@pytest.mark.django_db
def test_the_wire_format_carries_the_same_headers_and_parts_as_the_email(mailoutbox):
    from email import message_from_bytes, policy

    user = UserFactory()
    notify(user, line="Siân posted: “Diolch” — café on Ŵyn Street = fun\n.leading dot")
    digests.send_digests([user.pk], "weekly", today())
    [message] = mailoutbox
    html = message.alternatives[0][0]
    # A subject that needs encoding.
    rendered = digests.Rendered("Crynodeb wythnosol: ŵy", message.body, html, "digest:weekly", Counter())
    raw = digests.WireShape(rendered).fill(user.email, "", "", message.extra_headers)
    assert b"\r\n..leading dot" in raw  # dot-stuffed for SMTP; the server takes the extra dot off
    parsed = message_from_bytes(raw.replace(b"\r\n..", b"\r\n."), policy=policy.default)
    assert parsed["Subject"] == "Crynodeb wythnosol: ŵy"
    assert parsed["To"] == user.email
    assert parsed["Message-ID"] == message.extra_headers["Message-ID"]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["List-Unsubscribe"] == message.extra_headers["List-Unsubscribe"]
    text, html = (part.get_content() for part in parsed.iter_parts())
    assert text.replace("\r\n", "\n") == message.body
    assert html.replace("\r\n", "\n") == message.alternatives[0][0]
    assert "Siân posted: “Diolch” — café on Ŵyn Street = fun" in text


@pytest.mark.django_db
def test_the_bytes_sent_over_smtp_are_the_email_django_would_send(smtp_sink, settings, monkeypatch):
    from email import message_from_bytes, policy

    # Both sends sign their unsubscribe links in the same second, so the links (which carry it) are the same.
    monkeypatch.setattr(unsubscribe, "time", SimpleNamespace(time=lambda: 1_796_000_000.0))
    user = UserFactory(profile__display_name="Siân <Ŵyn> & co")
    notify(user, line="Siân posted: “Diolch” — café on Ŵyn Street = fun\n.leading dot")
    assert digests.send_digests([user.pk], "weekly", today()) == 1
    [(_to, content)] = smtp_sink.accepted
    # The same digest built as an EmailMessage, as any other mail backend gets it.
    DigestDelivery.objects.all().delete()
    Notification.objects.update(digested_at=None)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail

    assert digests.send_digests([user.pk], "weekly", today()) == 1
    [message] = mail.outbox
    parsed = message_from_bytes(content, policy=policy.default)
    for header in ("Subject", "To", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
        expected = message.extra_headers.get(header) or {"Subject": message.subject, "To": user.email}[header]
        assert parsed[header] == expected
    text, html = (part.get_content() for part in parsed.iter_parts())
    assert text.replace("\r\n", "\n") == message.body
    assert html.replace("\r\n", "\n") == message.alternatives[0][0]
    assert "Hello Siân <Ŵyn> & co," in text
    assert "Hello Siân &lt;Ŵyn&gt; &amp; co," in html
    # Quoted-printable lines of at most 76 characters, every line ended by CRLF (no bare LF, which SMTP forbids).
    body = content.split(b"\r\n\r\n", 1)[1]
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert [line for line in body.split(b"\r\n") if len(line) > 76] == []


def test_a_line_break_typed_into_a_name_cannot_put_a_bare_cr_or_lf_on_the_wire(settings):
    from collections import Counter as Categories

    rendered = digests.Rendered(
        "Crynodeb wythnosol: " + "ŵ" * 60,  # long enough to fold
        f"Hello {digests.NAME},\nStop: {digests.UNSUBSCRIBE}\n",
        f"<p>Hello {digests.NAME},</p>",
        "digest:weekly",
        Categories(),
    )
    raw = digests.WireShape(rendered).fill("a@example.org", "Ann\r\nBcc: x@example.org\rZ", "https://x/u/t/", {})
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r\nBcc:" not in raw.split(b"\r\n\r\n", 1)[0]  # the name never reaches the headers


# --- Outside a transaction, as in a worker: the stamps on the raw connection ------------------------------------


def _statements(monkeypatch) -> list[str]:
    """Record what goes to PostgreSQL on the raw connection."""
    sent: list[str] = []
    real_send = digests._send

    def recording_send(pgconn, query: bytes) -> None:
        sent.append(query.decode())
        real_send(pgconn, query)

    monkeypatch.setattr(digests, "_send", recording_send)
    return sent


def _people_with_news(count: int, lines: int = 2) -> tuple[list[User], dict[int, list[int]]]:
    users = [UserFactory() for _ in range(count)]
    news = {user.pk: [notify(user, line=f"News {n} for {user.pk}").pk for n in range(lines)] for user in users}
    return users, news


def _digested(ids: list[int]) -> bool:
    return Notification.objects.filter(pk__in=ids, digested_at__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_each_stamp_carries_the_lines_of_the_email_the_server_accepted_before_it(smtp_sink, monkeypatch):
    users, news = _people_with_news(3)
    digests._prepared.clear()
    sent = _statements(monkeypatch)
    assert digests.send_digests([u.pk for u in users], "weekly", today()) == 3
    assert len(smtp_sink.accepted) == 3
    stamps = [q for q in sent if "EXECUTE digest_stamp" in q]
    assert len(stamps) == 3
    assert all(q.startswith("BEGIN; ") for q in stamps)
    # The first stamp carries nothing; each later one the lines of the email before it, in the same transaction.
    assert "digest_lines" not in stamps[0]
    for stamp, before in zip(stamps[1:], users, strict=False):
        assert "EXECUTE digest_lines" in stamp
        assert "{" + ",".join(map(str, news[before.pk])) + "}" in stamp
    # The last email's lines go on their own once the server has accepted it.
    assert sent[-1].startswith("EXECUTE digest_lines")
    assert str(news[users[2].pk][0]) in sent[-1]
    assert _digested([pk for ids in news.values() for pk in ids])
    assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == 3
    assert DigestDelivery.objects.get(user=users[0]).notification_count == 2
    # One COMMIT per email: the stamp and the lines before it are one transaction.
    assert sum(q == "COMMIT" for q in sent) == 3


@pytest.mark.django_db(transaction=True)
def test_a_digest_another_attempt_stamped_first_still_lets_the_carried_lines_be_stamped(smtp_sink, monkeypatch):
    import psycopg

    users, news = _people_with_news(3)
    racer = DigestDelivery.objects.create(user=users[1], period="weekly", period_start=today())
    real_begin = digests._Stamp.begin

    def racing_begin(self):
        if self.claim_pk == racer.pk:
            # Another worker stamps the second digest first, on its own connection.
            with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
                other.execute(digests.STAMP_SQL, [timezone.now(), 1, racer.pk])
        return real_begin(self)

    monkeypatch.setattr(digests._Stamp, "begin", racing_begin)
    assert digests.send_digests([u.pk for u in users], "weekly", today()) == 2
    assert sorted(to[0] for to, _ in smtp_sink.accepted) == sorted([users[0].email, users[2].email])
    # The first email's lines rode with the second stamp, which was rolled back: they were stamped on their own.
    assert _digested(news[users[0].pk])
    assert not _digested(news[users[1].pk])  # the other attempt's to deal with
    assert _digested(news[users[2].pk])


@pytest.mark.django_db(transaction=True)
def test_a_refused_email_keeps_its_lines_and_the_accepted_one_before_it_is_stamped(smtp_sink, monkeypatch):
    users, news = _people_with_news(3)
    original = refuse_once(smtp_sink, the=2)
    with pytest.raises(SMTPDataError):
        digests.send_digests([u.pk for u in users], "weekly", today())
    assert _digested(news[users[0].pk])
    assert not _digested(news[users[1].pk])
    assert DigestDelivery.objects.get(user=users[1]).sent_at is None
    smtp_sink.handle_DATA = original
    assert digests.send_digests([u.pk for u in users], "weekly", today()) == 2
    assert _digested([pk for ids in news.values() for pk in ids])
    assert Counter(to[0] for to, _ in smtp_sink.accepted) == Counter(u.email for u in users)


@pytest.mark.django_db(transaction=True)
def test_the_stamps_are_prepared_again_on_a_new_database_connection(smtp_sink):
    users, news = _people_with_news(3)
    assert digests.send_digests([users[0].pk], "weekly", today()) == 1
    connection.close()  # as CONN_MAX_AGE or a restarted database does
    assert digests.send_digests([users[1].pk], "weekly", today()) == 1
    # A session that already has them (this process lost track of it) is not asked to prepare them twice.
    digests._prepared.clear()
    assert digests.send_digests([users[2].pk], "weekly", today()) == 1
    assert _digested([pk for ids in news.values() for pk in ids])


@pytest.mark.django_db(transaction=True)
def test_a_database_error_mid_batch_rolls_back_hangs_up_and_the_retry_finishes(smtp_sink, settings):
    """A stamp that fails (here: the claim is locked by a stuck session past `lock_timeout`) rolls its transaction
    back, stamps the accepted email's lines on their own, hangs up on the server mid-message instead of sending
    QUIT into it, and leaves the connection usable; the task's retry sends the rest."""
    import psycopg

    settings.EMAIL_TIMEOUT = 5
    users, news = _people_with_news(3)
    stuck = DigestDelivery.objects.create(user=users[1], period="weekly", period_start=today())
    other = psycopg.connect(**connection.get_connection_params())
    other.execute("SELECT 1 FROM notifications_digestdelivery WHERE id = %s FOR UPDATE", [stuck.pk])
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
    try:
        with pytest.raises(DatabaseError, match="lock timeout"):
            digests.send_digests([u.pk for u in users], "weekly", today())
    finally:
        other.rollback()
        other.close()
    assert [to for to, _ in smtp_sink.accepted] == [[users[0].email]]
    assert _digested(news[users[0].pk])  # carried by the failed stamp, then stamped on their own
    assert not _digested(news[users[1].pk])
    assert DigestDelivery.objects.get(user=users[1]).sent_at is None
    # The connection is usable, and the prepared statements still there.
    assert digests.send_digests([u.pk for u in users], "weekly", today()) == 2
    assert Counter(to[0] for to, _ in smtp_sink.accepted) == Counter(u.email for u in users)
    assert _digested([pk for ids in news.values() for pk in ids])


@pytest.mark.django_db
def test_a_line_already_emailed_on_its_own_is_not_in_a_later_digest(mailoutbox):
    """Someone who moves a category from "straight away" to a digest does not read the same line twice."""
    user = UserFactory()
    emailed = notify(user, line="Already in your inbox")
    Notification.objects.filter(pk=emailed.pk).update(delivered_at=timezone.now())
    notify(user, line="New since then")
    digests.send_digests([user.pk], "weekly", today())
    [message] = mailoutbox
    assert "New since then" in message.body
    assert "Already in your inbox" not in message.body
    assert Notification.objects.get(pk=emailed.pk).digested_at is None


@pytest.mark.django_db(transaction=True)
def test_someone_who_deleted_their_account_after_being_queued_is_skipped_and_the_rest_are_sent(smtp_sink):
    users, news = _people_with_news(3)
    queued = [u.pk for u in users]
    gone = users[1]
    gone.delete()
    assert digests.send_digests(queued, "weekly", today()) == 2
    assert sorted(to[0] for to, _ in smtp_sink.accepted) == sorted([users[0].email, users[2].email])
    assert not DigestDelivery.objects.filter(user_id=gone.pk).exists()
    assert _digested(news[users[0].pk] + news[users[2].pk])


@pytest.mark.parametrize(
    "address",
    [
        "ann@example.org",
        "Ann Jones <ann@example.org>",
        '"ann,jones"@example.org',
        "siân@example.org",
        "ann@exämple.org",
        "ann(comment)@example.org",
    ],
)
def test_addresses_are_written_as_django_would_write_them(address):
    import smtplib

    from django.core.mail.message import sanitize_address

    expected = sanitize_address(address, "utf-8")
    assert digests._address(address, "utf-8") == expected
    assert digests._envelope(expected) == smtplib.quoteaddr(expected)


def test_an_address_with_a_line_break_is_refused_as_django_refuses_it():
    with pytest.raises(ValueError, match="Invalid address"):
        digests._address("ann@example.org\r\nBcc: eve@example.org", "utf-8")


def test_a_block_reads_exactly_as_designed_in_text_and_html():
    """The whitespace between a block's heading, sections, items and "more" line, pinned."""
    renderer = digests.Renderer("weekly", today())
    block = digests.Block("Elm & Oak Street", "https://x.example/groups/elm/", (0, "elm", 1))
    for n in range(digests.MAX_ITEMS + 2):
        block.add(digests.POSTS, digests.Item(f"Post {n}", f"https://x.example/p/{n}/"))
    block.add(digests.EVENTS, digests.Item("Picnic & <games>", "https://x.example/e/1/"))
    block.sections[digests.POSTS].title, block.sections[digests.EVENTS].title = "Posts", "Events"
    with translation.override("en-gb"):
        text, html = renderer._block(block)
    posts = "".join(f"- Post {n}\n  https://x.example/p/{n}/\n" for n in range(digests.MAX_ITEMS))
    assert text == (
        f"\n== Elm & Oak Street ==\n\nPosts\n{posts}And 2 more on the site.\n"
        "\nEvents\n- Picnic & <games>\n  https://x.example/e/1/\n\n"
    )
    h3 = '<h3 style="margin: 12px 0 4px; font-size: 16px;">'
    ul = '<ul style="margin: 0; padding-left: 20px;">\n'
    item = '<li><a href="{}" style="color: #1b1b1b;">{}</a></li>\n'
    posts = "".join(item.format(f"https://x.example/p/{n}/", f"Post {n}") for n in range(digests.MAX_ITEMS))
    assert html == (
        '<h2 style="margin: 24px 0 8px; font-size: 18px;"><a href="https://x.example/groups/elm/" '
        'style="color: #1d5f3a;">Elm &amp; Oak Street</a></h2>\n'
        f"{h3}Posts</h3>\n{ul}{posts}</ul>\n"
        '<p style="margin: 4px 0 0; font-size: 14px;">And 2 more on the site.</p>\n'
        f"{h3}Events</h3>\n{ul}{item.format('https://x.example/e/1/', 'Picnic &amp; &lt;games&gt;')}</ul>\n\n"
    )


@pytest.mark.django_db
def test_news_of_an_event_that_has_already_started_is_left_out_as_past(mailoutbox):
    reader = UserFactory()
    Preference.objects.create(user=reader, category=Category.MY_EVENTS, frequency=Frequency.WEEKLY)
    group = MembershipFactory(user=reader).group
    soon = EventFactory(group=group, title="Bulb planting", starts_at=timezone.now() + timedelta(hours=20))
    gone = EventFactory(group=group, title="Street party", starts_at=timezone.now() - timedelta(hours=2))
    for event in (soon, gone):
        notify(reader, line=f"Reminder: {event.title}", url=event.get_absolute_url(), category=Category.MY_EVENTS)
    assert digests.send_digests([reader.pk], "weekly", today()) == 1
    [message] = mailoutbox
    assert "Reminder: Bulb planting" in message.body
    assert "Reminder: Street party" not in message.body
    assert not Notification.objects.filter(digested_at__isnull=True).exists()  # the past line is dealt with too
