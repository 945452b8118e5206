"""The example's settings from the environment, and ``check --deploy`` as production runs it."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

MANAGE = Path(__file__).resolve().parents[1] / "manage.py"


def manage(*args, **environment):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "CACHE_URL"))
    }
    env.update(environment)
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "CACHE_URL": "redis://127.0.0.1:6379/0",
}


def test_check_deploy_reports_nothing_in_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_local_memory_cache_in_production_is_flagged():
    environment = {**PRODUCTION}
    del environment["CACHE_URL"]

    result = manage("check", "--deploy", "--fail-level", "WARNING", **environment)

    assert result.returncode != 0
    assert "django_stepup.W001" in result.stderr


def test_production_needs_a_secret_key():
    result = manage("check", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expression", "expected"),
    [
        (
            "DATABASE_URL",
            "postgres://u:p@db.example:5433/dns",
            "DATABASES['default']['ENGINE']",
            "django.db.backends.postgresql",
        ),
        (
            "DATABASE_URL",
            "postgres://u:p@db.example:5433/dns",
            "DATABASES['default']['PORT']",
            "5433",
        ),
        (
            "CACHE_URL",
            "redis://127.0.0.1:6379/0",
            "CACHES['default']['BACKEND']",
            "django.core.cache.backends.redis.RedisCache",
        ),
        ("DJANGO_DEBUG", "0", "DEBUG", "False"),
    ],
)
def test_settings_come_from_the_environment(variable, value, expression, expected):
    environment = {variable: value}
    if variable == "DJANGO_DEBUG":
        environment["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)

    result = manage(
        "shell",
        "--no-imports",
        "-c",
        f"from django.conf import settings; print(settings.{expression})",
        **environment,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_defaults_are_sqlite_local_memory_console_email_and_debug():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], "
        "s.EMAIL_BACKEND, s.DEBUG, s.ALLOWED_HOSTS)",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split(" ", 4) == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.mail.backends.console.EmailBackend",
        "True",
        "['127.0.0.1', 'localhost', '[::1]']\n",
    ]
