"""API.md's domain rows through HTTP: list, create, retrieve, delete, and whose they are."""

import pytest

from dnsapi.models import Domain, RRset

from .conftest import API

DOMAINS = f"{API}/domains/"


@pytest.fixture
def alice_client(alice, client_for):
    """A login token of alice's; she has no MFA, so it may do everything."""
    return client_for(alice, mfa=False)


class TestList:
    def test_lists_own_domains_only(self, alice, bob, alice_client, make_domain):
        make_domain(alice, "b-alice.example")
        make_domain(alice, "a-alice.example")
        make_domain(bob, "bob.example")

        response = alice_client.get(DOMAINS, {"owner": "bob@example.com"})

        assert response.status_code == 200
        assert [domain["name"] for domain in response.json()] == [
            "a-alice.example",
            "b-alice.example",
        ]

    def test_domain_object_fields(self, alice, alice_client, make_domain):
        make_domain(alice, "alice.example")

        (domain,) = alice_client.get(DOMAINS).json()

        assert set(domain) == {"name", "created", "published", "touched", "minimum_ttl"}

    def test_anonymous_is_401_with_challenge_scheme(self, api_client, db):
        response = api_client.get(DOMAINS)

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


class TestCreate:
    def test_login_token_creates_a_domain(self, alice, alice_client):
        response = alice_client.post(DOMAINS, {"name": "alice.example"}, format="json")

        assert response.status_code == 201
        assert response.json()["name"] == "alice.example"
        assert Domain.objects.get(name="alice.example").owner == alice

    def test_api_token_needs_perm_create_domain(self, alice, client_for):
        without = client_for(alice)
        with_flag = client_for(alice, perms=["create_domain"])

        refused = without.post(DOMAINS, {"name": "refused.example"}, format="json")
        created = with_flag.post(DOMAINS, {"name": "created.example"}, format="json")

        assert refused.status_code == 403
        assert created.status_code == 201
        assert list(Domain.objects.values_list("name", flat=True)) == ["created.example"]

    def test_a_taken_name_is_400_whoever_owns_it(self, alice, bob, alice_client, make_domain):
        make_domain(bob, "bob.example")
        make_domain(alice, "alice.example")

        theirs = alice_client.post(DOMAINS, {"name": "bob.example"}, format="json")
        mine = alice_client.post(DOMAINS, {"name": "alice.example"}, format="json")

        assert theirs.status_code == mine.status_code == 400
        assert theirs.json() == mine.json() == {"name": ["This domain name is unavailable."]}
        assert Domain.objects.get(name="bob.example").owner == bob

    @pytest.mark.parametrize(
        "name",
        [
            "Example.com",
            "example",
            "-bad.example",
            "bad-.example",
            "under_score.example",
            "a..example",
            "example.com.",
            f"{'a' * 64}.example",
            "nul\x00.example",
            "",
            "ex ample.com",
        ],
    )
    def test_invalid_names_are_400_naming_the_field(self, alice_client, name):
        response = alice_client.post(DOMAINS, {"name": name}, format="json")

        assert response.status_code == 400
        assert list(response.json()) == ["name"]
        assert not Domain.objects.exists()

    def test_owner_in_the_body_is_ignored(self, alice, bob, alice_client):
        response = alice_client.post(
            DOMAINS, {"name": "alice.example", "owner": bob.pk}, format="json"
        )

        assert response.status_code == 201
        assert Domain.objects.get().owner == alice


class TestRetrieve:
    def test_own_domain(self, alice, alice_client, make_domain):
        make_domain(alice, "alice.example")

        response = alice_client.get(f"{DOMAINS}alice.example/")

        assert response.status_code == 200
        assert response.json()["name"] == "alice.example"

    def test_another_users_domain_is_the_same_404_as_a_missing_one(
        self, bob, alice_client, make_domain
    ):
        make_domain(bob, "bob.example", [("www", "A", ["192.0.2.1"])])

        theirs = alice_client.get(f"{DOMAINS}bob.example/")
        missing = alice_client.get(f"{DOMAINS}missing.example/")
        their_rrsets = alice_client.get(f"{DOMAINS}bob.example/rrsets/")

        assert theirs.status_code == missing.status_code == their_rrsets.status_code == 404
        assert theirs.content == missing.content == their_rrsets.content


class TestDelete:
    def test_deletes_the_domain_and_its_rrsets(self, alice, alice_client, make_domain):
        make_domain(alice, "alice.example", [("www", "A", ["192.0.2.1"])])

        response = alice_client.delete(f"{DOMAINS}alice.example/")

        assert response.status_code == 204
        assert not Domain.objects.exists()
        assert not RRset.objects.exists()

    def test_api_token_needs_perm_delete_domain(self, alice, client_for, make_domain):
        make_domain(alice, "alice.example")
        without = client_for(alice, perms=["create_domain"])
        with_flag = client_for(alice, perms=["delete_domain"])

        refused = without.delete(f"{DOMAINS}alice.example/")
        assert refused.status_code == 403
        assert Domain.objects.exists()

        assert with_flag.delete(f"{DOMAINS}alice.example/").status_code == 204
        assert not Domain.objects.exists()

    def test_a_webauthn_user_deletes_only_with_a_webauthn_promotion(
        self, alice, client_for, make_domain
    ):
        from django.utils import timezone

        from django_stepup.models import WebAuthnDevice

        make_domain(alice, "alice.example")
        WebAuthnDevice.objects.create(
            user=alice, name="key", confirmed=True, credential_id="AA", credential_digest="0" * 64
        )
        by_totp = client_for(alice, mfa=True, mfa_at=timezone.now(), mfa_method="totp")
        by_webauthn = client_for(alice, mfa=True, mfa_at=timezone.now(), mfa_method="webauthn")

        refused = by_totp.delete(f"{DOMAINS}alice.example/")
        assert refused.status_code == 401
        assert 'acr_values="phr"' in refused["WWW-Authenticate"]
        assert refused.json()["code"] == "phishing_resistant_mfa_required"
        assert Domain.objects.exists()

        assert by_webauthn.delete(f"{DOMAINS}alice.example/").status_code == 204
        assert not Domain.objects.exists()

    def test_another_users_domain_is_404_and_stays(self, bob, alice_client, make_domain):
        make_domain(bob, "bob.example")

        theirs = alice_client.delete(f"{DOMAINS}bob.example/")
        missing = alice_client.delete(f"{DOMAINS}missing.example/")

        assert theirs.status_code == missing.status_code == 404
        assert theirs.content == missing.content
        assert Domain.objects.filter(name="bob.example").exists()
