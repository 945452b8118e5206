"""Time one trivial DRF view under several token authentication schemes, in one process.

Schemes: no authentication, DRF's ``TokenAuthentication``, django-rest-knox and
``StepUpTokenAuthentication`` (alone, and with ``MFARequiredIfEnabled``), each with a user
who holds 1 and 200 tokens. Requests go through Django's test ``Client`` (full WSGI
dispatch, no middleware). The schemes are interleaved in rounds so that machine noise
hits them all alike; every scheme is warmed up first, so the medians are steady state
(StepUp writes ``last_used`` at most once per ``LAST_USED_INTERVAL``, and records a
token's network on its first use from it; those writes happen during warm-up).

Run from the repository root: ``python benchmarks/bench_auth.py --requests 2000``.
Always exits 0: it reports, it does not gate.
"""

import argparse
import cProfile
import gc
import os
import platform
import pstats
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"

import django  # noqa: E402

TOKENS_PER_USER = (1, 200)
RATIO_LIMIT = 1.10
QUERY_SAMPLE = 5


@dataclass(frozen=True)
class Scheme:
    name: str
    path: str
    note: str = ""


SCHEMES = (
    Scheme("no auth", "/none/"),
    Scheme("DRF Token", "/drf/", "one token per user (OneToOneField): always 1"),
    Scheme("knox", "/knox/"),
    Scheme("stepup", "/stepup/"),
    Scheme("stepup+MFA", "/stepup-mfa/", "IsAuthenticated & MFARequiredIfEnabled"),
)
NO_AUTH, DRF, KNOX, STEPUP, STEPUP_MFA = (scheme.name for scheme in SCHEMES)


@dataclass
class Case:
    """One scheme with one tokens-per-user count: its credentials and its samples."""

    scheme: Scheme
    tokens_per_user: int
    authorization: str | None
    samples_ns: list = field(default_factory=list)
    queries: float = 0.0
    writes: float = 0.0

    @property
    def label(self):
        return f"{self.scheme.name} ({self.tokens_per_user})"

    def get(self, client):
        if self.authorization is None:
            return client.get(self.scheme.path)
        return client.get(self.scheme.path, HTTP_AUTHORIZATION=self.authorization)

    def median_us(self):
        return statistics.median(self.samples_ns) / 1000

    def p95_us(self):
        return statistics.quantiles(self.samples_ns, n=20)[-1] / 1000


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=2000, help="timed requests per case (default 2000)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=20,
        help="interleaved rounds the requests are split into (default 20)",
    )
    parser.add_argument(
        "--warmup", type=int, default=100, help="untimed requests per case before timing"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile StepUpTokenAuthentication (200 tokens) with cProfile",
    )
    arguments = parser.parse_args()
    if arguments.requests < arguments.rounds or arguments.rounds < 1:
        parser.error("--requests must be at least --rounds, and --rounds at least 1")
    return arguments


def create_cases():
    """Users holding 1 and 200 tokens in each scheme's store; one token of each is used."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from knox.models import AuthToken
    from rest_framework.authtoken.models import Token as DRFToken

    from django_stepup.models import MFAState
    from django_stepup.models import Token as StepUpToken

    cases = []
    for count in TOKENS_PER_USER:
        user = get_user_model().objects.create_user(username=f"bench-{count}", password="bench")
        MFAState.objects.create(user=user, enabled=True)
        drf_key = DRFToken.objects.create(user=user).key
        knox_secret = None
        stepup_secret = None
        for _ in range(count):
            _knox_token, knox_secret = AuthToken.objects.create(user, expiry=timedelta(hours=10))
            _stepup_token, stepup_secret = StepUpToken.objects.create_token(
                user,
                mfa=True,
                mfa_at=timezone.now(),
                max_age=timedelta(days=7),
                max_unused_period=timedelta(hours=1),
            )
        credentials = {
            NO_AUTH: None,
            DRF: f"Token {drf_key}",
            KNOX: f"Token {knox_secret}",
            STEPUP: f"Token {stepup_secret}",
            STEPUP_MFA: f"Token {stepup_secret}",
        }
        cases.extend(Case(scheme, count, credentials[scheme.name]) for scheme in SCHEMES)
    return cases


def request_ok(case, client):
    response = case.get(client)
    if response.status_code != 200:
        raise SystemExit(f"{case.label}: expected 200, got {response.status_code}")


def warm_up(cases, client, requests):
    """Untimed requests: imports, caches, and StepUp's first ``last_used`` and network write."""
    for case in cases:
        for _ in range(requests):
            request_ok(case, client)


def count_queries(cases, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for case in cases:
        with CaptureQueriesContext(connection) as context:
            for _ in range(QUERY_SAMPLE):
                request_ok(case, client)
        statements = [query["sql"].lstrip().upper() for query in context.captured_queries]
        case.queries = len(statements) / QUERY_SAMPLE
        case.writes = sum(not sql.startswith("SELECT") for sql in statements) / QUERY_SAMPLE


def time_cases(cases, client, requests, rounds):
    """Interleave: each round runs a slice of every case, in a rotating order."""
    per_round = [requests // rounds + (index < requests % rounds) for index in range(rounds)]
    for round_index, count in enumerate(per_round):
        shift = round_index % len(cases)
        for case in cases[shift:] + cases[:shift]:
            gc.collect()
            for _ in range(count):
                start = time.perf_counter_ns()
                response = case.get(client)
                elapsed = time.perf_counter_ns() - start
                if response.status_code != 200:
                    raise SystemExit(f"{case.label}: expected 200, got {response.status_code}")
                case.samples_ns.append(elapsed)


def profile_stepup(cases, client, requests):
    from django_stepup.authentication import StepUpTokenAuthentication

    case = next(c for c in cases if c.scheme.name == STEPUP and c.tokens_per_user == 200)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        case.get(client)
    profiler.disable()
    print(f"\ncProfile of {requests} requests to {case.label}, by internal time:")
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    print(f"Callees of {StepUpTokenAuthentication.__name__}.authenticate:")
    stats.sort_stats("cumulative").print_callees("authenticate")


def print_environment(arguments):
    import knox
    import rest_framework
    from django.db import connection

    print("django-stepup authentication benchmark")
    print(
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"DRF {rest_framework.VERSION}, knox {getattr(knox, '__version__', 'installed')}, "
        f"database {connection.vendor}"
    )
    print(
        f"{arguments.requests} timed requests per case in {arguments.rounds} interleaved rounds, "
        f"after {arguments.warmup} warm-up requests per case. Times in microseconds per "
        "request (test Client, WSGI dispatch, no middleware)."
    )
    print(
        "Steady state: StepUp's last_used write (at most once per LAST_USED_INTERVAL) and "
        f"its first-network write happened during warm-up. Queries and writes per request are counted over "
        f"{QUERY_SAMPLE} steady-state requests per case.\n"
    )


def print_table(cases):
    by_key = {(case.scheme.name, case.tokens_per_user): case for case in cases}
    header = f"{'scheme':<12}"
    for count in TOKENS_PER_USER:
        header += f" | {count:>3} token(s): {'median':>7} {'p95':>7} {'queries':>7} {'writes':>6}"
    print(header)
    print("-" * len(header))
    for scheme in SCHEMES:
        row = f"{scheme.name:<12}"
        for count in TOKENS_PER_USER:
            case = by_key[scheme.name, count]
            row += (
                f" | {'':>13} {case.median_us():>7.1f} {case.p95_us():>7.1f}"
                f" {case.queries:>7.1f} {case.writes:>6.1f}"
            )
        print(row)
    for scheme in SCHEMES:
        if scheme.note:
            print(f"  {scheme.name}: {scheme.note}")
    print()
    return by_key


def print_ratios(by_key):
    def ratio(numerator, denominator):
        return by_key[numerator].median_us() / by_key[denominator].median_us()

    warnings = []
    for count in TOKENS_PER_USER:
        stepup_drf = ratio((STEPUP, count), (DRF, count))
        stepup_none = ratio((STEPUP, count), (NO_AUTH, count))
        stepup_knox = ratio((STEPUP, count), (KNOX, count))
        stepup_cost = by_key[STEPUP, count].median_us() - by_key[NO_AUTH, count].median_us()
        drf_cost = by_key[DRF, count].median_us() - by_key[NO_AUTH, count].median_us()
        print(
            f"{count:>3} token(s) per user: stepup/DRF {stepup_drf:.3f}   "
            f"stepup/no-auth {stepup_none:.3f}   stepup/knox {stepup_knox:.3f}   "
            f"authentication cost over no-auth: stepup {stepup_cost:.1f} us, DRF {drf_cost:.1f} us"
        )
        if stepup_drf > RATIO_LIMIT:
            warnings.append(
                f"WARNING: stepup/DRF is {stepup_drf:.3f} with {count} token(s) per user, "
                f"above {RATIO_LIMIT:.2f}."
            )
    flatness = ratio((STEPUP, 200), (STEPUP, 1))
    print(f"stepup(200)/stepup(1) {flatness:.3f}   (1.00 is flat)")
    for warning in warnings:
        print(warning)


def main():
    arguments = parse_arguments()
    django.setup()
    from django.db import connection
    from django.test import Client

    test_database = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    try:
        cases = create_cases()
        client = Client()
        warm_up(cases, client, arguments.warmup)
        count_queries(cases, client)
        time_cases(cases, client, arguments.requests, arguments.rounds)
        print_environment(arguments)
        print_ratios(print_table(cases))
        if arguments.profile:
            profile_stepup(cases, client, arguments.requests)
    finally:
        connection.creation.destroy_test_db(test_database, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
