"""The standard fixtures of the security test catalogue (SECURITY-TESTS.md, section 0).

alice has MFA (factor ``Fa``) and owns ``a.example``; bob has MFA (``Fb``) and owns
``b.example``; carol has no MFA. ``La0``/``La1``/``Lb1``/``Lc0`` are login tokens,
``Aa`` is alice's restricted API token. Every client made here records its responses,
and every test using them checks that each 401 carried ``WWW-Authenticate`` (K01).

Test modules import everything: ``from .security_fixtures import *``.
"""

import threading
import time
from datetime import timedelta

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connections
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from django_stepup import otp
from django_stepup.models import MFAState, RecoveryCode, Token, TokenPolicy
from dnsapi.models import Domain, RRset

__all__ = [
    "API",
    "INVALID_TOKEN",
    "PASSWORD",
    "Aa",
    "Fa",
    "Fb",
    "La0",
    "La1",
    "Lb1",
    "Lc0",
    "SecurityClient",
    "add_policy",
    "alice",
    "anonymous",
    "bob",
    "carol",
    "catch",
    "check_401_challenges",
    "clear_throttles",
    "code",
    "in_parallel",
    "mfa_user",
    "no_back_off",
    "responses",
    "snapshot",
    "token_client",
    "world",
]

API = "/api/v1"
PASSWORD = "correct horse battery staple"
INVALID_TOKEN = {"detail": "Invalid token."}

#: Every response a :class:`SecurityClient` received during the current test.
responses = []


class SecurityClient(APIClient):
    """An APIClient that sends JSON by default and remembers every response (for K01)."""

    default_format = "json"

    def request(self, **kwargs):
        response = super().request(**kwargs)
        responses.append(response)
        return response


@pytest.fixture(autouse=True)
def check_401_challenges():
    """K01: every 401 any test here provoked carries a ``WWW-Authenticate`` challenge."""
    responses.clear()
    yield
    missing = [
        r.wsgi_request.path
        for r in responses
        if r.status_code == 401 and not r.get("WWW-Authenticate")
    ]
    responses.clear()
    assert not missing, f"401 without WWW-Authenticate: {missing}"


@pytest.fixture(autouse=True)
def clear_throttles(settings):
    """Login throttles count in the cache; fast hashing keeps logins cheap."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for cache in caches.all():
        cache.clear()


def token_client(token, secret, **extra):
    client = SecurityClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    client.token = token
    client.secret = secret
    return client


def mfa_user(email, factor_name="phone"):
    """A user with MFA enabled by one active TOTP factor; returns (user, factor)."""
    user = get_user_model().objects.create_user(email=email, password=PASSWORD)
    factor = TOTPDevice.objects.create(user=user, name=factor_name, confirmed=True)
    return user, factor


def code(factor, steps=0):
    """The TOTP of ``factor`` at now + steps x 30 s, computed with pyotp (not the app)."""
    return pyotp.TOTP(otp.factor_secret(factor)).at(time.time() + steps * factor.step)


def add_policy(token, perm_write=False, **values):
    return TokenPolicy.objects.create(
        token=token,
        scope="rrsets",
        values={"domain": None, "subname": None, "type": None, **values},
        perm_write=perm_write,
    )


def login_token(user, **fields):
    return Token.objects.create_token(
        user, max_age=timedelta(days=7), max_unused_period=timedelta(hours=1), **fields
    )


class World:
    """The fixture set of section 0, built once per test."""

    def __init__(self):
        self.alice, self.Fa = mfa_user("alice@example.com")
        self.bob, self.Fb = mfa_user("bob@example.com")
        self.carol = get_user_model().objects.create_user(
            email="carol@example.com", password=PASSWORD
        )
        self.a_example = Domain.objects.create(owner=self.alice, name="a.example")
        for subname, record_type, records in (
            ("", "A", ["192.0.2.1"]),
            ("www", "A", ["192.0.2.2"]),
            ("www", "AAAA", ["2001:db8::2"]),
        ):
            RRset.objects.create(
                domain=self.a_example, subname=subname, type=record_type, ttl=3600, records=records
            )
        self.b_example = Domain.objects.create(owner=self.bob, name="b.example")
        RRset.objects.create(
            domain=self.b_example, subname="www", type="A", ttl=3600, records=["192.0.2.9"]
        )
        now = timezone.now()
        self.La0 = token_client(*login_token(self.alice, mfa=False))
        self.La1 = token_client(*login_token(self.alice, mfa=True, mfa_at=now))
        self.Lb1 = token_client(*login_token(self.bob, mfa=True, mfa_at=now))
        self.Lc0 = token_client(*login_token(self.carol, mfa=False))
        self.Aa = token_client(*Token.objects.create_token(self.alice, name="www only"))
        self.Aa_default = add_policy(self.Aa.token)
        self.Aa_www = add_policy(
            self.Aa.token, perm_write=True, domain=self.a_example.pk, subname="www", type="A"
        )


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def alice(world):
    return world.alice


@pytest.fixture
def bob(world):
    return world.bob


@pytest.fixture
def carol(world):
    return world.carol


@pytest.fixture
def Fa(world):
    return world.Fa


@pytest.fixture
def Fb(world):
    return world.Fb


@pytest.fixture
def La0(world):
    return world.La0


@pytest.fixture
def La1(world):
    return world.La1


@pytest.fixture
def Lb1(world):
    return world.Lb1


@pytest.fixture
def Lc0(world):
    return world.Lc0


@pytest.fixture
def Aa(world):
    return world.Aa


@pytest.fixture
def anonymous():
    return SecurityClient()


def _rows(queryset, *ignored):
    return [
        tuple(sorted((k, v) for k, v in row.items() if k not in ignored))
        for row in queryset.order_by("pk").values()
    ]


@pytest.fixture
def snapshot(db):
    """All app tables as plain values (factors with ``last_t`` and counters): equal = no change.

    A token's ``last_used`` and ``networks`` are left out: they record every authenticated
    request, denied or not (D03 tests ``last_used`` on its own).
    """

    def snapshot():
        return {
            "users": _rows(get_user_model().objects.all(), "last_login"),
            "tokens": _rows(Token.objects.all(), "last_used", "networks"),
            "policies": _rows(TokenPolicy.objects.all()),
            "factors": _rows(TOTPDevice.objects.all()),
            "mfa_states": _rows(MFAState.objects.all()),
            "recovery_codes": _rows(RecoveryCode.objects.all()),
            "domains": _rows(Domain.objects.all()),
            "rrsets": _rows(RRset.objects.all()),
        }

    return snapshot


def in_parallel(*calls):
    """Run ``calls`` in threads released together by a barrier; return their results.

    Each thread closes its own database connections when done.
    """
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class Caught(list):
    def __call__(self, sender, **kwargs):
        self.append(kwargs)


def catch(signal):
    caught = Caught()
    signal.connect(caught)
    return caught


@pytest.fixture
def no_back_off(settings):
    """django-otp's exponential back-off off, so the per-user counter is what is tested."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
