"""A software WebAuthn authenticator for the tests: a P-256 key, CBOR by cbor2.

It answers creation options with "none" attestation and request options with a signed
assertion, in the WebAuthn JSON forms a browser's ``credential.toJSON()`` gives. Every
part a test may want wrong (origin, RP ID, challenge, flags, sign count) is a keyword.
"""

import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, rp_id="example.com", origin="https://app.example.com"):
        self.rp_id = rp_id
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle = None

    @property
    def id(self):
        return b64url(self.credential_id)

    def cose_key(self):
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _auth_data(self, rp_id, flags, attested):
        data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags])
        data += struct.pack(">I", self.sign_count)
        if attested:
            data += bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id
            data += self.cose_key()
        return data

    @staticmethod
    def _client_data(kind, challenge, origin):
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        ).encode()

    def register(self, options, *, origin=None, rp_id=None, challenge=None, uv=True):
        """The ``RegistrationResponseJSON`` for creation ``options``."""
        self.user_handle = options["user"]["id"]
        client_data = self._client_data(
            "webauthn.create", challenge or options["challenge"], origin or self.origin
        )
        flags = FLAG_UP | FLAG_AT | (FLAG_UV if uv else 0)
        auth_data = self._auth_data(rp_id or self.rp_id, flags, attested=True)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
            "authenticatorAttachment": "platform",
        }

    def assertion(
        self, options, *, origin=None, rp_id=None, challenge=None, uv=True, sign_count=None
    ):
        """The ``AuthenticationResponseJSON`` for request ``options``; counts one use."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data = self._client_data(
            "webauthn.get", challenge or options["challenge"], origin or self.origin
        )
        flags = FLAG_UP | (FLAG_UV if uv else 0)
        auth_data = self._auth_data(rp_id or self.rp_id, flags, attested=False)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": self.user_handle,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
