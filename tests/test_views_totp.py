"""TOTP factors, step-up verification and recovery codes through DRF's APIClient."""

import base64
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup import otp
from django_stepup.models import AuditEvent, MFAState, RecoveryCode, Token
from tests.factories import TokenFactory, TOTPDeviceFactory, UserFactory
from tests.utils import KNOWN_NETWORKS, authenticated

FACTORS = "/auth/totp/"
MFA_VERIFY = "/auth/mfa/verify/"
RECOVERY_CODES = "/auth/recovery-codes/"
CHALLENGE = (
    'Token error="insufficient_user_authentication", '
    'error_description="This action needs a login token promoted by a second factor."'
)
CHALLENGE_BODY = {
    "detail": "This action needs a login token promoted by a second factor.",
    "code": "mfa_required",
}
INVALID_CODE = {"code": ["Invalid code."]}
NOT_FOUND = {"detail": "Not found."}


def client_for(api_client, token):
    return authenticated(api_client, token.secret)


def verify(client, factor_id, code):
    return client.post(f"{FACTORS}{factor_id}/verify/", {"code": code}, format="json")


def mfa_verify(client, code):
    return client.post(MFA_VERIFY, {"code": code}, format="json")


def assert_challenge(response, max_age=None):
    """The exact RFC 9470 challenge: status, header and body."""
    assert response.status_code == 401
    if max_age is None:
        assert response["WWW-Authenticate"] == CHALLENGE
        assert response.json() == CHALLENGE_BODY
        return
    description = f"This action needs a second factor verified in the last {max_age} seconds."
    assert response["WWW-Authenticate"] == (
        'Token error="insufficient_user_authentication", '
        f'error_description="{description}", max_age={max_age}'
    )
    assert response.json() == {"detail": description, "code": "mfa_required"}


def failure_count(user):
    return MFAState.objects.get(user=user).failure_count


def reload(obj):
    obj.refresh_from_db()
    return obj


@pytest.fixture
def unpromoted(factor):
    return TokenFactory(user=factor.user, login=True)


@pytest.fixture
def promoted(factor):
    return TokenFactory(user=factor.user, promoted=True)


class TestListFactors:
    def test_unpromoted_login_token_lists_own_factors_without_secrets(
        self, api_client, factor, unpromoted
    ):
        pending = TOTPDeviceFactory(user=factor.user, pending=True)
        TOTPDeviceFactory()
        response = client_for(api_client, unpromoted).get(FACTORS)
        assert response.status_code == 200
        data = response.json()
        assert [item["id"] for item in data] == [factor.pk, pending.pk]
        for item in data:
            assert set(item) == {"id", "name", "created", "last_used"}
        assert factor.key not in response.content.decode()
        assert otp.factor_secret(factor) not in response.content.decode()

    def test_api_token_is_403(self, api_client, factor):
        response = client_for(api_client, TokenFactory(user=factor.user)).get(FACTORS)
        assert response.status_code == 403

    def test_anonymous_is_401(self, api_client, db):
        assert api_client.get(FACTORS).status_code == 401


class TestCreateFactor:
    def test_user_without_mfa_gets_an_inactive_factor_and_its_secret_once(self, api_client, user):
        client = client_for(api_client, TokenFactory(user=user, login=True))
        response = client.post(FACTORS, {"name": "phone"}, format="json")
        assert response.status_code == 201
        assert response["Cache-Control"] == "no-store"
        data = response.json()
        assert set(data) == {"id", "name", "created", "last_used", "secret", "uri", "qr"}
        device = TOTPDevice.objects.get(pk=data["id"], user=user)
        assert device.confirmed is False
        assert device.name == "phone"
        assert base64.b32decode(data["secret"]) == device.bin_key
        assert len(device.bin_key) >= 20
        assert data["qr"].startswith("<svg")
        assert data["uri"].startswith("otpauth://totp/")
        assert not MFAState.objects.filter(user=user, enabled=True).exists()
        listed = client.get(FACTORS).content.decode()
        assert data["secret"] not in listed
        assert "otpauth" not in listed

    def test_the_uri_is_percent_encoded(self, api_client, db):
        user = UserFactory(email="a&secret=AAAA?issuer=x#%00/@example.com")
        client = client_for(api_client, TokenFactory(user=user, login=True))
        with override_settings(STEPUP={"TOTP_ISSUER": "Evil & Co: #1?"}):
            data = client.post(FACTORS, {"name": "n&secret=B"}, format="json").json()
        parts = urlsplit(data["uri"])
        assert parts.scheme == "otpauth"
        assert parts.netloc == "totp"
        assert unquote(parts.path) == f"/Evil & Co #1?:{user.email}"
        query = parse_qs(parts.query, strict_parsing=True)
        assert query["secret"] == [data["secret"]]
        assert query["issuer"] == ["Evil & Co #1?"]
        assert not parts.fragment

    def test_user_with_mfa_needs_a_promoted_token(self, api_client, factor, unpromoted):
        response = client_for(api_client, unpromoted).post(FACTORS, {"name": "x"}, format="json")
        assert_challenge(response)
        assert "secret" not in response.content.decode()
        assert TOTPDevice.objects.filter(user=factor.user).count() == 1

    def test_user_with_mfa_and_a_promoted_token_adds_one(self, api_client, factor, promoted):
        response = client_for(api_client, promoted).post(FACTORS, {"name": "x"}, format="json")
        assert response.status_code == 201
        assert TOTPDevice.objects.filter(user=factor.user).count() == 2

    def test_challenge_costs_no_query_beyond_authentication(
        self, api_client, factor, django_assert_num_queries
    ):
        token = TokenFactory(
            user=factor.user, login=True, last_used=timezone.now(), networks=KNOWN_NETWORKS
        )
        client = client_for(api_client, token)
        with django_assert_num_queries(1):
            assert_challenge(client.post(FACTORS, {"name": "x"}, format="json"))

    def test_api_token_is_403(self, api_client, user):
        client = client_for(api_client, TokenFactory(user=user, perms=["manage_tokens"]))
        response = client.post(FACTORS, {"name": "x"}, format="json")
        assert response.status_code == 403
        assert not TOTPDevice.objects.exists()

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": "x" * 65}, "name"),
            ({"name": "a\x00b"}, "name"),
            ({"name": ["x"]}, "name"),
            ({"name": "x", "confirmed": True}, "confirmed"),
            ({"name": "x", "key": "00" * 20}, "key"),
        ],
    )
    def test_invalid_input_is_400_naming_the_field(self, api_client, user, body, field):
        client = client_for(api_client, TokenFactory(user=user, login=True))
        response = client.post(FACTORS, body, format="json")
        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert not TOTPDevice.objects.exists()

    def test_factors_per_user_are_capped(self, api_client, user):
        TOTPDeviceFactory.create_batch(10, user=user, pending=True)
        client = client_for(api_client, TokenFactory(user=user, login=True))
        response = client.post(FACTORS, {"name": "eleventh"}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "non_field_errors": ["You already have 10 factors, the maximum."]
        }
        assert TOTPDevice.objects.filter(user=user).count() == 10


class TestDeleteFactor:
    def test_promoted_token_deletes_the_last_factor_disabling_mfa(
        self, api_client, factor, promoted, django_capture_on_commit_callbacks
    ):
        user = factor.user
        other_login = TokenFactory(user=user, login=True)
        other_promoted = TokenFactory(user=user, promoted=True)
        api_token = TokenFactory(user=user)
        otp.generate_recovery_codes(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(api_client, promoted).delete(f"{FACTORS}{factor.pk}/")
        assert response.status_code == 204
        assert not TOTPDevice.objects.filter(pk=factor.pk).exists()
        assert MFAState.objects.get(user=user).enabled is False
        assert not RecoveryCode.objects.filter(user=user).exists()
        remaining = set(Token.objects.filter(user=user).values_list("pk", flat=True))
        assert remaining == {promoted.pk, api_token.pk}
        assert other_login.pk not in remaining and other_promoted.pk not in remaining
        assert [m.subject for m in mail.outbox] == ["A second factor was removed from your account"]
        assert client_for(api_client, api_token).post("/auth/logout/").status_code == 204

    def test_deleting_one_of_two_factors_keeps_mfa(self, api_client, factor, promoted):
        TOTPDeviceFactory(user=factor.user)
        response = client_for(api_client, promoted).delete(f"{FACTORS}{factor.pk}/")
        assert response.status_code == 204
        assert MFAState.objects.get(user=factor.user).enabled is True

    def test_unpromoted_token_gets_the_challenge(self, api_client, factor, unpromoted):
        response = client_for(api_client, unpromoted).delete(f"{FACTORS}{factor.pk}/")
        assert_challenge(response, max_age=300)
        assert TOTPDevice.objects.filter(pk=factor.pk).exists()

    def test_a_stale_promotion_gets_the_challenge_with_max_age(self, api_client, factor):
        stale = TokenFactory(
            user=factor.user, promoted=True, mfa_at=timezone.now() - timedelta(minutes=10)
        )
        response = client_for(api_client, stale).delete(f"{FACTORS}{factor.pk}/")
        assert_challenge(response, max_age=300)
        assert TOTPDevice.objects.filter(pk=factor.pk).exists()

    def test_another_users_factor_is_404_like_a_missing_one(self, api_client, factor, promoted):
        other = TOTPDeviceFactory()
        client = client_for(api_client, promoted)
        foreign = client.delete(f"{FACTORS}{other.pk}/")
        missing = client.delete(f"{FACTORS}{other.pk + 1000}/")
        huge = client.delete(f"{FACTORS}{2**70}/")
        assert foreign.status_code == missing.status_code == huge.status_code == 404
        assert foreign.content == missing.content == huge.content
        assert TOTPDevice.objects.filter(pk=other.pk).exists()

    def test_api_token_is_403(self, api_client, factor):
        response = client_for(api_client, TokenFactory(user=factor.user)).delete(
            f"{FACTORS}{factor.pk}/"
        )
        assert response.status_code == 403
        assert TOTPDevice.objects.filter(pk=factor.pk).exists()

    def test_user_without_mfa_deletes_a_pending_factor_without_revoking(self, api_client, user):
        pending = TOTPDeviceFactory(user=user, pending=True)
        token = TokenFactory(user=user, login=True)
        other = TokenFactory(user=user, login=True)
        response = client_for(api_client, token).delete(f"{FACTORS}{pending.pk}/")
        assert response.status_code == 204
        assert Token.objects.filter(pk=other.pk).exists()


class TestVerifyFactor:
    def test_right_code_promotes_the_token_that_asked(
        self, api_client, factor, unpromoted, totp_code
    ):
        other = TokenFactory(user=factor.user, login=True)
        MFAState.objects.filter(user=factor.user).update(failure_count=5)
        response = verify(client_for(api_client, unpromoted), factor.pk, totp_code(factor))
        assert response.status_code == 200
        data = response.json()
        assert data["id"] == str(unpromoted.pk)
        assert data["mfa"] is True
        assert data["mfa_at"] is not None
        assert "token" not in data
        assert reload(unpromoted).mfa is True
        assert unpromoted.mfa_at is not None
        assert reload(other).mfa is False
        assert failure_count(factor.user) == 0
        assert reload(factor).last_used_at is not None

    def test_promotion_opens_mfa_guarded_views(self, api_client, factor, unpromoted, totp_code):
        client = client_for(api_client, unpromoted)
        assert_challenge(client.get("/guarded/mfa/"))
        verify(client, factor.pk, totp_code(factor))
        assert client.get("/guarded/mfa/").status_code == 200

    def test_first_verify_activates_a_pending_factor(
        self, api_client, user, totp_code, django_capture_on_commit_callbacks
    ):
        pending = TOTPDeviceFactory(user=user, pending=True)
        token = TokenFactory(user=user, login=True)
        with django_capture_on_commit_callbacks(execute=True):
            response = verify(client_for(api_client, token), pending.pk, totp_code(pending))
        assert response.status_code == 200
        assert response.json()["mfa"] is True
        assert reload(pending).confirmed is True
        assert MFAState.objects.get(user=user).enabled is True
        assert [m.subject for m in mail.outbox] == ["A second factor was activated on your account"]
        assert mail.outbox[0].to == [user.email]
        assert otp.factor_secret(pending) not in mail.outbox[0].body

    def test_pending_factor_of_an_mfa_account_needs_a_promoted_token(
        self, api_client, factor, unpromoted, promoted, totp_code
    ):
        """A factor made while MFA was off can't get a password-only token past the real one."""
        pending = TOTPDeviceFactory(user=factor.user, pending=True)
        response = verify(client_for(api_client, unpromoted), pending.pk, totp_code(pending))
        assert response.status_code == 401
        assert "insufficient_user_authentication" in response["WWW-Authenticate"]
        assert reload(unpromoted).mfa is False
        assert reload(pending).confirmed is False
        assert reload(pending).last_t == -1
        assert failure_count(factor.user) == 0
        response = verify(client_for(api_client, promoted), pending.pk, totp_code(pending))
        assert response.status_code == 200
        assert reload(pending).confirmed is True

    def test_api_token_is_403_and_the_code_is_not_consumed(
        self, api_client, factor, unpromoted, totp_code
    ):
        api_token = TokenFactory(user=factor.user)
        code = totp_code(factor)
        response = verify(client_for(api_client, api_token), factor.pk, code)
        assert response.status_code == 403
        assert response.json() == {"detail": "This endpoint needs a login token."}
        assert reload(api_token).mfa is None
        assert reload(factor).last_t == -1
        assert verify(client_for(api_client, unpromoted), factor.pk, code).status_code == 200

    def test_another_users_factor_is_404_and_untouched(
        self, api_client, factor, unpromoted, totp_code
    ):
        bob_factor = TOTPDeviceFactory()
        client = client_for(api_client, unpromoted)
        foreign = verify(client, bob_factor.pk, totp_code(bob_factor))
        missing = verify(client, bob_factor.pk + 1000, "123456")
        huge = verify(client, 2**70, "123456")
        assert foreign.status_code == missing.status_code == huge.status_code == 404
        assert foreign.json() == NOT_FOUND
        assert foreign.content == missing.content == huge.content
        bob_factor = reload(bob_factor)
        assert (bob_factor.last_t, bob_factor.throttling_failure_count) == (-1, 0)
        assert failure_count(bob_factor.user) == 0
        assert reload(unpromoted).mfa is False

    def test_another_users_code_never_promotes(self, api_client, factor, unpromoted, totp_code):
        bob_factor = TOTPDeviceFactory()
        client = client_for(api_client, unpromoted)
        assert verify(client, factor.pk, totp_code(bob_factor)).json() == INVALID_CODE
        assert reload(unpromoted).mfa is False
        with time_machine.travel(timezone.now() + timedelta(seconds=2)):
            assert mfa_verify(client, totp_code(bob_factor)).status_code == 400
        assert reload(unpromoted).mfa is False

    def test_a_code_is_accepted_once_across_tokens(self, api_client, factor, totp_code):
        first = TokenFactory(user=factor.user, login=True)
        second = TokenFactory(user=factor.user, login=True)
        code = totp_code(factor)
        assert verify(client_for(api_client, first), factor.pk, code).status_code == 200
        last_t = reload(factor).last_t
        response = verify(client_for(api_client, second), factor.pk, code)
        assert response.status_code == 400
        assert response.json() == INVALID_CODE
        assert reload(second).mfa is False
        assert reload(factor).last_t == last_t

    def test_a_promoted_token_cannot_refresh_with_the_same_code(
        self, api_client, factor, unpromoted, totp_code
    ):
        client = client_for(api_client, unpromoted)
        code = totp_code(factor)
        verify(client, factor.pk, code)
        mfa_at = reload(unpromoted).mfa_at
        assert verify(client, factor.pk, code).status_code == 400
        assert reload(unpromoted).mfa_at == mfa_at

    def test_an_older_code_after_a_newer_one_is_refused(
        self, api_client, factor, unpromoted, totp_code
    ):
        client = client_for(api_client, unpromoted)
        assert verify(client, factor.pk, totp_code(factor)).status_code == 200
        last_t = reload(factor).last_t
        assert verify(client, factor.pk, totp_code(factor, -1)).status_code == 400
        assert reload(factor).last_t == last_t

    @pytest.mark.parametrize(("steps", "status"), [(-1, 200), (1, 200), (-2, 400), (2, 400)])
    def test_window_is_one_step_either_side(self, api_client, user, totp_code, steps, status):
        fresh = TOTPDeviceFactory(user=user)
        token = TokenFactory(user=user, login=True)
        with time_machine.travel(timezone.now() + timedelta(seconds=15), tick=False):
            response = verify(client_for(api_client, token), fresh.pk, totp_code(fresh, steps))
        assert response.status_code == status
        assert failure_count(user) == (0 if status == 200 else 1)

    @pytest.mark.parametrize(
        "code",
        [
            "12345",
            "1234567",
            "\u0661\u0662\u0663\u0664\u0665\u0666",  # Arabic-Indic digits
            "\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width digits
            "12_345",
            "+12345",
            "123456\n",
            "123456\x00",
            " 123456",
            "1e5",
            "",
            None,
            12345,
            123456,
            ["123456"],
            {"code": "123456"},
        ],
    )
    def test_malformed_codes_are_invalid_and_count(
        self, api_client, factor, unpromoted, totp_code, code
    ):
        response = verify(client_for(api_client, unpromoted), factor.pk, code)
        assert response.status_code == 400
        assert response.json() == INVALID_CODE
        assert failure_count(factor.user) == 1
        assert reload(factor).last_t == -1
        assert reload(unpromoted).mfa is False

    def test_a_missing_or_non_object_body_is_an_invalid_code(self, api_client, factor, unpromoted):
        client = client_for(api_client, unpromoted)
        assert client.post(f"{FACTORS}{factor.pk}/verify/", {}, format="json").json() == (
            INVALID_CODE
        )
        with time_machine.travel(timezone.now() + timedelta(seconds=5)):
            response = client.post(f"{FACTORS}{factor.pk}/verify/", [], format="json")
        assert response.json() == INVALID_CODE
        assert failure_count(factor.user) == 2

    def test_failures_back_off_and_a_right_code_waits(
        self, api_client, factor, unpromoted, totp_code
    ):
        client = client_for(api_client, unpromoted)
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            assert verify(client, factor.pk, "000000").status_code == 400
            response = verify(client, factor.pk, totp_code(factor))
            assert response.status_code == 429
            assert response["Retry-After"] == "1"
            assert reload(factor).last_t == -1
            assert reload(unpromoted).mfa is False
            assert failure_count(factor.user) == 1
            traveller.shift(timedelta(seconds=1))
            assert verify(client, factor.pk, "000000").status_code == 400
            response = verify(client, factor.pk, totp_code(factor))
            assert response.status_code == 429
            assert response["Retry-After"] == "2"
            traveller.shift(timedelta(seconds=2))
            assert verify(client, factor.pk, totp_code(factor)).status_code == 200
        assert reload(factor).throttling_failure_count == 0

    @override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
    def test_locks_after_100_failures_until_an_admin_reset(
        self, api_client, factor, unpromoted, totp_code
    ):
        client = client_for(api_client, unpromoted)
        for _ in range(100):
            assert verify(client, factor.pk, "000000").status_code == 400
        assert failure_count(factor.user) == 100
        fresh_login = TokenFactory(user=factor.user, login=True)
        for token in (unpromoted, fresh_login):
            response = verify(client_for(api_client, token), factor.pk, totp_code(factor))
            assert response.status_code == 403
            assert response.json()["code"] == "verification_locked"
            assert mfa_verify(client_for(api_client, token), totp_code(factor)).status_code == 403
            assert reload(token).mfa is False
        assert reload(factor).last_t == -1
        assert failure_count(factor.user) == 100
        otp.reset_verification_lockout(factor.user)
        assert verify(client, factor.pk, totp_code(factor)).status_code == 200
        assert failure_count(factor.user) == 0


class TestMFAVerify:
    def test_any_active_factor_promotes(self, api_client, factor, unpromoted, totp_code):
        second = TOTPDeviceFactory(user=factor.user)
        response = mfa_verify(client_for(api_client, unpromoted), totp_code(second))
        assert response.status_code == 200
        assert response.json()["mfa"] is True
        assert reload(second).last_t != -1

    def test_a_pending_factor_does_not_count(self, api_client, factor, unpromoted, totp_code):
        pending = TOTPDeviceFactory(user=factor.user, pending=True)
        response = mfa_verify(client_for(api_client, unpromoted), totp_code(pending))
        assert response.status_code == 400
        assert reload(pending).confirmed is False
        assert reload(unpromoted).mfa is False

    def test_a_recovery_code_works_once(self, api_client, factor, unpromoted):
        codes = otp.generate_recovery_codes(factor.user)
        client = client_for(api_client, unpromoted)
        response = mfa_verify(client, codes[0])
        assert response.status_code == 200
        assert response.json()["mfa"] is True
        assert RecoveryCode.objects.filter(user=factor.user).count() == 9
        again = TokenFactory(user=factor.user, login=True)
        response = mfa_verify(client_for(api_client, again), codes[0])
        assert response.status_code == 400
        assert response.json() == INVALID_CODE
        assert reload(again).mfa is False
        assert failure_count(factor.user) == 1

    def test_recovery_codes_are_read_without_case_or_dashes(self, api_client, factor, unpromoted):
        code = otp.generate_recovery_codes(factor.user)[0]
        response = mfa_verify(client_for(api_client, unpromoted), code.replace("-", "").lower())
        assert response.status_code == 200

    def test_another_users_recovery_code_never_promotes(self, api_client, factor, unpromoted):
        bob_code = otp.generate_recovery_codes(TOTPDeviceFactory().user)[0]
        assert mfa_verify(client_for(api_client, unpromoted), bob_code).status_code == 400
        assert reload(unpromoted).mfa is False
        assert RecoveryCode.objects.exclude(user=factor.user).count() == 10

    def test_api_token_is_403(self, api_client, factor, totp_code):
        api_token = TokenFactory(user=factor.user)
        response = mfa_verify(client_for(api_client, api_token), totp_code(factor))
        assert response.status_code == 403
        assert reload(api_token).mfa is None
        assert reload(factor).last_t == -1

    def test_user_without_factors_cannot_promote(self, api_client, user):
        token = TokenFactory(user=user, login=True)
        assert mfa_verify(client_for(api_client, token), "123456").status_code == 400
        assert reload(token).mfa is False


class TestRecoveryCodes:
    def test_promoted_token_gets_ten_codes_once_stored_as_digests(
        self, api_client, factor, promoted, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(api_client, promoted).post(RECOVERY_CODES)
        assert response.status_code == 201
        assert response["Cache-Control"] == "no-store"
        codes = response.json()["codes"]
        assert len(codes) == len(set(codes)) == 10
        stored = set(RecoveryCode.objects.filter(user=factor.user).values_list("digest", flat=True))
        assert stored == {otp.recovery_code_digest(otp.normalise_recovery_code(c)) for c in codes}
        assert not stored & set(codes)
        assert [m.subject for m in mail.outbox] == [
            "New recovery codes were generated for your account"
        ]
        for code in codes:
            assert code not in mail.outbox[0].body

    def test_new_codes_replace_the_old(self, api_client, factor, promoted, unpromoted):
        client = client_for(api_client, promoted)
        old = client.post(RECOVERY_CODES).json()["codes"]
        new = client.post(RECOVERY_CODES).json()["codes"]
        assert not set(old) & set(new)
        assert RecoveryCode.objects.filter(user=factor.user).count() == 10
        assert mfa_verify(client_for(api_client, unpromoted), old[0]).status_code == 400

    def test_unpromoted_token_gets_the_challenge(self, api_client, factor, unpromoted):
        assert_challenge(client_for(api_client, unpromoted).post(RECOVERY_CODES), max_age=300)
        assert not RecoveryCode.objects.exists()

    def test_stale_promotion_gets_the_challenge(self, api_client, factor):
        stale = TokenFactory(
            user=factor.user, promoted=True, mfa_at=timezone.now() - timedelta(minutes=6)
        )
        assert_challenge(client_for(api_client, stale).post(RECOVERY_CODES), max_age=300)

    def test_user_without_mfa_is_refused(self, api_client, user):
        response = client_for(api_client, TokenFactory(user=user, login=True)).post(RECOVERY_CODES)
        assert response.status_code == 403
        assert response.json()["code"] == "mfa_not_enabled"
        assert not RecoveryCode.objects.exists()

    def test_api_token_is_403(self, api_client, factor):
        response = client_for(api_client, TokenFactory(user=factor.user)).post(RECOVERY_CODES)
        assert response.status_code == 403
        assert not RecoveryCode.objects.exists()


def test_failures_count_even_with_atomic_requests(transactional_db, api_client, factor, unpromoted):
    """DRF rolls back an error response under ATOMIC_REQUESTS; the app's views opt out."""
    from django.db import connection

    connection.settings_dict["ATOMIC_REQUESTS"] = True
    try:
        response = verify(client_for(api_client, unpromoted), factor.pk, "000000")
    finally:
        connection.settings_dict["ATOMIC_REQUESTS"] = False
    assert response.status_code == 400
    assert failure_count(factor.user) == 1
    assert list(AuditEvent.objects.values_list("event", flat=True)) == ["step_up_failed"]
