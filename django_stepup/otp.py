"""Second factors over django-otp: TOTP factors, recovery codes and step-up verification.

Every verification runs in one transaction that locks the user's
:class:`~django_stepup.models.MFAState` row and then the factor rows
(``SELECT ... FOR UPDATE``), always in that order. So one code is accepted
once even under parallel requests, and the per-user failure counter loses no
update. django-otp supplies the per-factor exponential back-off and the
``last_t`` replay protection; this module adds the per-user lockout (NIST SP
800-63B: at most ``VERIFY_FAILURE_LIMIT`` consecutive failures).

Every write here sends its signal inside its transaction: the audit row
commits or rolls back with the change it records, and the notification mail
waits for the commit (:mod:`django_stepup.receivers`).

Internal: may change without notice.
"""

import base64
import enum
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import signals
from .conf import stepup_settings
from .mfa_state import default_enabled, has_confirmed_device
from .models import MFAMethod, MFAState, RecoveryCode, Token, WebAuthnDevice
from .revocation import revoke_login_tokens

TOTP_CODE = re.compile(r"[0-9]{6}")
RECOVERY_CODE = re.compile(r"[A-Za-z2-7]{16}", re.ASCII)
RECOVERY_CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
RECOVERY_CODE_LENGTH = 16  # 80 bits
RECOVERY_CODE_GROUP = 4
# Larger primary keys than this never exist and would overflow PostgreSQL's bigint.
MAX_FACTOR_ID = 2**63 - 1


class Outcome(enum.Enum):
    VERIFIED = "verified"
    INVALID = "invalid"
    THROTTLED = "throttled"
    LOCKED = "locked"
    NOT_FOUND = "not_found"
    STEP_UP_REQUIRED = "step_up_required"


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` decided. ``factor`` is None for a recovery code."""

    outcome: Outcome
    factor: Device | None = None
    retry_after: int | None = None
    activated: bool = False

    @property
    def ok(self):
        return self.outcome is Outcome.VERIFIED


class FactorLimitReached(Exception):
    """The user already has ``MAX_FACTORS_PER_USER`` factors."""


# --- TOTP factors ---


def create_totp_factor(user, name):
    """Create an inactive (unconfirmed) TOTP factor; it activates on its first verify."""
    return add_factor(TOTPDevice(user=user, name=name))


def add_factor(device):
    """Save the new ``device`` as an inactive factor of ``device.user``, within the cap.

    The one way a factor is created (API and admin): it locks the user's MFA state,
    raises :class:`FactorLimitReached` when the user already has
    ``MAX_FACTORS_PER_USER`` factors, and saves the device unconfirmed.
    """
    with transaction.atomic():
        check_factor_capacity(device.user)
        device.confirmed = False
        device.save(force_insert=True)
        return device


def check_factor_capacity(user):
    """Lock the user's MFA state; raise :class:`FactorLimitReached` if no factor may be added.

    The lock lasts until the surrounding transaction ends, so a check in a form's
    validation still holds when the admin saves the device.
    """
    lock_state(user)
    count = (
        TOTPDevice.objects.filter(user=user).count()
        + WebAuthnDevice.objects.filter(user=user).count()
    )
    if count >= stepup_settings.MAX_FACTORS_PER_USER:
        raise FactorLimitReached


def factor_secret(device):
    """The factor's key in base32, as authenticator apps expect it."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def provisioning_uri(device):
    """The ``otpauth://totp/`` URI; every part is percent-encoded (RFC 3986)."""
    issuer = stepup_settings.TOTP_ISSUER.replace(":", "")
    account = getattr(device.user, get_user_model().get_email_field_name())
    label = f"{quote(issuer, safe='')}:{quote(account, safe='')}"
    query = urlencode(
        {
            "secret": factor_secret(device),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri):
    """SVG markup of a QR code for ``uri``."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def remove_factor(device, *, keep_token=None, request=None):
    """Delete ``device``; update MFA state; revoke the user's other login tokens.

    Removing an active factor is a credential change: every login token of the
    user except ``keep_token`` is deleted. Removing the last active factor
    disables MFA and deletes the recovery codes, which would otherwise spring
    back to life with the next factor.
    """
    user = device.user
    with transaction.atomic():
        state = lock_state(user)
        was_active = device.confirmed
        factor_id = device.pk
        device.delete()
        # delete() clears the pk; receivers of factor_removed still need to know which it was.
        device.pk = factor_id
        state.enabled = has_confirmed_device(user.pk)
        state.save(update_fields=["enabled"])
        if not state.enabled:
            RecoveryCode.objects.filter(user=user).delete()
        if was_active:
            revoke_login_tokens(user, keep=keep_token, reason="factor_removed", request=request)
        signals.factor_removed.send(
            sender=type(device),
            user=user,
            factor=device,
            mfa_enabled=state.enabled,
            request=request,
        )


# --- Recovery codes ---


def normalise_recovery_code(value):
    """Upper-case ``value`` without dashes and spaces, or None if it is no recovery code."""
    if not isinstance(value, str):
        return None
    compact = value.replace("-", "").replace(" ", "")
    if not RECOVERY_CODE.fullmatch(compact):
        return None
    return compact.upper()


def recovery_code_digest(code):
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _format_recovery_code(code):
    return "-".join(
        code[i : i + RECOVERY_CODE_GROUP] for i in range(0, len(code), RECOVERY_CODE_GROUP)
    )


def generate_recovery_codes(user, *, request=None):
    """Replace the user's recovery codes; return the new ones (the only time they exist)."""
    codes: set[str] = set()
    while len(codes) < stepup_settings.RECOVERY_CODE_COUNT:
        codes.add(
            "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        )
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, digest=recovery_code_digest(code)) for code in codes
        )
        signals.recovery_codes_generated.send(
            sender=RecoveryCode, user=user, count=len(codes), request=request
        )
    return [_format_recovery_code(code) for code in sorted(codes)]


# --- Verification ---


def verify(user, code, *, token=None, factor_id=None, request=None):
    """Check ``code`` for ``user`` and, on success, promote the login token ``token``.

    With ``factor_id`` only that factor of the user counts (active or not yet
    active; a successful verify activates it). Without, every active factor and
    every unused recovery code counts. A malformed code is a failure like a
    wrong one. Nothing is consumed or counted when the answer is
    ``NOT_FOUND``, ``STEP_UP_REQUIRED``, ``THROTTLED`` or ``LOCKED``.
    """
    if token is not None and token.mfa is None:
        raise ValueError("Only login tokens can be promoted.")
    with transaction.atomic():
        state = lock_state(user)
        factors = TOTPDevice.objects.select_for_update().filter(user=user).order_by("pk")
        if factor_id is not None:
            if factor_id > MAX_FACTOR_ID:
                return Verification(Outcome.NOT_FOUND)
            factors = list(factors.filter(pk=factor_id))
            if not factors:
                return Verification(Outcome.NOT_FOUND)
            if activation_needs_step_up(state, token, factors[0]):
                return Verification(Outcome.STEP_UP_REQUIRED)
        else:
            factors = list(factors.filter(confirmed=True))
        if state.failure_count >= stepup_settings.VERIFY_FAILURE_LIMIT:
            return Verification(Outcome.LOCKED)
        result = _check(user, code, factors, recovery_codes=factor_id is None)
        if result.ok:
            method = MFAMethod.RECOVERY if result.factor is None else MFAMethod.TOTP
            record_success(state, token, result.factor, method=method)
            if result.activated:
                signals.factor_activated.send(
                    sender=TOTPDevice, user=user, factor=result.factor, request=request
                )
            signals.step_up_succeeded.send(
                sender=Token,
                user=user,
                token=token,
                factor=result.factor,
                method=method.value,
                request=request,
            )
        elif result.outcome is Outcome.INVALID:
            # The block returns normally on a failure, so the counter and its audit row commit.
            signals.step_up_failed.send(
                sender=Token,
                user=user,
                token=token,
                factor=factors[0] if factor_id is not None else None,
                failure_count=record_failure(state),
                method=None,
                request=request,
            )
    return result


def reset_verification_lockout(user):
    """Clear the user's failure counter and every TOTP factor's back-off (an admin action)."""
    with transaction.atomic():
        MFAState.objects.filter(user=user).update(failure_count=0, last_failure_at=None)
        TOTPDevice.objects.filter(user=user).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )


def activation_needs_step_up(state, token, factor):
    """Binding a new factor to an account that has MFA needs a promoted token.

    Otherwise a factor created while MFA was off, and never activated, would let a
    password alone get past the factor the owner enabled later.
    """
    return not factor.confirmed and state.enabled and (token is None or token.mfa is not True)


def lock_state(user):
    state, _ = MFAState.objects.select_for_update().get_or_create(
        user=user, defaults={"enabled": default_enabled(user)}
    )
    return state


def _check(user, code, factors, *, recovery_codes):
    recovery_code = normalise_recovery_code(code) if recovery_codes else None
    if recovery_code is not None:
        used, _ = RecoveryCode.objects.filter(
            user=user, digest=recovery_code_digest(recovery_code)
        ).delete()
        return Verification(Outcome.VERIFIED if used else Outcome.INVALID)
    retry_after = _back_off(factors)
    if retry_after:
        return Verification(Outcome.THROTTLED, retry_after=retry_after)
    if isinstance(code, str) and TOTP_CODE.fullmatch(code):
        for factor in factors:
            if factor.verify_token(code):
                _hold_drift(factor)
                return Verification(Outcome.VERIFIED, factor=factor, activated=not factor.confirmed)
    else:
        for factor in factors:
            factor.throttle_increment()
    return Verification(Outcome.INVALID)


def _hold_drift(factor):
    """Keep the factor's clock drift within its tolerance (RFC 6238 section 6).

    django-otp's ``OTP_TOTP_SYNC`` moves the drift by the matched offset on every
    success, so codes one step ahead, repeated, would walk the window into the future
    without bound.
    """
    held = max(-factor.tolerance, min(factor.tolerance, factor.drift))
    if held != factor.drift:
        factor.drift = held
        factor.save(update_fields=["drift"])


def _back_off(factors):
    """Seconds until every factor accepts attempts again (django-otp's back-off), or 0."""
    now = timezone.now()
    waits = []
    for factor in factors:
        allowed, details = factor.verify_is_allowed()
        if not allowed:
            waits.append(max(1, math.ceil((details["locked_until"] - now).total_seconds())))
    return max(waits, default=0)


def record_success(state, token, factor, *, method):
    """Reset the failure count, activate a pending ``factor``, promote ``token`` (by ``method``)."""
    now = timezone.now()
    state.failure_count = 0
    state.last_failure_at = None
    update_fields = ["failure_count", "last_failure_at"]
    if factor is not None and not factor.confirmed:
        factor.confirmed = True
        factor.save(update_fields=["confirmed"])
        state.enabled = True
        update_fields.append("enabled")
    state.save(update_fields=update_fields)
    if token is not None:
        Token.objects.filter(pk=token.pk).update(mfa=True, mfa_at=now, mfa_method=method)
        token.mfa = True
        token.mfa_at = now
        token.mfa_method = method


def record_failure(state):
    """Count one failure; the row is locked, so no concurrent update is lost."""
    state.failure_count += 1
    state.last_failure_at = timezone.now()
    state.save(update_fields=["failure_count", "last_failure_at"])
    return state.failure_count
