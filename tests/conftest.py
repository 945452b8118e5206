import pytest
from rest_framework.test import APIClient

from tests.factories import TokenFactory, UserFactory
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
