"""``GET domains/?owns_qname=NAME``: the domain responsible for NAME, as deSEC answers it."""

import pytest

from .conftest import API

DOMAINS = f"{API}/domains/"


@pytest.fixture
def alice_client(alice, client_for):
    return client_for(alice, mfa=False)


@pytest.fixture
def domains(alice, bob, make_domain):
    # Created out of order, so the answer can't follow creation or name order.
    for name in ("a.foobar.example", "foobar.example", "b.a.foobar.example"):
        make_domain(alice, name)
    make_domain(bob, "bob.example")


def owner_of(client, qname):
    response = client.get(DOMAINS, {"owns_qname": qname})
    assert response.status_code == 200, response.content
    return [domain["name"] for domain in response.json()]


@pytest.mark.parametrize(
    ("qname", "domain"),
    [
        ("foobar.example", "foobar.example"),
        ("www.foobar.example", "foobar.example"),
        ("a.foobar.example", "a.foobar.example"),
        ("x.a.foobar.example", "a.foobar.example"),
        ("b.a.foobar.example", "b.a.foobar.example"),
        ("_acme-challenge.www.b.a.foobar.example", "b.a.foobar.example"),
        ("foo.BAR.a.foobar.example", "a.foobar.example"),
        ("*.a.foobar.example", "a.foobar.example"),
    ],
)
def test_the_longest_matching_domain_of_the_account(alice_client, domains, qname, domain):
    assert owner_of(alice_client, qname) == [domain]


@pytest.mark.parametrize(
    "qname",
    [
        "bob.example",  # another account's
        "www.bob.example",
        "example",  # above every domain
        "oobar.example",  # a suffix of the string, not of the labels
        "non-existent.example",
        "domain.invalid/",  # not a DNS name: deSEC answers [], not an error
        "www.foobar.example.",
        "",
        "x" * 64 + ".foobar.example",
    ],
)
def test_no_responsible_domain_is_an_empty_list(alice_client, domains, qname):
    assert owner_of(alice_client, qname) == []


def test_without_the_filter_every_domain_is_listed(alice_client, domains):
    assert len(alice_client.get(DOMAINS).json()) == 3


def test_one_query_for_the_domain_however_long_the_name(
    alice_client, domains, django_assert_num_queries
):
    alice_client.get(DOMAINS)  # the token's first use is recorded
    for qname in ("x.foobar.example", "a.b.c.d.e.f.g.x.a.foobar.example"):
        with django_assert_num_queries(2):  # the token, the domain
            alice_client.get(DOMAINS, {"owns_qname": qname})
