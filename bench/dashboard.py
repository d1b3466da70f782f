"""Benchmark: the council dashboards of a large council with a year of history.

    python bench/dashboard.py --neighbourhoods 300 --residents 100000

Creates (or recreates) the PostgreSQL database `bench_dashboard` on 127.0.0.1 (`BENCH_DATABASE_URL` to change it)
and, in its own process, builds one council of that size: neighbourhoods in every deprivation decile, in wards of
ten, most with a boundary of 64 points; residents joining street groups over the past year at different rates (fewer
in the most deprived areas), with posts, comments, events and RSVPs, connections, initiatives in every state with
volunteers, outcomes and council backing (`engagement.demo.seed_year`, bulk inserts). Then a year of snapshots:
the 53 weekly ones (today and each of the 52 weeks before) are taken by the real `take_snapshots` from that history;
the six days between each pair are filled with a copy of the week's figures, so the table holds what a year of
nightly runs leaves (365 rows per neighbourhood) while every figure the pages show was counted (`--weekly` leaves
the in-between days out).

It then asks for the overview, trends and map pages with Django's test client as an officer with two-step sign-in,
once to warm up and then `--runs` times, and prints one line per page: `<page>: <ms> ms, <n> queries` (the median
time in the server, and the queries one request ran). A page not built yet is reported as not available.
"""

import argparse
import math
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script, from anywhere
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_dashboard"
COUNCIL_SLUG = "bench-council"
OFFICER_EMAIL = "bench-officer@example.org"
# Each page and its URL name (the overview's is "dashboard").
PAGES = (("overview", "engagement:dashboard"), ("trends", "engagement:trends"), ("map", "engagement:map"))
WARDS_OF = 10  # neighbourhoods per ward
RESIDENTS_PER_GROUP = 60
STATUSES = ("idea", "planning", "active", "active", "completed", "completed", "paused", "archived")


def configure() -> None:
    common.configure(DEFAULT_DATABASE_URL, test_client=True)


def recreate_database() -> None:
    common.recreate_database(DEFAULT_DATABASE_URL)


# --- The council and its year ------------------------------------------------------------------------------------


def boundary(n: int, columns: int) -> dict:
    """A wobbly 64-point polygon in a grid of cells about 1 km across (real boundaries have tens to hundreds)."""
    row, column = divmod(n, columns)
    centre_x, centre_y = -3.3 + column * 0.014, 51.4 + row * 0.009
    points = []
    for step in range(64):
        angle = 2 * math.pi * step / 64
        radius = 1 + 0.12 * math.sin(5 * angle + n)
        points.append(
            [
                round(centre_x + 0.0065 * radius * math.cos(angle), 5),
                round(centre_y + 0.0042 * radius * math.sin(angle), 5),
            ]
        )
    points.append(points[0])
    return {"type": "Polygon", "coordinates": [points]}


def build_council(neighbourhoods: int, residents: int, *, seed: int = 6, prefix: str = "bench"):
    """One council of `neighbourhoods` neighbourhoods with `residents` residents' year of activity, an officer with
    two-step sign-in and a few council offers. Returns (council, officer, rows written per kind)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.models import Profile, User
    from engagement.demo import AreaPlan, seed_year
    from initiatives.models import CouncilOffer
    from neighbourhoods.models import Council, CouncilMembership, Neighbourhood

    rng = random.Random(seed)
    council = Council.objects.create(name="Bench Council", slug=COUNCIL_SLUG, code="W06999998", nation="Wales")
    columns = max(1, round(math.sqrt(neighbourhoods)))
    areas = Neighbourhood.objects.bulk_create(
        [
            Neighbourhood(
                council=council,
                name=f"Area {n + 1:03d}",
                slug=f"{prefix}-area-{n + 1:03d}",
                code=f"W09{n + 1:06d}",
                households=rng.randint(600, 2400),
                imd_decile=1 + n % 10,
                ward=f"Ward {n // WARDS_OF + 1:02d}",
                # One in twenty has no boundary yet: the map lists those instead.
                boundary=None if n % 20 == 19 else boundary(n, columns),
            )
            for n in range(neighbourhoods)
        ]
    )
    officer = User.objects.create_user(OFFICER_EMAIL, None)
    Profile.objects.filter(user=officer).update(display_name="Bench officer")
    CouncilMembership.objects.create(council=council, user=officer, role=CouncilMembership.Role.OFFICER)
    TOTP.activate(officer, generate_totp_secret())
    CouncilOffer.objects.bulk_create(
        [
            CouncilOffer(council=council, kind=kind, title=title, description=title, created_by=officer)
            for kind, title in (
                ("grant", "Small grant"),
                ("equipment", "Garden tools"),
                ("skip", "A skip for a clean-up"),
                ("venue", "A community room"),
            )
        ]
    )

    # More joiners in less deprived areas, and fewer connections in the most deprived: the gaps the lens looks for.
    weights = [(0.3 + area.imd_decile / 10) * rng.uniform(0.5, 1.5) for area in areas]
    shares = [residents * weight / sum(weights) for weight in weights]
    counts = [math.floor(share) for share in shares]
    for n in sorted(range(len(areas)), key=lambda n: counts[n] - shares[n])[: residents - sum(counts)]:
        counts[n] += 1
    plans = []
    for area, count in zip(areas, counts, strict=True):
        campaign = rng.random() < 0.2
        plans.append(
            AreaPlan(
                neighbourhood=area,
                residents=count,
                groups=max(1, round(count / RESIDENTS_PER_GROUP)),
                pace=rng.choice((0.6, 1.0, 1.0, 1.5, 2.0)),
                campaign=rng.uniform(0.3, 0.9) if campaign else None,
                campaign_share=0.3 if campaign else 0.0,
                connections=rng.uniform(0.3, 1.0) * (0.5 + area.imd_decile / 5),
                posts=rng.uniform(0.5, 1.2),
                events=rng.randint(4, 10),
                turnout=rng.uniform(0.08, 0.2),
                initiatives=tuple(rng.choice(STATUSES) for _ in range(count // 40)),
            )
        )
    written = seed_year(council=council, plans=plans, officer=officer, prefix=prefix, seed=seed)
    return council, officer, written


def take_year_of_snapshots(council, *, nightly: bool = True) -> tuple[int, int]:
    """The 53 weekly snapshots from `take_snapshots`, and (when `nightly`) each week's figures copied into the six
    days that follow it, as a year of nightly runs would have left rows. Returns (counted rows, copied rows)."""
    from django.db import connection

    from engagement.demo import seed_snapshots
    from engagement.metrics import STORED
    from engagement.models import EngagementSnapshot

    counted = seed_snapshots(council=council, weeks=52)
    if not nightly:
        return counted, 0
    latest = EngagementSnapshot.objects.filter(neighbourhood__council=council).latest("date").date
    columns = ", ".join(["households", *STORED])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {EngagementSnapshot._meta.db_table} (neighbourhood_id, date, created_at, {columns})
            SELECT s.neighbourhood_id, s.date + d.day, s.created_at, {", ".join(f"s.{c}" for c in columns.split(", "))}
            FROM {EngagementSnapshot._meta.db_table} s
            JOIN neighbourhoods_neighbourhood n ON n.id = s.neighbourhood_id
            CROSS JOIN generate_series(1, 6) AS d(day)
            WHERE n.council_id = %s AND s.date < %s
            ON CONFLICT (neighbourhood_id, date) DO NOTHING
            """,  # noqa: S608 - table and column names are the model's own
            [council.pk, latest],
        )
        copied = cursor.rowcount
    return counted, copied


def seed(neighbourhoods: int, residents: int, nightly: bool) -> None:
    """In its own process: migrate, build the council, take the snapshots, and leave the planner fresh statistics."""
    configure()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    council, _, written = build_council(neighbourhoods, residents)
    built = time.perf_counter() - started
    print(f"  activity: {sum(written.values()):,} rows in {built:.0f} s ({_summary(written)})", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh tables: without statistics the planner picks slow plans for the metrics
    counted, copied = take_year_of_snapshots(council, nightly=nightly)
    print(
        f"  snapshots: {counted:,} counted by take_snapshots (53 weekly dates), {copied:,} in-between days copied, "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _summary(written) -> str:
    names = ("User", "Membership", "Post", "Comment", "Event", "RSVP", "Connection", "Initiative", "EngagementSnapshot")
    return ", ".join(f"{written[name]:,} {name}" for name in names if written.get(name))


# --- Measuring ------------------------------------------------------------------------------------------------------


def measure(council, officer, *, runs: int = 5) -> dict[str, tuple[float, int] | str]:
    """Each page as `officer` signed in: warmed once, then `runs` times. Returns page → (median ms, queries), or a
    sentence saying why the page could not be measured."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    client = Client()
    client.force_login(officer)
    results: dict[str, tuple[float, int] | str] = {}
    for page, name in PAGES:
        try:
            url = reverse(name, kwargs={"council_slug": council.slug})
        except NoReverseMatch:
            results[page] = f"not available (no URL {name})"
            continue
        response = client.get(url, secure=True)
        if response.status_code != 200:
            results[page] = f"not available ({url} answered {response.status_code})"
            continue
        times, queries = [], []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, secure=True)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, f"{url} answered {response.status_code}"
            queries.append(len(captured))
        results[page] = (statistics.median(times), max(queries))
    return results


def report(results: dict[str, tuple[float, int] | str]) -> list[str]:
    lines = []
    for page, result in results.items():
        if isinstance(result, str):
            lines.append(f"{page}: {result}")
        else:
            lines.append(f"{page}: {result[0]:.1f} ms, {result[1]} queries")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neighbourhoods", type=int, default=300)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page after one to warm up (default 5)")
    parser.add_argument(
        "--weekly", action="store_true", help="store only the 53 weekly snapshots, not a year of nightly rows"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure the council already in the database instead of building it"
    )
    parser.add_argument("--seed", nargs=3, type=int, metavar=("AREAS", "RESIDENTS", "NIGHTLY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.seed[0], args.seed[1], bool(args.seed[2]))
        return

    if not args.reuse:
        days = "53 weekly dates" if args.weekly else "365 nightly dates"
        print(
            f"Building a council of {args.neighbourhoods} neighbourhoods and {args.residents:,} residents with a year "
            f"of activity and snapshots for {days}…",
            flush=True,
        )
        started = time.perf_counter()
        recreate_database()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--seed",
                str(args.neighbourhoods),
                str(args.residents),
                str(int(not args.weekly)),
            ],
            check=True,
        )
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)

    configure()
    from accounts.models import User
    from engagement.models import EngagementSnapshot
    from neighbourhoods.models import Council

    council = Council.objects.get(slug=COUNCIL_SLUG)
    officer = User.objects.get(email=OFFICER_EMAIL)
    snapshots = EngagementSnapshot.objects.filter(neighbourhood__council=council)
    print(
        f"council: {council.neighbourhoods.count()} neighbourhoods, "
        f"{User.objects.filter(email__startswith='bench-neighbour-').count():,} residents, "
        f"{snapshots.count():,} snapshot rows over {snapshots.values('date').distinct().count()} dates; "
        f"median of {args.runs} requests after one to warm up",
        flush=True,
    )
    for line in report(measure(council, officer, runs=args.runs)):
        print(line)


if __name__ == "__main__":
    main()
