"""Bulk writes that scale: 1000 changed RRsets cost the queries of two, and each RRset gets
its own values (they are written by one UPDATE … FROM VALUES on PostgreSQL and SQLite)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_stepup.models import TokenPolicy
from dnsapi.models import RRset

from .conftest import API

RRSETS = f"{API}/domains/alice.example/rrsets/"


@pytest.fixture
def domain(alice, make_domain):
    domain = make_domain(alice, "alice.example")
    RRset.objects.bulk_create(
        RRset(domain=domain, subname=f"h{i}", type="A", ttl=3600, records=["192.0.2.1"])
        for i in range(1000)
    )
    return domain


@pytest.fixture
def restricted(alice, domain, client_for):
    client = client_for(alice, name="bulk")
    for values, write in (
        ({"domain": None, "subname": None, "type": None}, False),
        ({"domain": domain.pk, "subname": None, "type": None}, True),
    ):
        TokenPolicy.objects.create(
            token=client.token, scope="rrsets", values=values, perm_write=write
        )
    return client


def patch(client, count, ttl):
    body = [
        {"subname": f"h{i}", "type": "A", "ttl": ttl + i, "records": [f"10.0.{i // 250}.{i % 250}"]}
        for i in range(count)
    ]
    return client.patch(RRSETS, body, format="json")


def test_a_thousand_rrsets_cost_the_queries_of_two(restricted, django_assert_num_queries):
    restricted.get(RRSETS, {"type": "NS"})  # the token's first use is recorded
    with CaptureQueriesContext(connection) as two:
        assert patch(restricted, 2, 7200).status_code == 200
    before = {rrset.subname: rrset.created for rrset in RRset.objects.all()}

    with django_assert_num_queries(len(two.captured_queries)):
        response = patch(restricted, 1000, 4000)

    assert response.status_code == 200
    assert len(response.json()) == 1000
    stored = {rrset.subname: rrset for rrset in RRset.objects.all()}
    for i in range(1000):
        rrset = stored[f"h{i}"]
        assert (rrset.ttl, rrset.records) == (4000 + i, [f"10.0.{i // 250}.{i % 250}"])
        assert rrset.created == before[f"h{i}"]
    assert len({rrset.touched for rrset in stored.values()}) == 1
    assert response.json()[999] == {
        **response.json()[999],
        "ttl": 4999,
        "records": ["10.0.3.249"],
    }
