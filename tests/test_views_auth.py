"""Login, logout and account endpoints through DRF's APIClient."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from django_stepup import signals, tokens
from django_stepup.models import Token
from tests.factories import PASSWORD, TokenFactory, TOTPDeviceFactory, UserFactory
from tests.utils import KNOWN_NETWORKS, authenticated, login_body, login_field, login_name

LOGIN = "/auth/login/"
LOGOUT = "/auth/logout/"
ACCOUNT = "/auth/account/"
INVALID_CREDENTIALS = {"detail": "Invalid credentials."}


def login(client, identifier, password=PASSWORD, **extra):
    """``identifier`` is a user (who logs in with their USERNAME_FIELD) or a string."""
    if not isinstance(identifier, str):
        identifier = login_name(identifier)
    body = {login_field(): identifier, "password": password, **extra}
    return client.post(LOGIN, body, format="json")


class TestLogin:
    def test_issues_an_unpromoted_login_token_with_every_flag(self, api_client, user):
        response = login(api_client, user)
        assert response.status_code == 200
        data = response.json()
        assert data["mfa"] is False
        assert data["mfa_at"] is None
        assert data["owner"] == user.email
        assert data["max_age"] == "7 00:00:00"
        assert data["max_unused_period"] == "01:00:00"
        assert data["perm_manage_tokens"] is True
        assert data["perm_create_domain"] is True
        assert data["perm_delete_domain"] is True
        assert response["Cache-Control"] == "no-store"
        token = Token.objects.get(pk=data["id"])
        assert token.user == user
        assert token.mfa is False
        assert token.digest == tokens.digest(data["token"])

    def test_the_secret_authenticates(self, api_client, user):
        secret = login(api_client, user).json()["token"]
        response = authenticated(api_client, secret).get(ACCOUNT)
        assert response.status_code == 200
        assert response.json()["email"] == user.email

    @override_settings(
        STEPUP={
            "TOKEN_PERMISSIONS": ["create_domain", "delete_domain"],
            "LOGIN_TOKEN_MAX_AGE": timedelta(days=1),
            "LOGIN_TOKEN_MAX_UNUSED_PERIOD": timedelta(minutes=15),
        }
    )
    def test_lifetimes_come_from_settings(self, api_client, user):
        data = login(api_client, user).json()
        assert (data["max_age"], data["max_unused_period"]) == ("1 00:00:00", "00:15:00")

    def test_wrong_password_unknown_email_and_inactive_user_answer_identically(
        self, api_client, db
    ):
        user = UserFactory()
        inactive = UserFactory(is_active=False)
        unusable = UserFactory()
        unusable.set_unusable_password()
        unusable.save()
        responses = [
            login(api_client, user, "wrong password"),
            login(api_client, "nobody@example.com"),
            login(api_client, inactive),
            login(api_client, unusable),
        ]
        for response in responses:
            assert response.status_code == 401
            assert response["WWW-Authenticate"] == "Token"
            assert response.content == responses[0].content
        assert responses[0].json() == INVALID_CREDENTIALS
        assert not Token.objects.exists()

    def test_failure_sends_login_failed(self, api_client, user):
        received = []

        def receiver(sender, **kwargs):
            received.append(kwargs)

        signals.login_failed.connect(receiver)
        try:
            login(api_client, user, "wrong password")
        finally:
            signals.login_failed.disconnect(receiver)
        assert len(received) == 1
        assert received[0]["identifier"] == login_name(user)
        assert received[0]["email"] == login_name(user)
        assert received[0]["request"] is not None

    @pytest.mark.parametrize(
        "extra",
        [{"mfa": True}, {"mfa": None}, {"perm_manage_tokens": True}, {"max_age": None}],
    )
    def test_unknown_fields_are_rejected_by_name(self, api_client, user, extra):
        response = login(api_client, user, **extra)
        assert response.status_code == 400
        assert response.json() == {name: ["Unknown field."] for name in extra}
        assert not Token.objects.exists()

    @pytest.mark.parametrize(
        "body",
        [
            {"password": PASSWORD},
            {"LOGIN": "a@example.com"},
            {"LOGIN": ["a@example.com"], "password": PASSWORD},
            {"LOGIN": "a@example.com", "password": 12345},
            {"LOGIN": "a@example.com", "password": PASSWORD, "code": 123456},
            {"LOGIN": "a\x00@example.com", "password": PASSWORD},
        ],
    )
    def test_malformed_bodies_are_400_naming_the_field(self, api_client, db, body):
        body = {login_field() if key == "LOGIN" else key: value for key, value in body.items()}
        response = api_client.post(LOGIN, body, format="json")
        assert response.status_code == 400
        assert set(response.json()) <= {login_field(), "password", "code"}
        assert response.json()

    def test_the_login_field_is_the_user_models_username_field(self, api_client, user):
        other = "email" if login_field() == "username" else "username"
        body = {other: login_name(user), "password": PASSWORD}
        response = api_client.post(LOGIN, body, format="json")
        assert response.status_code == 400
        assert response.json() == {other: ["Unknown field."]}
        assert api_client.post(LOGIN, login_body(user), format="json").status_code == 200

    def test_a_json_array_is_400(self, api_client, db):
        response = api_client.post(LOGIN, [], format="json")
        assert response.status_code == 400

    def test_a_stale_authorization_header_does_not_break_login(self, api_client, user):
        authenticated(api_client, tokens.generate_secret())
        assert login(api_client, user).status_code == 200

    def test_purges_the_users_expired_login_tokens_only(self, api_client, user):
        old = timezone.now() - timedelta(days=8)
        expired = TokenFactory(user=user, login=True, created=old, max_age=timedelta(days=7))
        idle = TokenFactory(
            user=user, login=True, last_used=old, max_unused_period=timedelta(hours=1)
        )
        alive = TokenFactory(user=user, login=True, max_age=timedelta(days=7))
        expired_api = TokenFactory(user=user, created=old, max_age=timedelta(days=7))
        others = TokenFactory(login=True, created=old, max_age=timedelta(days=7))
        login(api_client, user)
        remaining = set(Token.objects.values_list("pk", flat=True))
        assert expired.pk not in remaining
        assert idle.pk not in remaining
        assert {alive.pk, expired_api.pk, others.pk} <= remaining

    def test_login_with_a_code_promotes_at_once(self, api_client, factor, totp_code):
        response = login(api_client, factor.user, code=totp_code(factor))
        assert response.status_code == 200
        data = response.json()
        assert data["mfa"] is True
        assert data["mfa_at"] is not None
        assert Token.objects.get(pk=data["id"]).mfa is True

    def test_login_with_a_recovery_code_promotes(self, api_client, factor):
        from django_stepup import otp

        code = otp.generate_recovery_codes(factor.user)[0]
        assert login(api_client, factor.user, code=code).json()["mfa"] is True
        assert login(api_client, factor.user, code=code).status_code == 401

    def test_login_with_a_wrong_code_fails_like_a_wrong_password(self, api_client, factor):
        response = login(api_client, factor.user, code="000000")
        wrong_password = login(api_client, factor.user, "wrong")
        assert response.status_code == 401
        assert response.content == wrong_password.content
        assert not Token.objects.exists()
        factor.user.stepup_mfa_state.refresh_from_db()
        assert factor.user.stepup_mfa_state.failure_count == 1

    def test_a_code_for_a_user_without_mfa_is_ignored(self, api_client, user):
        response = login(api_client, user, code="123456")
        assert response.status_code == 200
        assert response.json()["mfa"] is False

    def test_without_a_code_a_user_with_mfa_gets_an_unpromoted_token(self, api_client, factor):
        assert login(api_client, factor.user).json()["mfa"] is False


class TestLoginThrottle:
    """Every attempt counts, failures included, before the password is checked."""

    def test_failures_count_against_the_account(self, api_client, user):
        for _ in range(10):
            assert login(api_client, user, "wrong").status_code == 401
        response = login(api_client, user)
        assert response.status_code == 429
        assert int(response["Retry-After"]) >= 1
        assert not Token.objects.exists()

    def test_account_key_is_normalised(self, api_client, user):
        for i in range(10):
            name = login_name(user)
            login(api_client, name.upper() if i % 2 else f" {name} ", "wrong")
        assert login(api_client, user).status_code == 429

    def test_failures_count_against_the_address(self, api_client, db):
        for i in range(30):
            assert login(api_client, f"nobody{i}@example.com").status_code == 401
        user = UserFactory()
        response = login(api_client, user)
        assert response.status_code == 429
        assert int(response["Retry-After"]) >= 1

    def test_other_addresses_are_not_throttled_by_one_address(self, api_client, db):
        for i in range(30):
            login(api_client, f"nobody{i}@example.com")
        user = UserFactory()
        response = api_client.post(
            LOGIN,
            login_body(user),
            format="json",
            REMOTE_ADDR="198.51.100.7",
        )
        assert response.status_code == 200

    @override_settings(
        CACHES={"throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        STEPUP={"THROTTLE_CACHE": "throttle"},
    )
    def test_the_window_passes(self, api_client, user):
        # In memory: its expiry follows time-machine's clock, Redis's would not.
        with time_machine.travel("2030-01-01 00:00:05", tick=False) as traveller:
            for _ in range(10):
                login(api_client, user, "wrong")
                traveller.shift(timedelta(seconds=1))
            response = login(api_client, user)
            assert response.status_code == 429
            assert response["Retry-After"] == "50"  # the first attempt's slot frees at 1:05
            traveller.shift(timedelta(seconds=50))
            assert login(api_client, user).status_code == 200


class TestLogout:
    def test_deletes_the_login_token_used(self, api_client, user):
        token = TokenFactory(user=user, login=True)
        other = TokenFactory(user=user, login=True)
        client = authenticated(api_client, token.secret)
        assert client.post(LOGOUT).status_code == 204
        assert not Token.objects.filter(pk=token.pk).exists()
        assert Token.objects.filter(pk=other.pk).exists()
        assert client.get(ACCOUNT).status_code == 401

    def test_works_for_an_unpromoted_token_of_a_user_with_mfa(self, api_client, factor):
        token = TokenFactory(user=factor.user, login=True)
        assert authenticated(api_client, token.secret).post(LOGOUT).status_code == 204

    def test_works_for_an_api_token(self, api_client, user):
        token = TokenFactory(user=user)
        assert authenticated(api_client, token.secret).post(LOGOUT).status_code == 204
        assert not Token.objects.filter(pk=token.pk).exists()

    def test_needs_a_token(self, api_client, db):
        response = api_client.post(LOGOUT)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


class TestAccount:
    def test_any_login_token_even_unpromoted_reads_it(self, api_client, factor):
        user = factor.user
        token = TokenFactory(user=user, login=True)
        response = authenticated(api_client, token.secret).get(ACCOUNT)
        assert response.status_code == 200
        created = getattr(user, "date_joined", None) or user.created
        assert response.json() == {
            "email": user.email,
            "created": created.isoformat().replace("+00:00", "Z"),
            "mfa_enabled": True,
        }

    def test_mfa_disabled_and_pending_factor(self, api_client, user):
        TOTPDeviceFactory(user=user, pending=True)
        token = TokenFactory(user=user, login=True)
        assert authenticated(api_client, token.secret).get(ACCOUNT).json()["mfa_enabled"] is False

    def test_api_token_is_403(self, api_client, user):
        response = authenticated(api_client, TokenFactory(user=user).secret).get(ACCOUNT)
        assert response.status_code == 403
        assert "WWW-Authenticate" not in response

    def test_costs_the_authentication_query_only(
        self, api_client, factor, django_assert_num_queries
    ):
        token = TokenFactory(
            user=factor.user, login=True, last_used=timezone.now(), networks=KNOWN_NETWORKS
        )
        client = authenticated(api_client, token.secret)
        with django_assert_num_queries(1):
            assert client.get(ACCOUNT).status_code == 200
