"""A weekly digest run for 1,000 people while worker processes are killed with SIGKILL: each gets exactly one email.

A real Celery worker (prefork, two children) runs on this test's Redis and database and sends to a real SMTP server
on localhost. The run is queued twice (as an hourly beat overlapping a slow run would), then the worker's children
are killed mid-batch, then the worker's main process, which is restarted, then the new worker's children. Tasks are
acknowledged late and handed back when their worker dies, and the broker gives a dead main process's unacknowledged
tasks to the next worker after `CELERY_VISIBILITY_TIMEOUT` (5 s here, an hour by default).
"""

import contextlib
import os
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Profile, User
from config.celery import app
from neighbourhoods.models import Membership
from notifications import digest_tasks, digests
from notifications.models import Category, DigestDelivery, Notification
from tests.factories import EventFactory, GroupFactory, PostFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

USERS = 1000
ROOT = Path(__file__).resolve().parents[2]
# About what a real mail server takes to accept a message, so a run lasts long enough to be interrupted.
SINK_DELAY = 0.003
# `celery -A config worker`, except that the broker looks for a dead worker's unacknowledged tasks every second
# (by default every 10 s, and scans on only one look in 10) so the test need not wait minutes for them.
WORKER_MAIN = (
    "import sys; from config.celery import app; "
    "app.conf.broker_transport_options = {**app.conf.broker_transport_options, "
    "'unacked_restore_interval': 1, 'unacked_restore_throttle': 1}; "
    "app.worker_main(sys.argv[1:])"
)


class SinkHandler(socketserver.StreamRequestHandler):
    """A minimal SMTP server that behaves as RFC 5321 asks of a real one: a message whose final "." arrived is
    accepted even if the client hangs up straight after, and one cut off before its "." is thrown away."""

    def reply(self, line: str) -> None:
        with contextlib.suppress(OSError):
            self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ready")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (data := self.rfile.readline()) != b".\r\n":
                    if not data:
                        return  # cut off before the end of the message: nothing was accepted
                    lines.append(data)
                message = message_from_bytes(b"".join(lines))
                with self.server.lock:
                    self.server.accepted += [(recipient, message["Message-ID"]) for recipient in recipients]
                time.sleep(SINK_DELAY)
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("250 OK")


class Sink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SinkHandler)
        self.accepted: list[tuple[str, str]] = []  # (recipient, Message-ID)
        self.lock = threading.Lock()
        self.port = self.server_address[1]


@pytest.fixture
def sink():
    server = Sink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class Workers:
    """Starts real worker processes on this test's broker and database, and kills them."""

    def __init__(self, smtp_port: int):
        db = connection.settings_dict
        self.env = os.environ | {
            # The plain settings (not the test ones, which force an in-memory mail backend), pointed at this test's
            # database, broker and SMTP server.
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": "kill-nine-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": settings.CELERY_BROKER_URL,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "CELERY_VISIBILITY_TIMEOUT": "5",
        }
        self.processes: list[subprocess.Popen] = []
        self.killed = 0
        self.log = tempfile.NamedTemporaryFile("w", prefix="digest-kill9-worker-", suffix=".log")  # noqa: SIM115

    def start(self, name: str) -> subprocess.Popen:
        hostname = f"{name}-{os.getpid()}@{os.uname().nodename}"
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER_MAIN,
                "worker",
                "--pool=prefork",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
                f"--hostname={hostname}",
            ],
            cwd=ROOT,
            env=self.env,
            # A file, not a pipe: a worker whose log fills an unread pipe would stop working.
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        deadline = time.monotonic() + 30
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"The Celery worker did not start:\n{Path(self.log.name).read_text()[-3000:]}")
        return process

    @staticmethod
    def children(process: subprocess.Popen) -> list[int]:
        path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def kill_children(self, process: subprocess.Popen) -> int:
        pids = self.children(process)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        self.killed += len(pids)
        return len(pids)

    def kill_main(self, process: subprocess.Popen) -> None:
        # Its children die with it (Celery's prefork children ask the kernel for SIGKILL when their parent dies).
        self.killed += 1 + len(self.children(process))
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.log.close()


@pytest.fixture
def workers(sink):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()
    pool = Workers(sink.port)
    yield pool
    pool.stop_all()
    broker.flushdb()


def seed_due_users(count: int) -> datetime:
    """`count` people in one street group, each with a week of news waiting; returns when their digest is due."""
    group = GroupFactory(name="Elm Street")
    EventFactory(group=group, title="Bulb planting", starts_at=timezone.now() + timedelta(days=2))
    post_url = PostFactory(group=group).get_absolute_url()
    users = User.objects.bulk_create([User(email=f"resident{n}@example.org", password="!") for n in range(count)])
    Profile.objects.bulk_create([Profile(user=user, display_name=f"Resident {n}") for n, user in enumerate(users)])
    Membership.objects.bulk_create(
        [Membership(group=group, user=user, status="active", joined_at=timezone.now()) for user in users]
    )
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                event="post.created",
                category=category,
                dedupe_key=f"seed:{n}:{user.pk}",
                line=f"News number {n} from Elm Street",
                url=post_url,
            )
            for user in users
            for n, category in enumerate([Category.POSTS, Category.POSTS, Category.EVENTS])
        ]
    )
    Notification.objects.update(created_at=timezone.now() - timedelta(days=1))
    # Next Saturday at eight, London time: everyone's default weekly moment.
    local = timezone.now().astimezone(digests.LONDON)
    saturday = local.date() + timedelta(days=(5 - local.weekday()) % 7 or 7)
    return digests.due_moment(saturday, 8)


def sent() -> int:
    return DigestDelivery.objects.filter(sent_at__isnull=False).count()


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what} (sent so far: {sent()})"
        time.sleep(0.02)


def test_killing_workers_mid_run_loses_no_digest_and_sends_none_twice(workers, sink, mailoutbox):
    due_at = seed_due_users(USERS)
    assert sum(len(batch) for batch in digests.due_users("weekly", due_at)) == USERS
    first = workers.start("digests-a")

    # Queued twice, as when an hourly run overlaps a slow one: the two copies race each other.
    for _ in range(2):
        digest_tasks.queue_digests.delay(now=due_at.isoformat())

    wait_for(lambda: sent() >= 150, 30, "the first digests")
    assert workers.kill_children(first) == 2

    wait_for(lambda: sent() >= 400, 30, "the run to resume after its children were killed")
    workers.kill_main(first)
    second = workers.start("digests-b")

    wait_for(lambda: sent() >= 650, 30, "a restarted worker to carry on")
    assert workers.kill_children(second) == 2

    wait_for(lambda: sent() == USERS, 45, "every digest to be sent")
    # Let anything still queued or handed back by the broker run too: it must find nothing left to send.
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    wait_for(
        lambda: broker.llen("celery") == 0 and broker.hlen("unacked") == 0,
        30,
        "the queue to drain (and the dead worker's tasks to be handed back and run)",
    )
    time.sleep(1)

    recipients = Counter(recipient for recipient, _ in sink.accepted)
    assert [r for r, n in recipients.items() if n > 1] == [], "someone got their digest twice"
    assert len({message_id for _, message_id in sink.accepted}) == len(sink.accepted)
    assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == USERS
    assert not DigestDelivery.objects.filter(sent_at__isnull=True).exists()

    # A process killed in the instant between committing a stamp and writing the final "." leaves that digest in
    # doubt: it counts as sent, and its lines stay undigested so the person's next digest carries them. So does one
    # killed after the server accepted an email but before stamping its lines. A process works on one email at a
    # time, so each killed process leaves at most one person waiting. Usually there are none.
    killed = workers.killed
    residents = set(User.objects.filter(notifications__isnull=False).values_list("email", flat=True).distinct())
    assert len(residents) == USERS
    missing = residents - set(recipients)
    waiting = set(
        Notification.objects.filter(digested_at__isnull=True).values_list("recipient__email", flat=True).distinct()
    )
    assert len(missing) <= killed, f"{len(missing)} people got no digest after {killed} processes were killed"
    assert missing <= waiting, "someone got no digest and their news was marked as sent"
    assert len(waiting) <= killed
    # Nothing is lost: next week's digest takes whatever was left.
    next_week = due_at.date() + timedelta(days=7)
    waiting_ids = list(User.objects.filter(email__in=waiting).values_list("pk", flat=True))
    assert digests.send_digests(waiting_ids, "weekly", next_week) == len(waiting)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(waiting)
    assert not Notification.objects.filter(digested_at__isnull=True).exists()
