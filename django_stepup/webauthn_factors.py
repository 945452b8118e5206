"""WebAuthn factors and passkeys over py_webauthn: registration, step-up, passkey login.

Every ceremony starts with a server-side :class:`~django_stepup.models.WebAuthnChallenge`
bound to its purpose, its user and (registration, step-up) the login token that asked,
valid for :data:`CHALLENGE_LIFETIME`. A response is accepted only if one conditional
DELETE consumes the matching challenge, inside the transaction that applies the result:
two parallel submissions of one response succeed at most once. A refused response rolls
back everything it touched (the challenge stays usable until it expires); only the
step-up failure counter and its ``step_up_failed`` signal commit, as for codes.

py_webauthn parses and verifies every response (CBOR, COSE, attestation "none" and the
other formats); this module only looks up, consumes and stores.

Internal: may change without notice.
"""

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from . import otp, signals
from .conf import stepup_settings
from .models import MFAMethod, Token, WebAuthnChallenge, WebAuthnDevice

CHALLENGE_LIFETIME = timedelta(minutes=5)
#: The login-throttle account of a passkey response that names no known factor.
UNKNOWN_PASSKEY_ACCOUNT = "passkey:unknown"
USER_HANDLE_SALT = "django_stepup.webauthn.user_handle"
Purpose = WebAuthnChallenge.Purpose


class NotConfigured(Exception):
    """``WEBAUTHN_RP_ID`` is empty: WebAuthn is off."""


class NoWebAuthnFactor(Exception):
    """The user has no active WebAuthn factor to step up with."""


class _Refused(Exception):
    """Roll back a ceremony's writes; ``regressed`` carries a sign-count regression."""

    def __init__(self, regressed=None):
        self.regressed = regressed


@dataclass(frozen=True)
class PasskeyLogin:
    """What :func:`verify_passkey_login` decided: the user, or None, and the factor."""

    user: object = None
    factor: WebAuthnDevice | None = None


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def credential_digest(raw_id):
    return hashlib.sha256(raw_id).hexdigest()


def rp_id():
    value = stepup_settings.WEBAUTHN_RP_ID
    if not value:
        raise NotConfigured
    return value


def _origins():
    return list(stepup_settings.WEBAUTHN_ORIGINS)


def _step_up_needs_uv():
    return stepup_settings.WEBAUTHN_USER_VERIFICATION == "required"


def _new_challenge(purpose, *, user=None, token=None, device=None):
    """Store a fresh challenge (and drop the user's expired ones); return its bytes."""
    value = secrets.token_bytes(32)
    cutoff = timezone.now() - CHALLENGE_LIFETIME
    WebAuthnChallenge.objects.filter(created__lte=cutoff, user=user).delete()
    WebAuthnChallenge.objects.create(
        challenge=b64url(value), purpose=purpose, user=user, token=token, device=device
    )
    return value


def _consume(challenge, purpose, *, user=None, token=None, device=None):
    """Delete the matching unexpired challenge; True if there was one (row-locked until commit)."""
    deleted, _ = WebAuthnChallenge.objects.filter(
        challenge=b64url(challenge),
        purpose=purpose,
        user=user,
        token=token,
        device=device,
        created__gt=timezone.now() - CHALLENGE_LIFETIME,
    ).delete()
    return deleted == 1


def _options(options):
    return json.loads(options_to_json(options))


def _descriptors(devices):
    return [
        PublicKeyCredentialDescriptor(
            id=base64.urlsafe_b64decode(
                device.credential_id + "=" * (-len(device.credential_id) % 4)
            ),
            transports=[
                AuthenticatorTransport(name)
                for name in device.transports
                if name in AuthenticatorTransport._value2member_map_
            ]
            or None,
        )
        for device in devices
    ]


def active_factors(user):
    return WebAuthnDevice.objects.filter(user=user, confirmed=True).exclude(credential_digest=None)


def _user_handle(user):
    stored = (
        WebAuthnDevice.objects.filter(user=user)
        .exclude(user_handle="")
        .values_list("user_handle", flat=True)
        .first()
    )
    return stored or b64url(
        salted_hmac(USER_HANDLE_SALT, str(user.pk), algorithm="sha256").digest()
    )


# --- Registration ---


def begin_registration(user, name, *, token):
    """A pending factor of ``user`` (within the factor cap) and its creation options.

    Raises :class:`~django_stepup.otp.FactorLimitReached` or :class:`NotConfigured`.
    """
    relying_party = rp_id()
    with transaction.atomic():
        handle = _user_handle(user)
        device = otp.add_factor(WebAuthnDevice(user=user, name=name, user_handle=handle))
        challenge = _new_challenge(Purpose.REGISTRATION, user=user, token=token, device=device)
        options = generate_registration_options(
            rp_id=relying_party,
            rp_name=stepup_settings.WEBAUTHN_RP_NAME,
            user_name=user.get_username(),
            user_id=base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)),
            challenge=challenge,
            timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=_descriptors(active_factors(user)),
        )
    data = _options(options)
    data["extensions"] = {"credProps": True}
    return device, data


def finish_registration(user, factor_id, credential, *, token, request=None):
    """Verify the registration response for the pending factor; activate it, promote ``token``.

    Returns an :class:`~django_stepup.otp.Verification` (``NOT_FOUND``,
    ``STEP_UP_REQUIRED``, ``INVALID`` or ``VERIFIED``); a refusal changes nothing.
    """
    relying_party = rp_id()
    if factor_id > otp.MAX_FACTOR_ID:
        return otp.Verification(otp.Outcome.NOT_FOUND)
    parsed, challenge = _parse_registration(credential)
    with transaction.atomic():
        state = otp.lock_state(user)
        device = (
            WebAuthnDevice.objects.select_for_update()
            .filter(user=user, pk=factor_id, confirmed=False)
            .first()
        )
        if device is None:
            return otp.Verification(otp.Outcome.NOT_FOUND)
        if otp.activation_needs_step_up(state, token, device):
            return otp.Verification(otp.Outcome.STEP_UP_REQUIRED)
        if parsed is None or challenge is None:
            return otp.Verification(otp.Outcome.INVALID)
        try:
            with transaction.atomic():
                if not _consume(
                    challenge, Purpose.REGISTRATION, user=user, token=token, device=device
                ):
                    raise _Refused
                verified = verify_registration_response(
                    credential=parsed,
                    expected_challenge=challenge,
                    expected_rp_id=relying_party,
                    expected_origin=_origins(),
                    require_user_verification=True,
                )
                digest = credential_digest(verified.credential_id)
                if WebAuthnDevice.objects.filter(credential_digest=digest).exists():
                    raise _Refused
                _activate(device, verified, parsed, credential, digest)
                otp.record_success(state, token, device, method=MFAMethod.WEBAUTHN)
        except (_Refused, WebAuthnException):
            return otp.Verification(otp.Outcome.INVALID)
        signals.factor_activated.send(
            sender=WebAuthnDevice, user=user, factor=device, request=request
        )
        signals.step_up_succeeded.send(
            sender=Token,
            user=user,
            token=token,
            factor=device,
            method=MFAMethod.WEBAUTHN.value,
            request=request,
        )
    return otp.Verification(otp.Outcome.VERIFIED, factor=device, activated=True)


def _parse_registration(credential):
    try:
        parsed = parse_registration_credential_json(credential)
        return parsed, parse_client_data_json(parsed.response.client_data_json).challenge
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return None, None


def _activate(device, verified, parsed, credential, digest):
    """Store the verified credential on the pending factor (``record_success`` confirms it)."""
    rk = None
    extensions = credential.get("clientExtensionResults") if isinstance(credential, dict) else None
    if isinstance(extensions, dict) and isinstance(extensions.get("credProps"), dict):
        rk = extensions["credProps"].get("rk")
    device.credential_id = b64url(verified.credential_id)
    device.credential_digest = digest
    device.public_key = verified.credential_public_key
    device.sign_count = verified.sign_count
    device.aaguid = verified.aaguid
    device.transports = [transport.value for transport in parsed.response.transports or []]
    # Registration requires a resident key; an authenticator that says otherwise is believed.
    device.discoverable = rk is not False
    device.save()


# --- Step-up ---


def begin_step_up(user, token):
    """Request options listing the user's active WebAuthn factors, for ``token``'s step-up."""
    relying_party = rp_id()
    factors = list(active_factors(user))
    if not factors:
        raise NoWebAuthnFactor
    # One pending step-up per token: a new challenge replaces the last one.
    WebAuthnChallenge.objects.filter(purpose=Purpose.STEP_UP, token=token).delete()
    challenge = _new_challenge(Purpose.STEP_UP, user=user, token=token)
    return _options(
        generate_authentication_options(
            rp_id=relying_party,
            challenge=challenge,
            timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
            allow_credentials=_descriptors(factors),
            user_verification=UserVerificationRequirement(
                stepup_settings.WEBAUTHN_USER_VERIFICATION
            ),
        )
    )


def verify_step_up(user, credential, *, token, request=None):
    """Verify an assertion of one of the user's factors; promote ``token`` on success.

    Returns an :class:`~django_stepup.otp.Verification`. A refusal (unknown or foreign
    credential, wrong challenge, origin or RP ID, missing user verification, sign-count
    regression) counts one failure and changes nothing else.
    """
    relying_party = rp_id()
    parsed, challenge = _parse_assertion(credential)
    with transaction.atomic():
        state = otp.lock_state(user)
        if state.failure_count >= stepup_settings.VERIFY_FAILURE_LIMIT:
            return otp.Verification(otp.Outcome.LOCKED)
        device = None
        if parsed is not None:
            device = (
                active_factors(user)
                .select_for_update()
                .filter(credential_digest=credential_digest(parsed.raw_id))
                .first()
            )
        try:
            if device is None:
                raise _Refused
            with transaction.atomic():
                if not _consume(challenge, Purpose.STEP_UP, user=user, token=token):
                    raise _Refused
                _verify_assertion(device, parsed, challenge, relying_party, _step_up_needs_uv())
                otp.record_success(state, token, device, method=MFAMethod.WEBAUTHN)
        except (_Refused, WebAuthnException) as refusal:
            _signal_regression(refusal, user, device, request)
            signals.step_up_failed.send(
                sender=Token,
                user=user,
                token=token,
                factor=device,
                failure_count=otp.record_failure(state),
                method=MFAMethod.WEBAUTHN.value,
                request=request,
            )
            return otp.Verification(otp.Outcome.INVALID)
        signals.step_up_succeeded.send(
            sender=Token,
            user=user,
            token=token,
            factor=device,
            method=MFAMethod.WEBAUTHN.value,
            request=request,
        )
    return otp.Verification(otp.Outcome.VERIFIED, factor=device)


def _parse_assertion(credential):
    try:
        parsed = parse_authentication_credential_json(credential)
        return parsed, parse_client_data_json(parsed.response.client_data_json).challenge
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return None, None


def _verify_assertion(device, parsed, challenge, relying_party, require_uv):
    """Verify the signature (py_webauthn), then the sign count; update the factor."""
    verified = verify_authentication_response(
        credential=parsed,
        expected_challenge=challenge,
        expected_rp_id=relying_party,
        expected_origin=_origins(),
        credential_public_key=bytes(device.public_key),
        # The regression check is ours, after the signature: a regression signed by the
        # key is a cloned authenticator, worth a signal; an unsigned one is noise.
        credential_current_sign_count=0,
        require_user_verification=require_uv,
    )
    new = verified.new_sign_count
    if (new > 0 or device.sign_count > 0) and new <= device.sign_count:
        raise _Refused(regressed=new)
    device.sign_count = new
    device.last_used_at = timezone.now()
    device.save(update_fields=["sign_count", "last_used_at"])


def _signal_regression(refusal, user, device, request):
    if isinstance(refusal, _Refused) and refusal.regressed is not None:
        signals.sign_count_regressed.send(
            sender=WebAuthnDevice,
            user=user,
            factor=device,
            sign_count=refusal.regressed,
            stored_sign_count=device.sign_count,
            request=request,
        )


# --- Passkey login ---


def challenge_account(request):
    """The login-throttle account of a passkey challenge: one per client address.

    So :func:`~django_stepup.throttling.login_wait` counts a challenge against the
    address's login budget, and no shared account lets one client throttle everyone.
    """
    return f"passkey-challenge:{request.META.get('REMOTE_ADDR') or ''}"


def begin_passkey_login():
    """Request options for a discoverable credential with user verification (anyone)."""
    relying_party = rp_id()
    challenge = _new_challenge(Purpose.PASSKEY_LOGIN)
    return _options(
        generate_authentication_options(
            rp_id=relying_party,
            challenge=challenge,
            timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
            user_verification=UserVerificationRequirement.REQUIRED,
        )
    )


def passkey_account(credential):
    """The login identifier of the factor a passkey response names, or None (for throttling)."""
    parsed, _ = _parse_assertion(credential)
    if parsed is None:
        return None
    device = (
        WebAuthnDevice.objects.filter(
            credential_digest=credential_digest(parsed.raw_id), confirmed=True
        )
        .select_related("user")
        .first()
    )
    return None if device is None else device.user.get_username()


def verify_passkey_login(credential, *, request=None):
    """Verify a passkey assertion: its discoverable factor's active user, or an empty result.

    Call inside the transaction that issues the login token: the challenge is consumed
    there, so a replayed response fails.
    """
    relying_party = rp_id()
    parsed, challenge = _parse_assertion(credential)
    if parsed is None:
        return PasskeyLogin()
    device = (
        WebAuthnDevice.objects.select_for_update()
        .filter(credential_digest=credential_digest(parsed.raw_id), confirmed=True)
        .select_related("user")
        .first()
    )
    if device is None or not device.discoverable or not device.user.is_active:
        return PasskeyLogin()
    handle = parsed.response.user_handle
    if handle is None or b64url(handle) != device.user_handle:
        return PasskeyLogin()
    try:
        with transaction.atomic():
            if not _consume(challenge, Purpose.PASSKEY_LOGIN):
                raise _Refused
            _verify_assertion(device, parsed, challenge, relying_party, True)
    except (_Refused, WebAuthnException) as refusal:
        _signal_regression(refusal, device.user, device, request)
        return PasskeyLogin()
    return PasskeyLogin(user=device.user, factor=device)
