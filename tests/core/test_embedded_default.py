"""The README's quick start: with no services and no environment, the platform migrates, seeds and serves."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory):
    database = tmp_path_factory.mktemp("embedded") / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}}
    # The embedded default is SQLite; only the file's place differs from the quick start's, to leave it alone.
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": f"sqlite:///{database}"}
    return env


def run(args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_quick_start_migrates_seeds_twice_and_serves(embedded_env):
    migrated = run(["migrate", "--noinput"], embedded_env)
    assert migrated.returncode == 0, migrated.stderr

    first = run(["seed_demo"], embedded_env)
    assert first.returncode == 0, first.stderr
    assert "4 new people" in first.stdout
    for email in ["resident@example.org", "organiser@example.org", "officer@example.org", "admin@example.org"]:
        assert email in first.stdout
    second = run(["seed_demo"], embedded_env)
    assert second.returncode == 0, second.stderr
    assert "0 new people, 4 already there" in second.stdout

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    home = response.read().decode()
                break
            except OSError:
                assert server.poll() is None, "the development server exited"
                assert time.monotonic() < deadline, "the development server did not answer"
                time.sleep(0.3)
        assert "Get to know your neighbours" in home
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/find/?postcode=cf242aa", timeout=5) as response:
            found = response.read().decode()
        assert "CF24 2AA is in Splott" in found
        assert "Clifton Street Neighbours" in found
        # SQLite has no full-text search: the discover page's search looks for the words instead.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/initiatives/?q=Community+GARDEN", timeout=5) as response:
            searched = response.read().decode()
        assert "Clifton Street Community Garden" in searched
        assert "Litter" not in searched
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            health = json.load(response)
        assert health == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "in-process"}}
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_demo_seed_refuses_a_production_site(embedded_env):
    result = run(["seed_demo"], embedded_env | {"DEBUG": "false", "SECRET_KEY": "s" * 50})
    assert result.returncode != 0
    assert "--allow-production" in result.stderr


SQLITE_DIGESTS = """
from datetime import timedelta
from django.core import mail
from django.utils import timezone
from accounts.models import User
from notifications import digests
from notifications.models import DigestDelivery, Notification

people = [User.objects.create_user(email=f"digest{n}@example.org", password=None) for n in range(3)]
for n, person in enumerate(people):
    note = Notification.objects.create(
        recipient=person, event="post.created", category="posts", dedupe_key=f"sqlite:{n}", line=f"News {n}"
    )
    Notification.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(days=1))
gone = people.pop()
queued = [p.pk for p in people] + [gone.pk]
gone.delete()
start = digests.period_start_for(timezone.now())
print("sent", digests.send_digests(queued, "weekly", start))
print("again", digests.send_digests(queued, "weekly", start))
print("outbox", sorted(m.to[0] for m in mail.outbox))
print("stamped", DigestDelivery.objects.filter(user__in=people, sent_at__isnull=False).count())
print("waiting", Notification.objects.filter(recipient__in=people, digested_at__isnull=True).count())
"""


def test_digests_go_out_once_on_the_embedded_database(embedded_env):
    """The digest path without PostgreSQL's raw connection: claims, stamps and lines on SQLite."""
    assert run(["migrate", "--noinput"], embedded_env).returncode == 0
    script = "from django.test.utils import setup_test_environment; setup_test_environment()\n" + SQLITE_DIGESTS
    result = run(["shell", "--verbosity", "0", "-c", script], embedded_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:5] == [
        "sent 2",
        "again 0",
        "outbox ['digest0@example.org', 'digest1@example.org']",
        "stamped 2",
        "waiting 0",
    ]
