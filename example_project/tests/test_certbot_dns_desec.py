"""certbot's deSEC plugin, ``certbot-dns-desec``, answers DNS-01 challenges against the
example on a live server, given its endpoint: it finds the zone with ``?owns_qname=``, reads
the TXT RRset by ``{subname}.../TXT/`` and writes it with a bulk PUT at the zone's
``minimum_ttl``, under a token restricted to ``_acme-challenge`` TXT RRsets.

The plugin follows CNAMEs of the challenge name with a DNS query first; the test answers
that query with NXDOMAIN (no network), as for a name without a CNAME.
"""

from types import SimpleNamespace

import dns.resolver
import pytest
from certbot import errors
from certbot_dns_desec.dns_desec import Authenticator

from django_stepup.models import TokenPolicy
from dnsapi.models import RRset


def no_cname(qname, rdtype, *args, **kwargs):
    raise dns.resolver.NXDOMAIN


@pytest.fixture
def zones(alice, make_domain):
    """alice.example (minimum TTL 3600) and alice's nested zone sub.alice.example (300)."""
    return (
        make_domain(alice, "alice.example", minimum_ttl=3600),
        make_domain(alice, "sub.alice.example", minimum_ttl=300),
    )


@pytest.fixture
def acme_token(alice, zones, client_for):
    """deSEC's recommended certbot token: it may write ``_acme-challenge`` TXT RRsets only."""
    client = client_for(alice, name="certbot")
    for values, perm_write in [
        ({"domain": None, "subname": None, "type": None}, False),
        ({"domain": zones[0].pk, "subname": "_acme-challenge", "type": "TXT"}, True),
        ({"domain": zones[0].pk, "subname": "_acme-challenge.www", "type": "TXT"}, True),
        ({"domain": zones[1].pk, "subname": "_acme-challenge", "type": "TXT"}, True),
    ]:
        TokenPolicy.objects.create(
            token=client.token, scope="rrsets", values=values, perm_write=perm_write
        )
    return client.secret


@pytest.fixture
def authenticator(live_server, acme_token, tmp_path, monkeypatch):
    """The plugin as certbot runs it, with a credentials INI naming the live server."""
    monkeypatch.setattr(dns.resolver, "resolve", no_cname)
    credentials = tmp_path / "desec.ini"
    credentials.write_text(
        f"dns_desec_token = {acme_token}\ndns_desec_endpoint = {live_server.url}/api/v1/\n"
    )
    credentials.chmod(0o600)
    config = SimpleNamespace(dns_desec_credentials=str(credentials))
    plugin = Authenticator(config, "dns-desec")
    plugin._setup_credentials()
    return plugin


def txt(domain, subname):
    rrset = RRset.objects.filter(domain=domain, subname=subname, type="TXT").first()
    return None if rrset is None else (rrset.ttl, sorted(rrset.records))


def test_challenges_are_published_and_cleaned_up(authenticator, zones):
    apex, nested = zones

    authenticator._perform("alice.example", "_acme-challenge.alice.example", "token-one")
    authenticator._perform("alice.example", "_acme-challenge.alice.example", "token-two")
    authenticator._perform("www.alice.example", "_acme-challenge.www.alice.example", "token-www")
    authenticator._perform("sub.alice.example", "_acme-challenge.sub.alice.example", "token-sub")

    assert txt(apex, "_acme-challenge") == (3600, ['"token-one"', '"token-two"'])
    assert txt(apex, "_acme-challenge.www") == (3600, ['"token-www"'])
    # owns_qname picked the nested zone, whose minimum TTL the plugin used.
    assert txt(nested, "_acme-challenge") == (300, ['"token-sub"'])
    assert txt(apex, "_acme-challenge.sub") is None

    authenticator._cleanup("alice.example", "_acme-challenge.alice.example", "token-one")
    assert txt(apex, "_acme-challenge") == (3600, ['"token-two"'])

    authenticator._cleanup("alice.example", "_acme-challenge.alice.example", "token-two")
    authenticator._cleanup("www.alice.example", "_acme-challenge.www.alice.example", "token-www")
    authenticator._cleanup("sub.alice.example", "_acme-challenge.sub.alice.example", "token-sub")
    assert not RRset.objects.filter(type="TXT").exists()


def test_a_name_the_token_may_not_write_is_the_plugins_error(authenticator, zones):
    with pytest.raises(errors.PluginError, match="Could not authenticate against deSEC API"):
        authenticator._perform("ftp.alice.example", "_acme-challenge.ftp.alice.example", "x")

    assert not RRset.objects.filter(type="TXT").exists()


def test_a_name_in_no_zone_of_the_account_is_the_plugins_error(authenticator, bob, make_domain):
    make_domain(bob, "bob.example")

    with pytest.raises(errors.PluginError, match="Could not find suitable domain"):
        authenticator._perform("bob.example", "_acme-challenge.bob.example", "x")

    assert not RRset.objects.filter(type="TXT").exists()
