"""Every RRset URL deSEC serves reaches the same RRset, and consecutive slashes are merged
as deSEC's front end merges them."""

import pytest

from dnsapi.models import RRset

from .conftest import API

DOMAIN = f"{API}/domains/alice.example"
RRSETS = f"{DOMAIN}/rrsets/"


@pytest.fixture
def alice_client(alice, client_for, make_domain):
    make_domain(
        alice,
        "alice.example",
        [("", "A", ["192.0.2.1"]), ("www", "A", ["192.0.2.2"]), ("a.b", "TXT", ['"x"'])],
    )
    return client_for(alice, mfa=False)


@pytest.mark.parametrize(
    ("url", "subname"),
    [
        (f"{RRSETS}www/A/", "www"),
        (f"{RRSETS}www.../A/", "www"),
        (f"{RRSETS}www@/A/", "www"),
        (f"{RRSETS}a.b/TXT/", "a.b"),
        (f"{RRSETS}a.b.../TXT/", "a.b"),
        (f"{RRSETS}.../A/", ""),
        (f"{RRSETS}@/A/", ""),
        (f"{DOMAIN}//rrsets//www//A//", "www"),
        (f"{API}//domains/alice.example/rrsets/@//A/", ""),
    ],
)
def test_every_form_reaches_the_rrset(alice_client, url, subname):
    read = alice_client.get(url)
    patched = alice_client.patch(url, {"ttl": 7200}, format="json")

    assert read.status_code == 200, read.content
    assert read.json()["subname"] == subname
    assert patched.status_code == 200
    assert RRset.objects.get(subname=subname, type=read.json()["type"]).ttl == 7200


def test_put_and_delete_by_the_first_form(alice_client):
    response = alice_client.put(
        f"{RRSETS}new/AAAA/", {"ttl": 3600, "records": ["2001:db8::1"]}, format="json"
    )
    deleted = alice_client.delete(f"{RRSETS}www/A/")

    assert response.status_code == 404  # PUT on one RRset does not create, as before
    assert deleted.status_code == 204
    assert not RRset.objects.filter(subname="www").exists()


def test_double_slash_rrsets_is_the_collection(alice_client):
    listed = alice_client.get(f"{DOMAIN}/rrsets//")
    bulk = alice_client.patch(
        f"{DOMAIN}/rrsets//",
        [{"subname": "", "type": "A", "ttl": 3600, "records": ["192.0.2.9"]}],
        format="json",
    )

    assert listed.status_code == 200
    assert {rrset["subname"] for rrset in listed.json()} == {"", "www", "a.b"}
    assert bulk.status_code == 200
    assert RRset.objects.get(subname="", type="A").records == ["192.0.2.9"]


def test_double_slash_type_is_not_the_apex(alice_client):
    response = alice_client.get(f"{RRSETS}/A/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
