"""Public signals. Receivers get ``sender`` plus the keyword arguments listed per signal.

``request`` is the DRF request that caused the event, or None outside a request.
No signal ever carries a secret, a code or a password.
"""

from django.dispatch import Signal

__all__ = [
    "factor_activated",
    "factor_removed",
    "login_failed",
    "login_succeeded",
    "recovery_codes_generated",
    "sign_count_regressed",
    "step_up_failed",
    "step_up_succeeded",
    "token_changed",
    "token_created",
    "token_expiring",
    "token_reported_leaked",
    "token_used_from_new_network",
    "tokens_revoked",
]

#: A login issued a login token. Arguments: ``user``, ``token`` (``mfa`` True when a
#: code promoted it at once), ``request``.
login_succeeded = Signal()

#: A login attempt failed. Arguments: ``identifier`` (the value of the user model's
#: ``USERNAME_FIELD`` as submitted), ``email`` (the same value; deprecated), ``request``.
login_failed = Signal()

#: A login token was promoted by a second factor. Arguments: ``user``, ``token``,
#: ``factor`` (the device, or None for a recovery code), ``method`` (``"totp"``,
#: ``"recovery"`` or ``"webauthn"``), ``request``.
step_up_succeeded = Signal()

#: A step-up attempt failed. Arguments: ``user``, ``token``, ``factor`` (or None),
#: ``failure_count`` (consecutive failures of the user), ``method`` (``"webauthn"`` for
#: an assertion, None for a code), ``request``.
step_up_failed = Signal()

#: A WebAuthn assertion carried a signature counter not above the last one seen (a
#: cloned authenticator, or a replay); it was refused. Arguments: ``user``, ``factor``,
#: ``sign_count`` (the assertion's), ``stored_sign_count``, ``request``.
sign_count_regressed = Signal()

#: A factor became active (its first successful verify). Arguments: ``user``, ``factor``, ``request``.
factor_activated = Signal()

#: A factor was removed. Arguments: ``user``, ``factor``, ``mfa_enabled`` (after removal), ``request``.
factor_removed = Signal()

#: New recovery codes replaced the old ones. Arguments: ``user``, ``count``, ``request``.
recovery_codes_generated = Signal()

#: A token was created through the API or the admin. Arguments: ``user``, ``token``, ``request``.
token_created = Signal()

#: Tokens were revoked. Arguments: ``user``, ``tokens`` (ids), ``reason``, ``request``.
tokens_revoked = Signal()

#: A token's settings were changed through the API. Arguments: ``user``, ``token`` (as
#: saved), ``fields`` (the names of the fields that changed, sorted), ``request``.
token_changed = Signal()

#: A token was used from a network (IPv4 /24, IPv6 /48) it was not used from before; the
#: first network a token is used from sends nothing. Arguments: ``user``, ``token``,
#: ``network`` (CIDR string), ``ip_address`` (the client address), ``request``.
token_used_from_new_network = Signal()

#: A live token's secret was reported leaked and the token was revoked. Arguments:
#: ``user``, ``token`` (no longer stored), ``url`` (where it was found, or ""),
#: ``source`` (who reported it, e.g. a code host, or "command"), ``request``.
token_reported_leaked = Signal()

#: An API token is about to expire; sent once per token by ``manage.py
#: stepup_notify_expiring``. Arguments: ``user``, ``token``, ``expires_at``, ``request`` (None).
token_expiring = Signal()
