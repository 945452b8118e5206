"""GET /api/v1/health/, the JSON 503 of a database outage, and the production settings."""

import json
import socket

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.test_deploy_settings import PRODUCTION, manage

HEALTH = "/api/v1/health/"


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


#: Asks the example over Django's test client, in a process of its own settings.
PROBE = """
import json
from django.test import Client
client = Client(raise_request_exception=False, HTTP_HOST="localhost")
for method, path in [("get", "/api/v1/health/"), ("post", "/api/v1/auth/login/")]:
    body = {"email": "a@example.com", "password": "x"} if method == "post" else None
    r = getattr(client, method)(path, body, content_type="application/json", secure=True)
    print(json.dumps([r.status_code, r.get("Retry-After"), json.loads(r.content)]))
"""


@pytest.mark.django_db
def test_healthy_answers_ok_for_the_database_and_a_shared_cache():
    response = APIClient().get(HEALTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body.get("cache", "ok") == "ok"


@pytest.mark.django_db
def test_an_unreachable_cache_is_503():
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
    }
    with override_settings(CACHES={"default": cache}):
        response = APIClient().get(HEALTH)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "cache": "unavailable"}
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_only_get():
    assert APIClient().post(HEALTH).status_code == 405


def test_an_unreachable_database_is_a_json_503_and_an_error_on_stderr():
    database = f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere"
    result = manage("shell", "-c", PROBE, **PRODUCTION, DATABASE_URL=database)
    assert result.returncode == 0, result.stderr
    health, login = (json.loads(line) for line in result.stdout.splitlines() if line[:1] == "[")
    assert health[0] == 503
    assert health[2]["database"] == "unavailable"
    assert login == [
        503,
        "5",
        {"detail": "The service is temporarily unavailable. Try again later."},
    ]
    assert "Service Unavailable: /api/v1/auth/login/" in result.stderr


def test_production_keeps_postgresql_connections_and_checks_them():
    show = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], d.get('OPTIONS', {}).get('pool'))"
    )
    database = "postgres://postgres@127.0.0.1:5432/postgres"
    persistent = manage("shell", "-c", show, **PRODUCTION, DATABASE_URL=database)
    assert persistent.stdout.splitlines()[-1].split() == [
        "600",
        "True",
        "None",
    ]
    pooled = manage("shell", "-c", show, **PRODUCTION, DATABASE_URL=database, DJANGO_DB_POOL="1")
    assert pooled.stdout.splitlines()[-1].split() == [
        "0",
        "False",
        "{'min_size':",
        "1,",
        "'max_size':",
        "4}",
    ]
