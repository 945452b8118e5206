"""Errors as deSEC answers them: every unknown object is 404 {"detail": "Not found."},
whatever it is and however it is missing; no body names a model."""

import pytest

from django_stepup.models import Token
from dnsapi.models import Domain

from .conftest import API

NOT_FOUND = {"detail": "Not found."}
UNKNOWN_TOKEN = "00000000-0000-0000-0000-000000000000"
ANY_RRSET = {"domain": None, "subname": None, "type": None}


@pytest.fixture
def alice_client(alice, client_for, make_domain, bob):
    make_domain(alice, "alice.example", [("www", "A", ["192.0.2.1"])])
    make_domain(bob, "bob.example", [("www", "A", ["192.0.2.2"])])
    return client_for(alice, mfa=False)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "domains/missing.example/"),
        ("delete", "domains/missing.example/"),
        ("get", "domains/bob.example/"),  # another account's
        ("delete", "domains/bob.example/"),
        ("get", "domains/Not_A_Name/"),
        ("get", "domains/missing.example/rrsets/"),
        ("post", "domains/missing.example/rrsets/"),
        ("patch", "domains/missing.example/rrsets/"),
        ("put", "domains/missing.example/rrsets/"),
        ("get", "domains/bob.example/rrsets/"),
        ("patch", "domains/bob.example/rrsets/"),
        ("get", "domains/bob.example/rrsets/www.../A/"),
        ("delete", "domains/bob.example/rrsets/www.../A/"),
        ("get", "domains/alice.example/rrsets/missing.../A/"),
        ("patch", "domains/alice.example/rrsets/missing.../A/"),
        ("put", "domains/alice.example/rrsets/missing.../A/"),
        ("get", "domains/alice.example/rrsets/www.../BOGUS/"),
        ("get", "domains/alice.example/rrsets/WWW.../A/"),
        ("get", f"auth/tokens/{UNKNOWN_TOKEN}/"),
        ("get", "auth/tokens/not-a-uuid/"),
        ("get", f"auth/tokens/{UNKNOWN_TOKEN}/policies/rrsets/"),
        ("delete", "auth/totp/999/"),
        ("get", "no/such/endpoint/"),
        ("get", "domains/alice.example/rrsets/www.../A/extra/"),
    ],
)
def test_every_unknown_object_is_the_same_404(alice_client, method, path):
    body = [] if method in ("patch", "put") and path.endswith("rrsets/") else {}

    response = getattr(alice_client, method)(f"{API}/{path}", body, format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


def test_another_users_token_policy_is_the_same_404(alice_client, bob):
    token, _ = Token.objects.create_token(bob)

    response = alice_client.get(f"{API}/auth/tokens/{token.pk}/policies/rrsets/")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_admin_pages_keep_djangos_404(admin_client):
    response = admin_client.get("/admin/no-such-app/")

    assert response.status_code in (302, 404)
    assert response["Content-Type"].startswith("text/html")


@pytest.fixture
def manager(alice_client, login):
    """A login token of alice's (it manages tokens), with an API token of hers and one of bob's
    that have a policy each."""
    client = login("alice@example.com")
    client.own_token = alice_client.token
    client.own_policy = alice_client.token.policies.create(scope="rrsets", values=ANY_RRSET)
    client.bobs_token, _ = Token.objects.create_token(Domain.objects.get(name="bob.example").owner)
    client.bobs_policy = client.bobs_token.policies.create(scope="rrsets", values=ANY_RRSET)
    return client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "auth/tokens/{own}/policies/rrsets/{unknown}/"),
        ("patch", "auth/tokens/{own}/policies/rrsets/{unknown}/"),
        ("delete", "auth/tokens/{own}/policies/rrsets/{unknown}/"),
        ("get", "auth/tokens/{own}/policies/rrsets/not-a-uuid/"),
        ("get", "auth/tokens/{own}/policies/other-scope/"),
        ("get", "auth/tokens/{own}/policies/rrsets/{bobs_policy}/"),  # another token's
        ("patch", "auth/tokens/{bobs}/"),
        ("delete", "auth/tokens/{bobs}/"),
        ("get", "auth/tokens/{bobs}/policies/rrsets/{bobs_policy}/"),
        ("delete", "auth/tokens/{bobs}/policies/rrsets/{bobs_policy}/"),
        ("post", "auth/totp/999/verify/"),
        ("get", "auth/totp/not-a-number/"),
        # Every RRset URL form, on a missing RRset and on another account's domain.
        ("get", "domains/alice.example/rrsets/missing/A/"),
        ("get", "domains/alice.example/rrsets/missing@/A/"),
        ("get", "domains/alice.example/rrsets/@/A/"),
        ("get", "domains/alice.example/rrsets/.../A/"),
        ("get", "domains/bob.example/rrsets/www/A/"),
        ("put", "domains/bob.example/rrsets/www/A/"),
        ("get", "domains/bob.example/rrsets/@/A/"),
        ("delete", "domains/bob.example/rrsets/.../A/"),
        ("post", "domains/bob.example/rrsets/"),
        ("get", "domains/alice.example/rrsets/www/a/"),
        ("get", "domains/alice.example/x/"),
    ],
)
def test_every_unknown_object_is_the_same_404_in_every_url_form(manager, method, path):
    url = path.format(
        own=manager.own_token.pk,
        bobs=manager.bobs_token.pk,
        bobs_policy=manager.bobs_policy.pk,
        unknown=UNKNOWN_TOKEN,
    )

    response = getattr(manager, method)(f"{API}/{url}", {}, format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND
    assert Token.objects.filter(pk=manager.bobs_token.pk).exists()
