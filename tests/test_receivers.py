"""Default receivers: password changes revoke login tokens; events email the user."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.test import override_settings

from django_stepup import otp, signals
from django_stepup.models import Token
from django_stepup.revocation import keep_token
from tests.factories import PASSWORD, TokenFactory, TOTPDeviceFactory, UserFactory
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


class TestNotifications:
    def test_factor_activated(self, user):
        factor = TOTPDeviceFactory(user=user, pending=True, name="phone")
        signals.factor_activated.send(sender=None, user=user, factor=factor, request=None)
        [message] = mail.outbox
        assert message.to == [user.email]
        assert message.subject == "A second factor was activated on your account"
        assert '"phone"' in message.body
        assert otp.factor_secret(factor) not in message.body

    def test_factor_removed_says_whether_mfa_is_still_on(self, user):
        factor = TOTPDeviceFactory(user=user)
        for mfa_enabled in (True, False):
            signals.factor_removed.send(
                sender=None, user=user, factor=factor, mfa_enabled=mfa_enabled, request=None
            )
        still_on, now_off = mail.outbox
        assert "still protect" in still_on.body
        assert "no longer has a second factor" in now_off.body

    def test_recovery_codes_generated(self, user):
        signals.recovery_codes_generated.send(sender=None, user=user, count=10, request=None)
        [message] = mail.outbox
        assert message.subject == "New recovery codes were generated for your account"
        assert "10 new recovery codes" in message.body

    def test_api_token_created_notifies_login_token_does_not(self, user):
        api = TokenFactory(user=user, name="<ci & deploy>")
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
    def test_switched_off_by_setting(self, user):
        signals.recovery_codes_generated.send(sender=None, user=user, count=10, request=None)
        assert mail.outbox == []

    def test_users_without_an_address_are_skipped(self, db):
        user = UserFactory(email="")
        signals.recovery_codes_generated.send(sender=None, user=user, count=10, request=None)
        assert mail.outbox == []
