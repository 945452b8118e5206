"""API.md's token and policy rows through the example's ``/api/v1/auth/`` URLs."""

import pytest

from django_stepup.models import Token, TokenPolicy

from .conftest import API

TOKENS = f"{API}/auth/tokens/"


def policies_url(token_id):
    return f"{TOKENS}{token_id}/policies/rrsets/"


@pytest.fixture
def alice_client(alice, client_for):
    return client_for(alice, mfa=False)


@pytest.fixture
def api_token(alice):
    token, _secret = Token.objects.create_token(alice, name="ci")
    return token


class TestTokens:
    def test_a_new_token_is_an_api_token_without_flags(self, alice_client):
        response = alice_client.post(TOKENS, {"name": "ci"}, format="json")

        assert response.status_code == 201
        data = response.json()
        assert data["mfa"] is None
        assert data["token"].startswith("stp_")
        assert not any(
            data[f] for f in ("perm_manage_tokens", "perm_create_domain", "perm_delete_domain")
        )
        assert response["Cache-Control"] == "no-store"

    def test_the_new_token_authenticates_on_the_dns_api(self, alice, alice_client, make_domain):
        make_domain(alice, "alice.example")
        secret = alice_client.post(TOKENS, {"name": "ci"}, format="json").json()["token"]
        alice_client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")

        assert alice_client.get(f"{API}/domains/").json()[0]["name"] == "alice.example"

    def test_list_retrieve_change_delete(self, alice_client, api_token):
        url = f"{TOKENS}{api_token.pk}/"

        listed = alice_client.get(TOKENS).json()
        retrieved = alice_client.get(url).json()
        changed = alice_client.patch(url, {"perm_create_domain": True}, format="json")
        deleted = alice_client.delete(url)

        assert str(api_token.pk) in {token["id"] for token in listed}
        assert "token" not in retrieved
        assert changed.status_code == 200
        assert changed.json()["perm_create_domain"] is True
        assert deleted.status_code == 204
        assert not Token.objects.filter(pk=api_token.pk).exists()

    def test_put_replaces_the_changeable_fields(self, alice_client, api_token):
        response = alice_client.put(
            f"{TOKENS}{api_token.pk}/",
            {"name": "renamed", "allowed_subnets": ["192.0.2.0/24"], "perm_delete_domain": True},
            format="json",
        )

        assert response.status_code == 200
        api_token.refresh_from_db()
        assert api_token.name == "renamed"
        assert api_token.allowed_subnets == ["192.0.2.0/24"]
        assert api_token.has_permission("delete_domain")

    def test_mfa_is_read_only(self, alice_client):
        response = alice_client.post(TOKENS, {"name": "x", "mfa": True}, format="json")

        assert response.status_code == 400
        assert "mfa" in response.json()
        assert not Token.objects.filter(name="x").exists()

    def test_another_users_token_is_404(self, bob, alice_client):
        theirs, _secret = Token.objects.create_token(bob, name="bob's")

        for method in ("get", "patch", "delete"):
            response = getattr(alice_client, method)(f"{TOKENS}{theirs.pk}/", {}, format="json")
            assert response.status_code == 404
        assert Token.objects.filter(pk=theirs.pk).exists()

    def test_no_token_grants_what_it_lacks(self, alice, client_for):
        manager = client_for(alice, perms=["manage_tokens"])

        response = manager.post(TOKENS, {"name": "x", "perm_create_domain": True}, format="json")

        assert response.status_code == 403
        assert not Token.objects.filter(name="x").exists()

    def test_an_api_token_without_manage_tokens_is_refused(self, alice, client_for):
        response = client_for(alice).get(TOKENS)

        assert response.status_code == 403

    @pytest.mark.parametrize(
        "body",
        [
            {"allowed_subnets": ["300.0.0.0/8"]},
            {"max_age": "-1 00:00:00"},
            {"name": "x" * 200},
            {"perm_create_domain": "yes"},
        ],
    )
    def test_invalid_input_is_400_naming_the_field(self, alice_client, body):
        response = alice_client.post(TOKENS, body, format="json")

        assert response.status_code == 400
        assert list(response.json()) == list(body)
        assert Token.objects.count() == 1


class TestPolicies:
    def test_first_policy_must_be_the_default(self, alice, alice_client, api_token, make_domain):
        make_domain(alice, "alice.example")

        response = alice_client.post(
            policies_url(api_token.pk),
            {"domain": "alice.example", "perm_write": True},
            format="json",
        )

        assert response.status_code == 400
        assert not TokenPolicy.objects.exists()

    def test_create_list_change_delete(self, alice, alice_client, api_token, make_domain):
        make_domain(alice, "alice.example")
        url = policies_url(api_token.pk)

        default = alice_client.post(url, {}, format="json")
        specific = alice_client.post(
            url,
            {"domain": "alice.example", "subname": "www", "type": "A", "perm_write": True},
            format="json",
        )
        listed = alice_client.get(url)

        assert default.status_code == specific.status_code == 201
        assert default.json() == {
            "id": default.json()["id"],
            "domain": None,
            "subname": None,
            "type": None,
            "perm_write": False,
        }
        assert specific.json()["domain"] == "alice.example"
        assert len(listed.json()) == 2

        specific_url = f"{url}{specific.json()['id']}/"
        assert (
            alice_client.patch(specific_url, {"perm_write": False}, format="json").json()[
                "perm_write"
            ]
            is False
        )
        refused = alice_client.delete(f"{url}{default.json()['id']}/")
        assert refused.status_code == 400
        assert alice_client.delete(specific_url).status_code == 204
        assert alice_client.delete(f"{url}{default.json()['id']}/").status_code == 204
        assert not TokenPolicy.objects.exists()

    def test_one_policy_get_and_put(self, alice, alice_client, api_token, make_domain):
        make_domain(alice, "alice.example")
        url = policies_url(api_token.pk)
        alice_client.post(url, {}, format="json")
        created = alice_client.post(url, {"domain": "alice.example"}, format="json").json()
        one = f"{url}{created['id']}/"

        fetched = alice_client.get(one)
        replaced = alice_client.put(
            one,
            {"domain": "alice.example", "subname": "", "type": "TXT", "perm_write": True},
            format="json",
        )

        assert fetched.json() == created
        assert replaced.status_code == 200
        assert replaced.json() == {
            "id": created["id"],
            "domain": "alice.example",
            "subname": "",
            "type": "TXT",
            "perm_write": True,
        }

    def test_a_duplicate_is_409(self, alice_client, api_token):
        url = policies_url(api_token.pk)
        alice_client.post(url, {}, format="json")

        response = alice_client.post(url, {}, format="json")

        assert response.status_code == 409
        assert TokenPolicy.objects.count() == 1

    def test_another_users_domain_is_the_same_400_as_a_missing_one(
        self, bob, alice_client, api_token, make_domain
    ):
        make_domain(bob, "bob.example")
        url = policies_url(api_token.pk)
        alice_client.post(url, {}, format="json")

        theirs = alice_client.post(url, {"domain": "bob.example"}, format="json")
        missing = alice_client.post(url, {"domain": "missing.example"}, format="json")

        assert theirs.status_code == missing.status_code == 400
        assert theirs.json()["domain"][0].replace("bob", "missing") == missing.json()["domain"][0]
        assert TokenPolicy.objects.count() == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"subname": "WWW"}, "subname"),
            ({"type": "a"}, "type"),
            ({"type": "A\x00"}, "type"),
            ({"subname": "nul\x00"}, "subname"),
            ({"domain": "nul\x00.example"}, "domain"),
            ({"domain": "ALICE.example"}, "domain"),
            ({"perm_write": "yes"}, "perm_write"),
        ],
    )
    def test_invalid_policy_is_400_naming_the_field(
        self, alice, alice_client, api_token, make_domain, body, field
    ):
        make_domain(alice, "alice.example")
        url = policies_url(api_token.pk)
        alice_client.post(url, {}, format="json")

        response = alice_client.post(url, {"domain": "alice.example", **body}, format="json")

        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert TokenPolicy.objects.count() == 1

    def test_another_users_token_policies_are_404(self, bob, alice_client):
        theirs, _secret = Token.objects.create_token(bob)

        assert alice_client.get(policies_url(theirs.pk)).status_code == 404
        assert alice_client.post(policies_url(theirs.pk), {}, format="json").status_code == 404
        assert not TokenPolicy.objects.exists()
