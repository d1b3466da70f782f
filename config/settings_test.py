"""Settings for the test suite: always real PostgreSQL and real Redis.

`DATABASE_URL` and `REDIS_URL` may point elsewhere; they default to the services on localhost. Each pytest-xdist
worker gets its own Redis database, so one worker clearing its cache or queue never touches another's.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/stronger_streets")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import DATABASES, REDIS_URL, env

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("The tests run on PostgreSQL: set DATABASE_URL to a postgres:// URL.")
if not REDIS_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("The tests run on Redis: set REDIS_URL to a redis:// URL.")


def _worker_redis_url(url: str) -> str:
    """The same server, database N + 1 + the xdist worker's number (N from the URL, gw0 → N + 1).

    Database N itself is left alone, so a suite never clears what a person or another suite keeps there.
    """
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    base, _, db = url.rpartition("/")
    if not db.isdigit() or base.endswith("/"):
        base, db = url.rstrip("/"), "0"
    return f"{base}/{(int(db) + 1 + worker) % 16}"


REDIS_URL = _worker_redis_url(REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ss-test",
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
ALLOWED_HOSTS = ["*"]
# Mail stays in memory (`mailoutbox`), whatever EMAIL_URL a developer has set. A test that runs a real worker against
# a local SMTP sink names the sink in TEST_EMAIL_URL, since a worker's outbox is out of the test's reach.
if os.environ.get("TEST_EMAIL_URL"):
    vars().update(env.email_url_config(os.environ["TEST_EMAIL_URL"]))
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
