"""The OpenAPI schema drf-spectacular generates with django_stepup.contrib.spectacular."""

import pytest
from django.core.management import call_command
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator

STEP_UP = 'error="insufficient_user_authentication"'


def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operation(document, path, method):
    return document["paths"][path][method]


def test_the_test_app_schema_validates_with_no_warning(tmp_path):
    """No crash (PolicySerializer had no scope), no warning, a valid OpenAPI document."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    assert "/auth/tokens/{token_id}/policies/{scope}/" in (tmp_path / "s.yaml").read_text()


def test_the_token_scheme_is_the_authorization_header_with_the_keyword():
    document = schema()
    assert document["components"]["securitySchemes"]["tokenAuth"]["type"] == "apiKey"
    assert document["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    assert "Token <secret>" in document["components"]["securitySchemes"]["tokenAuth"]["description"]
    assert operation(document, "/auth/account/", "get")["security"] == [{"tokenAuth": []}]
    assert "security" not in operation(document, "/auth/login/", "post")


def test_a_configured_subclass_names_the_scheme_after_its_keyword():
    with override_settings(
        STEPUP={"AUTHENTICATION_CLASSES": ["tests.testapp.authentication.BearerAuthentication"]}
    ):
        document = schema()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert operation(document, "/auth/account/", "get")["security"] == [{"bearerAuth": []}]


@pytest.mark.parametrize(
    ("path", "method", "code"),
    [
        ("/auth/logout/", "post", "204"),
        ("/auth/totp/", "post", "201"),
        ("/auth/recovery-codes/", "post", "201"),
        ("/auth/tokens/", "post", "201"),
        ("/auth/login/", "post", "200"),
        ("/auth/totp/{id}/", "delete", "204"),
        ("/auth/webauthn/", "get", "200"),
        ("/auth/webauthn/", "post", "201"),
        ("/auth/webauthn/{id}/", "delete", "204"),
        ("/auth/webauthn/{id}/verify/", "post", "200"),
        ("/auth/webauthn/challenge/", "post", "200"),
        ("/auth/passkey/challenge/", "post", "200"),
        ("/auth/events/", "get", "200"),
        ("/auth/leaked-secrets/", "post", "200"),
    ],
)
def test_success_codes_are_the_ones_answered(path, method, code):
    responses = operation(schema(), path, method)["responses"]
    assert [status for status in responses if status < "300"] == [code]


def test_the_app_views_have_bodies_and_errors():
    document = schema()
    login = operation(document, "/auth/login/", "post")
    assert set(login["responses"]) == {"200", "400", "401", "404", "415", "429"}
    assert "Retry-After" in login["responses"]["429"]["headers"]
    new_token = document["components"]["schemas"]["NewToken"]
    assert "token" in new_token["properties"]
    verify = operation(document, "/auth/mfa/verify/", "post")
    assert {"400", "401", "403", "429"} <= set(verify["responses"])
    assert document["components"]["schemas"]["CodeRequest"]["required"] == ["code"]
    policies = operation(document, "/auth/tokens/{token_id}/policies/{scope}/", "post")
    assert "409" in policies["responses"]
    # Found by schemathesis: the default policy can't go while others exist.
    destroy = operation(document, "/auth/tokens/{token_id}/policies/{scope}/{id}/", "delete")
    assert set(destroy["responses"]) == {"204", "400", "401", "403", "404"}
    scope = next(p for p in policies["parameters"] if p["name"] == "scope")
    assert scope["schema"]["enum"] == ["private_records", "rrsets"]


def body(document, path, method):
    schema = operation(document, path, method)["requestBody"]["content"]["application/json"]
    return resolve(document, schema["schema"])


def resolve(document, schema):
    if "$ref" in schema:
        return document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def answer(document, path, method, code):
    response = operation(document, path, method)["responses"][code]
    return resolve(document, response["content"]["application/json"]["schema"])


def test_login_and_mfa_verify_take_a_code_or_a_webauthn_credential():
    from django.contrib.auth import get_user_model

    document = schema()
    username = get_user_model().USERNAME_FIELD
    for path, alternatives in [
        ("/auth/login/", [{username, "password", "code"}, {"credential"}]),
        ("/auth/mfa/verify/", [{"code"}, {"credential"}]),
    ]:
        options = [resolve(document, o) for o in body(document, path, "post")["oneOf"]]
        assert [set(o["properties"]) for o in options] == alternatives
        credential = options[1]["properties"]["credential"]
        assert credential["type"] == "object"
        assert "AuthenticationResponseJSON" in credential["description"]
    assert (
        "webauthn_not_configured"
        in (operation(document, "/auth/login/", "post")["responses"]["404"]["description"])
    )


def test_the_webauthn_views_have_bodies_and_errors():
    document = schema()
    assert body(document, "/auth/webauthn/", "post")["properties"].keys() == {"name"}
    created = answer(document, "/auth/webauthn/", "post", "201")
    assert set(created["properties"]) == {"id", "name", "options"}
    assert "CreationOptionsJSON" in created["properties"]["options"]["description"]
    listed = answer(document, "/auth/webauthn/", "get", "200")
    assert set(resolve(document, listed["items"])["properties"]) == {
        "id",
        "name",
        "created",
        "last_used",
    }
    last_used = document["components"]["schemas"]["WebAuthnFactor"]["properties"]["last_used"]
    assert last_used.get("nullable") is True
    registration = body(document, "/auth/webauthn/{id}/verify/", "post")
    assert "RegistrationResponseJSON" in registration["properties"]["credential"]["description"]
    assert registration["additionalProperties"] is False
    verify = operation(document, "/auth/webauthn/{id}/verify/", "post")
    assert {"400", "401", "403", "404", "429"} <= set(verify["responses"])
    challenge = operation(document, "/auth/webauthn/challenge/", "post")
    assert "requestBody" not in challenge
    assert "webauthn_not_enabled" in challenge["responses"]["403"]["description"]
    options = answer(document, "/auth/webauthn/challenge/", "post", "200")
    assert "RequestOptionsJSON" in options["properties"]["options"]["description"]
    passkey = operation(document, "/auth/passkey/challenge/", "post")
    assert "security" not in passkey
    assert "Retry-After" in passkey["responses"]["429"]["headers"]
    # Registering asks for the second factor of a user who has one.
    assert STEP_UP in str(operation(document, "/auth/webauthn/", "post")["responses"]["401"])
    assert STEP_UP not in str(operation(document, "/auth/webauthn/", "get")["responses"]["401"])


def test_the_events_are_a_plain_list_paginated_by_link_headers_and_filtered():
    document = schema()
    events = operation(document, "/auth/events/", "get")
    page = answer(document, "/auth/events/", "get", "200")
    assert page["type"] == "array"
    assert set(resolve(document, page["items"])["properties"]) == {
        "id",
        "created",
        "event",
        "token_id",
        "ip_address",
        "details",
    }
    assert "Link" in events["responses"]["200"]["headers"]
    parameters = {p["name"]: p for p in events["parameters"]}
    assert set(parameters) == {"cursor", "event", "token"}
    assert "token_used_from_new_network" in parameters["event"]["schema"]["enum"]
    assert parameters["token"]["schema"] == {"type": "string", "format": "uuid"}
    assert {"400", "401", "403", "404"} <= set(events["responses"])
    assert "Invalid cursor" in events["responses"]["404"]["description"]


def test_the_leak_report_documents_its_signatures_and_answers():
    document = schema()
    report = operation(document, "/auth/leaked-secrets/", "post")
    assert "security" not in report
    headers = {p["name"] for p in report["parameters"] if p["in"] == "header"}
    assert headers == {
        "Github-Public-Key-Identifier",
        "Github-Public-Key-Signature",
        "X-Signature-256",
    }
    items = body(document, "/auth/leaked-secrets/", "post")
    assert items["type"] == "array"
    assert resolve(document, items["items"])["required"] == ["token"]
    answers = answer(document, "/auth/leaked-secrets/", "post", "200")
    label = resolve(document, answers["items"])["properties"]["label"]
    assert set(resolve(document, label["allOf"][0])["enum"]) == {"true_positive", "false_positive"}
    assert {"400", "401", "413", "429"} <= set(report["responses"])
    assert report["responses"]["401"]["headers"]["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("path", "parameters"),
    [
        ("/guarded/phr/", ', acr_values="phr"'),
        ("/guarded/phr-if-enrolled/", ', acr_values="phr"'),
        ("/guarded/phr-recent/", ', max_age=300, acr_values="phr"'),
    ],
)
def test_phishing_resistant_mfa_documents_the_phr_challenge(path, parameters):
    responses = operation(schema(), path, "get")["responses"]
    header = responses["401"]["headers"]["WWW-Authenticate"]["description"]
    assert f'`Token {STEP_UP}, error_description="..."{parameters}`' in header
    assert "phishing_resistant_mfa_required" in responses["401"]["description"]


def test_bodies_that_refuse_unknown_keys_say_so():
    schemas = schema()["components"]["schemas"]
    assert schemas["TokenRequest"]["additionalProperties"] is False
    assert schemas["PatchedTokenRequest"]["additionalProperties"] is False
    assert "additionalProperties" not in schemas["Token"]
    assert schemas["TokenRequest"]["properties"]["allowed_subnets"]["type"] == "array"


def challenge(document, path, method):
    response = operation(document, path, method)["responses"]["401"]
    return response["headers"]["WWW-Authenticate"]["description"], response["description"]


@pytest.mark.parametrize(
    ("path", "max_age"),
    [
        ("/guarded/recent/", 300),
        ("/guarded/recent-attribute/", 60),
        ("/guarded/recent-zero/", 0),
        ("/guarded/recent-default/", 300),  # RECENT_MFA_MAX_AGE
        ("/auth/totp/{id}/", 300),
    ],
)
def test_recent_mfa_documents_the_challenge_with_its_max_age(path, max_age):
    document = schema()
    method = "delete" if path.startswith("/auth/") else "get"
    header, description = challenge(document, path, method)
    assert f'{STEP_UP}, error_description="...", max_age={max_age}`' in header
    assert f"max_age={max_age}" in description


def test_the_challenge_follows_the_setting_at_generation_time():
    with override_settings(STEPUP={"RECENT_MFA_MAX_AGE": 42}):
        header, _ = challenge(schema(), "/guarded/recent-default/", "get")
    assert "max_age=42" in header


def test_mfa_required_documents_the_challenge_without_max_age_in_host_views_too():
    document = schema()
    header, _ = challenge(document, "/guarded/mfa/", "get")
    assert f'`Token {STEP_UP}, error_description="..."`' in header
    assert "max_age" not in header
    # POST totp/ is guarded by MFARequiredIfEnabled, GET totp/ is not.
    assert STEP_UP in challenge(document, "/auth/totp/", "post")[0]
    assert STEP_UP not in challenge(document, "/auth/totp/", "get")[0]
    # A viewset without step-up permissions gets the invalid-token 401 only.
    assert STEP_UP not in challenge(document, "/records/", "get")[0]


def test_other_permissions_document_their_403():
    document = schema()
    login_only = operation(document, "/guarded/login-token/", "get")["responses"]["403"]
    assert "needs a login token" in login_only["description"]
    assert (
        "Insufficient token permissions"
        in (
            operation(document, "/guarded/create-domain/", "get")["responses"]["403"]["description"]
        )
    )
    assert "policies" in operation(document, "/records/", "post")["responses"]["403"]["description"]
    assert "403" not in operation(document, "/guarded/mfa/", "get")["responses"]


def test_a_permission_of_another_package_documents_its_challenge():
    from rest_framework.permissions import BasePermission
    from rest_framework.views import APIView

    from django_stepup.contrib.spectacular import AutoSchema

    class PhishingResistant(BasePermission):
        def openapi_step_up(self, view):
            return {"acr_values": "phr"}

    class View(APIView):
        permission_classes = [PhishingResistant]
        schema = AutoSchema()

        def get(self, request):
            raise NotImplementedError

    from django.urls import path

    generator = SchemaGenerator(patterns=[path("phr/", View.as_view())])
    header = generator.get_schema(request=None, public=True)["paths"]["/phr/"]["get"]["responses"][
        "401"
    ]["headers"]["WWW-Authenticate"]["description"]
    assert f'`Token {STEP_UP}, error_description="...", acr_values="phr"`' in header


def test_a_factor_never_used_has_a_null_last_used():
    """Found by schemathesis: the schema said a string, the API answers null."""
    last_used = schema()["components"]["schemas"]["TOTPFactor"]["properties"]["last_used"]
    assert last_used.get("nullable") is True


@pytest.mark.parametrize("installed", [True, False])
def test_the_extensions_load_only_when_drf_spectacular_is_importable(installed):
    import subprocess
    import sys
    from pathlib import Path

    block = "" if installed else "sys.modules['drf_spectacular'] = None\n"
    script = (
        "import sys\n"
        f"{block}"
        "import django\n"
        "from django.conf import settings\n"
        "settings.configure(INSTALLED_APPS=['django.contrib.auth', 'django.contrib.contenttypes',"
        " 'rest_framework', 'django_otp', 'django_otp.plugins.otp_totp', 'django_stepup'],"
        " DATABASES={'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}})\n"
        "django.setup()\n"
        "print('django_stepup.contrib.spectacular' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(installed)
