"""dns-lexicon's deSEC provider (used by ACME hooks and DNS automation) manages records in
the example on a live server, given its endpoint: it checks the domain through
``rrsets/../``, reads with ``?type=&subname=``, creates with a POST to ``rrsets//`` (an
empty subname, merged into the collection as behind deSEC's nginx) and changes or deletes
one RRset by ``{subname}/{type}/``.

Not covered, as it fails at deSEC too: lexicon addresses an existing apex RRset as
``rrsets//{type}/``, which merged is ``rrsets/{type}/``, no RRset (API.md; deSEC's nginx
hands Django the merged path), so adding to, changing or deleting an apex RRset through
lexicon is ``404``. Creating one works (a POST to the collection).
"""

import pytest
from lexicon._private.providers.desec import Provider
from lexicon.config import ConfigResolver
from lexicon.exceptions import AuthenticationError

from dnsapi.models import RRset

from .conftest import PASSWORD

DOMAIN = "alice.example"


@pytest.fixture
def domain(alice, make_domain):
    return make_domain(alice, DOMAIN, minimum_ttl=3600)


def provider_for(live_server, secret=None, domain=DOMAIN, **credentials):
    auth = {"auth_token": secret} if secret else credentials
    config = ConfigResolver().with_dict({"provider_name": "desec", "domain": domain, "desec": auth})
    provider = Provider(config)
    provider.api_endpoint = f"{live_server.url}/api/v1"
    provider.authenticate()
    return provider


@pytest.fixture
def lexicon(live_server, alice, domain, client_for):
    return provider_for(live_server, client_for(alice, name="lexicon").secret)


def stored():
    return {
        (rrset.subname, rrset.type): (rrset.ttl, sorted(rrset.records))
        for rrset in RRset.objects.all()
    }


def test_records_are_created_listed_changed_and_deleted(lexicon):
    assert lexicon.create_record("TXT", "_acme-challenge", "token-one")
    assert lexicon.create_record("TXT", "_acme-challenge", "token-two")
    assert lexicon.create_record("TXT", "_acme-challenge", "token-two")  # already there
    assert lexicon.create_record("MX", DOMAIN, "10 mx.alice.example")
    assert lexicon.create_record("A", "www", "192.0.2.1")

    assert stored() == {
        ("_acme-challenge", "TXT"): (3600, ['"token-one"', '"token-two"']),
        ("", "MX"): (3600, ["10 mx.alice.example."]),
        ("www", "A"): (3600, ["192.0.2.1"]),
    }
    listed = lexicon.list_records("TXT", "_acme-challenge")
    assert sorted(record["content"] for record in listed) == ["token-one", "token-two"]
    assert {record["name"] for record in listed} == {"_acme-challenge.alice.example"}
    [mx] = lexicon.list_records("MX")
    assert mx["mx"] == {"priority": 10, "target": "mx.alice.example."}

    assert lexicon.update_record(None, "A", "www", "192.0.2.2")
    assert lexicon.delete_record(None, "TXT", "_acme-challenge", "token-one")
    assert stored()[("_acme-challenge", "TXT")] == (3600, ['"token-two"'])
    assert stored()[("www", "A")] == (3600, ["192.0.2.2"])

    assert lexicon.delete_record(None, "TXT", "_acme-challenge")
    assert lexicon.delete_record(None, "A", "www", "192.0.2.2")
    assert stored() == {("", "MX"): (3600, ["10 mx.alice.example."])}


def test_a_domain_not_in_the_account_fails_authentication(
    live_server, bob, make_domain, domain, client_for
):
    make_domain(bob, "bob.example")

    with pytest.raises(AuthenticationError, match=r"Domain 'bob\.example' not found \(404\)"):
        provider_for(live_server, client_for(domain.owner).secret, "bob.example")


def test_it_logs_in_with_email_and_password(live_server, alice, domain):
    lexicon = provider_for(live_server, auth_username=alice.email, auth_password=PASSWORD)

    assert lexicon.create_record("TXT", "_acme-challenge", "token")
    assert stored() == {("_acme-challenge", "TXT"): (3600, ['"token"'])}


def test_a_password_login_does_not_pass_mfa(live_server, alice, alice_factor, domain):
    """Lexicon can't step up: with MFA on, its unpromoted login token gets the step-up
    challenge (401) on the domain."""
    with pytest.raises(AuthenticationError, match=r"Domain 'alice\.example' not found \(401\)"):
        provider_for(live_server, auth_username=alice.email, auth_password=PASSWORD)

    assert not RRset.objects.exists()
