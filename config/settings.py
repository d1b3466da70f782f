"""Settings for Stronger Streets, read from the environment only.

Every variable is listed in the README with its default. Unset, this is the embedded default: SQLite, tasks run
in-process, email printed to the console, the cache in local memory. `DATABASE_URL` and `REDIS_URL` give the
full stack.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

# A secret has no default outside DEBUG: production must set its own.
SECRET_KEY = env("SECRET_KEY", default="django-insecure-local-development-only" if DEBUG else environ.Env.NOTSET)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "neighbourhoods",
    "initiatives",
    "notifications",
    "moderation",
    "engagement",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.PreferredLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "engagement.access.OfficerMFAMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "core.context_processors.site",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiler spends hundreds of milliseconds compiling any query it guesses to be costly, and
    # this site's queries (pages, digest batches, the hourly "whose digest is due") finish sooner than that. Off,
    # unless DATABASE_URL sets `?options=…` itself.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
else:
    # WAL lets the development server read while an in-process task writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ---------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ss",
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    # No broker: tasks run in-process, straight away, and their errors surface.
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

# --- Celery ---------------------------------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once it has finished, and a worker that dies mid-task hands it back to the queue:
# late, never lost. Every task must therefore be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Processes per worker. Most tasks spend their time waiting on the mail server and the database (emails, digests)
# rather than on the CPU, so twice the CPU count keeps the cores busy; `bench/digests.py` measures it.
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2 * len(os.sched_getaffinity(0)))
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TIMEZONE = "Europe/London"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Workers keep their database connection across tasks instead of opening one per task (Celery's Django fixup
# closes it after every task unless this is set; it reads the name as written here). `config/celery.py` still
# drops a connection that broke or outlived CONN_MAX_AGE before each task.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Beat reads this schedule into django-celery-beat's tables, where staff can also adjust it in the admin.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "accounts.purge_unverified_accounts": {
        "task": "accounts.tasks.purge_unverified_accounts",
        "schedule": crontab(hour=3, minute=15),
    },
    "core.clear_expired_sessions": {
        "task": "core.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=45),
    },
    # Closes decisions whose voting time has passed and records their outcome; safe to overlap with itself.
    "initiatives.close_due_decisions": {
        "task": "initiatives.tasks.close_due_decisions",
        "schedule": crontab(minute="*/5"),
    },
    # Sends immediate notification emails that a lost queue message or a dead worker left undelivered.
    "notifications.requeue_undelivered": {
        "task": "notifications.delivery_tasks.requeue_undelivered",
        "schedule": crontab(minute="*/2"),
    },
    # Queues the daily and weekly digests due this hour (each person's own hour, Europe/London).
    "notifications.queue_digests": {
        "task": "notifications.digest_tasks.queue_digests",
        "schedule": crontab(minute=0),
    },
    # Reminds people going to an event that starts within a day; safe to overlap with itself.
    "neighbourhoods.send_event_reminders": {
        "task": "neighbourhoods.tasks.send_event_reminders",
        "schedule": crontab(minute="*/15"),
    },
    # Tells people who may vote and have not that a decision closes within a day; safe to overlap with itself.
    "initiatives.remind_closing_decisions": {
        "task": "initiatives.tasks.remind_closing_decisions",
        "schedule": crontab(minute="*/15"),
    },
    # Records every neighbourhood's engagement figures for the day just ended; safe to run again for a day.
    "engagement.take_snapshots": {
        "task": "engagement.tasks.take_snapshots",
        "schedule": crontab(hour=2, minute=30),
    },
}
# How long an immediate notification email may wait for its worker before the sweep queues it again.
NOTIFICATIONS_REQUEUE_AFTER_MINUTES = env.int("NOTIFICATIONS_REQUEUE_AFTER_MINUTES", default=5)

# --- Council engagement ------------------------------------------------------------------------------------
# Small-number suppression for everything councils see (ONS default): counts from 1 to THRESHOLD - 1 are shown as
# "<THRESHOLD" and every other count is rounded to the nearest ROUNDING_BASE.
ENGAGEMENT_SUPPRESSION_THRESHOLD = env.int("ENGAGEMENT_SUPPRESSION_THRESHOLD", default=10)
ENGAGEMENT_ROUNDING_BASE = env.int("ENGAGEMENT_ROUNDING_BASE", default=5)
# How long an invitation to join a council's team stays valid.
ENGAGEMENT_INVITE_DAYS = env.int("ENGAGEMENT_INVITE_DAYS", default=14)
# The council API: requests per token (DRF rate syntax: "120/min", "5000/day"), counted in the cache.
ENGAGEMENT_API_RATE = env("ENGAGEMENT_API_RATE", default="120/min")

REST_FRAMEWORK = {
    # Read-only and JSON only; each endpoint names its token authentication, permissions and throttle itself.
    "DEFAULT_AUTHENTICATION_CLASSES": ["engagement.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Stronger Streets council API",
    "DESCRIPTION": (
        "Read-only figures for council officers: neighbourhoods, engagement metrics with small numbers suppressed "
        "(ONS rule), weekly time series, public initiatives and the community-power ledger. Make a token on your "
        "council's API tokens page and send it as `Authorization: Bearer <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "MetricKindEnum": "engagement.api.serializers.METRIC_KINDS",
        "OfferKindEnum": "initiatives.models.CouncilOffer.Kind",
    },
}

# --- Accounts (django-allauth) --------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.AuthenticationBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "core:home"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_USER_DISPLAY = "accounts.adapters.user_display"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Someone signing up with an address that already has an account is told so on the form, so they can sign in or
# reset their password instead of waiting for an email. Rate limits keep this from being used to test addresses in bulk.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Stronger Streets] "
# Links in emails use the scheme of the public address.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = urlsplit(SITE_URL).scheme or "https"
# allauth's rate limits stay on at their defaults (ACCOUNT_RATE_LIMITS unset); they count in the cache, which is
# Redis on the full stack, so every web process shares one count.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Stronger Streets"
# Sessions are recorded at sign-in. Tracking every request would add a write to every page view.
USERSESSIONS_TRACK_ACTIVITY = False

# --- Email ----------------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds to wait on the mail server before giving up (the task then retries), instead of waiting for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Stronger Streets <hello@strongerstreets.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The shared secret a mail provider sends in `X-Bounce-Secret` to report bounces; empty turns the endpoint off.
BOUNCE_WEBHOOK_SECRET = env("BOUNCE_WEBHOOK_SECRET", default="")

# --- Internationalisation -------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", _("English")), ("cy", _("Welsh"))]
# Our own catalogue first; allauth ships no Welsh, and Django's own Welsh lacks a few strings we show (password
# rules, "2 days ago"), so each has a catalogue of its own beside ours, kept apart so `makemessages` on our code
# never drops them.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "allauth", BASE_DIR / "locale" / "django"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # allauth shows the authenticator-app QR code as a data: URI.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

FORM_RENDERER = "core.forms.FormRenderer"
