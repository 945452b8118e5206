"""Tokens, MFA state, recovery codes, WebAuthn factors and challenges, token policies, audit events.

Internal: may change without notice. ``request.auth`` is a :class:`Token`; its
documented attributes are the stable part.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, TimestampMixin

from . import _lookup, tokens
from .subnets import DEFAULT_SUBNETS


def default_subnets():
    return list(DEFAULT_SUBNETS)


class TokenQuerySet(models.QuerySet):
    def _with_expiry(self):
        return self.annotate(
            _absolute_expiry=ExpressionWrapper(
                F("created") + F("max_age"), output_field=models.DateTimeField()
            ),
            _idle_expiry=ExpressionWrapper(
                Coalesce("last_used", "created") + F("max_unused_period"),
                output_field=models.DateTimeField(),
            ),
        )

    def _expired_condition(self, now):
        now = now or timezone.now()
        return Q(max_age__isnull=False, _absolute_expiry__lte=now) | Q(
            max_unused_period__isnull=False, _idle_expiry__lte=now
        )

    def expired(self, now=None):
        """Tokens past their absolute or idle expiry (the same rule as ``Token.is_expired``)."""
        return self._with_expiry().filter(self._expired_condition(now))

    def unexpired(self, now=None):
        return self._with_expiry().exclude(self._expired_condition(now))

    def login_tokens(self):
        return self.filter(mfa__isnull=False)

    def api_tokens(self):
        return self.filter(mfa__isnull=True)


_TokenManagerBase = models.Manager.from_queryset(TokenQuerySet)


class TokenManager(_TokenManagerBase):
    def create_token(self, user, **fields):
        """Create a token and return ``(token, secret)``: the one time the secret exists."""
        secret = tokens.generate_secret()
        token = self.create(user=user, digest=tokens.digest(secret), **fields)
        return token, secret

    def get_for_authentication(self, digest):
        """The token with this digest, its user and the user's MFA state, in one SELECT.

        Same result as ``select_related("user", "user__stepup_mfa_state").get(digest=…)``;
        raises ``Token.DoesNotExist``.
        """
        return _lookup.get_token(self, digest)


class MFAMethod(models.TextChoices):
    """How a login token was promoted."""

    TOTP = "totp", _("TOTP")
    RECOVERY = "recovery", _("recovery code")
    WEBAUTHN = "webauthn", _("WebAuthn")


class Token(models.Model):
    """A credential. ``mfa`` is tri-state: None API token, False login token, True promoted."""

    KIND_API = "api"
    KIND_LOGIN = "login"
    KIND_PROMOTED = "promoted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stepup_tokens"
    )
    name = models.CharField(_("name"), max_length=128, blank=True, default="")
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    mfa = models.BooleanField(null=True, default=None, editable=False)
    mfa_at = models.DateTimeField(null=True, blank=True, editable=False)
    # null, not "": the method of a token never promoted, as mfa_at.
    mfa_method = models.CharField(  # noqa: DJ001
        max_length=16, null=True, blank=True, editable=False, choices=MFAMethod.choices
    )
    max_age = models.DurationField(null=True, blank=True)
    max_unused_period = models.DurationField(null=True, blank=True)
    allowed_subnets = models.JSONField(default=default_subnets)
    perms = models.JSONField(default=list, blank=True)
    auto_policy = models.BooleanField(default=False)
    #: The networks (IPv4 /24, IPv6 /48) the token was used from, oldest first, at most
    #: :data:`django_stepup.networks.MAX_NETWORKS`: see :mod:`django_stepup.networks`.
    networks = models.JSONField(default=list, blank=True, editable=False)
    #: When the owner was reminded that the token is about to expire (once per token).
    expiry_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TokenManager()

    class Meta:
        verbose_name = _("token")
        verbose_name_plural = _("tokens")
        ordering = ["-created"]
        indexes = [models.Index(fields=["user", "mfa"], name="stepup_token_user_mfa")]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_age__isnull=True) | Q(max_age__gte=timedelta(0)),
                name="stepup_token_max_age_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(max_unused_period__isnull=True)
                | Q(max_unused_period__gte=timedelta(0)),
                name="stepup_token_max_unused_period_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(mfa_at__isnull=True) | Q(mfa__isnull=False, mfa=True),
                name="stepup_token_mfa_at_only_when_promoted",
            ),
            models.CheckConstraint(
                condition=Q(mfa_method__isnull=True) | Q(mfa__isnull=False, mfa=True),
                name="stepup_token_mfa_method_only_when_promoted",
            ),
        ]

    def __str__(self):
        return self.name or str(self.id)

    def __repr__(self):
        return f"<Token {self.id} {self.kind}>"

    @property
    def kind(self):
        if self.mfa is None:
            return self.KIND_API
        return self.KIND_PROMOTED if self.mfa else self.KIND_LOGIN

    @property
    def is_login_token(self):
        return self.mfa is not None

    @property
    def expires_at(self):
        """The earlier of the absolute and the idle expiry, or None if neither is set."""
        limits = []
        if self.max_age is not None:
            limits.append(self.created + self.max_age)
        if self.max_unused_period is not None:
            limits.append((self.last_used or self.created) + self.max_unused_period)
        return min(limits, default=None)

    def is_expired(self, now=None):
        expires_at = self.expires_at
        return expires_at is not None and (now or timezone.now()) >= expires_at

    @property
    def is_valid(self):
        return not self.is_expired() and self.user.is_active

    def has_permission(self, name):
        """Login tokens hold every flag; API tokens only those in ``perms``."""
        return self.mfa is not None or name in self.perms


class MFAState(models.Model):
    """Per-user step-up state, joined into the authentication query at no extra cost.

    ``enabled`` caches whether the user has a confirmed django-otp device; the devices
    are the truth (:mod:`django_stepup.mfa_state` keeps the copy current).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="stepup_mfa_state",
    )
    enabled = models.BooleanField(default=False)
    failure_count = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("MFA state")
        verbose_name_plural = _("MFA states")

    def __str__(self):
        return f"MFA state of user {self.user_id}"


def mfa_enabled(user):
    """Whether ``user`` has a confirmed factor (no query if the state was joined).

    A missing state row is computed from the devices, never taken as "off":
    see :mod:`django_stepup.mfa_state`.
    """
    from .mfa_state import mfa_enabled

    return mfa_enabled(user)


class RecoveryCode(models.Model):
    """One single-use recovery code, stored only as its digest."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stepup_recovery_codes"
    )
    digest = models.CharField(max_length=64, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "digest"], name="stepup_recovery_code_unique_per_user"
            )
        ]

    def __str__(self):
        return f"Recovery code {self.pk}"


class WebAuthnDevice(TimestampMixin, Device):
    """A WebAuthn credential as a django-otp device: a confirmed one enables MFA.

    Created pending (no credential yet) with its registration challenge; the verified
    registration response fills in the credential and confirms it. ``credential_id``
    is base64url without padding, as in the WebAuthn JSON forms (up to 1,023 bytes, too
    long for a portable unique index: ``credential_digest``, its SHA-256, is unique and
    is what lookups use); ``public_key`` is the COSE key; ``discoverable`` says whether
    it also logs in as a passkey.
    """

    credential_id: "models.TextField[str, str]" = models.TextField(
        blank=True, default="", editable=False
    )
    # null while pending: many pending factors, each credential once.
    credential_digest: "models.CharField[str | None, str | None]" = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )
    public_key: "models.BinaryField[bytes, bytes | memoryview]" = models.BinaryField(
        default=b"", editable=False
    )
    sign_count: "models.PositiveBigIntegerField[int, int]" = models.PositiveBigIntegerField(
        default=0, editable=False
    )
    transports = models.JSONField(default=list, blank=True, editable=False)
    aaguid: "models.CharField[str, str]" = models.CharField(
        max_length=36, blank=True, default="", editable=False
    )
    discoverable: "models.BooleanField[bool, bool]" = models.BooleanField(
        default=False, editable=False
    )
    user_handle: "models.CharField[str, str]" = models.CharField(
        max_length=128, blank=True, default="", editable=False
    )

    class Meta:
        verbose_name = _("WebAuthn factor")
        verbose_name_plural = _("WebAuthn factors")

    def verify_token(self, token):
        """Never: a WebAuthn factor answers an assertion, not a code."""
        return False


class WebAuthnChallenge(models.Model):
    """A server-side WebAuthn challenge: one purpose, one user (and token), used once.

    ``challenge`` is the random value in base64url. Consuming it is one conditional
    DELETE, so two submissions of one response succeed at most once.
    """

    class Purpose(models.TextChoices):
        REGISTRATION = "registration", _("registration")
        STEP_UP = "step_up", _("step-up")
        PASSKEY_LOGIN = "passkey_login", _("passkey login")

    id = models.BigAutoField(primary_key=True)
    challenge = models.CharField(max_length=128, unique=True, editable=False)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="stepup_webauthn_challenges",
    )
    token = models.ForeignKey(
        Token, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    device = models.ForeignKey(
        WebAuthnDevice, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("WebAuthn challenge")
        verbose_name_plural = _("WebAuthn challenges")

    def __str__(self):
        return f"{self.purpose} challenge {self.pk}"

    def __repr__(self):
        # The challenge value stays out of reprs.
        return f"<WebAuthnChallenge {self.pk} {self.purpose}>"


class TokenPolicy(models.Model):
    """A token's rule over one policy scope; ``values`` maps each dimension to a value or None."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="policies")
    scope = models.CharField(max_length=64)
    values = models.JSONField(default=dict)
    combination = models.CharField(max_length=64, editable=False)
    perm_read = models.BooleanField(default=True)
    perm_write = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("token policy")
        verbose_name_plural = _("token policies")
        ordering = ["created"]
        constraints = [
            models.UniqueConstraint(
                fields=["token", "scope", "combination"], name="stepup_policy_unique_combination"
            )
        ]

    def __str__(self):
        return f"{self.scope} policy {self.id}"

    def save(self, *args, **kwargs):
        from .policies import combination_digest

        self.combination = combination_digest(self.values)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "values" in update_fields:
            kwargs["update_fields"] = {*update_fields, "combination"}
        super().save(*args, **kwargs)

    @property
    def is_default(self):
        return all(value is None for value in self.values.values())


class AuditEvent(models.Model):
    """One security event, recorded by :mod:`django_stepup.audit` from the public signals.

    ``token_id`` is no foreign key: the event outlives the token (a revocation
    deletes it). ``details`` holds a few non-secret facts per event.
    """

    class Event(models.TextChoices):
        LOGIN_SUCCEEDED = "login_succeeded", _("login succeeded")
        LOGIN_FAILED = "login_failed", _("login failed")
        STEP_UP_SUCCEEDED = "step_up_succeeded", _("step-up succeeded")
        STEP_UP_FAILED = "step_up_failed", _("step-up failed")
        FACTOR_ACTIVATED = "factor_activated", _("factor activated")
        FACTOR_REMOVED = "factor_removed", _("factor removed")
        RECOVERY_CODES_GENERATED = "recovery_codes_generated", _("recovery codes generated")
        TOKEN_CREATED = "token_created", _("token created")
        TOKENS_REVOKED = "tokens_revoked", _("tokens revoked")
        SIGN_COUNT_REGRESSED = "sign_count_regressed", _("WebAuthn sign count regressed")
        TOKEN_CHANGED = "token_changed", _("token changed")
        TOKEN_USED_FROM_NEW_NETWORK = (
            "token_used_from_new_network",
            _("token used from a new network"),
        )
        TOKEN_REPORTED_LEAKED = "token_reported_leaked", _("token reported leaked")

    id = models.BigAutoField(primary_key=True)
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stepup_audit_events",
        db_index=False,  # the (user, -created) index leads with user
    )
    token_id = models.UUIDField(_("token id"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "-created"], name="stepup_audit_user_created")]

    def __str__(self):
        return f"{self.event} {self.created:%Y-%m-%d %H:%M:%S}"
