"""Migration dnsapi.0002: every existing domain gets its own real DNSSEC key."""

import dns.dnssec
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("dnsapi", "0001_initial")]
AFTER = [("dnsapi", "0002_domain_minimum_ttl_dnskey")]


@pytest.fixture
def executor(django_db_blocker):
    """A migration executor; the database is migrated back to the latest state after."""
    yield MigrationExecutor(connection)
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_domains_get_distinct_keys_and_the_default_minimum_ttl(executor):
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    User = old_apps.get_model("accounts", "User")
    Domain = old_apps.get_model("dnsapi", "Domain")
    owner = User.objects.create(email="old@example.com")
    for name in ("one.example", "two.example"):
        Domain.objects.create(owner=owner, name=name)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new_apps = executor.loader.project_state(AFTER).apps
    rows = list(new_apps.get_model("dnsapi", "Domain").objects.values("dnskey", "minimum_ttl"))

    keys = [
        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, row["dnskey"]) for row in rows
    ]
    assert [key.algorithm for key in keys] == [dns.dnssec.Algorithm.ECDSAP256SHA256] * 2
    assert keys[0] != keys[1]
    assert [row["minimum_ttl"] for row in rows] == [3600, 3600]
