# syntax=docker/dockerfile:1
#
# Stronger Streets: one image for the web process (gunicorn), the Celery worker, Celery beat and the one-shot
# migration job. docker-compose.yml runs the full stack from it.
#
# Configuration comes from the environment at run time (see config/settings.py). Outside DEBUG, SECRET_KEY and
# ALLOWED_HOSTS must be set. The HEALTHCHECK below asks /healthz with the host of SITE_URL, so that host must be
# in ALLOWED_HOSTS (it always is when SITE_URL is the public address of the site).

FROM python:3.11-slim

# gunicorn reads WEB_CONCURRENCY as its number of sync workers; override it per host (about 2 × cores + 1).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    WEB_CONCURRENCY=3

WORKDIR /app

# The processes run as this unprivileged user. The code stays owned by root, so they cannot rewrite it; the home
# directory is theirs (gunicorn keeps its control socket there).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

# Dependencies first, so that a code change does not reinstall them. Every pin has a prebuilt wheel for
# Linux on x86_64 and arm64: no compiler is needed, and --only-binary makes sure none is tried.
COPY requirements.txt .
RUN pip install --only-binary=:all: -r requirements.txt

COPY . .

# Translations: the compiled .mo catalogues are committed beside their .po sources, so the image needs no gettext.
# Stop the build if one is missing rather than ship an image that silently falls back to English.
RUN missing="$(find locale -name '*.po' | while read -r po; do [ -f "${po%.po}.mo" ] || echo "$po"; done)"; \
    if [ -n "$missing" ]; then \
        echo "No compiled catalogue for: $missing -- run 'make messages' and commit the .mo files." >&2; \
        exit 1; \
    fi

# Static files are collected into the image (whitenoise serves them, hashed and compressed). Settings refuse to
# load without a SECRET_KEY outside DEBUG: this throwaway value exists only for this one build step and is not
# kept in the image.
RUN DEBUG=false SECRET_KEY=build-time-only-collectstatic-not-a-real-secret \
    python manage.py collectstatic --noinput

USER app

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.parse, urllib.request; host = urllib.parse.urlsplit(os.environ.get('SITE_URL', '')).netloc or 'localhost'; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=8)"

# Sync workers (gthread was no faster here and had worse tail latency); their number comes from WEB_CONCURRENCY.
# Worker heartbeats go to /dev/shm, which is memory-backed in a container; workers are recycled now and then so
# that no slow leak grows unbounded.
CMD ["gunicorn", "config.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-class", "sync", \
     "--worker-tmp-dir", "/dev/shm", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
