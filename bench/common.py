"""What every benchmark shares: its own PostgreSQL database, made afresh, and the plain settings it runs under.

Each script names its default database (`postgres://postgres@127.0.0.1:5432/bench_<name>`); `BENCH_DATABASE_URL`
points any of them elsewhere.
"""

import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def database_url(default: str) -> str:
    return os.environ.get("BENCH_DATABASE_URL", default)


def recreate_database(default: str) -> None:
    """Drop the benchmark's database (whoever is connected) and create it empty."""
    import psycopg

    base, _, name = database_url(default).rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def configure(default: str, *, test_client: bool = False, **environ: str) -> None:
    """Plain settings (not the test ones), no broker (task bodies run in-process), the benchmark's database, and any
    further `environ`. With `test_client`, Django's test client can ask for pages: its host is allowed, and static
    files go by their plain names (the hashed names' manifest comes from collectstatic, which a benchmark should not
    run into the working tree; looking a name up in it costs the same)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = database_url(default)
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    os.environ.pop("REDIS_URL", None)
    if test_client:
        os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.update(environ)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    import django

    django.setup()
    if test_client:
        from django.conf import settings

        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
