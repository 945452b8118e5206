"""Tokens with policies on the DNS API: deSEC's scoping, auto_policy, the domain-delete rule."""

import pytest

from django_stepup.models import Token, TokenPolicy
from dnsapi.models import Domain, RRset

from .conftest import API

DENIED = {"detail": "Insufficient token permissions."}
RRSETS = f"{API}/domains/alice.example/rrsets/"


@pytest.fixture
def domain(alice, make_domain):
    return make_domain(
        alice,
        "alice.example",
        [("", "A", ["192.0.2.1"]), ("www", "A", ["192.0.2.2"]), ("www", "AAAA", ["2001:db8::2"])],
    )


def add_policy(token, perm_write=False, **values):
    return TokenPolicy.objects.create(
        token=token,
        scope="rrsets",
        values={"domain": None, "subname": None, "type": None, **values},
        perm_write=perm_write,
    )


@pytest.fixture
def restricted(alice, domain, client_for):
    """An API token that may write www/A of alice.example only (deSEC's example)."""
    client = client_for(alice, name="www only")
    add_policy(client.token)
    add_policy(client.token, perm_write=True, domain=domain.pk, subname="www", type="A")
    return client


def rrset(subname, record_type):
    return RRset.objects.get(subname=subname, type=record_type)


class TestRestrictedFlowOverHTTP:
    def test_login_create_restricted_token_write_allowed_refuse_other(self, alice, domain, login):
        """The demo's walkthrough: a login token makes a restricted token, which then writes."""
        manager = login("alice@example.com")
        created = manager.post(f"{API}/auth/tokens/", {"name": "www only"}, format="json").json()
        policies = f"{API}/auth/tokens/{created['id']}/policies/rrsets/"
        assert manager.post(policies, {}, format="json").status_code == 201
        assert (
            manager.post(
                policies,
                {"domain": "alice.example", "subname": "www", "type": "A", "perm_write": True},
                format="json",
            ).status_code
            == 201
        )
        manager.credentials(HTTP_AUTHORIZATION=f"Token {created['token']}")

        allowed = manager.put(
            f"{RRSETS}www.../A/", {"ttl": 3600, "records": ["192.0.2.80"]}, format="json"
        )
        refused = manager.put(
            f"{RRSETS}@/A/", {"ttl": 3600, "records": ["192.0.2.80"]}, format="json"
        )

        assert allowed.status_code == 200
        assert refused.status_code == 403
        assert refused.json() == DENIED
        assert "WWW-Authenticate" not in refused
        assert rrset("www", "A").records == ["192.0.2.80"]
        assert rrset("", "A").records == ["192.0.2.1"]


class TestRRsetWrites:
    @pytest.mark.parametrize("url", [f"{RRSETS}www.../A/"])
    @pytest.mark.parametrize("method", ["patch", "put"])
    def test_writes_where_a_policy_allows(self, restricted, url, method):
        response = getattr(restricted, method)(
            url, {"ttl": 120, "records": ["192.0.2.9"]}, format="json"
        )

        assert response.status_code == 200
        assert rrset("www", "A").records == ["192.0.2.9"]

    def test_deletes_where_a_policy_allows(self, restricted):
        assert restricted.delete(f"{RRSETS}www.../A/").status_code == 204
        assert not RRset.objects.filter(subname="www", type="A").exists()

    def test_creates_where_a_policy_allows(self, restricted):
        RRset.objects.filter(subname="www", type="A").delete()

        response = restricted.post(
            RRSETS,
            {"subname": "www", "type": "A", "ttl": 60, "records": ["192.0.2.3"]},
            format="json",
        )

        assert response.status_code == 201

    @pytest.mark.parametrize("url", [f"{RRSETS}www.../AAAA/", f"{RRSETS}.../A/", f"{RRSETS}@/A/"])
    @pytest.mark.parametrize("method", ["patch", "put", "delete"])
    def test_refused_elsewhere_and_nothing_changes(self, restricted, snapshot, url, method):
        restricted.get(RRSETS)
        before = snapshot()

        response = getattr(restricted, method)(
            url, {"ttl": 120, "records": ["2001:db8::9"]}, format="json"
        )

        assert response.status_code == 403
        assert response.json() == DENIED
        assert snapshot() == before

    @pytest.mark.parametrize(
        "body",
        [
            {"subname": "www", "type": "AAAA", "records": ["2001:db8::3"]},
            {"subname": "", "type": "A"},
            {"subname": "new", "type": "A"},
        ],
    )
    def test_create_refused_elsewhere(self, restricted, snapshot, body):
        restricted.get(RRSETS)
        before = snapshot()

        response = restricted.post(
            RRSETS, {"ttl": 60, "records": ["192.0.2.3"], **body}, format="json"
        )

        assert response.status_code == 403
        assert response.json() == DENIED
        assert snapshot() == before

    def test_deleting_a_missing_rrset_is_still_policy_checked(self, restricted):
        assert restricted.delete(f"{RRSETS}nothing.../A/").status_code == 403

    def test_reads_every_rrset(self, restricted):
        response = restricted.get(RRSETS)

        assert response.status_code == 200
        assert len(response.json()) == 3
        assert restricted.get(f"{RRSETS}@/A/").status_code == 200

    def test_a_change_of_policy_applies_to_the_next_request(self, restricted):
        TokenPolicy.objects.filter(values__subname="www").update(perm_write=False)

        response = restricted.patch(f"{RRSETS}www.../A/", {"ttl": 120}, format="json")

        assert response.status_code == 403

    def test_listing_costs_the_same_for_any_number_of_rrsets(
        self, alice, restricted, django_assert_num_queries
    ):
        restricted.get(RRSETS)
        domain = Domain.objects.get()
        with django_assert_num_queries(3) as few:
            restricted.get(RRSETS)
        RRset.objects.bulk_create(
            RRset(domain=domain, subname=f"host{i}", type="A", ttl=60, records=["192.0.2.1"])
            for i in range(20)
        )
        with django_assert_num_queries(len(few.captured_queries)):
            assert len(restricted.get(RRSETS).json()) == 23


class TestAccountLevel:
    def test_a_restricted_token_cant_manage_tokens(self, alice, restricted, snapshot):
        restricted.token.perms = ["manage_tokens"]
        restricted.token.save()
        restricted.get(RRSETS)
        before = snapshot()

        created = restricted.post(f"{API}/auth/tokens/", {"name": "x"}, format="json")
        policy = restricted.post(
            f"{API}/auth/tokens/{restricted.token.pk}/policies/rrsets/",
            {"perm_write": True},
            format="json",
        )

        assert created.status_code == policy.status_code == 403
        assert snapshot() == before


class TestDomainDelete:
    @pytest.fixture
    def deleter(self, alice, domain, client_for):
        client = client_for(alice, perms=["delete_domain"])
        add_policy(client.token)
        return client

    def test_needs_write_on_every_rrset(self, deleter, domain, snapshot):
        add_policy(deleter.token, perm_write=True, domain=domain.pk, subname="www")
        deleter.get(RRSETS)
        before = snapshot()

        response = deleter.delete(f"{API}/domains/alice.example/")

        assert response.status_code == 403
        assert response.json() == DENIED
        assert snapshot() == before

    def test_with_write_on_every_rrset(self, deleter, domain):
        add_policy(deleter.token, perm_write=True, domain=domain.pk)

        response = deleter.delete(f"{API}/domains/alice.example/")

        assert response.status_code == 204
        assert not Domain.objects.exists()
        assert not TokenPolicy.objects.filter(values__domain=domain.pk).exists()

    def test_an_empty_domain_needs_write_on_the_domain(self, alice, deleter, make_domain):
        empty = make_domain(alice, "empty.example")
        refused = deleter.delete(f"{API}/domains/empty.example/")
        add_policy(deleter.token, perm_write=True, domain=empty.pk)

        assert refused.status_code == 403
        assert deleter.delete(f"{API}/domains/empty.example/").status_code == 204

    def test_the_flag_is_needed_as_well(self, alice, domain, client_for):
        client = client_for(alice)
        add_policy(client.token, perm_write=True)

        assert client.delete(f"{API}/domains/alice.example/").status_code == 403
        assert Domain.objects.exists()


class TestAutoPolicy:
    @pytest.fixture
    def auto(self, alice, login):
        """An auto_policy token made over HTTP, as a deSEC client would."""
        manager = login("alice@example.com")
        created = manager.post(
            f"{API}/auth/tokens/",
            {"name": "certbot", "perm_create_domain": True, "auto_policy": True},
            format="json",
        )
        assert created.status_code == 201
        manager.credentials(HTTP_AUTHORIZATION=f"Token {created.json()['token']}")
        manager.token = Token.objects.get(pk=created.json()["id"])
        return manager

    def test_a_restrictive_default_comes_with_the_flag(self, auto):
        (policy,) = TokenPolicy.objects.filter(token=auto.token)

        assert policy.is_default
        assert policy.perm_write is False

    def test_a_created_domain_gets_a_permissive_policy(self, auto):
        response = auto.post(f"{API}/domains/", {"name": "auto.example"}, format="json")

        assert response.status_code == 201
        domain = Domain.objects.get(name="auto.example")
        policy = TokenPolicy.objects.get(token=auto.token, values__domain=domain.pk)
        assert (policy.values, policy.perm_write) == (
            {"domain": domain.pk, "subname": None, "type": None},
            True,
        )

    def test_it_writes_in_its_domain_but_not_elsewhere(self, alice, auto, make_domain):
        make_domain(alice, "other.example", [("www", "A", ["192.0.2.1"])])
        auto.post(f"{API}/domains/", {"name": "auto.example"}, format="json")

        mine = auto.post(
            f"{API}/domains/auto.example/rrsets/",
            {"subname": "_acme-challenge", "type": "TXT", "ttl": 3600, "records": ['"x"']},
            format="json",
        )
        other = auto.patch(
            f"{API}/domains/other.example/rrsets/www.../A/", {"ttl": 60}, format="json"
        )

        assert mine.status_code == 201
        assert other.status_code == 403
        assert rrset("www", "A").ttl == 3600

    def test_a_refused_domain_creation_grants_nothing(self, auto, bob, make_domain):
        make_domain(bob, "taken.example")

        response = auto.post(f"{API}/domains/", {"name": "taken.example"}, format="json")

        assert response.status_code == 400
        assert TokenPolicy.objects.filter(token=auto.token).count() == 1
