"""The ``STEPUP`` settings dict, read lazily through :data:`stepup_settings`.

Every key and its default lives in :data:`DEFAULTS`. Values are read from
``django.conf.settings`` on first access and memoised; the memo is cleared in
place when ``STEPUP`` changes (``override_settings`` in tests), so every module
that imported :data:`stepup_settings` sees the new values.

Public: :data:`stepup_settings` (read it, never write it), :class:`StepUpSettings` and
:data:`DEFAULTS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from .authentication import StepUpTokenAuthentication

__all__ = ["DEFAULTS", "StepUpSettings", "stepup_settings"]

DEFAULTS: dict[str, Any] = {
    # Secret format: "<TOKEN_PREFIX>_<random><checksum>".
    "TOKEN_PREFIX": "stp",
    # last_used is written at most once per interval and token.
    "LAST_USED_INTERVAL": timedelta(seconds=60),
    # Lifetime of login tokens issued by the login endpoint.
    "LOGIN_TOKEN_MAX_AGE": timedelta(days=7),
    "LOGIN_TOKEN_MAX_UNUSED_PERIOD": timedelta(hours=1),
    # Caps on API tokens' lifetimes for the whole site (None: no cap): see lifetimes.py.
    "API_TOKEN_MAX_AGE": None,
    "API_TOKEN_MAX_UNUSED_PERIOD": None,
    # Leaked-secret reports (leaks.py): ECDSA public keys by identifier (PEM), HMAC shared
    # secrets, the largest body accepted, and reports allowed per client address.
    "LEAK_REPORT_PUBLIC_KEYS": {},
    "LEAK_REPORT_HMAC_SECRETS": [],
    "LEAK_REPORT_MAX_BYTES": 65536,
    "LEAK_REPORT_RATE": "60/min",
    # Permission flags the host project's tokens can carry ("manage_tokens" is built in).
    "TOKEN_PERMISSIONS": [],
    # Policy scopes: name -> dotted path or PolicyScope instance.
    "POLICY_SCOPES": {},
    # Caps against resource abuse: tokens per user, policies per token and scope.
    "MAX_TOKENS_PER_USER": 1000,
    "MAX_POLICIES_PER_TOKEN": 1000,
    # How old a promotion may be for RecentMFA when the view does not say.
    "RECENT_MFA_MAX_AGE": timedelta(minutes=5),
    # Issuer shown in authenticator apps for TOTP factors.
    "TOTP_ISSUER": "django-stepup",
    # Consecutive failed step-up attempts after which verification locks (NIST: <= 100).
    "VERIFY_FAILURE_LIMIT": 100,
    # How many recovery codes one generation yields.
    "RECOVERY_CODE_COUNT": 10,
    # Login attempts allowed per account and per client address, counting failures.
    "LOGIN_RATE_PER_ACCOUNT": "10/min",
    "LOGIN_RATE_PER_ADDRESS": "30/min",
    # Cache alias holding throttle state (point it at Redis with several workers).
    "THROTTLE_CACHE": "default",
    # Without a reachable throttle cache, throttled endpoints answer 503 (False) or let
    # requests through unthrottled (True).
    "THROTTLE_FAIL_OPEN": False,
    # Send the default notification emails (factor added/removed, codes, new API token).
    "NOTIFY_BY_EMAIL": True,
    # Factors (TOTP and WebAuthn) one user may have, active and pending together.
    "MAX_FACTORS_PER_USER": 10,
    # Store an AuditEvent row per signal (the "django_stepup.audit" log records are always emitted).
    "AUDIT_LOG": True,
    # Audit events older than this are deleted by the stepup_clearauditlog command.
    "AUDIT_LOG_MAX_AGE": timedelta(days=90),
    # StepUpAdminSite admits only staff verified by a second factor (off: staff without one, too).
    "ADMIN_REQUIRE_MFA": True,
    # Authentication classes of the app's own views (dotted paths); the first one names
    # the scheme of WWW-Authenticate challenges.
    "AUTHENTICATION_CLASSES": ["django_stepup.authentication.StepUpTokenAuthentication"],
    # Authenticate with the precompiled token SELECT (False: the plain ORM query).
    "FAST_AUTHENTICATION_LOOKUP": True,
    # WebAuthn relying party: its ID (a domain; empty turns WebAuthn off), its name shown
    # by authenticators, and the origins (scheme://host[:port]) the browser may report.
    "WEBAUTHN_RP_ID": "",
    "WEBAUTHN_RP_NAME": "django-stepup",
    "WEBAUTHN_ORIGINS": [],
    # User verification for WebAuthn step-up: "required", "preferred" or "discouraged"
    # (registration and passkey login always require it).
    "WEBAUTHN_USER_VERIFICATION": "preferred",
}

BUILTIN_PERMISSIONS = ("manage_tokens",)


class StepUpSettings:
    """Attribute access to ``settings.STEPUP`` with :data:`DEFAULTS` as fallback."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown django-stepup setting: {name!r}")
        value = self.user_settings.get(name, DEFAULTS[name])
        self.__dict__[name] = value
        return value

    @property
    def user_settings(self) -> Mapping[str, Any]:
        return getattr(settings, "STEPUP", None) or {}

    @property
    def token_permissions(self) -> tuple[str, ...]:
        """Every permission flag a token can carry, built-in ones first."""
        return BUILTIN_PERMISSIONS + tuple(
            name for name in self.TOKEN_PERMISSIONS if name not in BUILTIN_PERMISSIONS
        )

    @property
    def authentication_classes(self) -> list[type[StepUpTokenAuthentication]]:
        """``AUTHENTICATION_CLASSES`` imported (a list of classes), memoised like the keys."""
        if "_authentication_classes" not in self.__dict__:
            self.__dict__["_authentication_classes"] = [
                import_string(path) if isinstance(path, str) else path
                for path in self.AUTHENTICATION_CLASSES
            ]
        return self.__dict__["_authentication_classes"]

    def reload(self) -> None:
        self.__dict__.clear()


stepup_settings = StepUpSettings()


def reload_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "STEPUP":
        stepup_settings.reload()
