import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from django_stepup.models import Token

PASSWORD = "correct horse battery staple"


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
