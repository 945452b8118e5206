"""Leaked secrets: revoke a token whose secret was found in public, and tell its owner.

Secret scanners of code hosts report what they find in the "secret scanning partner"
format: a JSON list of ``{"token", "type", "url", "source"}``. A report is authentic when
either

- ``Github-Public-Key-Identifier`` names a key of ``LEAK_REPORT_PUBLIC_KEYS`` (PEM) and
  ``Github-Public-Key-Signature`` is a base64 ECDSA (SHA-256, DER) signature of the raw
  body by that key (needs the ``cryptography`` package), or
- ``X-Signature-256: sha256=<hex>`` is the HMAC-SHA256 of the raw body under one of
  ``LEAK_REPORT_HMAC_SECRETS``.

Each reported string is answered ``true_positive`` if it was a live token (now revoked:
deleted, a ``tokens_revoked`` event with reason ``leaked``, a ``token_reported_leaked``
signal, whose default receivers email the owner and record an audit event) and
``false_positive`` otherwise; the answer names the string by its SHA-256 (``token_hash``),
never echoing the secret. ``manage.py stepup_revoke_leaked FILE`` does the same for
secrets found by other means.

Internal: may change without notice.
"""

import base64
import binascii
import hashlib
import hmac
import logging

from django.db import transaction

from . import signals, tokens
from .conf import stepup_settings
from .revocation import revoke_tokens

logger = logging.getLogger("django_stepup.leaks")

TRUE_POSITIVE = "true_positive"
FALSE_POSITIVE = "false_positive"
KEY_ID_HEADER = "HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER"
KEY_SIGNATURE_HEADER = "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE"
HMAC_HEADER = "HTTP_X_SIGNATURE_256"
#: The longest field values kept from a report (a URL may be long; a secret is not).
MAX_URL_LENGTH = 2048
MAX_FIELD_LENGTH = 200


def signature_valid(body, meta):
    """Whether ``body`` (bytes) is signed by a configured key or shared secret, per ``meta``."""
    return _ecdsa_valid(body, meta) or _hmac_valid(body, meta)


def _ecdsa_valid(body, meta):
    key_id = meta.get(KEY_ID_HEADER)
    signature = meta.get(KEY_SIGNATURE_HEADER)
    pem = stepup_settings.LEAK_REPORT_PUBLIC_KEYS.get(key_id) if key_id else None
    if not pem or not signature:
        return False
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:
        logger.error("ECDSA leak reports need the cryptography package.")
        return False
    try:
        key = load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        key.verify(base64.b64decode(signature, validate=True), body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True


def _hmac_valid(body, meta):
    header = meta.get(HMAC_HEADER) or ""
    scheme, _, given = header.partition("=")
    if scheme != "sha256" or not given:
        return False
    return any(
        hmac.compare_digest(hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), given)
        for secret in stepup_settings.LEAK_REPORT_HMAC_SECRETS
    )


def token_hash(value):
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def revoke_leaked(value, *, url="", source="", request=None):
    """Revoke the live token whose secret is ``value``; return the label for it."""
    from .models import Token

    secret = tokens.parse_secret(value)
    if secret is None:
        return FALSE_POSITIVE
    with transaction.atomic():
        token = (
            Token.objects.select_for_update()
            .select_related("user")
            .filter(digest=tokens.digest(secret))
            .first()
        )
        if token is None:
            return FALSE_POSITIVE
        revoke_tokens(Token.objects.filter(pk=token.pk), reason="leaked", user=token.user)
        signals.token_reported_leaked.send(
            sender=Token,
            user=token.user,
            token=token,
            url=url[:MAX_URL_LENGTH],
            source=source[:MAX_FIELD_LENGTH],
            request=request,
        )
    return TRUE_POSITIVE


def process_report(items, *, request=None):
    """Answer a parsed report (a list of dicts with a string ``token``), revoking live tokens."""
    answers = []
    for item in items:
        value = item["token"]
        answers.append(
            {
                "token_hash": token_hash(value),
                "token_type": str(item.get("type") or "")[:MAX_FIELD_LENGTH],
                "label": revoke_leaked(
                    value,
                    url=str(item.get("url") or ""),
                    source=str(item.get("source") or ""),
                    request=request,
                ),
            }
        )
    return answers
