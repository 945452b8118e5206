"""API.md's auth rows through the example's URLs: login, the step-up challenge on the DNS
API, verification with a TOTP code, and tokens that are never challenged."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from .conftest import API, PASSWORD

CHALLENGED_REQUESTS = [
    ("get", f"{API}/domains/"),
    ("post", f"{API}/domains/"),
    ("get", f"{API}/domains/alice.example/"),
    ("delete", f"{API}/domains/alice.example/"),
    ("get", f"{API}/domains/alice.example/rrsets/"),
    ("post", f"{API}/domains/alice.example/rrsets/"),
    ("get", f"{API}/domains/alice.example/rrsets/www.../A/"),
    ("patch", f"{API}/domains/alice.example/rrsets/@/A/"),
    ("delete", f"{API}/domains/alice.example/rrsets/.../A/"),
    ("get", f"{API}/auth/tokens/"),
    ("post", f"{API}/auth/tokens/"),
]


@pytest.fixture
def alice_domain(alice, make_domain):
    return make_domain(alice, "alice.example", [("www", "A", ["192.0.2.1"])])


def assert_challenge(response):
    assert response.status_code == 401
    header = response["WWW-Authenticate"]
    assert header.startswith('Token error="insufficient_user_authentication", error_description="')
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == "mfa_required"


class TestLogin:
    def test_login_token_object(self, alice, login):
        response = login("alice@example.com").login_response

        data = response.json()
        assert data["mfa"] is False
        assert data["mfa_at"] is None
        assert data["owner"] == "alice@example.com"
        assert data["token"].startswith("stp_")
        assert (data["max_age"], data["max_unused_period"]) == ("7 00:00:00", "01:00:00")
        assert all(
            data[flag]
            for flag in ("perm_manage_tokens", "perm_create_domain", "perm_delete_domain")
        )
        assert data["allowed_subnets"] == ["0.0.0.0/0", "::/0"]
        assert data["is_valid"] is True
        assert response["Cache-Control"] == "no-store"

    def test_wrong_password_and_unknown_email_answer_alike(self, alice, api_client):
        wrong = api_client.post(
            f"{API}/auth/login/", {"email": "alice@example.com", "password": "nope"}, format="json"
        )
        unknown = api_client.post(
            f"{API}/auth/login/", {"email": "nobody@example.com", "password": "nope"}, format="json"
        )

        assert wrong.status_code == unknown.status_code == 401
        assert wrong.content == unknown.content

    def test_login_with_a_code_is_promoted_at_once(self, alice_factor, totp_code, login):
        client = login("alice@example.com", code=totp_code(alice_factor))

        assert client.login_response.json()["mfa"] is True
        assert client.get(f"{API}/domains/").status_code == 200

    def test_login_with_a_wrong_code_fails(self, alice_factor, totp_code, api_client):
        wrong = str((int(totp_code(alice_factor)) + 1) % 1_000_000).zfill(6)

        response = api_client.post(
            f"{API}/auth/login/",
            {"email": "alice@example.com", "password": PASSWORD, "code": wrong},
            format="json",
        )

        assert response.status_code == 401


class TestStepUp:
    @pytest.mark.parametrize(("method", "url"), CHALLENGED_REQUESTS)
    def test_unpromoted_login_token_of_an_mfa_user_gets_the_challenge(
        self, alice_factor, alice_domain, login, snapshot, method, url
    ):
        client = login("alice@example.com")
        client.get(f"{API}/auth/account/")
        before = snapshot()

        response = getattr(client, method)(
            url, {"name": "new.example", "ttl": 60, "records": ["192.0.2.5"]}, format="json"
        )

        assert_challenge(response)
        assert snapshot() == before

    def test_unpromoted_token_may_read_the_account_list_factors_and_log_out(
        self, alice_factor, login
    ):
        client = login("alice@example.com")

        account = client.get(f"{API}/auth/account/")
        factors = client.get(f"{API}/auth/totp/")

        assert account.status_code == 200
        assert account.json()["mfa_enabled"] is True
        assert factors.status_code == 200
        assert [factor["name"] for factor in factors.json()] == ["phone"]
        assert client.post(f"{API}/auth/logout/").status_code == 204
        assert client.get(f"{API}/auth/account/").status_code == 401

    @pytest.mark.parametrize("verify", ["factor", "any"])
    def test_verifying_a_code_promotes_the_token(
        self, alice_factor, alice_domain, totp_code, login, verify
    ):
        client = login("alice@example.com")
        url = (
            f"{API}/auth/totp/{alice_factor.pk}/verify/"
            if verify == "factor"
            else f"{API}/auth/mfa/verify/"
        )

        response = client.post(url, {"code": totp_code(alice_factor)}, format="json")

        assert response.status_code == 200
        assert response.json()["mfa"] is True
        assert response.json()["mfa_at"] is not None
        assert client.get(f"{API}/domains/").json()[0]["name"] == "alice.example"
        assert client.get(f"{API}/domains/alice.example/rrsets/www.../A/").status_code == 200

    def test_a_wrong_code_leaves_the_token_unpromoted(self, alice_factor, totp_code, login):
        client = login("alice@example.com")
        wrong = str((int(totp_code(alice_factor)) + 1) % 1_000_000).zfill(6)

        response = client.post(f"{API}/auth/mfa/verify/", {"code": wrong}, format="json")

        assert response.status_code in (400, 403)
        assert_challenge(client.get(f"{API}/domains/"))

    def test_a_user_without_mfa_is_never_challenged(self, alice, login):
        client = login("alice@example.com")

        response = client.post(f"{API}/domains/", {"name": "alice.example"}, format="json")

        assert response.status_code == 201

    def test_enrolling_a_factor_enables_mfa_for_new_logins(self, alice, totp_code, login):
        client = login("alice@example.com")

        created = client.post(f"{API}/auth/totp/", {"name": "phone"}, format="json")
        assert created.status_code == 201
        assert created.json()["uri"].startswith("otpauth://totp/")
        factor = TOTPDevice.objects.get(pk=created.json()["id"])
        verified = client.post(
            f"{API}/auth/totp/{factor.pk}/verify/", {"code": totp_code(factor)}, format="json"
        )

        assert verified.status_code == 200
        assert client.get(f"{API}/domains/").status_code == 200
        assert_challenge(login("alice@example.com").get(f"{API}/domains/"))


class TestAPITokens:
    def test_api_tokens_of_an_mfa_user_are_never_challenged(
        self, alice, alice_factor, alice_domain, client_for
    ):
        client = client_for(alice, perms=["create_domain"])

        assert client.get(f"{API}/domains/").status_code == 200
        assert (
            client.post(f"{API}/domains/", {"name": "new.example"}, format="json").status_code
            == 201
        )
        assert client.get(f"{API}/domains/alice.example/rrsets/").status_code == 200

    def test_an_api_token_cannot_verify(self, alice, alice_factor, totp_code, client_for):
        client = client_for(alice)

        response = client.post(
            f"{API}/auth/mfa/verify/", {"code": totp_code(alice_factor)}, format="json"
        )

        assert response.status_code == 403
        client.token.refresh_from_db()
        assert client.token.mfa is None


class TestInvalidTokens:
    @pytest.mark.parametrize(
        "header",
        ["Token stp_doesnotexist", "Token ", "Bearer abc", "Token a b"],
    )
    def test_invalid_credentials_are_401_invalid_token(self, alice_domain, api_client, header):
        api_client.credentials(HTTP_AUTHORIZATION=header)

        response = api_client.get(f"{API}/domains/")

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_a_logged_out_token_is_invalid(self, alice, login):
        client = login("alice@example.com")
        client.post(f"{API}/auth/logout/")

        response = client.get(f"{API}/domains/")

        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token."}
        assert response["WWW-Authenticate"] == "Token"

    def test_a_token_outside_its_subnets_is_invalid(self, alice, alice_domain, client_for):
        client = client_for(alice, allowed_subnets=["198.51.100.0/24"])

        response = client.get(f"{API}/domains/", REMOTE_ADDR="192.0.2.1")

        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token."}


class TestFactorsAndRecoveryCodes:
    def test_recovery_codes_are_shown_once_and_promote_once(self, alice_factor, totp_code, login):
        promoted = login("alice@example.com", code=totp_code(alice_factor))
        response = promoted.post(f"{API}/auth/recovery-codes/")
        assert response.status_code == 201
        assert response["Cache-Control"] == "no-store"
        codes = response.json()["codes"]
        assert len(codes) == 10

        first = login("alice@example.com")
        second = login("alice@example.com")
        used = first.post(f"{API}/auth/mfa/verify/", {"code": codes[0]}, format="json")
        reused = second.post(f"{API}/auth/mfa/verify/", {"code": codes[0]}, format="json")

        assert used.status_code == 200
        assert first.get(f"{API}/domains/").status_code == 200
        assert reused.status_code in (400, 403)
        assert_challenge(second.get(f"{API}/domains/"))

    def test_removing_the_last_factor_disables_mfa(self, alice_factor, totp_code, login):
        promoted = login("alice@example.com", code=totp_code(alice_factor))

        response = promoted.delete(f"{API}/auth/totp/{alice_factor.pk}/")

        assert response.status_code == 204
        assert login("alice@example.com").get(f"{API}/domains/").status_code == 200

    def test_an_unpromoted_token_cant_remove_a_factor(self, alice_factor, login):
        response = login("alice@example.com").delete(f"{API}/auth/totp/{alice_factor.pk}/")

        assert_challenge(response)
        assert TOTPDevice.objects.filter(pk=alice_factor.pk).exists()

    def test_another_users_factor_is_404(self, alice_factor, bob, totp_code, login):
        response = login("bob@example.com").post(
            f"{API}/auth/totp/{alice_factor.pk}/verify/",
            {"code": totp_code(alice_factor)},
            format="json",
        )

        assert response.status_code == 404
