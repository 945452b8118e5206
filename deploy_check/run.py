"""make deploy-check: the example under gunicorn (4 sync workers), PostgreSQL and Redis.

Starts what it needs on loopback ports it picks (a fresh database on the machine's
PostgreSQL, a private redis-server, a private PostgreSQL cluster for the restart
scenario), runs bounded scenarios over HTTP, stops everything it started and prints one
line per scenario and ``deploy-check: N passed, M failed``; exits 1 on any failure.

Clients bind to distinct loopback addresses (127.x.y.z), so each scenario has the
client addresses and networks it needs (``REMOTE_ADDR`` is the socket's peer).
"""

import contextlib
import http.client
import json
import os
import secrets
import statistics
import sys
import threading
import time
import traceback
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import services

PASSWORD = "deploy-check " + secrets.token_hex(8)
API = "/api/v1"
PARALLEL = 30
ROUNDS = 10


# --- HTTP --------------------------------------------------------------------------------


class Client:
    def __init__(self, server):
        self.host, self.port = "127.0.0.1", server.port

    def connect(self, source="127.0.0.1"):
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=60, source_address=(source, 0)
        )
        connection.connect()
        return connection

    @staticmethod
    def send(connection, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        payload = None if body is None else json.dumps(body)
        connection.request(method, API + path, payload, headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw[:200]
        return response.status, dict(response.getheaders()), data

    def one(self, method, path, body=None, token=None, source="127.0.0.1"):
        connection = self.connect(source)
        try:
            return self.send(connection, method, path, body, token)
        finally:
            connection.close()

    def burst(self, requests):
        """``requests``: (method, path, body, token, source); all sent at once, one socket each."""
        barrier = threading.Barrier(len(requests))
        results = [None] * len(requests)

        def run(index, request):
            method, path, body, token, source = request
            connection = self.connect(source)
            try:
                barrier.wait()
                results[index] = self.send(connection, method, path, body, token)
            except Exception as exc:
                results[index] = (0, {}, repr(exc))
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=item) for item in enumerate(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results


def statuses(results):
    counts = {}
    for status, _, _ in results:
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items()))


def login_body(email, password=PASSWORD):
    return {"email": email, "password": password}


# --- data, through the ORM of the same database ------------------------------------------


def setup_django(environment):
    os.environ.update(environment)
    os.environ["DJANGO_SETTINGS_MODULE"] = "example_project.settings"
    sys.path.insert(0, str(services.MANAGE.parent))
    import django

    django.setup()


def new_user(label, factor=False):
    from django.contrib.auth import get_user_model

    from django_stepup import otp

    user = get_user_model().objects.create_user(
        email=f"{label}-{secrets.token_hex(3)}@deploy-check.example", password=PASSWORD
    )
    device = None
    if factor:
        device = otp.create_totp_factor(user, "phone")
        device.confirmed = True
        device.save()
    return user, device


def login_tokens(user, count, **fields):
    from django_stepup.models import Token

    return [Token.objects.create_token(user, mfa=False, **fields)[1] for _ in range(count)]


def totp_now(device):
    import pyotp

    from django_stepup import otp

    return pyotp.TOTP(otp.factor_secret(device)).now()


# --- scenarios ---------------------------------------------------------------------------


def scenario_totp_replay(client):
    wins = []
    for _ in range(ROUNDS):
        user, device = new_user("totp", factor=True)
        tokens = login_tokens(user, PARALLEL)
        code = totp_now(device)
        body = {"code": code}
        results = client.burst(
            [("POST", f"/auth/totp/{device.pk}/verify/", body, t, "127.0.0.1") for t in tokens]
        )
        wins.append(statuses(results).get(200, 0))
        if any(s >= 500 or s == 0 for s, _, _ in results):
            return False, f"server errors: {statuses(results)}"
    return wins == [1] * ROUNDS, f"successes per round {wins} ({PARALLEL} connections)"


def scenario_recovery_replay(client):
    from django_stepup import otp

    user, _ = new_user("recovery", factor=True)
    codes = otp.generate_recovery_codes(user)[:ROUNDS]
    tokens = login_tokens(user, PARALLEL)
    wins = []
    for code in codes:
        results = client.burst(
            [("POST", "/auth/mfa/verify/", {"code": code}, t, "127.0.0.1") for t in tokens]
        )
        wins.append(statuses(results).get(200, 0))
    return wins == [1] * ROUNDS, f"successes per round {wins} ({PARALLEL} connections)"


def logins(email, sources, password="wrong password"):
    return [("POST", "/auth/login/", login_body(email, password), None, s) for s in sources]


def scenario_throttle_account(client):
    user, _ = new_user("throttle-account")
    results = client.burst(logins(user.email, [f"127.1.0.{i}" for i in range(1, 16)]))
    got = statuses(results)
    return got == {401: 10, 429: 5}, f"15 parallel from 15 addresses: {got} (want 10 x 401)"


def scenario_throttle_address(client):
    emails = [f"nobody{i}-{secrets.token_hex(2)}@deploy-check.example" for i in range(40)]
    requests = [("POST", "/auth/login/", login_body(e), None, "127.2.0.1") for e in emails]
    got = statuses(client.burst(requests))
    return got == {401: 30, 429: 10}, f"40 parallel accounts from one address: {got}"


def scenario_throttle_straddle(client):
    user, _ = new_user("throttle-edge")
    while not 48.0 <= time.time() % 60 < 49.0:  # 12 s for the first burst, under load too
        time.sleep(0.05)
    began = time.time()
    boundary = began - began % 60 + 60
    before = statuses(client.burst(logins(user.email, [f"127.3.0.{i}" for i in range(1, 11)])))
    ended = time.time()
    time.sleep(max(0.0, boundary + 0.5 - time.time()))
    after = statuses(client.burst(logins(user.email, [f"127.3.1.{i}" for i in range(1, 11)])))
    passed = before.get(401, 0) + after.get(401, 0)
    return (
        passed == 10 and after == {429: 10} and ended < boundary,
        f"10 at :{began % 60:02.0f}-:{ended % 60:02.0f}, 10 at :00 after the boundary: "
        f"{passed} passed {before} {after}",
    )


def scenario_strangers(client):
    user, _ = new_user("owner")
    home = client.one("POST", "/auth/login/", login_body(user.email), source="127.4.0.1")
    strangers = client.burst(logins(user.email, [f"127.5.{i}.1" for i in range(15)]))
    owner = client.one("POST", "/auth/login/", login_body(user.email), source="127.4.0.2")
    got = statuses(strangers)
    ok = home[0] == 200 and got == {401: 9, 429: 6} and owner[0] == 200
    return ok, f"owner {home[0]}, 15 strangers {got}, then the owner from home {owner[0]}"


def scenario_lockout(client):
    from django_stepup.models import MFAState

    user, device = new_user("lockout", factor=True)
    tokens = login_tokens(user, PARALLEL)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    results = []
    for _ in range(4):
        codes = ["".join(secrets.choice(alphabet) for _ in range(16)) for _ in tokens]
        results += client.burst(
            [
                ("POST", "/auth/mfa/verify/", {"code": c}, t, "127.0.0.1")
                for c, t in zip(codes, tokens, strict=True)
            ]
        )
    got = statuses(results)
    failures = MFAState.objects.get(user=user).failure_count
    right = client.one("POST", "/auth/mfa/verify/", {"code": totp_now(device)}, tokens[0])
    ok = got == {400: 100, 403: 20} and failures == 100 and right[0] == 403
    return (
        ok,
        f"120 wrong codes in parallel: {got}, counter {failures}, then the right code {right[0]}",
    )


def scenario_duplicates(client):
    from django_stepup.models import Token, TokenPolicy
    from dnsapi.models import Domain, RRset

    user, _ = new_user("dup")
    (secret,) = login_tokens(user, 1)
    name = f"dup{secrets.token_hex(3)}.example"
    domain = statuses(
        client.burst([("POST", "/domains/", {"name": name}, secret, "127.0.0.1")] * PARALLEL)
    )
    rrset_body = {"subname": "www", "type": "A", "ttl": 3600, "records": ["192.0.2.1"]}
    rrset = statuses(
        client.burst(
            [("POST", f"/domains/{name}/rrsets/", rrset_body, secret, "127.0.0.1")] * PARALLEL
        )
    )
    api_token, _ = Token.objects.create_token(user, mfa=None)
    default = {"domain": None, "subname": None, "type": None, "perm_write": False}
    path = f"/auth/tokens/{api_token.pk}/policies/rrsets/"
    policy = statuses(client.burst([("POST", path, default, secret, "127.0.0.1")] * PARALLEL))
    rows = (
        Domain.objects.filter(name=name).count(),
        RRset.objects.filter(domain__name=name, subname="www", type="A").count(),
        TokenPolicy.objects.filter(token=api_token).count(),
    )
    no_errors = all(s < 500 and s != 0 for got in (domain, rrset, policy) for s in got)
    ok = (
        rows == (1, 1, 1)
        and no_errors
        and all(got.get(201) == 1 for got in (domain, rrset, policy))
    )
    return ok, f"30 x domain {domain}, RRset {rrset}, policy {policy}: rows {rows}"


def scenario_delete_races_policies(client):
    from django_stepup.models import Token, TokenPolicy

    user, _ = new_user("race")
    (secret,) = login_tokens(user, 1)
    name = f"race{secrets.token_hex(3)}.example"
    assert client.one("POST", "/domains/", {"name": name}, secret)[0] == 201
    outcomes = {}
    left = []
    for _ in range(3):
        victim, victim_secret = Token.objects.create_token(user, mfa=None)
        path = f"/auth/tokens/{victim.pk}/policies/rrsets/"
        default = {"domain": None, "subname": None, "type": None, "perm_write": True}
        assert client.one("POST", path, default, secret)[0] == 201
        writes = [
            (
                "POST",
                path,
                {"domain": name, "subname": f"s{i}", "type": "A", "perm_write": True},
                secret,
                "127.0.0.1",
            )
            for i in range(PARALLEL - 1)
        ]
        deletion = ("DELETE", f"/auth/tokens/{victim.pk}/", None, secret, "127.0.0.1")
        results = client.burst([*writes[:15], deletion, *writes[15:]])
        for status, count in statuses(results).items():
            outcomes[status] = outcomes.get(status, 0) + count
        still = client.one("GET", "/auth/account/", token=victim_secret)[0]
        left.append(
            (
                Token.objects.filter(pk=victim.pk).exists(),
                TokenPolicy.objects.filter(token_id=victim.pk).count(),
                still,
            )
        )
    ok = all(s < 500 and s != 0 for s in outcomes) and all(row == (False, 0, 401) for row in left)
    return (
        ok,
        f"3 x (1 delete + 29 policy writes): {outcomes}; afterwards (exists, policies, auth) {left}",
    )


def scenario_redis_outage(client, redis):
    user, _ = new_user("redis")
    (secret,) = login_tokens(user, 1)
    redis.stop()
    try:
        account = client.one("GET", "/auth/account/", token=secret)
        login = client.one("POST", "/auth/login/", login_body(user.email), source="127.6.0.1")
        health = client.one("GET", "/health/")
    finally:
        redis.start()
    after = client.one("POST", "/auth/login/", login_body(user.email), source="127.6.0.2")
    closed = (
        login[0] == 503
        and "Retry-After" in login[1]
        and isinstance(login[2], dict)
        and "token" not in login[2]
    )
    ok = account[0] == 200 and closed and health[0] == 503 and after[0] == 200
    return ok, (
        f"Redis down: token request {account[0]}, login {login[0]} "
        f"Retry-After={login[1].get('Retry-After')}, health {health[0]}; restarted: login {after[0]}"
    )


SEED = """
from accounts.models import User
from django_stepup.models import Token
user = User.objects.create_user(email="pg@deploy-check.example", password="x")
print(Token.objects.create_token(user, mfa=False)[1])
"""
COUNT = "from dnsapi.models import Domain; print(Domain.objects.count())"


def scenario_postgres_restart(redis):
    if services.postgres_bin() is None:
        return None, "skipped: no /usr/lib/postgresql/*/bin/initdb"
    with services.PrivatePostgres() as postgres:
        environment = services.example_environment(postgres.url, redis.url)
        services.manage(environment, "migrate", "--verbosity", "0")
        secret = services.manage(environment, "shell", "-c", SEED).stdout.split()[-1]
        # The outage's 503s log their tracebacks on purpose: no log to keep.
        with services.Gunicorn(environment, keep_log_with_errors=False) as server:
            client = Client(server)
            warm = statuses(
                client.burst([("GET", "/auth/account/", None, secret, "127.0.0.1")] * 8)
            )
            postgres.stop()
            try:
                down = [
                    client.one("GET", "/auth/account/", token=secret),
                    client.one("POST", "/domains/", {"name": "outage.example"}, secret),
                    client.one("GET", "/health/"),
                ]
            finally:
                postgres.start()
            deadline = time.monotonic() + 15
            while True:
                back = statuses(
                    client.burst([("GET", "/auth/account/", None, secret, "127.0.0.1")] * 8)
                )
                if back == {200: 8} or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            created = client.one("POST", "/domains/", {"name": "after.example"}, secret)[0]
            domains = services.manage(environment, "shell", "-c", COUNT).stdout.split()[-1]
    json_503 = all(s == 503 and isinstance(d, dict) and h.get("Retry-After") for s, h, d in down)
    ok = warm == {200: 8} and json_503 and back == {200: 8} and created == 201 and domains == "1"
    return ok, (
        f"down: {[s for s, _, _ in down]} (JSON, Retry-After), back without restarting "
        f"workers: {back}, a write {created}, domains {domains} (nothing half-written)"
    )


def measure(client, path, token, seconds, threads=8):
    latencies = []
    errors = []
    stop_at = time.monotonic() + seconds

    def run():
        connection = client.connect()
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            status, _, _ = client.send(connection, "GET", path, token=token)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors.append(status)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(latencies) / (time.monotonic() - began), latencies, errors


def scenario_throughput(client):
    from django.utils import timezone
    from rest_framework.authtoken.models import Token as DRFToken

    from django_stepup.models import Token

    user, _ = new_user("bench", factor=True)
    _, promoted = Token.objects.create_token(
        user, mfa=True, mfa_at=timezone.now(), max_age=timedelta(days=1)
    )
    drf = DRFToken.objects.create(user=user).key
    runs = {"stepup": ([], []), "drf": ([], [])}
    for _ in range(2):
        for name, path, token in (
            ("drf", "/twin/drf/", drf),
            ("stepup", "/twin/stepup/", promoted),
        ):
            rps, latencies, errors = measure(client, path, token, seconds=3)
            runs[name][0].append(rps)
            runs[name][1].extend(latencies)
            if errors:
                return False, f"{name}: non-200 answers {errors[:5]}"

    def summary(name):
        rps, latencies = runs[name]
        ordered = sorted(latencies)
        p99 = ordered[int(len(ordered) * 0.99) - 1]
        return statistics.mean(rps), statistics.median(ordered) * 1000, p99 * 1000

    stepup, drf_ = summary("stepup"), summary("drf")
    ratio = stepup[0] / drf_[0]
    return ratio >= 0.8, (
        f"stepup {stepup[0]:.0f} req/s p50 {stepup[1]:.1f} ms p99 {stepup[2]:.1f} ms; "
        f"DRF TokenAuthentication {drf_[0]:.0f} req/s p50 {drf_[1]:.1f} ms p99 {drf_[2]:.1f} ms; "
        f"ratio {ratio:.2f} (goal >= 1.0, fails below 0.8)"
    )


# --- driver ------------------------------------------------------------------------------


def main():
    began = time.monotonic()
    results = []

    def record(name, outcome):
        ok, detail = outcome
        mark = "SKIP" if ok is None else ("PASS" if ok else "FAIL")
        results.append(ok)
        print(f"{mark} {name}: {detail}", flush=True)

    def run(name, scenario, *args):
        try:
            record(name, scenario(*args))
        except Exception as exc:
            traceback.print_exc()
            record(name, (False, f"crashed: {exc!r}"))

    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(services.Redis())
        database = stack.enter_context(services.Database())
        environment = services.example_environment(database.url, redis.url)
        services.manage(environment, "migrate", "--verbosity", "0")
        setup_django(environment)
        server = stack.enter_context(services.Gunicorn(environment))
        client = Client(server)
        print(
            f"deploy-check: gunicorn 4 workers on {server.url}, {database.name}, Redis :{redis.port}"
        )
        run("totp replay", scenario_totp_replay, client)
        run("recovery-code replay", scenario_recovery_replay, client)
        run("login throttle per account", scenario_throttle_account, client)
        run("login throttle per address", scenario_throttle_address, client)
        run("no lockout by strangers", scenario_strangers, client)
        run("verification lockout", scenario_lockout, client)
        run("duplicate-create bursts", scenario_duplicates, client)
        run("token delete racing policy writes", scenario_delete_races_policies, client)
        run("redis stops and restarts", scenario_redis_outage, client, redis)
        run("throughput vs DRF TokenAuthentication", scenario_throughput, client)
        run("login throttle across a window edge", scenario_throttle_straddle, client)
        run(
            "server errors logged",
            lambda: (server.errors() == 0, f"{server.errors()} tracebacks on stderr"),
        )
        from django.db import connections

        connections.close_all()
        run("postgresql restarts", scenario_postgres_restart, redis)
    passed = sum(ok is True for ok in results)
    failed = sum(ok is False for ok in results)
    skipped = sum(ok is None for ok in results)
    print(
        f"deploy-check: {passed} passed, {failed} failed"
        + (f", {skipped} skipped" if skipped else "")
        + f" in {time.monotonic() - began:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
