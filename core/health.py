"""Checks behind /healthz: can this process reach its database, its cache and its task broker?"""

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.crypto import get_random_string

OK = "ok"


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK


def check_cache() -> str:
    key = f"healthz:{get_random_string(12)}"
    cache.set(key, "1", timeout=10)
    found = cache.get(key)
    cache.delete(key)
    if found != "1":
        raise RuntimeError("the cache did not return what was stored")
    return OK


def check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process"
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return OK


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_checks() -> tuple[bool, dict[str, str]]:
    """Run every check; return whether all passed and each one's state ("ok", "in-process" or "error: …")."""
    results: dict[str, str] = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:
            healthy = False
            results[name] = f"error: {type(exc).__name__}"
    return healthy, results
