"""Time a 1000-element bulk RRset PATCH against a single-RRset PATCH in the example project.

Both go through the example's full stack (its settings, middleware and URLs; Django's test
``Client``) under a restricted API token (a deny-all default and write on the domain),
interleaved in rounds so machine noise hits them alike, after a warm-up. The bulk request
changes 1000 existing RRsets (ttl and records, each a different address); the single PATCH
changes one. Printed: the
medians, the ratio bulk / single (issue 14's bar: at most 25), and both query counts.

Run from the repository root: ``python benchmarks/bench_bulk.py --rounds 7``. SQLite in
memory by default, ``DATABASE_URL`` for another database. Always exits 0: it reports.
"""

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(REPOSITORY / "example_project"))
os.environ["DJANGO_SETTINGS_MODULE"] = "example_project.settings"
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")

import django  # noqa: E402

RATIO_LIMIT = 25
ELEMENTS = 1000


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--elements", type=int, default=ELEMENTS)
    return parser.parse_args()


def setup_world(elements):
    from django.contrib.auth import get_user_model

    from django_stepup.models import Token, TokenPolicy
    from dnsapi.models import Domain, RRset

    user = get_user_model().objects.create_user(email="bench@example.com", password="x" * 20)
    domain = Domain.objects.create(owner=user, name="bench.example")
    RRset.objects.bulk_create(
        RRset(domain=domain, subname=f"h{i}", type="A", ttl=3600, records=["192.0.2.1"])
        for i in range(elements)
    )
    token, secret = Token.objects.create_token(user, name="restricted")
    for values, write in (
        ({"domain": None, "subname": None, "type": None}, False),
        ({"domain": domain.pk, "subname": None, "type": None}, True),
    ):
        TokenPolicy.objects.create(token=token, scope="rrsets", values=values, perm_write=write)
    return secret


def requests(elements, round_number):
    """(path, body) of the single and the bulk PATCH; each round writes new values."""
    base = "/api/v1/domains/bench.example/rrsets/"
    ttl = 3600 + round_number

    def record(i):  # a different address for every RRset and round
        return f"10.{round_number % 250}.{i // 250}.{i % 250}"

    single = (f"{base}h0.../A/", {"ttl": ttl, "records": [record(0)]})
    bulk = (
        base,
        [
            {"subname": f"h{i}", "type": "A", "ttl": ttl, "records": [record(i)]}
            for i in range(elements)
        ],
    )
    return single, bulk


def timed(client, secret, path, body):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    gc.collect()  # as bench_auth.py: no request pays for the garbage of the one before
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.patch(
            path,
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {secret}",
        )
        elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.content[:500]
    return elapsed, len(queries.captured_queries)


def run(arguments):
    from django.test import Client

    secret = setup_world(arguments.elements)
    client = Client()
    single_times, bulk_times = [], []
    for round_number in range(arguments.rounds + 1):
        (single_path, single_body), (bulk_path, bulk_body) = requests(
            arguments.elements, round_number
        )
        single_time, single_queries = timed(client, secret, single_path, single_body)
        bulk_time, bulk_queries = timed(client, secret, bulk_path, bulk_body)
        if round_number:  # round 0 warms up
            single_times.append(single_time)
            bulk_times.append(bulk_time)
    single, bulk = statistics.median(single_times), statistics.median(bulk_times)
    ratio = bulk / single
    print(f"database: {django.db.connection.vendor}, rounds: {arguments.rounds}")
    print(f"single-RRset PATCH: {single * 1000:8.1f} ms  {single_queries} queries")
    print(
        f"{arguments.elements}-element bulk PATCH: {bulk * 1000:8.1f} ms  {bulk_queries} queries"
        f"  ({bulk / arguments.elements * 1e6:.0f} us per RRset)"
    )
    verdict = "within" if ratio <= RATIO_LIMIT else "ABOVE"
    print(f"ratio bulk / single: {ratio:.1f}x ({verdict} the {RATIO_LIMIT}x bar)")


def main():
    arguments = parse_arguments()
    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    test_database = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    try:
        run(arguments)
    finally:
        connection.creation.destroy_test_db(test_database, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
