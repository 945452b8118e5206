"""The public signals fire once per event, with their documented arguments."""

from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup import otp, signals
from django_stepup.models import RecoveryCode, Token
from tests.factories import PASSWORD, TokenFactory, TOTPDeviceFactory
from tests.utils import authenticated, login_body, login_name


@contextmanager
def capture(signal):
    """Collect ``(sender, kwargs)`` for every send of ``signal`` inside the block."""
    received = []

    def receiver(sender, signal, **kwargs):
        received.append((sender, kwargs))

    signal.connect(receiver, weak=False)
    try:
        yield received
    finally:
        signal.disconnect(receiver)


@pytest.fixture
def token(factor):
    return TokenFactory(user=factor.user, login=True)


def test_login_failed(api_client, factor):
    with capture(signals.login_failed) as received:
        api_client.post("/auth/login/", login_body(factor.user, "nope"), format="json")
        api_client.post("/auth/login/", login_body(factor.user, PASSWORD), format="json")
    [(sender, kwargs)] = received
    assert sender is get_user_model()
    assert set(kwargs) == {"identifier", "email", "request"}
    assert kwargs["identifier"] == kwargs["email"] == login_name(factor.user)


def test_step_up_succeeded(api_client, factor, token, totp_code):
    with capture(signals.step_up_succeeded) as received:
        authenticated(api_client, token.secret).post(
            f"/auth/totp/{factor.pk}/verify/", {"code": totp_code(factor)}, format="json"
        )
    [(sender, kwargs)] = received
    assert sender is Token
    assert set(kwargs) == {"user", "token", "factor", "method", "request"}
    assert kwargs["method"] == "totp"
    assert kwargs["user"] == factor.user
    assert kwargs["token"].pk == token.pk
    assert kwargs["token"].mfa is True
    assert kwargs["factor"] == factor


def test_step_up_succeeded_with_a_recovery_code_has_no_factor(api_client, factor, token):
    code = otp.generate_recovery_codes(factor.user)[0]
    with capture(signals.step_up_succeeded) as received:
        authenticated(api_client, token.secret).post(
            "/auth/mfa/verify/", {"code": code}, format="json"
        )
    [(_, kwargs)] = received
    assert kwargs["factor"] is None


def test_step_up_failed_carries_the_failure_count(api_client, factor, token):
    with capture(signals.step_up_failed) as received:
        authenticated(api_client, token.secret).post(
            "/auth/mfa/verify/", {"code": "never-a-code-q7"}, format="json"
        )
    [(sender, kwargs)] = received
    assert sender is Token
    assert set(kwargs) == {"user", "token", "factor", "failure_count", "method", "request"}
    assert kwargs["method"] is None
    assert (kwargs["user"], kwargs["token"].pk, kwargs["factor"]) == (factor.user, token.pk, None)
    assert kwargs["failure_count"] == 1
    assert "never-a-code-q7" not in repr(kwargs)


def test_step_up_failed_names_the_factor_of_a_per_factor_verify(api_client, factor, token):
    with capture(signals.step_up_failed) as received:
        authenticated(api_client, token.secret).post(
            f"/auth/totp/{factor.pk}/verify/", {"code": "000000"}, format="json"
        )
    [(_, kwargs)] = received
    assert kwargs["factor"] == factor


def test_factor_activated_fires_on_the_first_verify_only(api_client, user, totp_code):
    pending = TOTPDeviceFactory(user=user, pending=True)
    token = TokenFactory(user=user, login=True)
    client = authenticated(api_client, token.secret)
    with capture(signals.factor_activated) as received:
        client.post(f"/auth/totp/{pending.pk}/verify/", {"code": totp_code(pending)}, format="json")
        client.post(
            f"/auth/totp/{pending.pk}/verify/", {"code": totp_code(pending, 1)}, format="json"
        )
    [(sender, kwargs)] = received
    assert sender is TOTPDevice
    assert set(kwargs) == {"user", "factor", "request"}
    assert kwargs["factor"] == pending


def test_factor_removed(api_client, factor):
    token = TokenFactory(user=factor.user, promoted=True)
    with capture(signals.factor_removed) as received:
        authenticated(api_client, token.secret).delete(f"/auth/totp/{factor.pk}/")
    [(sender, kwargs)] = received
    assert sender is TOTPDevice
    assert set(kwargs) == {"user", "factor", "mfa_enabled", "request"}
    assert (kwargs["user"], kwargs["mfa_enabled"]) == (factor.user, False)


def test_recovery_codes_generated(api_client, factor):
    token = TokenFactory(user=factor.user, promoted=True)
    with capture(signals.recovery_codes_generated) as received:
        authenticated(api_client, token.secret).post("/auth/recovery-codes/")
    [(sender, kwargs)] = received
    assert sender is RecoveryCode
    assert set(kwargs) == {"user", "count", "request"}
    assert kwargs["count"] == 10


def test_tokens_revoked_on_logout(api_client, token):
    with capture(signals.tokens_revoked) as received:
        authenticated(api_client, token.secret).post("/auth/logout/")
    [(sender, kwargs)] = received
    assert sender is Token
    assert set(kwargs) == {"user", "tokens", "reason", "request"}
    assert (kwargs["tokens"], kwargs["reason"]) == ([token.pk], "logout")


def test_tokens_revoked_on_factor_removal(api_client, factor, token):
    promoted = TokenFactory(user=factor.user, promoted=True)
    with capture(signals.tokens_revoked) as received:
        authenticated(api_client, promoted.secret).delete(f"/auth/totp/{factor.pk}/")
    [(_, kwargs)] = received
    assert (kwargs["tokens"], kwargs["reason"]) == ([token.pk], "factor_removed")
