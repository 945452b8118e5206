import time

import pyotp
import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from django_stepup import otp
from tests.factories import (
    TokenFactory,
    TokenPolicyFactory,
    TOTPDeviceFactory,
    UserFactory,
    ZoneFactory,
)
from tests.utils import authenticated


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def token(user):
    return TokenFactory(user=user)


@pytest.fixture
def auth_client(api_client, token):
    """An APIClient that sends ``token``'s secret."""
    return authenticated(api_client, token.secret)


@pytest.fixture(autouse=True)
def _clear_caches():
    """Throttle counters live in the cache; no test inherits another's."""
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def factor(db):
    """An active TOTP factor; its user has MFA enabled."""
    return TOTPDeviceFactory()


@pytest.fixture
def totp_code():
    """``totp_code(factor, steps=0)``: the factor's code at now + steps x 30 s, made by pyotp."""

    def code(factor, steps=0):
        return pyotp.TOTP(otp.factor_secret(factor)).at(time.time() + steps * factor.step)

    return code


# -- the policy tests' account: alice, her zone a.example, a token restricted within it ----


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com")


@pytest.fixture
def zone(alice):
    return ZoneFactory(owner=alice, name="a.example")


@pytest.fixture
def restricted(alice, zone):
    """A restrictive default plus write access to (a.example, www, A) only."""
    token = TokenFactory(user=alice)
    TokenPolicyFactory(token=token)
    TokenPolicyFactory(
        token=token, values={"domain": zone.pk, "subname": "www", "type": "A"}, perm_write=True
    )
    return token
