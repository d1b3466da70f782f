"""Immediate emails through a real Celery worker on real Redis into a local SMTP server: late, never lost, never twice.

The worker is a separate process, so its mail cannot land in the test's `mailoutbox`: it sends to an SMTP sink
(aiosmtpd, in a thread here) named in TEST_EMAIL_URL, which `config/settings_test.py` honours.
"""

import os
import re
import socket
import threading
import time
from collections import Counter
from email import message_from_bytes, policy

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import transaction

from notifications import delivery, services
from notifications.models import Category, Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.worker

QUEUE = "celery"  # the Redis list the broker keeps the default queue in


class Sink:
    """An SMTP server that answers 451 (try again later) to the first `refuse_first` messages, then accepts."""

    def __init__(self, refuse_first: int = 0):
        self.refuse_first = refuse_first
        self.attempts: list[tuple[str, int]] = []  # the client's address and port, one per message offered
        self.accepted: list = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        with self._lock:
            self.attempts.append(session.peer)
            if len(self.attempts) <= self.refuse_first:
                return "451 4.3.0 Try again later"
            self.accepted.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def recipients(self) -> Counter:
        with self._lock:
            return Counter(message["To"] for message in self.accepted)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def start_sink():
    controllers = []

    def start(refuse_first: int = 0) -> tuple[Sink, int]:
        sink, port = Sink(refuse_first), free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return sink, port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def start_worker(request, monkeypatch):
    """Starts the real worker (the `celery_worker_process` fixture) when called, sending its mail to `port`."""

    def start(port: int):
        monkeypatch.setenv("TEST_EMAIL_URL", f"smtp://127.0.0.1:{port}")
        return request.getfixturevalue("celery_worker_process")

    return start


@pytest.fixture
def broker():
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds} seconds"
        time.sleep(0.1)


def record_waves(people, sender) -> list[int]:
    """A wave to each of `people`: a category emailed straight away by default. Returns the notification ids."""
    with transaction.atomic():
        services.record(
            event="wave.received",
            category=Category.NEIGHBOURS,
            subject=sender,
            recipients=people,
            context={"name": "Sam"},
            url="/neighbours/",
        )
        ids = list(Notification.objects.filter(recipient__in=people).values_list("pk", flat=True))
        # What `record()` does for immediate recipients: queue delivery once the transaction commits.
        delivery.enqueue_immediate(ids)
    return ids


def test_a_flushed_queue_loses_no_email_the_sweep_sends_each_exactly_once(
    transactional_db, start_sink, start_worker, broker
):
    people = UserFactory.create_batch(12)
    ids = record_waves(people, sender=UserFactory())
    assert len(ids) == 12
    assert broker.llen(QUEUE) >= 1, "delivery was queued on commit"

    broker.delete(QUEUE)  # the broker loses every message
    assert broker.llen(QUEUE) == 0

    sink, port = start_sink()
    start_worker(port)
    time.sleep(1)
    assert sink.accepted == [], "nothing left in the queue to send"

    # Beat's sweep, told not to wait; run twice so the same rows are queued twice.
    assert delivery.requeue_undelivered(after_minutes=0) == 12
    assert delivery.requeue_undelivered(after_minutes=0) == 12
    wait_until(lambda: not Notification.objects.filter(delivered_at__isnull=True).exists(), 25, "all delivered")
    wait_until(lambda: broker.llen(QUEUE) == 0, 10, "the duplicate batch was consumed")
    time.sleep(0.5)  # room for a duplicate to arrive, were one to be sent

    assert sink.recipients() == Counter({person.email: 1 for person in people})
    assert all(message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for message in sink.accepted)
    assert delivery.requeue_undelivered(after_minutes=0) == 0


def test_a_mail_server_saying_try_again_later_gets_retries_with_backoff_then_the_email_once(
    transactional_db, start_sink, start_worker
):
    refusals = 3
    sink, port = start_sink(refuse_first=refusals)
    worker = start_worker(port)
    [person] = people = UserFactory.create_batch(1)

    started = time.monotonic()
    [notification_id] = record_waves(people, sender=UserFactory())
    wait_until(lambda: sink.accepted, 25, "the email arrived after the retries")
    took = time.monotonic() - started
    time.sleep(1)

    assert sink.recipients() == Counter({person.email: 1})
    # Each refusal was a separate run of the task (a new SMTP connection), not a resend inside one.
    assert len(sink.attempts) == refusals + 1
    assert len(set(sink.attempts)) == refusals + 1
    assert Notification.objects.get(pk=notification_id).delivered_at is not None
    # The waits Celery chose: growing caps (1 s, 2 s, 4 s) with full jitter, so each is anywhere from 0 to its cap.
    waits = [int(seconds) for seconds in re.findall(r"retry: Retry in (\d+)s", worker_output(worker))]
    assert len(waits) == refusals
    assert all(0 <= wait <= 2**attempt for attempt, wait in enumerate(waits))
    assert took < 25


def worker_output(process) -> str:
    """What the worker has logged so far, read without waiting for it to exit."""
    fd = process.stdout.fileno()
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")
