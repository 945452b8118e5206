"""octoDNS's deSEC provider, ``octodns-desec``, synchronises zones with the example on a live
server, given its base URL: it lists domains and reads RRsets with ``?cursor=``, creates a
missing domain and writes every change as one bulk PATCH. A synchronised zone plans no
further change: the example returns records as deSEC does, so octoDNS sees no difference.
"""

import pytest
import requests
from octodns.record import Record
from octodns.zone import Zone
from octodns_desec import DesecAPI, DesecAPIForbidden, DesecProvider

from dnsapi.models import Domain, RRset

from .conftest import PASSWORD

# octodns-desec 1.3.0 reads octoDNS's deprecated ``Record.rrs``.
pytestmark = pytest.mark.filterwarnings("ignore:`Record.rrs` is DEPRECATED:DeprecationWarning")

ZONE = "alice.example."
DESIRED = {
    "": [
        {"type": "A", "ttl": 3600, "values": ["192.0.2.1", "192.0.2.2"]},
        {
            "type": "MX",
            "ttl": 3600,
            "values": [{"preference": 10, "exchange": "mx.alice.example."}],
        },
        {"type": "TXT", "ttl": 3600, "values": ["v=spf1 -all"]},
    ],
    "_dmarc": [{"type": "TXT", "ttl": 3600, "values": ["v=DMARC1\\; p=reject"]}],
    "www": [{"type": "AAAA", "ttl": 7200, "values": ["2001:db8::1"]}],
    "ftp": [{"type": "CNAME", "ttl": 3600, "value": "www.alice.example."}],
}


@pytest.fixture
def api_url(live_server, monkeypatch):
    monkeypatch.setattr(DesecAPI, "API_DOMAINS_URL", f"{live_server.url}/api/v1/domains")
    return f"{live_server.url}/api/v1"


@pytest.fixture
def provider(api_url, alice):
    response = requests.post(
        f"{api_url}/auth/login/",
        json={"email": alice.email, "password": PASSWORD},
        timeout=15,
    )
    return DesecProvider("desec", response.json()["token"], retries=0)


def zone(records):
    desired = Zone(ZONE, [])
    for name, datas in records.items():
        for data in datas:
            desired.add_record(Record.new(desired, name, data))
    return desired


def stored():
    return {
        (rrset.subname, rrset.type): (rrset.ttl, sorted(rrset.records))
        for rrset in RRset.objects.filter(domain__name=ZONE.rstrip("."))
    }


def test_a_new_zone_is_created_and_then_in_sync(provider):
    plan = provider.plan(zone(DESIRED))

    assert plan is not None
    assert not plan.exists
    provider.apply(plan)

    assert Domain.objects.get().name == "alice.example"
    assert stored() == {
        ("", "NS"): (3600, ["ns1.example.net.", "ns2.example.org."]),
        ("", "A"): (3600, ["192.0.2.1", "192.0.2.2"]),
        ("", "MX"): (3600, ["10 mx.alice.example."]),
        ("", "TXT"): (3600, ['"v=spf1 -all"']),
        ("_dmarc", "TXT"): (3600, ['"v=DMARC1; p=reject"']),
        ("www", "AAAA"): (7200, ["2001:db8::1"]),
        ("ftp", "CNAME"): (3600, ["www.alice.example."]),
    }
    assert provider.list_zones() == ["alice.example"]
    assert provider.plan(zone(DESIRED)) is None


def test_changes_and_deletions_are_synchronised(provider):
    provider.apply(provider.plan(zone(DESIRED)))
    changed = {
        **DESIRED,
        "": [{"type": "A", "ttl": 7200, "values": ["192.0.2.3"]}],
        "_dmarc": [{"type": "TXT", "ttl": 3600, "values": ["v=DMARC1\\; p=quarantine"]}],
    }
    del changed["ftp"]

    plan = provider.plan(zone(changed))
    provider.apply(plan)

    assert plan.exists
    assert stored() == {
        ("", "NS"): (3600, ["ns1.example.net.", "ns2.example.org."]),
        ("", "A"): (7200, ["192.0.2.3"]),
        ("_dmarc", "TXT"): (3600, ['"v=DMARC1; p=quarantine"']),
        ("www", "AAAA"): (7200, ["2001:db8::1"]),
    }
    assert provider.plan(zone(changed)) is None


def test_a_token_that_may_not_write_applies_nothing(api_url, alice, make_domain, client_for):
    make_domain(alice, "alice.example", minimum_ttl=3600)
    restricted = client_for(alice, name="read only")
    restricted.token.policies.create(
        scope="rrsets", values={"domain": None, "subname": None, "type": None}
    )
    provider = DesecProvider("desec", restricted.secret, retries=0)

    with pytest.raises(DesecAPIForbidden):
        provider.apply(provider.plan(zone(DESIRED)))

    assert stored() == {}
