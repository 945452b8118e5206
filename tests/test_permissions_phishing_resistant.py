"""PhishingResistantMFA and its variants: only WebAuthn promotions pass; the rest get "phr"."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import TokenFactory, TOTPDeviceFactory, UserFactory
from tests.test_views_webauthn import register
from tests.utils import authenticated


def get(token, path):
    return authenticated(APIClient(), token.secret).get(path)


def assert_phr_challenge(response, max_age=None):
    assert response.status_code == 401, response.content
    header = response["WWW-Authenticate"]
    assert header.startswith('Token error="insufficient_user_authentication"')
    assert 'acr_values="phr"' in header
    assert response.json()["code"] == "phishing_resistant_mfa_required"
    if max_age is not None:
        assert f"max_age={max_age}" in header


def webauthn_token(user, **fields):
    return TokenFactory(user=user, promoted=True, mfa_method="webauthn", **fields)


@pytest.fixture
def webauthn_user(db):
    user = UserFactory()
    register(user)
    return user


def test_a_webauthn_promotion_passes(webauthn_user):
    assert get(webauthn_token(webauthn_user), "/guarded/phr/").status_code == 200


@pytest.mark.parametrize("fields", [{"login": True}, {"promoted": True, "mfa_method": "totp"}])
def test_other_login_tokens_get_the_phr_challenge(webauthn_user, fields):
    assert_phr_challenge(get(TokenFactory(user=webauthn_user, **fields), "/guarded/phr/"))


def test_api_tokens_are_refused(webauthn_user):
    response = get(TokenFactory(user=webauthn_user), "/guarded/phr/")
    assert response.status_code == 403


def test_the_max_age_variant_wants_a_fresh_promotion(webauthn_user):
    stale = webauthn_token(webauthn_user, mfa_at=timezone.now() - timedelta(minutes=6))
    assert_phr_challenge(get(stale, "/guarded/phr-recent/"), max_age=300)
    assert get(webauthn_token(webauthn_user), "/guarded/phr-recent/").status_code == 200


def test_if_enrolled_challenges_a_totp_promotion_of_a_webauthn_user(webauthn_user):
    token = TokenFactory(user=webauthn_user, promoted=True, mfa_method="totp")
    assert_phr_challenge(get(token, "/guarded/phr-if-enrolled/"))
    assert get(webauthn_token(webauthn_user), "/guarded/phr-if-enrolled/").status_code == 200


def test_if_enrolled_lets_totp_only_users_through(db):
    factor = TOTPDeviceFactory()
    token = TokenFactory(user=factor.user, promoted=True, mfa_method="totp")
    assert get(token, "/guarded/phr-if-enrolled/").status_code == 200
    # ... but still demands their second factor (MFARequiredIfEnabled beside it).
    response = get(TokenFactory(user=factor.user, login=True), "/guarded/phr-if-enrolled/")
    assert response.status_code == 401
    assert response.json()["code"] == "mfa_required"


def test_if_enrolled_lets_api_tokens_through(webauthn_user):
    assert get(TokenFactory(user=webauthn_user), "/guarded/phr-if-enrolled/").status_code == 200


def test_a_pending_webauthn_factor_is_no_enrolment(db):
    factor = TOTPDeviceFactory()
    from django_stepup.models import WebAuthnDevice

    WebAuthnDevice.objects.create(user=factor.user, name="pending", confirmed=False)
    token = TokenFactory(user=factor.user, promoted=True, mfa_method="totp")
    assert get(token, "/guarded/phr-if-enrolled/").status_code == 200
