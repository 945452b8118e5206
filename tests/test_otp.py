"""django_stepup.otp: factor provisioning, recovery codes, verification rules and concurrency."""

import base64
import re
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from django_stepup import otp
from django_stepup.models import MFAState, RecoveryCode, Token
from tests.factories import TokenFactory, TOTPDeviceFactory, UserFactory
from tests.utils import authenticated, in_parallel


def post_status(token, url, code):
    """A request from a fresh client in the calling thread; returns the status code."""
    client = authenticated(APIClient(), token.secret)
    return client.post(url, {"code": code}, format="json").status_code


class TestProvisioning:
    def test_secret_is_the_key_in_base32(self, factor):
        secret = otp.factor_secret(factor)
        assert re.fullmatch(r"[A-Z2-7]{32}", secret)
        assert base64.b32decode(secret) == factor.bin_key

    def test_keys_have_160_bits_and_differ(self, user):
        keys = {otp.create_totp_factor(user, f"f{i}").bin_key for i in range(10)}
        assert len(keys) == 10
        assert all(len(key) == 20 for key in keys)

    @override_settings(STEPUP={"TOTP_ISSUER": "Example: DNS"})
    def test_issuer_loses_its_colon(self, factor):
        uri = otp.provisioning_uri(factor)
        assert uri.startswith("otpauth://totp/Example%20DNS:")
        assert "issuer=Example%20DNS" in uri

    def test_qr_is_svg(self, factor):
        root = ElementTree.fromstring(otp.qr_svg(otp.provisioning_uri(factor)))
        assert root.tag == "{http://www.w3.org/2000/svg}svg"

    def test_new_factor_is_pending(self, user):
        factor = otp.create_totp_factor(user, "phone")
        assert factor.confirmed is False
        assert MFAState.objects.get(user=user).enabled is False

    @override_settings(STEPUP={"MAX_FACTORS_PER_USER": 2})
    def test_cap_from_settings(self, user):
        otp.create_totp_factor(user, "one")
        otp.create_totp_factor(user, "two")
        with pytest.raises(otp.FactorLimitReached):
            otp.create_totp_factor(user, "three")
        assert TOTPDevice.objects.filter(user=user).count() == 2


class TestRecoveryCodes:
    def test_format_and_entropy(self, user):
        codes = otp.generate_recovery_codes(user)
        assert len(codes) == 10
        for code in codes:
            assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code)

    @override_settings(STEPUP={"RECOVERY_CODE_COUNT": 3})
    def test_count_from_settings(self, user):
        assert len(otp.generate_recovery_codes(user)) == 3
        assert RecoveryCode.objects.filter(user=user).count() == 3

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("abcd-efgh-ijkl-mnop", "ABCDEFGHIJKLMNOP"),
            ("ABCD EFGH IJKL MNOP", "ABCDEFGHIJKLMNOP"),
            ("ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOP"),
            ("ABCDEFGHIJKLMNO", None),
            ("ABCDEFGHIJKLMNOPQ", None),
            ("ABCDEFGHIJKLMNO1", None),
            ("ABCDEFGHIJKLMNOß", None),
            ("ABCDEFGHIJKLMNO\u0131", None),
            ("ABCDEFGHIJKLMNOP\n", None),
            (1234567890123456, None),
            (None, None),
        ],
    )
    def test_normalisation(self, value, expected):
        assert otp.normalise_recovery_code(value) == expected


class TestVerify:
    def test_refuses_to_promote_an_api_token(self, factor, totp_code):
        with pytest.raises(ValueError, match="login tokens"):
            otp.verify(factor.user, totp_code(factor), token=TokenFactory(user=factor.user))
        factor.refresh_from_db()
        assert factor.last_t == -1

    def test_without_a_token_only_checks(self, factor, totp_code):
        result = otp.verify(factor.user, totp_code(factor))
        assert result.ok
        assert result.factor == factor

    def test_creates_the_mfa_state_when_missing(self, user):
        result = otp.verify(user, "123456")
        assert result.outcome is otp.Outcome.INVALID
        assert MFAState.objects.get(user=user).failure_count == 1

    def test_reset_clears_the_user_counter_and_factor_back_off(self, factor):
        otp.verify(factor.user, "000000", factor_id=factor.pk)
        otp.reset_verification_lockout(factor.user)
        factor.refresh_from_db()
        assert (factor.throttling_failure_count, factor.throttling_failure_timestamp) == (0, None)
        assert MFAState.objects.get(user=factor.user).failure_count == 0


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL for parallel connections"
)
@pytest.mark.django_db(transaction=True)
class TestParallel:
    def test_verify_locks_the_state_and_factor_rows(self, totp_code):
        factor = TOTPDeviceFactory()
        with CaptureQueriesContext(connection) as queries:
            otp.verify(factor.user, totp_code(factor), factor_id=factor.pk)
        locking = [q["sql"] for q in queries if q["sql"].rstrip().endswith("FOR UPDATE")]
        assert any('"django_stepup_mfastate"' in sql for sql in locking)
        assert any('"otp_totp_totpdevice"' in sql for sql in locking)

    def test_one_code_is_accepted_once_in_50_rounds_of_two(self, totp_code):
        user = UserFactory()
        for _ in range(50):
            factor = TOTPDeviceFactory(user=user)
            first = TokenFactory(user=user, login=True)
            second = TokenFactory(user=user, login=True)
            url = f"/auth/totp/{factor.pk}/verify/"
            code = totp_code(factor)
            statuses = in_parallel(
                lambda token=first: post_status(token, url, code),
                lambda token=second: post_status(token, url, code),
            )
            assert sorted(statuses) == [200, 400]
            promoted = Token.objects.filter(pk__in=[first.pk, second.pk], mfa=True).count()
            assert promoted == 1

    def test_a_recovery_code_is_accepted_once(self):
        user = TOTPDeviceFactory().user
        code = otp.generate_recovery_codes(user)[0]
        tokens = [TokenFactory(user=user, login=True) for _ in range(2)]
        statuses = in_parallel(
            *(lambda token=token: post_status(token, "/auth/mfa/verify/", code) for token in tokens)
        )
        assert sorted(statuses) == [200, 400]

    @override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
    def test_50_parallel_failures_count_50(self):
        factor = TOTPDeviceFactory()
        tokens = [TokenFactory(user=factor.user, login=True) for _ in range(50)]
        url = f"/auth/totp/{factor.pk}/verify/"
        statuses = in_parallel(
            *(lambda token=token: post_status(token, url, "000000") for token in tokens)
        )
        assert statuses == [400] * 50
        assert MFAState.objects.get(user=factor.user).failure_count == 50
