import hashlib
import math
import re

import pytest
from django.test import override_settings

from django_stepup import tokens


def test_secret_has_prefix_random_part_and_checksum():
    secret = tokens.generate_secret()
    assert re.fullmatch(r"stp_[0-9A-Za-z]{36}", secret)
    assert tokens.parse_secret(secret) == secret


def test_random_part_carries_at_least_160_bits():
    assert tokens.RANDOM_LENGTH * math.log2(len(tokens.ALPHABET)) >= 160


def test_secrets_are_unique():
    assert len({tokens.generate_secret() for _ in range(10_000)}) == 10_000


def test_prefix_comes_from_settings():
    with override_settings(STEPUP={"TOKEN_PREFIX": "dns"}):
        secret = tokens.generate_secret()
        assert secret.startswith("dns_")
        assert tokens.parse_secret(secret) == secret
    assert tokens.parse_secret(secret) is None


def _flip_last(value):
    return value[:-1] + ("A" if value[-1] != "A" else "B")


@pytest.mark.parametrize(
    "mangle",
    [
        _flip_last,
        lambda s: s[:5] + ("x" if s[5] != "x" else "y") + s[6:],
        lambda s: s[:-1],
        lambda s: s + "0",
        lambda s: s.replace("_", "-"),
        lambda s: s.upper(),
        lambda s: s + "\n",
        lambda s: " " + s,
        lambda s: s[:10] + "é" + s[11:],
    ],
)
def test_malformed_or_wrong_checksum_is_rejected(mangle):
    assert tokens.parse_secret(mangle(tokens.generate_secret())) is None


@pytest.mark.parametrize("value", [None, 42, b"stp_", "", "stp_", "Token", "a" * 4096])
def test_garbage_is_rejected(value):
    assert tokens.parse_secret(value) is None


def test_digest_is_sha256_hex_of_the_secret():
    secret = tokens.generate_secret()
    assert tokens.digest(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in tokens.digest(secret)
