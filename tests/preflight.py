"""Before the suite runs: are real PostgreSQL and Redis reachable? Say which is not, in one line, and how to start it.

Run as `python -m tests.preflight` (the Makefile does) or let `tests/conftest.py` call `problem()`.
"""

import os
import sys

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stronger_streets"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'


def problem() -> str | None:
    """None when both services answer; otherwise one line naming the first that does not, and how to start it."""
    import environ
    import psycopg
    import redis

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)

    db = environ.Env.db_url_config(database_url)
    try:
        # The maintenance database always exists; the test database is created by pytest-django.
        psycopg.connect(
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"PostgreSQL is not reachable at {db.get('HOST')}:{db.get('PORT') or 5432} ({reason}). "
            f"Start it with: {START_POSTGRES}  — or set DATABASE_URL."
        )
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis is not reachable at {redis_url} ({exc}). Start it with: {START_REDIS}  — or set REDIS_URL."
    return None


def main() -> int:
    found = problem()
    if found:
        print(found, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
