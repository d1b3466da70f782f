"""The settings read the environment only, and production values pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#kq2!vprd9-lz0w$3m8u^tj6&hcb1yn4ea5fgs+io7qwe!zr2",
    "ALLOWED_HOSTS": "streets.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://streets.example.org",
    "SITE_URL": "https://streets.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/stronger_streets",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://mail.example.org:587",
    "DEFAULT_FROM_EMAIL": "Stronger Streets <hello@streets.example.org>",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and not k.startswith("DJANGO_")}
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean | env, capture_output=True, text=True, timeout=60
    )


def test_production_values_pass_the_deployment_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "insecure",
    [
        {"DEBUG": "true"},
        {"SECURE_HSTS_SECONDS": "0"},
        {"SECURE_SSL_REDIRECT": "false"},
        {"SITE_URL": "http://streets.example.org"},  # links in emails, one-click unsubscribe included, need https
    ],
)
def test_the_deployment_checks_catch_an_insecure_value(insecure):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION | insecure)
    assert result.returncode != 0


def test_without_debug_a_secret_key_is_required():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
