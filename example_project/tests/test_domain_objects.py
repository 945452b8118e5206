"""Domain objects as deSEC shows them: minimum_ttl, real DNSSEC keys, the apex NS RRset."""

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from dnsapi.models import Domain, RRset

from .conftest import API

DOMAINS = f"{API}/domains/"


@pytest.fixture
def alice_client(alice, client_for):
    return client_for(alice, mfa=False)


def create(client, name):
    response = client.post(DOMAINS, {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_creation_response_is_deSEC_domain_object(alice_client):
    domain = create(alice_client, "alice.example")

    assert set(domain) == {"name", "created", "published", "touched", "minimum_ttl", "keys"}
    assert domain["minimum_ttl"] == 3600
    assert domain["published"] == domain["touched"]


def test_keys_are_a_real_ecdsa_key_with_its_ds_records(alice_client):
    (key,) = create(alice_client, "alice.example")["keys"]

    dnskey = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, key["dnskey"])
    assert dnskey.algorithm == dns.dnssec.Algorithm.ECDSAP256SHA256
    assert dnskey.flags == key["flags"] == 257
    assert len(dnskey.key) == 64  # an uncompressed P-256 point, x and y
    assert key["keytype"] == "csk"
    assert key["managed"] is True
    name = dns.name.from_text("alice.example")
    assert key["ds"] == [
        dns.dnssec.make_ds(name, dnskey, "SHA256").to_text(),
        dns.dnssec.make_ds(name, dnskey, "SHA384").to_text(),
    ]
    assert key["ds"][0].startswith(f"{dns.dnssec.key_id(dnskey)} 13 2 ")


def test_each_domain_has_its_own_key(alice_client):
    first = create(alice_client, "one.example")["keys"][0]["dnskey"]
    second = create(alice_client, "two.example")["keys"][0]["dnskey"]

    assert first != second


def test_retrieve_shows_the_same_keys_and_lists_leave_them_out(alice_client):
    created = create(alice_client, "alice.example")

    retrieved = alice_client.get(f"{DOMAINS}alice.example/").json()
    listed = alice_client.get(DOMAINS).json()

    assert retrieved["keys"] == created["keys"]
    assert [set(domain) for domain in listed] == [
        {"name", "created", "published", "touched", "minimum_ttl"}
    ]


def test_no_private_key_is_stored(alice_client):
    create(alice_client, "alice.example")

    (row,) = Domain.objects.values()
    assert "PRIVATE" not in str(row).upper()
    assert set(row) == {"id", "owner_id", "name", "created", "touched", "minimum_ttl", "dnskey"}


def test_minimum_ttl_comes_from_the_setting(alice_client, settings):
    settings.DNSAPI_MINIMUM_TTL = 300

    assert create(alice_client, "alice.example")["minimum_ttl"] == 300
    assert Domain.objects.get().minimum_ttl == 300


def test_a_new_domain_has_an_apex_ns_rrset_of_the_setting(alice_client, settings):
    settings.DNSAPI_NAMESERVERS = ["ns1.dns.example.", "ns2.dns.example."]
    create(alice_client, "alice.example")

    response = alice_client.get(f"{DOMAINS}alice.example/rrsets/@/NS/")

    assert response.status_code == 200
    rrset = response.json()
    assert rrset["name"] == "alice.example."
    assert rrset["ttl"] == 3600
    assert sorted(rrset["records"]) == ["ns1.dns.example.", "ns2.dns.example."]


def test_a_refused_domain_leaves_no_ns_rrset(alice, bob, alice_client, make_domain):
    make_domain(bob, "bob.example")

    response = alice_client.post(DOMAINS, {"name": "bob.example"}, format="json")

    assert response.status_code == 400
    assert not RRset.objects.exists()
