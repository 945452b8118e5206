import pytest

from tests.factories import TokenFactory
from tests.utils import authenticated

URLS = ["/auth/login/", "/auth/tokens/", "/auth/mfa/verify/", "/auth/totp/"]
NESTED = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def client(api_client, db):
    return authenticated(api_client, TokenFactory(promoted=True).secret)


@pytest.mark.parametrize("url", URLS)
def test_deeply_nested_json_is_a_400(client, url):
    response = client.generic("POST", url, NESTED, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the document is nested too deeply."}


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_bodies_other_than_json_are_a_415(client, url, content_type):
    response = client.generic("POST", url, "name=x", content_type=content_type)
    assert response.status_code == 415


@pytest.mark.parametrize("url", URLS)
def test_a_body_over_the_upload_limit_is_a_json_413(client, url, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"name": "' + "a" * 4096 + '"}'
    response = client.generic("POST", url, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is too large.",
        "code": "payload_too_large",
    }


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "body",
    ['{"name": "a", "name": "b"}', '{"outer": {"x": 1, "x": 1}}', '[{"code": "1", "code": "2"}]'],
)
def test_a_body_with_a_duplicate_key_is_a_400_naming_it(client, url, body):
    response = client.generic("POST", url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - duplicate key")


def test_a_duplicate_key_writes_nothing(client):
    from django_stepup.models import Token

    count = Token.objects.count()
    body = '{"name": "one", "name": "two"}'
    response = client.generic("POST", "/auth/tokens/", body, content_type="application/json")
    assert response.status_code == 400
    assert Token.objects.count() == count


@pytest.mark.parametrize("url", URLS)
def test_invalid_json_is_still_a_400(client, url):
    response = client.generic("POST", url, '{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")
