"""Benchmark: searching initiatives on the discover page when there are many of them.

    python bench/search.py --initiatives 50000

Creates (or recreates) the PostgreSQL database `bench_search` on 127.0.0.1 (`BENCH_DATABASE_URL` to change it),
migrates it and seeds that many initiatives in public street groups (bulk inserts): titles of a few words,
summaries of a sentence or two and descriptions of 50 to 300 words, drawn from a vocabulary where a few words are
common and most are rare, as in real writing. Then it asks for the discover page with Django's test client, as a
visitor, for a common word, a rare one, two words and a word nobody used, once to warm up and then `--runs` times
each, and prints one line per search: `<words> (<n> found): <ms> ms, <q> queries` (the median time in the server and
the queries one request ran), then whether PostgreSQL answers from the search index.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script, from anywhere
    sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_search"
GROUP_SIZE = 100  # initiatives per street group
COMMON = ["community", "street", "neighbours", "garden", "together", "local", "help", "people"]


def configure() -> None:
    common.configure(DEFAULT_DATABASE_URL, test_client=True)


def recreate_database() -> None:
    common.recreate_database(DEFAULT_DATABASE_URL)


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    """Made-up words of two to four syllables (stemmed as real ones are), the common ones first."""
    syllables = ["ab", "bri", "cor", "dun", "el", "fen", "gar", "hol", "ish", "jor", "kel", "lan", "mor", "nev", "os"]
    words = set(COMMON)
    ordered = list(COMMON)
    while len(ordered) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in words:
            words.add(word)
            ordered.append(word)
    return ordered


def text(rng: random.Random, words: list[str], weights: list[float], count: int) -> str:
    return " ".join(rng.choices(words, weights=weights, k=count))


def seed(count: int, *, seed: int = 7, prefix: str = "bench") -> dict[str, str]:
    """`count` initiatives in public street groups of one neighbourhood. Returns the words to search for."""
    from accounts.models import User
    from initiatives.models import Initiative
    from neighbourhoods.models import Council, Group, Neighbourhood

    rng = random.Random(seed)
    words = vocabulary(rng)
    # Zipf-like: the n-th word is used about 1/n as often as the first.
    weights = [1 / (n + 1) for n in range(len(words))]
    council = Council.objects.create(name="Search Council", slug=f"{prefix}-search", code="W06999997", nation="Wales")
    area = Neighbourhood.objects.create(
        council=council, name="Search Area", slug=f"{prefix}-search-area", code="W09999997", households=1000
    )
    author = User.objects.create_user(f"{prefix}-search@example.org", None)
    groups = Group.objects.bulk_create(
        [
            Group(neighbourhood=area, name=f"Street {n + 1}", slug=f"{prefix}-street-{n + 1}", created_by=author)
            for n in range(max(1, -(-count // GROUP_SIZE)))
        ]
    )
    statuses = ("idea", "planning", "active", "active", "completed")
    batch = []
    for n in range(count):
        batch.append(
            Initiative(
                group=groups[n // GROUP_SIZE],
                neighbourhood=area,
                title=text(rng, words, weights, rng.randint(2, 6)).capitalize()[:120],
                slug=f"{prefix}-initiative-{n + 1}",
                summary=text(rng, words, weights, rng.randint(12, 40))[:280],
                description=text(rng, words, weights, rng.randint(50, 300)),
                status=rng.choice(statuses),
                created_by=author,
            )
        )
        if len(batch) == 2000:
            Initiative.objects.bulk_create(batch)
            batch = []
    Initiative.objects.bulk_create(batch)
    return {"common": COMMON[0], "rare": words[-1], "two words": f"{COMMON[1]} {words[40]}", "unused": "zzyzx"}


def measure(terms: dict[str, str], *, runs: int = 5) -> list[tuple[str, int, float, int]]:
    """Each search on the discover page as a visitor: warmed once, then `runs` times. Returns (words, found, median
    ms, queries) per search."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from initiatives.selectors.initiatives import list_initiatives

    client = Client()
    url = reverse("initiatives:list")
    results = []
    for words in terms.values():
        response = client.get(url, {"q": words}, secure=True)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        times, queries = [], []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, {"q": words}, secure=True)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            queries.append(len(captured))
        found = list_initiatives(viewer=None, text=words).count()
        results.append((words, found, statistics.median(times), max(queries)))
    return results


def uses_index(words: str) -> bool:
    """Whether PostgreSQL's plan for the search reads the search index."""
    from django.db import connection

    from initiatives import search
    from initiatives.selectors.initiatives import list_initiatives

    sql, params = list_initiatives(viewer=None, text=words).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return any(search.INDEX_NAME in row[0] for row in cursor.fetchall())


def report(results: list[tuple[str, int, float, int]]) -> list[str]:
    return [f"{words} ({found:,} found): {ms:.1f} ms, {queries} queries" for words, found, ms, queries in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--initiatives", type=int, default=50_000)
    parser.add_argument(
        "--runs", type=int, default=5, help="timed requests per search after one to warm up (default 5)"
    )
    args = parser.parse_args()
    if args.initiatives < 1:
        parser.error("--initiatives must be at least 1")

    print(f"Seeding {args.initiatives:,} initiatives…", flush=True)
    started = time.perf_counter()
    recreate_database()
    configure()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    terms = seed(args.initiatives)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE initiatives_initiative")
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    for line in report(measure(terms, runs=args.runs)):
        print(line)
    print(f"search index used: {'yes' if uses_index(terms['rare']) else 'no'}")


if __name__ == "__main__":
    main()
