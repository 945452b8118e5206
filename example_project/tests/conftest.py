import time

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from django_stepup import otp
from django_stepup.models import Token, TokenPolicy
from dnsapi.models import Domain, RRset

PASSWORD = "correct horse battery staple"
API = "/api/v1"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_caches():
    """Login throttles count in the cache; no test inherits another's attempts."""
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def make_user(db):
    def make_user(email, password=PASSWORD):
        return get_user_model().objects.create_user(email=email, password=password)

    return make_user


@pytest.fixture
def alice(make_user):
    return make_user("alice@example.com")


@pytest.fixture
def bob(make_user):
    return make_user("bob@example.com")


@pytest.fixture
def alice_factor(alice):
    """An active TOTP factor of alice's: MFA is enabled for her."""
    factor = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    return factor


@pytest.fixture
def totp_code():
    """``totp_code(factor, steps=0)``: the factor's code at now + steps x 30 s, made by pyotp."""

    def code(factor, steps=0):
        return pyotp.TOTP(otp.factor_secret(factor)).at(time.time() + steps * factor.step)

    return code


@pytest.fixture
def client_for():
    """An APIClient authenticated with a new token of ``user`` (fields as for the model)."""

    def client_for(user, **fields):
        token, secret = Token.objects.create_token(user, **fields)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        client.token = token
        client.secret = secret
        return client

    return client_for


@pytest.fixture
def login():
    """``login(email, password=PASSWORD, **extra)``: log in over HTTP; an APIClient sending
    the new login token, with the response on ``.login_response``."""

    def login(email, password=PASSWORD, **extra):
        client = APIClient()
        response = client.post(
            f"{API}/auth/login/", {"email": email, "password": password, **extra}, format="json"
        )
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        client.login_response = response
        return client

    return login


@pytest.fixture
def make_domain():
    def make_domain(owner, name, rrsets=(), minimum_ttl=60):
        """A domain with RRsets given as (subname, type, records) tuples. Its minimum TTL
        is 60 unless given (deSEC's default of 3600 can be lowered per domain)."""
        domain = Domain.objects.create(owner=owner, name=name, minimum_ttl=minimum_ttl)
        for subname, record_type, records in rrsets:
            RRset.objects.create(
                domain=domain, subname=subname, type=record_type, ttl=3600, records=records
            )
        return domain

    return make_domain


@pytest.fixture
def snapshot(db):
    """Every domain, RRset, token and policy row as plain values: equal means unchanged.

    A token's ``networks`` is left out: it records the first use of the token from each
    network, whatever the request does.
    """

    def snapshot():
        return {
            "domains": list(Domain.objects.order_by("pk").values()),
            "rrsets": list(RRset.objects.order_by("pk").values()),
            "tokens": [
                {key: value for key, value in row.items() if key != "networks"}
                for row in Token.objects.order_by("pk").values()
            ],
            "policies": list(TokenPolicy.objects.order_by("pk").values()),
        }

    return snapshot
