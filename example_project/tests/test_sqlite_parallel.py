"""SQLite that does not fall over: the example's dev server on a file-based SQLite database
answers parallel writes (token creates, bulk PATCHes) without ``500 database is locked``.

In-memory test databases don't share locks between connections, so this runs the example's
own ``runserver`` (threaded, one connection per request) on a temporary SQLite file.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"
PARALLEL = 20
SETUP = """
from django_stepup.models import Token
from accounts.models import User
from dnsapi.models import Domain
user = User.objects.create_user(email="parallel@example.com", password="x" * 20)
Domain.objects.create(owner=user, name="parallel.example")
print(Token.objects.create_token(user, mfa=False)[1])
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The example served on a fresh SQLite file: (base URL, a login token's secret)."""
    tmp_path = tmp_path_factory.mktemp("sqlite")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "DJANGO_DEBUG": "true",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def manage(*args):
        return subprocess.run(
            [sys.executable, str(MANAGE), *args],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout

    manage("migrate", "--verbosity=0")
    secret = manage("shell", "--no-imports", "--command", SETUP).strip()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the dev server did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/api/v1", secret
    finally:
        process.terminate()
        process.wait(timeout=10)


def call(method, url, secret, body):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Token {secret}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def in_parallel(calls):
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda args: call(*args), calls))


def test_parallel_token_creates_all_succeed(server):
    base, secret = server

    statuses = in_parallel(
        [("POST", f"{base}/auth/tokens/", secret, {"name": f"t{i}"}) for i in range(PARALLEL)]
    )

    assert statuses == [201] * PARALLEL


def test_parallel_bulk_patches_all_succeed(server):
    base, secret = server
    url = f"{base}/domains/parallel.example/rrsets/"

    statuses = in_parallel(
        [
            (
                "PATCH",
                url,
                secret,
                [
                    {"subname": f"host{i}", "type": "A", "ttl": 3600, "records": [f"192.0.2.{i}"]},
                    {"subname": "shared", "type": "TXT", "ttl": 3600, "records": [f'"{i}"']},
                ],
            )
            for i in range(PARALLEL)
        ]
    )

    assert statuses == [200] * PARALLEL
