"""Default receivers: password changes revoke login tokens; events email the user."""

import logging
import unicodedata

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from django_stepup import otp, signals
from django_stepup.models import AuditEvent, RecoveryCode, Token
from django_stepup.receivers import one_line
from django_stepup.revocation import keep_token
from tests.factories import PASSWORD, TokenFactory, TOTPDeviceFactory, UserFactory
from tests.mail import mail_backend
from tests.utils import authenticated, login_body


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1000


def token_ids(user):
    return set(Token.objects.filter(user=user).values_list("pk", flat=True))


class TestPasswordChange:
    def test_set_password_revokes_login_tokens_and_keeps_api_tokens(self, api_client, user):
        login = TokenFactory(user=user, login=True)
        promoted = TokenFactory(user=user, promoted=True)
        api = TokenFactory(user=user)
        user.set_password("a new password")
        user.save()
        assert token_ids(user) == {api.pk}
        assert authenticated(api_client, login.secret).get("/whoami/").status_code == 401
        assert authenticated(api_client, promoted.secret).get("/whoami/").status_code == 401
        assert authenticated(api_client, api.secret).get("/whoami/").status_code == 200

    def test_with_update_fields(self, user):
        TokenFactory(user=user, login=True)
        user.set_password("a new password")
        user.save(update_fields=["password"])
        assert token_ids(user) == set()

    def test_unusable_password_revokes(self, user):
        TokenFactory(user=user, login=True)
        user.set_unusable_password()
        user.save()
        assert token_ids(user) == set()

    def test_a_view_keeps_its_own_token(self, user):
        current = TokenFactory(user=user, promoted=True)
        TokenFactory(user=user, login=True)
        with keep_token(current):
            user.set_password("a new password")
            user.save()
        assert token_ids(user) == {current.pk}

    def test_other_saves_revoke_nothing(self, user, django_assert_num_queries):
        login = TokenFactory(user=user, login=True)
        user.email = "renamed@example.com"
        with django_assert_num_queries(2):
            user.save()
        with django_assert_num_queries(1):
            user.save(update_fields=["email"])
        assert token_ids(user) == {login.pk}

    def test_new_users_cost_no_extra_query(self, db, django_assert_num_queries):
        with django_assert_num_queries(1):
            get_user_model().objects.create_user(
                **{get_user_model().USERNAME_FIELD: "new@example.com"}, password=PASSWORD
            )

    @override_settings(
        PASSWORD_HASHERS=[
            "tests.test_receivers.FastPBKDF2PasswordHasher",
            "django.contrib.auth.hashers.MD5PasswordHasher",
        ]
    )
    def test_a_hash_upgrade_on_login_is_no_password_change(self, api_client, user):
        assert user.password.startswith("md5$")
        login = TokenFactory(user=user, login=True)
        response = api_client.post("/auth/login/", login_body(user, PASSWORD), format="json")
        assert response.status_code == 200
        user.refresh_from_db()
        assert user.password.startswith("pbkdf2_sha256$")
        assert login.pk in token_ids(user)


def committed(capture):
    """Run the on-commit callbacks registered inside the block, as a commit would."""
    return capture(execute=True)


class TestNotifications:
    def test_factor_activated(self, user, django_capture_on_commit_callbacks):
        factor = TOTPDeviceFactory(user=user, pending=True, name="phone")
        with committed(django_capture_on_commit_callbacks):
            signals.factor_activated.send(sender=None, user=user, factor=factor, request=None)
        [message] = mail.outbox
        assert message.to == [user.email]
        assert message.subject == "A second factor was activated on your account"
        assert '"phone"' in message.body
        assert otp.factor_secret(factor) not in message.body

    def test_factor_removed_says_whether_mfa_is_still_on(
        self, user, django_capture_on_commit_callbacks
    ):
        factor = TOTPDeviceFactory(user=user)
        with committed(django_capture_on_commit_callbacks):
            for mfa_enabled in (True, False):
                signals.factor_removed.send(
                    sender=None, user=user, factor=factor, mfa_enabled=mfa_enabled, request=None
                )
        still_on, now_off = mail.outbox
        assert "still protect" in still_on.body
        assert "no longer has a second factor" in now_off.body

    def test_recovery_codes_generated(self, user, django_capture_on_commit_callbacks):
        with committed(django_capture_on_commit_callbacks):
            signals.recovery_codes_generated.send(sender=None, user=user, count=10, request=None)
        [message] = mail.outbox
        assert message.subject == "New recovery codes were generated for your account"
        assert "10 new recovery codes" in message.body

    def test_api_token_created_notifies_login_token_does_not(
        self, user, django_capture_on_commit_callbacks
    ):
        api = TokenFactory(user=user, name="<ci & deploy>")
        with committed(django_capture_on_commit_callbacks):
            signals.token_created.send(sender=None, user=user, token=api, request=None)
            signals.token_created.send(
                sender=None, user=user, token=TokenFactory(user=user, login=True), request=None
            )
        [message] = mail.outbox
        assert message.subject == "A new API token was created for your account"
        assert '"<ci & deploy>"' in message.body
        assert api.secret not in message.body
        assert api.digest not in message.body

    @override_settings(STEPUP={"NOTIFY_BY_EMAIL": False})
    def test_switched_off_by_setting(self, user, django_capture_on_commit_callbacks):
        with committed(django_capture_on_commit_callbacks) as callbacks:
            signals.recovery_codes_generated.send(sender=None, user=user, count=10, request=None)
        assert callbacks == []
        assert mail.outbox == []

    def test_users_without_an_address_are_skipped(self, db, django_capture_on_commit_callbacks):
        user = UserFactory(email="")
        with committed(django_capture_on_commit_callbacks) as callbacks:
            signals.recovery_codes_generated.send(sender=None, user=user, count=10, request=None)
        assert callbacks == []
        assert mail.outbox == []

    def test_nothing_is_sent_before_the_commit(self, user, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks() as callbacks:
            signals.recovery_codes_generated.send(sender=None, user=user, count=10, request=None)
            assert mail.outbox == []
        assert len(callbacks) == 1
        assert mail.outbox == []

    def test_nothing_is_sent_when_the_change_rolls_back(self, user):
        with transaction.atomic():
            signals.recovery_codes_generated.send(sender=None, user=user, count=10, request=None)
            transaction.set_rollback(True)
        assert mail.outbox == []
        assert transaction.get_connection().run_on_commit == []

    @pytest.mark.parametrize(
        "name",
        [
            "phone\nBcc: victim@example.com",
            "phone\r\n\r\nYour account was deleted. Call +1 555 0100.",
            "phone\u2028Subject: forged",
            "phone\x1b[2Jcleared",
            "phone\u202egnp.exe",
        ],
    )
    def test_a_name_cannot_add_lines_or_headers(
        self, user, name, django_capture_on_commit_callbacks
    ):
        factor = TOTPDeviceFactory(user=user, name=name)
        token = TokenFactory(user=user, name=name)
        with committed(django_capture_on_commit_callbacks):
            signals.factor_activated.send(sender=None, user=user, factor=factor, request=None)
            signals.factor_removed.send(
                sender=None, user=user, factor=factor, mfa_enabled=False, request=None
            )
            signals.token_created.send(sender=None, user=user, token=token, request=None)
        assert len(mail.outbox) == 3
        for message in mail.outbox:
            [line] = [line for line in message.body.splitlines() if "phone" in line]
            assert '"phone\\' in line
            assert not any(unicodedata.category(c).startswith("C") for c in line)
            assert len(message.body.splitlines()) == message.body.count("\n")
            sent = message.message()
            assert sent["Bcc"] is None
            assert "forged" not in sent["Subject"]
            assert sent.get_all("Subject") == [message.subject]

    def test_one_line_escapes_what_is_not_printable(self):
        assert one_line("a\nb\r\tc\x00\x1b\u2028\u202e\u200b") == (
            "a\\nb\\r\\tc\\x00\\x1b\\u2028\\u202e\\u200b"
        )
        assert one_line('Zoë\'s <phone> & "work"') == 'Zoë\'s <phone> & "work"'


class TestFailingMail:
    """A mail backend that raises is logged once per mail, never raised."""

    @pytest.mark.parametrize("backend", ["FailingEmailBackend", "RefusingEmailBackend"])
    def test_logged_once_without_the_address(
        self, user, backend, caplog, django_capture_on_commit_callbacks
    ):
        with mail_backend(f"tests.mail.{backend}"), caplog.at_level(logging.ERROR):
            with committed(django_capture_on_commit_callbacks):
                signals.recovery_codes_generated.send(
                    sender=None, user=user, count=10, request=None
                )
        [logged] = [r for r in caplog.records if r.name == "django_stepup.notifications"]
        assert logged.levelno == logging.ERROR
        assert logged.getMessage() == (
            f"Could not send the recovery_codes_generated notification to user {user.pk}."
        )
        assert user.email not in logged.getMessage()
        assert mail.outbox == []

    def test_a_broken_template_is_logged_too(
        self, user, caplog, django_capture_on_commit_callbacks, settings
    ):
        settings.TEMPLATES = [
            {
                **settings.TEMPLATES[0],
                "APP_DIRS": False,
                "OPTIONS": {
                    "loaders": [
                        (
                            "django.template.loaders.locmem.Loader",
                            {
                                "django_stepup/email/recovery_codes_generated_subject.txt": (
                                    "{% broken %}"
                                )
                            },
                        )
                    ]
                },
            }
        ]
        with committed(django_capture_on_commit_callbacks):
            signals.recovery_codes_generated.send(sender=None, user=user, count=10, request=None)
        assert [r.name for r in caplog.records if r.levelno >= logging.ERROR] == [
            "django_stepup.notifications"
        ]
        assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
class TestFailingMailOverHTTP:
    """With a mail server that cannot deliver, every endpoint answers as usual: the change,
    its secret and its audit row are there, and the failure is logged once.

    The database commits for real here, so the mail is tried inside the request.
    """

    @pytest.fixture(autouse=True)
    def _failing_mail(self):
        with mail_backend("tests.mail.FailingEmailBackend"):
            yield

    @pytest.fixture
    def logged(self, caplog):
        caplog.set_level(logging.DEBUG, logger="django_stepup.notifications")
        return lambda: [r for r in caplog.records if r.name == "django_stepup.notifications"]

    @staticmethod
    def events(user):
        return list(
            AuditEvent.objects.filter(user=user).order_by("id").values_list("event", flat=True)
        )

    def test_verifying_a_pending_factor(self, api_client, user, totp_code, logged):
        pending = TOTPDeviceFactory(user=user, pending=True)
        token = TokenFactory(user=user, login=True)
        response = authenticated(api_client, token.secret).post(
            f"/auth/totp/{pending.pk}/verify/", {"code": totp_code(pending)}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["mfa"] is True
        pending.refresh_from_db()
        assert pending.confirmed is True
        assert self.events(user) == ["factor_activated", "step_up_succeeded"]
        [record] = logged()
        assert "factor_activated" in record.getMessage()

    def test_creating_an_api_token(self, api_client, factor, logged):
        promoted = TokenFactory(user=factor.user, promoted=True)
        response = authenticated(api_client, promoted.secret).post(
            "/auth/tokens/", {"name": "ci"}, format="json"
        )
        assert response.status_code == 201
        secret = response.json()["token"]
        assert authenticated(APIClient(), secret).get("/whoami/").status_code == 200
        assert self.events(factor.user) == ["token_created"]
        [record] = logged()
        assert "token_created" in record.getMessage()
        assert secret not in record.getMessage()

    def test_removing_a_factor(self, api_client, factor, logged):
        promoted = TokenFactory(user=factor.user, promoted=True)
        response = authenticated(api_client, promoted.secret).delete(f"/auth/totp/{factor.pk}/")
        assert response.status_code == 204
        assert not TOTPDevice.objects.filter(pk=factor.pk).exists()
        assert self.events(factor.user) == ["factor_removed"]
        assert len(logged()) == 1

    def test_generating_recovery_codes(self, api_client, factor, logged):
        promoted = TokenFactory(user=factor.user, promoted=True)
        response = authenticated(api_client, promoted.secret).post("/auth/recovery-codes/")
        assert response.status_code == 201
        codes = response.json()["codes"]
        assert len(codes) == RecoveryCode.objects.filter(user=factor.user).count() == 10
        assert self.events(factor.user) == ["recovery_codes_generated"]
        [record] = logged()
        assert not any(code in record.getMessage() for code in codes)
