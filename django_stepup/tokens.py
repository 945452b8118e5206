"""The token secret format: ``<prefix>_<random><checksum>``.

The random part is 30 base62 characters (about 178 bits from :mod:`secrets`),
the checksum 6 base62 characters of the CRC-32 of prefix and random part. A
mistyped or made-up string fails :func:`parse_secret` before any database
query; a well-formed one is looked up by its SHA-256 :func:`digest` only.

Internal: may change without notice.
"""

import hashlib
import hmac
import re
import secrets
import string
import zlib

from .conf import stepup_settings

ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6
PREFIX_PATTERN = r"[a-z][a-z0-9]{1,15}"
SECRET_PATTERN = re.compile(
    rf"(?P<prefix>{PREFIX_PATTERN})_(?P<random>[0-9A-Za-z]{{{RANDOM_LENGTH}}})"
    rf"(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
)


def _base62(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, remainder = divmod(number, 62)
        chars.append(ALPHABET[remainder])
    return "".join(reversed(chars))


def checksum(prefix: str, random_part: str) -> str:
    return _base62(zlib.crc32(f"{prefix}_{random_part}".encode()), CHECKSUM_LENGTH)


def generate_secret() -> str:
    """Return a new secret with the configured prefix."""
    prefix = stepup_settings.TOKEN_PREFIX
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"{prefix}_{random_part}{checksum(prefix, random_part)}"


def parse_secret(value: object) -> str | None:
    """Return ``value`` if it is a well-formed secret with a valid checksum, else None."""
    if not isinstance(value, str):
        return None
    match = SECRET_PATTERN.fullmatch(value)
    if match is None or match["prefix"] != stepup_settings.TOKEN_PREFIX:
        return None
    expected = checksum(match["prefix"], match["random"])
    if not hmac.compare_digest(expected, match["checksum"]):
        return None
    return value


def digest(secret: str) -> str:
    """SHA-256 hex digest: what the database stores instead of the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()
