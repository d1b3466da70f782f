import itertools
import re
import socket
from datetime import timedelta
from smtplib import SMTPDataError, SMTPException, SMTPRecipientsRefused, SMTPSenderRefused

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from notifications import delivery, delivery_tasks
from notifications.models import Category, DeliverySettings, Frequency, Notification, Preference
from notifications.unsubscribe import read_token, unsubscribe_url
from tests.factories import UserFactory

_keys = itertools.count()


def make_notification(recipient, *, category=Category.REPLIES, line="Sam commented on your post", url="/p/1/", **kw):
    return Notification.objects.create(
        recipient=recipient,
        event=kw.pop("event", "comment.created"),
        category=category,
        dedupe_key=f"test:{next(_keys)}:{recipient.pk}",
        line=line,
        url=url,
        **kw,
    )


def speaking(language: str):
    user = UserFactory()
    user.profile.language = language
    user.profile.save()
    return user


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


@pytest.fixture
def queued(monkeypatch):
    """The id lists handed to the delivery task, in order, instead of going to the broker."""
    calls: list[list[int]] = []
    monkeypatch.setattr(delivery_tasks.deliver_notifications, "delay", lambda ids: calls.append(list(ids)))
    return calls


# --- The email ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_immediate_notification_is_emailed_with_text_and_html_parts_and_the_link(mailoutbox):
    person = UserFactory(profile__display_name="Ruth")
    notification = make_notification(person, line="Sam commented on your post “Litter pick?”", url="/posts/42/")

    assert delivery.deliver_notifications([notification.pk]) == 1

    [message] = mailoutbox
    assert message.to == [person.email]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "Sam commented on your post “Litter pick?”"
    link = f"{settings.SITE_URL}/posts/42/"
    settings_url = f"{settings.SITE_URL}{reverse('notifications:preferences')}"
    # Signed links carry the second they were made, so compare what they stand for, not their text.
    unsubscribe = unsubscribe_url(person, Category.REPLIES).rsplit("/", 2)[0] + "/"
    for body in (message.body, html_of(message)):
        tokens = re.findall(re.escape(unsubscribe) + r"([^/\s\"<>]+)/", body)
        assert [read_token(token) for token in tokens] == [(person.pk, Category.REPLIES)]
        assert "Hello Ruth," in body
        assert "Sam commented on your post “Litter pick?”" in body
        assert link in body
        assert "Manage your notification settings" in body
        assert settings_url in body
    html = html_of(message)
    assert f'<a href="{link}"' in html
    assert f'<a href="{settings_url}"' in html
    assert f'<a href="{unsubscribe}' in html
    assert html.count("<h1") == 1
    assert "<" not in message.body
    notification.refresh_from_db()
    assert notification.delivered_at is not None


@pytest.mark.django_db
def test_the_line_is_escaped_in_html_and_left_as_written_in_text(mailoutbox):
    person = UserFactory()
    notification = make_notification(person, line='Jo & Al said "<b>hi</b>"')

    delivery.deliver_notifications([notification.pk])

    [message] = mailoutbox
    assert message.subject == 'Jo & Al said "<b>hi</b>"'
    assert 'Jo & Al said "<b>hi</b>"' in message.body
    assert "Jo &amp; Al said &quot;&lt;b&gt;hi&lt;/b&gt;&quot;" in html_of(message)
    assert "<b>hi</b>" not in html_of(message)


@pytest.mark.django_db
def test_a_notification_without_a_link_points_to_the_notifications_page(mailoutbox):
    notification = make_notification(UserFactory(), url="")

    delivery.deliver_notifications([notification.pk])

    assert f"{settings.SITE_URL}{reverse('notifications:list')}" in mailoutbox[0].body


@pytest.mark.django_db
def test_each_email_is_in_its_recipients_language(mailoutbox):
    welsh, english = speaking("cy"), speaking("en-gb")
    for person in (welsh, english):
        Preference.objects.create(user=person, category=Category.EVENTS, frequency=Frequency.IMMEDIATE)
    rows = [make_notification(person, category=Category.EVENTS) for person in (welsh, english)]

    assert delivery.deliver_notifications([row.pk for row in rows]) == 2

    by_recipient = {message.to[0]: message for message in mailoutbox}
    cymraeg, saesneg = by_recipient[welsh.email], by_recipient[english.email]
    assert '<html lang="cy">' in html_of(cymraeg)
    assert "Digwyddiadau newydd yn fy ngrwpiau" in cymraeg.body
    assert "Digwyddiadau" in html_of(cymraeg)
    assert '<html lang="en-gb">' in html_of(saesneg)
    assert "New events in my groups" in saesneg.body
    assert "Digwyddiadau" not in saesneg.body


@pytest.mark.django_db
@pytest.mark.parametrize("category", Category.values)
def test_every_notification_email_carries_one_click_unsubscribe_headers(category, mailoutbox):
    person = UserFactory()
    Preference.objects.create(user=person, category=category, frequency=Frequency.IMMEDIATE)
    notification = make_notification(person, category=category)

    delivery.deliver_notifications([notification.pk])

    [message] = mailoutbox
    headers = message.message()
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = headers["List-Unsubscribe"]
    assert link.startswith(f"<{settings.SITE_URL}/")
    assert read_token(link.strip("<>").rstrip("/").rsplit("/", 1)[-1]) == (person.pk, category)


# --- Who gets one ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_people_who_paused_or_bounced_or_were_deactivated_get_no_email_and_their_rows_are_closed(mailoutbox):
    paused, bounced, keen, deactivated = UserFactory(), UserFactory(), UserFactory(), UserFactory(is_active=False)
    DeliverySettings.objects.create(user=paused, paused=True)
    DeliverySettings.objects.create(user=bounced, bounced_at=timezone.now(), bounce_reason="550 no such user")
    DeliverySettings.objects.create(user=keen, paused=False, digest_hour=7)
    rows = {person: make_notification(person) for person in (paused, bounced, keen, deactivated)}

    assert delivery.deliver_notifications([row.pk for row in rows.values()]) == 1

    assert [message.to for message in mailoutbox] == [[keen.email]]
    # Closed, so neither the sweep nor unpausing later sends them one by one; they stay on the site.
    assert Notification.objects.filter(delivered_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_rows_the_person_now_wants_in_a_digest_or_on_the_site_are_left_for_those(mailoutbox):
    weekly, site_only, by_default = UserFactory(), UserFactory(), UserFactory()
    Preference.objects.create(user=weekly, category=Category.REPLIES, frequency=Frequency.WEEKLY)
    Preference.objects.create(user=site_only, category=Category.REPLIES, frequency=Frequency.IN_APP)
    rows = [
        make_notification(weekly),
        make_notification(site_only),
        make_notification(by_default, category=Category.POSTS),  # posts default to the weekly email
    ]

    assert delivery.deliver_notifications([row.pk for row in rows]) == 0

    assert mailoutbox == []
    assert Notification.objects.filter(delivered_at__isnull=True).count() == 3


@pytest.mark.django_db
def test_a_row_already_in_a_digest_is_not_emailed_again(mailoutbox):
    person = UserFactory()
    notification = make_notification(person, digested_at=timezone.now())

    assert delivery.deliver_notifications([notification.pk]) == 0
    assert mailoutbox == []


@pytest.mark.django_db
def test_delivering_the_same_notifications_twice_sends_each_once(mailoutbox):
    people = UserFactory.create_batch(3)
    ids = [make_notification(person).pk for person in people]

    assert delivery.deliver_notifications(ids) == 3
    stamps = dict(Notification.objects.values_list("pk", "delivered_at"))
    assert delivery.deliver_notifications(ids) == 0
    assert delivery.deliver_notifications([*ids, *ids]) == 0

    assert sorted(message.to[0] for message in mailoutbox) == sorted(person.email for person in people)
    assert dict(Notification.objects.values_list("pk", "delivered_at")) == stamps


@pytest.mark.django_db
def test_unknown_or_empty_ids_send_nothing(mailoutbox):
    assert delivery.deliver_notifications([]) == 0
    assert delivery.deliver_notifications([987654321]) == 0
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_batch_runs_the_same_queries_however_many_emails_it_sends(django_assert_num_queries, mailoutbox):
    def batch(size):
        people = UserFactory.create_batch(size)
        rows = [make_notification(p) for p in people] + [make_notification(p, category=Category.EVENTS) for p in people]
        return [row.pk for row in rows]

    small, large = batch(2), batch(12)
    # Savepoint, lock and load, one preference query per category, the recipients' memberships (who may still see
    # what each links to), one stamp, release.
    with django_assert_num_queries(7):
        assert delivery.deliver_notifications(small) == 2
    with django_assert_num_queries(7):
        assert delivery.deliver_notifications(large) == 12


@pytest.mark.django_db
def test_an_email_about_something_the_reader_may_no_longer_see_is_never_sent(mailoutbox):
    from tests.factories import CommentFactory, GroupFactory, MembershipFactory, PostFactory

    group = GroupFactory(visibility="members")
    stays, leaves = UserFactory(), UserFactory()
    for person in (stays, leaves):
        MembershipFactory(group=group, user=person)
    post, hidden = PostFactory(group=group), PostFactory(group=group)
    comment = CommentFactory(post=post)
    about_post = {
        p: make_notification(p, url=f"{post.get_absolute_url()}#comment-{comment.pk}") for p in (stays, leaves)
    }
    about_hidden = make_notification(stays, url=hidden.get_absolute_url())
    # Since they were recorded: one of them left the group, and an organiser hid the other post.
    leaves.memberships.filter(group=group).update(status="left")
    type(hidden).objects.filter(pk=hidden.pk).update(hidden_at=timezone.now())
    ids = [about_post[stays].pk, about_post[leaves].pk, about_hidden.pk]

    assert delivery.deliver_notifications(ids) == 1
    assert [m.to for m in mailoutbox] == [[stays.email]]
    # Dealt with, never to be retried: they stay on the site, where permissions are checked again.
    assert Notification.objects.filter(pk__in=ids, delivered_at__isnull=True).count() == 0


# --- When the mail server fails -------------------------------------------------------------------------------


class SecondMessageRefused(LocmemBackend):
    """Accepts one message, then answers 451 like a busy server."""

    def send_messages(self, messages):
        if mail.outbox:
            raise SMTPDataError(451, b"4.3.0 Try again later")
        return super().send_messages(messages)


@pytest.mark.django_db
def test_a_failure_part_way_keeps_the_stamps_of_emails_already_accepted_and_raises_for_a_retry(settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.SecondMessageRefused"
    first, second = make_notification(UserFactory()), make_notification(UserFactory())

    with pytest.raises(SMTPDataError):
        delivery.deliver_notifications([first.pk, second.pk])

    assert len(mailoutbox) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.delivered_at is not None
    assert second.delivered_at is None

    # The retry sends only what is left.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert delivery.deliver_notifications([first.pk, second.pk]) == 1
    assert [message.to for message in mailoutbox] == [[first.recipient.email], [second.recipient.email]]


class Picky:
    """An aiosmtpd handler that refuses some addresses at RCPT, each with its own reply, and accepts the rest."""

    GONE, BUSY, RELAY = "gone@example.org", "busy@example.org", "elsewhere@example.net"
    REPLIES = {
        GONE: "550 5.1.1 No such user",
        BUSY: "450 4.2.1 Mailbox busy, try again later",
        RELAY: "550 5.7.1 Relaying denied",
    }

    def __init__(self):
        self.accepted: list[list[str]] = []
        self.refused: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's hook name
        if address in self.REPLIES:
            self.refused.append(address)
            return self.REPLIES[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.accepted.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def picky_server(settings):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Picky()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


@pytest.mark.django_db
def test_a_bad_mailbox_is_recorded_as_bounced_and_the_people_after_it_still_get_theirs(picky_server):
    gone = make_notification(UserFactory(email=Picky.GONE))
    others = [make_notification(UserFactory()) for _ in range(3)]
    again = make_notification(gone.recipient)  # a second email to the same address in the batch
    ids = [gone.pk, *(row.pk for row in others), again.pk]

    assert delivery.deliver_notifications(ids) == 3  # over one connection, the refused address first
    assert picky_server.accepted == [[row.recipient.email] for row in others]
    assert picky_server.refused == [Picky.GONE]  # offered once: the second email was not sent to it again
    assert Notification.objects.filter(pk__in=ids, delivered_at__isnull=True).count() == 0
    bounce = DeliverySettings.objects.get(user=gone.recipient)
    assert bounce.bounced_at is not None
    assert bounce.bounce_reason == "550 5.1.1 No such user"  # shown on their preferences page
    assert delivery.deliver_notifications(ids) == 0  # never tried again
    assert delivery.requeue_undelivered(after_minutes=0) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("address", [Picky.BUSY, Picky.RELAY], ids=["try-later", "relay-denied"])
def test_a_refusal_about_the_server_not_the_address_is_tried_again_and_holds_up_no_one(picky_server, address):
    first = make_notification(UserFactory())
    refused = make_notification(UserFactory(email=address))
    last = make_notification(UserFactory())

    with pytest.raises(SMTPRecipientsRefused):  # for the task to retry, once the others have gone
        delivery.deliver_notifications([first.pk, refused.pk, last.pk])
    assert picky_server.accepted == [[first.recipient.email], [last.recipient.email]]
    assert list(Notification.objects.filter(delivered_at__isnull=True)) == [refused]
    assert not DeliverySettings.objects.filter(bounced_at__isnull=False).exists()  # nobody's mail is stopped


@pytest.mark.parametrize(
    ("code", "reply", "bad_mailbox"),
    [
        (550, b"5.1.1 No such user", True),
        (553, b"5.1.3 Bad destination address syntax", True),
        (550, b"5.2.1 Mailbox disabled", True),
        (550, b"No such user here", True),  # no enhanced status: a bare 550 names the mailbox
        (551, b"User not local", True),
        (450, b"4.2.1 Mailbox busy", False),
        (550, b"5.7.1 Relaying denied", False),
        (554, b"5.7.1 Rejected by policy", False),
        (552, b"5.2.2 Mailbox full", False),
        (550, b"5.4.5 Daily sending quota exceeded", False),
        (554, b"Transaction failed", False),
    ],
)
def test_only_a_bad_mailbox_counts_as_a_bounce(code, reply, bad_mailbox):
    from notifications import preferences

    assert preferences.mailbox_refused(SMTPRecipientsRefused({"a@example.org": (code, reply)})) is bad_mailbox


def test_nothing_but_a_refused_recipient_counts_as_a_bounce():
    from notifications import preferences

    assert not preferences.mailbox_refused(SMTPRecipientsRefused({}))
    assert not preferences.mailbox_refused(SMTPDataError(550, b"5.1.1 No such user"))
    assert not preferences.mailbox_refused(SMTPSenderRefused(550, b"5.1.1 Sender refused", "site@example.org"))
    two = {"a@example.org": (550, b"5.1.1 No such user"), "b@example.org": (450, b"4.2.1 Busy")}
    assert not preferences.mailbox_refused(SMTPRecipientsRefused(two))


@pytest.mark.django_db
def test_an_unreachable_mail_server_stamps_nothing_and_raises_for_a_retry(settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    notification = make_notification(UserFactory())

    with pytest.raises(OSError):  # noqa: PT011 - the refusal is what the task retries on
        delivery.deliver_notifications([notification.pk])

    notification.refresh_from_db()
    assert notification.delivered_at is None


def test_the_task_retries_mail_server_failures_with_growing_jittered_waits():
    task = app.tasks["notifications.delivery_tasks.deliver_notifications"]
    assert set(task.autoretry_for) >= {SMTPException, OSError}
    assert task.retry_backoff is True
    assert task.retry_jitter is True
    assert task.retry_backoff_max == 600
    assert task.max_retries == 8


def test_beat_runs_the_sweep_every_two_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["notifications.requeue_undelivered"]
    assert entry["task"] in app.tasks
    assert entry["schedule"].minute == set(range(0, 60, 2))


# --- Queuing ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_recipients_who_chose_immediate_email_are_picked_for_queuing():
    default_immediate, chose_weekly, default_weekly, chose_immediate = UserFactory.create_batch(4)
    Preference.objects.create(user=chose_weekly, category=Category.REPLIES, frequency=Frequency.WEEKLY)
    Preference.objects.create(user=chose_immediate, category=Category.POSTS, frequency=Frequency.IMMEDIATE)
    rows = [
        Notification(recipient=default_immediate, category=Category.REPLIES),
        Notification(recipient=chose_weekly, category=Category.REPLIES),
        Notification(recipient=default_weekly, category=Category.POSTS),
        Notification(recipient=chose_immediate, category=Category.POSTS),
    ]

    assert delivery.immediate_recipient_ids(rows) == {default_immediate.pk, chose_immediate.pk}
    assert delivery.immediate_recipient_ids([]) == set()


@pytest.mark.django_db
def test_delivery_is_queued_only_when_the_transaction_commits(django_capture_on_commit_callbacks, queued, monkeypatch):
    monkeypatch.setattr(delivery, "BATCH_SIZE", 2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        assert delivery.enqueue_immediate([5, 3, 1, 3, 4]) == 4
        assert queued == []

    assert len(callbacks) == 2
    assert queued == [[1, 3], [4, 5]]


@pytest.mark.django_db
def test_nothing_is_queued_when_the_change_rolls_back(django_capture_on_commit_callbacks, queued):
    def change_that_fails():
        with transaction.atomic():
            delivery.enqueue_immediate([1])
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        change_that_fails()

    assert callbacks == []
    assert queued == []


@pytest.mark.django_db
def test_an_unreachable_broker_does_not_undo_or_fail_the_change(django_capture_on_commit_callbacks, monkeypatch):
    def broker_down(ids):
        raise OSError("Connection refused")

    monkeypatch.setattr(delivery_tasks.deliver_notifications, "delay", broker_down)
    person = UserFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        notification = make_notification(person)
        delivery.enqueue_immediate([notification.pk])

    assert len(callbacks) == 1
    # Committed and still due, so the sweep sends it.
    assert Notification.objects.filter(pk=notification.pk, delivered_at__isnull=True).exists()


# --- The sweep --------------------------------------------------------------------------------------------------


def aged(notification, minutes):
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return notification


@pytest.mark.django_db
def test_the_sweep_queues_only_old_undelivered_immediate_notifications(queued, settings):
    settings.NOTIFICATIONS_REQUEUE_AFTER_MINUTES = 5
    person, paused = UserFactory(), UserFactory()
    DeliverySettings.objects.create(user=paused, paused=True)
    Preference.objects.create(user=person, category=Category.EVENTS, frequency=Frequency.IMMEDIATE)
    Preference.objects.create(user=person, category=Category.NEIGHBOURS, frequency=Frequency.IN_APP)
    due = [
        aged(make_notification(person), 6),  # immediate by default
        aged(make_notification(person, category=Category.EVENTS), 30),  # immediate by choice
        aged(make_notification(paused), 6),  # queued, so delivery closes it
    ]
    aged(make_notification(person), 2)  # too recent: its own task may still be on the way
    aged(make_notification(person, delivered_at=timezone.now()), 30)
    aged(make_notification(person, digested_at=timezone.now()), 30)
    aged(make_notification(person, category=Category.POSTS), 30)  # weekly by default
    aged(make_notification(person, category=Category.NEIGHBOURS), 30)  # site only by choice
    aged(make_notification(person), 60 * 25)  # past the sweep's window

    assert delivery.requeue_undelivered() == 3

    assert queued == [sorted(row.pk for row in due)]


@pytest.mark.django_db
def test_the_sweep_queues_in_batches_and_can_be_told_a_shorter_wait(queued, monkeypatch):
    monkeypatch.setattr(delivery, "BATCH_SIZE", 2)
    people = UserFactory.create_batch(5)
    ids = [make_notification(person).pk for person in people]

    assert delivery.requeue_undelivered() == 0  # all newer than the setting's five minutes
    assert delivery.requeue_undelivered(after_minutes=0) == 5

    assert queued == [ids[0:2], ids[2:4], ids[4:5]]


@pytest.mark.django_db
def test_swept_notifications_are_sent_once_however_often_the_sweep_runs(queued, mailoutbox):
    ids = [aged(make_notification(person), 10).pk for person in UserFactory.create_batch(2)]

    delivery.requeue_undelivered()
    delivery.requeue_undelivered()
    for batch in queued:
        delivery.deliver_notifications(batch)

    assert queued == [ids, ids]
    assert len(mailoutbox) == 2
    assert delivery.requeue_undelivered() == 0


@pytest.mark.django_db
def test_a_join_request_reaches_only_those_who_still_organise_the_group(mailoutbox):
    from neighbourhoods import services as groups
    from neighbourhoods.models import Membership
    from notifications import digests
    from tests.factories import GroupFactory, MembershipFactory

    group = GroupFactory(visibility="members", join_policy="approval")
    stays, demoted, removed = (MembershipFactory(group=group, role="organiser").user for _ in range(3))
    groups.join_group(user=UserFactory(profile__display_name="Nia"), group=group)
    requests = {row.recipient: row for row in Notification.objects.filter(event="membership.requested")}
    assert set(requests) == {stays, demoted, removed}
    # Before the emails go: one organiser is made a plain member again, another is removed from the group.
    groups.demote_organiser(organiser=stays, membership=Membership.objects.get(group=group, user=demoted))
    groups.remove_member(organiser=stays, membership=Membership.objects.get(group=group, user=removed))

    assert delivery.deliver_notifications([row.pk for row in requests.values()]) == 1
    assert [m.to for m in mailoutbox] == [[stays.email]]
    assert "Nia" in mailoutbox[0].body
    # A digest checks its lines the same way: the news of who asked to join is for organisers only.
    lines = [
        digests.Line(row.pk, row.recipient_id, row.category, row.url, row.line, row.actor_id)
        for row in requests.values()
    ]
    batch = digests.BatchContext([p.pk for p in requests], lines, digests.Period.WEEKLY, timezone.now(), live=False)
    assert {line.recipient_id for line in lines if batch.place_of(line) is not None} == {stays.pk}
    # News of one's own membership still reaches a former member ("you were let in", then they left).
    approved = make_notification(
        demoted, category=Category.MEMBERSHIP, event="membership.approved", url=group.get_absolute_url()
    )
    Membership.objects.filter(group=group, user=demoted).update(status="left")
    line = digests.Line(approved.pk, demoted.pk, approved.category, approved.url, approved.line, None)
    assert digests.BatchContext([demoted.pk], [line], digests.Period.WEEKLY, timezone.now(), live=False).place_of(line)
