"""Leaked-secret reports: signed by ECDSA or HMAC over the raw body; live tokens revoked at once."""

import base64
import hashlib
import hmac
import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from django_stepup import tokens
from django_stepup.models import AuditEvent, Token
from tests.factories import TokenFactory

URL = "/auth/leaked-secrets/"
HMAC_SECRET = "shared-secret-for-tests"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def signing_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def configured(signing_key):
    pem = (
        signing_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with override_settings(
        STEPUP={
            **settings.STEPUP,
            "LEAK_REPORT_PUBLIC_KEYS": {"key-1": pem},
            "LEAK_REPORT_HMAC_SECRETS": [HMAC_SECRET],
            "LEAK_REPORT_MAX_BYTES": 4096,
            "LEAK_REPORT_RATE": "5/min",
        }
    ):
        yield


def ecdsa_headers(key, body, key_id="key-1"):
    signature = key.sign(body, ec.ECDSA(hashes.SHA256()))
    return {
        "HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER": key_id,
        "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE": base64.b64encode(signature).decode(),
    }


def hmac_headers(body, secret=HMAC_SECRET):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"HTTP_X_SIGNATURE_256": f"sha256={digest}"}


def report(*secrets, url="https://example.com/repo/blob/main/.env"):
    return json.dumps(
        [{"token": s, "type": "stepup_token", "url": url, "source": "content"} for s in secrets]
    ).encode()


def post(client, body, headers):
    return client.generic("POST", URL, body, content_type="application/json", **headers)


def test_an_ecdsa_signed_report_revokes_live_tokens_and_tells_the_owner(
    client, configured, signing_key
):
    live = TokenFactory(name="ci deploy")
    other = TokenFactory()
    unknown = tokens.generate_secret()
    body = report(live.secret, unknown, "not a token")
    response = post(client, body, ecdsa_headers(signing_key, body))
    assert response.status_code == 200
    assert response.json() == [
        {
            "token_hash": hashlib.sha256(value.encode()).hexdigest(),
            "token_type": "stepup_token",
            "label": label,
        }
        for value, label in [
            (live.secret, "true_positive"),
            (unknown, "false_positive"),
            ("not a token", "false_positive"),
        ]
    ]
    assert live.secret not in response.content.decode()
    assert not Token.objects.filter(pk=live.pk).exists()
    assert Token.objects.filter(pk=other.pk).exists()
    leaked = AuditEvent.objects.get(event="token_reported_leaked")
    assert leaked.user == live.user and leaked.token_id == live.pk
    assert leaked.details["url"] == "https://example.com/repo/blob/main/.env"
    assert live.secret not in json.dumps(leaked.details)
    revoked = AuditEvent.objects.get(event="tokens_revoked")
    assert revoked.details["reason"] == "leaked"
    [message] = mail.outbox
    assert message.to == [live.user.email]
    assert "ci deploy" in message.body
    assert "https://example.com/repo/blob/main/.env" in message.body
    assert live.secret not in message.body
    # Reported again: no longer live.
    response = post(client, body, ecdsa_headers(signing_key, body))
    assert response.json()[0]["label"] == "false_positive"


def test_an_hmac_signed_report_works_too(client, configured):
    live = TokenFactory()
    body = report(live.secret)
    response = post(client, body, hmac_headers(body))
    assert response.json()[0]["label"] == "true_positive"
    assert not Token.objects.filter(pk=live.pk).exists()


@pytest.mark.parametrize(
    "headers",
    [
        lambda key, body: {},
        lambda key, body: ecdsa_headers(key, body + b" "),
        lambda key, body: ecdsa_headers(key, body, key_id="unknown"),
        lambda key, body: ecdsa_headers(ec.generate_private_key(ec.SECP256R1()), body),
        lambda key, body: {**ecdsa_headers(key, body), "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE": "%%"},
        lambda key, body: hmac_headers(body, secret="wrong"),
        lambda key, body: {"HTTP_X_SIGNATURE_256": "sha1=abc"},
    ],
    ids=["unsigned", "other-body", "unknown-key", "other-key", "garbage", "wrong-hmac", "sha1"],
)
def test_unsigned_or_badly_signed_is_401_and_revokes_nothing(
    client, configured, signing_key, headers
):
    live = TokenFactory()
    body = report(live.secret)
    response = post(client, body, headers(signing_key, body))
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid signature."}
    assert Token.objects.filter(pk=live.pk).exists()
    assert mail.outbox == [] and not AuditEvent.objects.exists()


def test_nothing_configured_accepts_nothing(client, signing_key):
    live = TokenFactory()
    body = report(live.secret)
    assert post(client, body, ecdsa_headers(signing_key, body)).status_code == 401
    assert post(client, body, hmac_headers(body, secret="")).status_code == 401
    assert Token.objects.filter(pk=live.pk).exists()


def test_a_body_over_the_limit_is_413(client, configured, signing_key):
    body = report(*["x" * 100] * 50)
    assert len(body) > 4096
    response = post(client, body, ecdsa_headers(signing_key, body))
    assert response.status_code == 413


@pytest.mark.parametrize("body", [b"{}", b"[1]", b'[{"token": 5}]', b"not json"])
def test_a_signed_body_of_the_wrong_shape_is_400(client, configured, signing_key, body):
    assert post(client, body, ecdsa_headers(signing_key, body)).status_code == 400


def test_reports_are_throttled_per_address(client, configured):
    body = report("x")
    statuses = [post(client, body, {}).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_revoke_leaked_command(tmp_path):
    live, other = TokenFactory(), TokenFactory()
    path = tmp_path / "found.txt"
    path.write_text(f"{live.secret}\n\n{tokens.generate_secret()}\nnoise\n")
    out = StringIO()
    call_command("stepup_revoke_leaked", str(path), "--url", "https://paste.example/1", stdout=out)
    assert out.getvalue() == "Revoked 1 token(s); 2 line(s) matched no live token.\n"
    assert live.secret not in out.getvalue()
    assert not Token.objects.filter(pk=live.pk).exists()
    assert Token.objects.filter(pk=other.pk).exists()
    event = AuditEvent.objects.get(event="token_reported_leaked")
    assert event.details == {
        "token_name": live.name,
        "url": "https://paste.example/1",
        "source": "command",
    }
    [message] = mail.outbox
    assert "https://paste.example/1" in message.body
