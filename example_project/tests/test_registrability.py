"""Registrability as deSEC: a name equal to, inside or above another account's domain is
unavailable; nesting one's own domains is allowed."""

import pytest

from dnsapi.models import Domain, RRset

from .conftest import API

DOMAINS = f"{API}/domains/"
UNAVAILABLE = {"name": ["This domain name is unavailable."]}


@pytest.fixture
def alice_client(alice, client_for):
    return client_for(alice, mfa=False)


@pytest.fixture
def bobs(bob, make_domain):
    return make_domain(bob, "bob.zone.example", [("www", "A", ["192.0.2.1"])])


@pytest.mark.parametrize(
    "name",
    [
        "bob.zone.example",  # equal
        "www.bob.zone.example",  # inside: it would take over bob's records
        "a.b.c.bob.zone.example",
        "zone.example",  # above: it would cover bob's zone
    ],
)
def test_a_name_touching_another_accounts_domain_is_unavailable(alice_client, bobs, name):
    before = (list(Domain.objects.values()), list(RRset.objects.values()))

    response = alice_client.post(DOMAINS, {"name": name}, format="json")

    assert response.status_code == 400
    assert response.json() == UNAVAILABLE
    assert (list(Domain.objects.values()), list(RRset.objects.values())) == before


def test_above_another_accounts_domain_deep_below(alice_client, bob, make_domain):
    make_domain(bob, "x.y.deep.zone.example")

    response = alice_client.post(DOMAINS, {"name": "deep.zone.example"}, format="json")

    assert response.json() == UNAVAILABLE


@pytest.mark.parametrize(
    "name",
    [
        "ob.zone.example",  # shares a string suffix, not a label
        "bob.zone.example.org",
        "bob-zone.example",
        "other.zone.example",
    ],
)
def test_unrelated_names_stay_available(alice_client, bobs, name):
    response = alice_client.post(DOMAINS, {"name": name}, format="json")

    assert response.status_code == 201, response.content


def test_nesting_ones_own_domains_is_allowed(alice, alice_client, make_domain):
    make_domain(alice, "alice.zone.example")

    inside = alice_client.post(DOMAINS, {"name": "sub.alice.zone.example"}, format="json")
    above = alice_client.post(DOMAINS, {"name": "zone.example"}, format="json")

    assert inside.status_code == above.status_code == 201
    assert set(Domain.objects.values_list("name", flat=True)) == {
        "alice.zone.example",
        "sub.alice.zone.example",
        "zone.example",
    }


def test_owns_qname_of_bobs_names_stays_bobs(alice_client, bob, client_for, bobs):
    alice_client.post(DOMAINS, {"name": "www.bob.zone.example"}, format="json")

    response = client_for(bob, mfa=False).get(DOMAINS, {"owns_qname": "www.bob.zone.example"})

    assert [domain["name"] for domain in response.json()] == ["bob.zone.example"]
    assert RRset.objects.filter(domain__owner=bob).count() == 1
