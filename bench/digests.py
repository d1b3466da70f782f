"""Benchmark: the weekly digest pipeline against the cost of just sending the same emails.

    python bench/digests.py --users 20000

Creates (or recreates) the PostgreSQL database `bench_digests` on 127.0.0.1 (`BENCH_DATABASE_URL` to change it),
seeds N people in street groups of 50 with a week of activity (posts, events, an initiative with a volunteer role,
an unmet ask and a decision closing soon), then runs the real weekly pipeline: the `queue_digests` task body finds
who is due and queues a `send_digests` task body per batch, against real PostgreSQL, into a local
aiosmtpd server running in its own process. The `send_digests` batches run in a pool of `--workers` processes (by
default the project's `CELERY_WORKER_CONCURRENCY`, twice the CPU count), as a prefork Celery worker with that
concurrency runs them; the URLconf is loaded before the pool forks, as the worker's main process does. The bound
is the same number of pre-built messages of the same sizes and line counts (the server's work grows with both)
sent over one SMTP connection by one process to the same server. Both run `--repeat` times (3) on the same data,
one straight after the other, and the run with the median ratio is reported: the queries each batch ran, peak
memory, and finally `digests/s: <X> bound/s: <Y> ratio: <X/Y>`.
"""

import argparse
import json
import resource
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script, from anywhere
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_digests"
GROUP_SIZE = 50
POSTS_PER_GROUP = 10
EVENTS_PER_GROUP = 2
STATS_ADDRESS = "stats@bench.invalid"


def configure(smtp_port: int | None = None) -> None:
    """Plain settings, no broker (task bodies run in-process), this benchmark's database, the sink as mail server."""
    email = {} if smtp_port is None else {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
    common.configure(DEFAULT_DATABASE_URL, **email)


# --- The SMTP sink (its own process) --------------------------------------------------------------------------


def run_sink(port: int, stats_path: str, delay_ms: float) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    sizes: list[tuple[int, int]] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            if STATS_ADDRESS in envelope.rcpt_tos:
                Path(stats_path).write_text(json.dumps(sizes))
                sizes.clear()
            else:
                # The server's work per message grows with its lines as well as its bytes.
                sizes.append((len(envelope.content), envelope.content.count(b"\n")))
                if delay_ms:
                    # A real server queues the message (writes and syncs it) before it answers.
                    await asyncio.sleep(delay_ms / 1000)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.sleep(10**9))
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sink_sizes(port: int, stats_path: str) -> list[tuple[int, int]]:
    """The (bytes, lines) of the messages the sink accepted since it was last asked (and it forgets them)."""
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.sendmail("bench@bench.invalid", [STATS_ADDRESS], b"Subject: stats\r\n\r\nstats\r\n")
    return [tuple(shape) for shape in json.loads(Path(stats_path).read_text())]


# --- The database and a week of activity -----------------------------------------------------------------------


def recreate_database() -> None:
    common.recreate_database(DEFAULT_DATABASE_URL)


def seed(users_wanted: int) -> None:
    """N people, groups of 50, and a week of activity in each group, in bulk statements."""
    configure()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Profile, User
    from initiatives.models import Ask, Decision, Initiative, VolunteerRole
    from neighbourhoods.models import Council, Event, Group, Membership, Neighbourhood, Post
    from notifications.models import Category, Notification

    call_command("migrate", verbosity=0)
    now = timezone.now()
    groups_wanted = -(-users_wanted // GROUP_SIZE)
    council = Council.objects.create(name="Bench Council", slug="bench", code="W06999999", nation="Wales")
    areas = Neighbourhood.objects.bulk_create(
        [
            Neighbourhood(council=council, name=f"Area {n}", slug=f"area-{n}", code=f"W01{n:06d}")
            for n in range(-(-groups_wanted // 10))
        ]
    )
    groups = Group.objects.bulk_create(
        [
            Group(neighbourhood=areas[n // 10], name=f"Street {n}", slug=f"street-{n}", join_policy="open")
            for n in range(groups_wanted)
        ]
    )
    people = User.objects.bulk_create(
        [User(email=f"resident{n}@example.org", password="!") for n in range(users_wanted)],  # noqa: S106
        batch_size=5000,
    )
    Profile.objects.bulk_create(
        [
            Profile(user=user, display_name=f"Resident {n}", language="cy" if n % 10 == 0 else "en-gb")
            for n, user in enumerate(people)
        ],
        batch_size=5000,
    )
    members = {group.pk: people[n * GROUP_SIZE : (n + 1) * GROUP_SIZE] for n, group in enumerate(groups)}
    Membership.objects.bulk_create(
        [
            Membership(
                group_id=group_id,
                user=user,
                status="active",
                role="organiser" if i == 0 else "member",
                # Two new neighbours a week in every group.
                joined_at=now - timedelta(days=2 if i >= GROUP_SIZE - 2 else 60),
            )
            for group_id, users in members.items()
            for i, user in enumerate(users)
        ],
        batch_size=5000,
    )
    posts = Post.objects.bulk_create(
        [
            Post(group=group, author=members[group.pk][0], title=f"Notice {n} in {group.name}", body="b", body_html="b")
            for group in groups
            for n in range(POSTS_PER_GROUP)
        ],
        batch_size=5000,
    )
    events = Event.objects.bulk_create(
        [
            Event(
                group=group,
                title=f"Meet-up {n} on {group.name}",
                starts_at=now + timedelta(days=n + 2),
                ends_at=now + timedelta(days=n + 2, hours=2),
                place="The green",
            )
            for group in groups
            for n in range(EVENTS_PER_GROUP)
        ],
        batch_size=5000,
    )
    initiatives = Initiative.objects.bulk_create(
        [
            Initiative(
                group=group,
                neighbourhood_id=group.neighbourhood_id,
                title=f"Garden on {group.name}",
                slug=f"garden-{group.slug}",
                summary="A garden",
                status="active",
            )
            for group in groups
        ],
        batch_size=5000,
    )
    VolunteerRole.objects.bulk_create([VolunteerRole(initiative=i, title="Weeder", slots=5) for i in initiatives])
    Ask.objects.bulk_create([Ask(initiative=i, kind="materials", title="Compost", target=20) for i in initiatives])
    Decision.objects.bulk_create(
        [
            Decision(initiative=i, kind="proposal", question="Plant fruit trees?", closes_at=now + timedelta(days=3))
            for i in initiatives
        ]
    )
    by_group_posts: dict[int, list] = {}
    for post in posts:
        by_group_posts.setdefault(post.group_id, []).append(post)
    by_group_events: dict[int, list] = {}
    for event in events:
        by_group_events.setdefault(event.group_id, []).append(event)
    initiative_of = {i.group_id: i for i in initiatives}
    rows = []
    for group in groups:
        news = [
            ("post.created", Category.POSTS, post.pk, f"Resident posted in {group.name}: “{post.title}”", post)
            for post in by_group_posts[group.pk]
        ]
        news += [
            ("event.created", Category.EVENTS, e.pk, f"New event in {group.name}: {e.title}", e)
            for e in by_group_events[group.pk]
        ]
        initiative = initiative_of[group.pk]
        news.append(
            (
                "initiative.update_posted",
                Category.INITIATIVES,
                initiative.pk,
                f"{initiative.title}: we dug!",
                initiative,
            )
        )
        for event, category, subject, line, obj in news:
            url = f"/groups/{group.slug}/board/{obj.pk}/" if event == "post.created" else ""
            url = url or (f"/groups/{group.slug}/events/{obj.pk}/" if event == "event.created" else "")
            url = url or f"/initiatives/{initiative.slug}/"
            rows += [
                Notification(
                    recipient=user,
                    event=event,
                    category=category,
                    dedupe_key=f"{event}:{subject}:{user.pk}",
                    line=line,
                    url=url,
                )
                for user in members[group.pk]
            ]
        if len(rows) > 20000:
            Notification.objects.bulk_create(rows, batch_size=5000)
            rows = []
    Notification.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        # Recorded over the past week.
        cursor.execute("UPDATE notifications_notification SET created_at = now() - interval '1 hour' * (1 + id % 150)")
        cursor.execute("VACUUM ANALYZE")


# --- The run -----------------------------------------------------------------------------------------------------


def next_weekly_moment():
    from django.utils import timezone

    from notifications import digests

    local = timezone.now().astimezone(digests.LONDON)
    saturday = local.date() + timedelta(days=(5 - local.weekday()) % 7 or 7)
    # A minute past the hour, as beat would run it.
    return digests.due_moment(saturday, digests.DEFAULT_HOUR) + timedelta(minutes=1)


_child_counter: Counter = Counter()


def _child_start() -> None:
    """A pool process, like a prefork worker's child: its own database connection, its queries counted."""
    from django.db import connection

    def count(execute, sql, params, many, context):
        _child_counter["all"] += 1
        return execute(sql, params, many, context)

    connection.execute_wrappers.append(count)


def _child_send(user_ids: list[int], period: str, period_start: str) -> tuple[int, int, int, int]:
    """One `send_digests` task body, as a worker process runs it.

    Returns (people, queries, emails sent, the process's peak RSS in KiB)."""
    from notifications import digest_tasks

    before = _child_counter["all"]
    sent = digest_tasks.send_digests.run(user_ids, period, period_start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return len(user_ids), _child_counter["all"] - before, sent, peak


def run_pipeline(workers: int) -> tuple[int, float, list[tuple[int, int, int, int]]]:
    """The weekly run as beat would start it: the `queue_digests` task body in this process finds who is due and
    hands each batch to a pool of `workers` processes running the `send_digests` task body, as a prefork Celery
    worker with that concurrency does. Returns (sent, seconds, batches)."""
    import multiprocessing

    from django.db import connections

    from config.celery import load_url_patterns
    from notifications import digest_tasks

    load_url_patterns()  # as the worker's main process does before its pool forks
    connections.close_all()  # each process opens its own
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_child_start)
    pending = []

    class Queue:
        """Stands in for `send_digests.delay`: the batch goes to the pool instead of the broker."""

        @staticmethod
        def delay(user_ids, period, period_start):
            pending.append(pool.apply_async(_child_send, (user_ids, period, period_start)))

    real_task = digest_tasks.send_digests
    try:
        pool.apply(time.sleep, (0,))  # the pool is up before the clock starts
        moment = next_weekly_moment()
        started = time.perf_counter()
        digest_tasks.send_digests = Queue
        digest_tasks.queue_digests.run(now=moment.isoformat())
        batches = [result.get() for result in pending]
        seconds = time.perf_counter() - started
    finally:
        digest_tasks.send_digests = real_task
        pool.close()
        pool.join()
    return sum(batch[2] for batch in batches), seconds, batches


def forget_sent() -> None:
    """Make every digest due again, as before the first run: no deliveries, no line stamped."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM notifications_digestdelivery")
        cursor.execute("UPDATE notifications_notification SET digested_at = NULL WHERE digested_at IS NOT NULL")
        cursor.execute("VACUUM ANALYZE notifications_digestdelivery")
        cursor.execute("VACUUM ANALYZE notifications_notification")
    connection.close()


def bound_message(n: int, size: int, lines: int) -> bytes:
    """A pre-built message of exactly `size` bytes in `lines` lines, for the server to take as long over as ours."""
    head = (
        f"From: hello@strongerstreets.localhost\r\nTo: resident{n}@example.org\r\n"
        f"Subject: Your weekly round-up\r\nMessage-ID: <bound.{n}@bench>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    body_lines = max(lines - head.count(b"\n"), 1)
    room = max(size - len(head), 2 * body_lines)
    length, longer = divmod(room, body_lines)
    return head + b"".join(b"x" * (length - 2 + (n < longer)) + b"\r\n" for n in range(body_lines))


def run_bound(port: int, shapes: list[tuple[int, int]]) -> float:
    """Seconds to send pre-built messages of these sizes and line counts over one connection from one process."""
    messages = [(f"resident{n}@example.org", bound_message(n, size, lines)) for n, (size, lines) in enumerate(shapes)]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for recipient, message in messages:
            smtp.sendmail("hello@strongerstreets.localhost", [recipient], message)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument(
        "--sink-ms",
        type=float,
        default=0.0,
        help="milliseconds the SMTP sink takes to accept each message, like a real server queuing it (default 0)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="processes running send_digests, like a prefork worker's concurrency "
        "(default: CELERY_WORKER_CONCURRENCY, as the project's worker runs)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="times to run the pipeline and then the bound on the same data; the run with the median ratio is "
        "reported (default 3)",
    )
    parser.add_argument("--sink", nargs=3, metavar=("PORT", "STATS", "MS"), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(int(args.sink[0]), args.sink[1], float(args.sink[2]))
        return
    if args.seed:
        seed(args.seed)
        return

    port = free_port()
    stats_path = tempfile.mktemp(prefix="bench-digests-", suffix=".json")  # noqa: S306
    sink = subprocess.Popen(
        [sys.executable, __file__, "--sink", str(port), stats_path, str(args.sink_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout.readline().strip() == "ready", "the SMTP sink did not start"
        print(f"Seeding {args.users} people in groups of {GROUP_SIZE} with a week of activity…", flush=True)
        started = time.perf_counter()
        recreate_database()
        subprocess.run([sys.executable, __file__, "--seed", str(args.users)], check=True)
        print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)

        configure(port)
        if args.workers is None:
            from django.conf import settings

            args.workers = settings.CELERY_WORKER_CONCURRENCY
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        runs = []
        for run in range(args.repeat):
            if run:
                forget_sent()
            sent, seconds, batches = run_pipeline(args.workers)
            if not run:  # before the bound's pre-built messages take their share
                rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            shapes = sink_sizes(port, stats_path)
            assert len(shapes) == sent == args.users, f"sent {sent}, sink got {len(shapes)}, wanted {args.users}"
            bound_seconds = run_bound(port, shapes)
            assert sorted(sink_sizes(port, stats_path)) == sorted(shapes), "the bound's messages differ in shape"
            runs.append((sent / seconds / (len(shapes) / bound_seconds), sent, seconds, bound_seconds, batches))
            if args.repeat > 1:
                print(
                    f"  run {run + 1}: pipeline {seconds:.2f} s, bound {bound_seconds:.2f} s, ratio {runs[-1][0]:.2f}",
                    flush=True,
                )
    finally:
        sink.terminate()
        sink.wait()
        Path(stats_path).unlink(missing_ok=True)

    # The run with the median ratio: the machine's own ups and downs weigh less than in any single run.
    _ratio, sent, seconds, bound_seconds, batches = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    built = sorted({batch[1] for batch in batches})
    worker_peak = max(batch[3] for batch in batches)
    print(f"people: {args.users}  digests sent: {sent}  batches: {len(batches)} of up to {max(b[0] for b in batches)}")
    print(f"queries per batch: {', '.join(map(str, built))} to build and bulk-stamp (whatever the batch size)")
    print("  plus, per email, one transaction on the raw connection (two prepared statements): its exactly-once")
    print("  stamp with the lines of the email before it, which the server has accepted (sent ahead of the message,")
    print("  COMMIT with the final '.'); the last email's lines are stamped on their own")
    sizes, lines = [size for size, _ in shapes], [count for _, count in shapes]
    print(
        f"message size: mean {sum(sizes) / len(sizes):,.0f} bytes in {sum(lines) / len(lines):,.0f} lines, "
        f"max {max(sizes):,} bytes"
    )
    print(
        f"peak memory (RSS): {worker_peak / 1024:.0f} MiB per send_digests process, "
        f"{rss_peak / 1024:.0f} MiB in the queuing process (after Django set-up: {rss_before / 1024:.0f} MiB)"
    )
    print(f"send_digests processes: {args.workers} (each one SMTP connection per batch)")
    print(f"sink: aiosmtpd, {args.sink_ms:g} ms to accept each message")
    if args.repeat > 1:
        print(f"median of {args.repeat} runs (each the pipeline, then the bound straight after):")
    print(f"pipeline: {seconds:.2f} s   bound: {bound_seconds:.2f} s")
    rate, bound = sent / seconds, len(shapes) / bound_seconds
    print(f"digests/s: {rate:.1f} bound/s: {bound:.1f} ratio: {rate / bound:.2f}")


if __name__ == "__main__":
    main()
