"""The example's OpenAPI schema at /api/v1/schema/, its Swagger UI without a CDN, and the
strict input the schema promises."""

import logging

import pytest
from django.core.management import call_command
from django.urls import path
from rest_framework.test import APIClient
from rest_framework.views import APIView

from dnsapi.models import Domain
from example_project import urls as project_urls

from .conftest import API


def test_the_schema_validates_with_no_warning(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    assert "domains_rrsets_bulk_update" in (tmp_path / "s.yaml").read_text()


@pytest.fixture
def document(db):
    response = APIClient().get(f"{API}/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_tells_bulk_bodies_ttl_bounds_and_types(document):
    rrsets = document["paths"]["/api/v1/domains/{name}/rrsets/"]
    for method in ("put", "patch"):
        body = rrsets[method]["requestBody"]["content"]["application/json"]["schema"]
        assert body["type"] == "array"
    schemas = document["components"]["schemas"]
    ttl = schemas["RRsetRequest"]["properties"]["ttl"]
    assert (ttl["minimum"], ttl["maximum"]) == (1, 86400)
    assert "AAAA" in schemas["TypeEnum"]["enum"]
    assert schemas["TokenRequest"]["additionalProperties"] is False


def test_the_lists_are_documented_as_answered(document):
    """Found by schemathesis: lists of domains have no keys, RRset lists are plain arrays
    (the pages' links are in the Link header) and may be a 400 asking for pagination."""
    domains = document["paths"]["/api/v1/domains/"]["get"]["responses"]["200"]
    item = domains["content"]["application/json"]["schema"]["items"]["$ref"].split("/")[-1]
    assert "keys" not in document["components"]["schemas"][item]["properties"]
    rrsets = document["paths"]["/api/v1/domains/{name}/rrsets/"]["get"]["responses"]
    page = rrsets["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert document["components"]["schemas"][page]["type"] == "array"
    assert "Link" in rrsets["200"]["headers"]
    assert "400" in rrsets


def test_the_schema_documents_the_step_up_challenge_on_the_host_viewsets(document):
    """RRsetViewSet declares MFARequiredIfEnabled; no decorator documents the challenge."""
    unauthorized = document["paths"]["/api/v1/domains/"]["post"]["responses"]["401"]
    assert (
        'error="insufficient_user_authentication"'
        in (unauthorized["headers"]["WWW-Authenticate"]["description"])
    )
    assert document["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"


def test_swagger_ui_is_served_from_the_sidecar(db):
    response = APIClient().get(f"{API}/schema/ui/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


@pytest.mark.parametrize("value", [0.0, 1, True, ["a.example"], {"a": 1}])
def test_a_domain_name_must_be_a_json_string(alice, client_for, value):
    response = client_for(alice, mfa=False, perms=["create_domain"]).post(
        f"{API}/domains/", {"name": value}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert not Domain.objects.exists()


def test_a_subname_and_a_type_must_be_json_strings(alice, client_for, make_domain):
    make_domain(alice, "alice.example")
    client = client_for(alice, mfa=False)
    for body, field in (
        ({"subname": 1, "type": "A", "records": ["192.0.2.1"], "ttl": 3600}, "subname"),
        ({"subname": "www", "type": 1, "records": ["192.0.2.1"], "ttl": 3600}, "type"),
    ):
        response = client.post(f"{API}/domains/alice.example/rrsets/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()


def test_an_oversized_body_is_a_json_413(alice, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"name": "' + "a" * 4096 + '.example"}'
    response = client_for(alice, mfa=False, perms=["create_domain"]).generic(
        "POST", f"{API}/domains/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}
    assert not Domain.objects.exists()


def test_a_duplicate_key_is_a_400_and_creates_nothing(alice, client_for):
    response = client_for(alice, mfa=False, perms=["create_domain"]).generic(
        "POST",
        f"{API}/domains/",
        '{"name": "a.example", "name": "b.example"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not Domain.objects.exists()


class Fails(APIView):
    permission_classes = []

    def get(self, request):
        raise RuntimeError("forced failure")


urlpatterns = [path("api/v1/fail/", Fails.as_view()), *project_urls.urlpatterns]
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.mark.urls(__name__)
def test_a_500_is_json_under_api_and_logged_with_its_traceback(db, caplog):
    client = APIClient(raise_request_exception=False)
    response = client.get(f"{API}/fail/")
    assert response.status_code == 500
    assert response.json() == {"detail": "A server error occurred."}
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info[0] is RuntimeError
    # LOGGING writes django.request's errors to stderr, whatever DEBUG says.
    handlers = logging.getLogger("django.request").handlers
    assert any(type(h) is logging.StreamHandler and h.level <= logging.ERROR for h in handlers)


@pytest.mark.urls(__name__)
def test_an_unknown_url_under_api_is_a_json_404(db):
    response = APIClient().get(f"{API}/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
