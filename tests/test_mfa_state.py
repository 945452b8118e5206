"""MFA is on exactly when the user has a confirmed django-otp device, however it was created."""

import threading
from importlib import import_module

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import ProjectState
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup.mfa_state import device_models, has_confirmed_device
from django_stepup.models import MFAState, Token, WebAuthnDevice, mfa_enabled
from tests.factories import TokenFactory, TOTPDeviceFactory, UserFactory
from tests.testapp.models import KeyDevice
from tests.utils import KNOWN_NETWORKS, authenticated, in_parallel, login_body

LOGIN = "/auth/login/"
TOKENS = "/auth/tokens/"
GUARDED = "/guarded/mfa/"


def state(user):
    return MFAState.objects.filter(user=user).values_list("enabled", flat=True).first()


def assert_step_up(response):
    assert response.status_code == 401
    assert response.json()["code"] == "mfa_required"
    assert response["WWW-Authenticate"].startswith('Token error="insufficient_user_authentication"')


def test_every_django_otp_device_model_counts():
    assert set(device_models()) == {TOTPDevice, KeyDevice, WebAuthnDevice}


class TestDevicesDecide:
    def test_an_orm_created_device_enforces_mfa_at_login(self, api_client, db):
        user = UserFactory()
        TOTPDevice.objects.create(user=user, name="created elsewhere", confirmed=True)
        response = api_client.post(LOGIN, login_body(user), format="json")
        assert response.status_code == 200
        assert response.json()["mfa"] is False
        client = authenticated(api_client, response.json()["token"])
        assert_step_up(client.post(TOKENS, {"name": "ci"}, format="json"))
        assert_step_up(client.get(GUARDED))
        assert Token.objects.api_tokens().count() == 0

    def test_existing_unpromoted_tokens_answer_the_challenge(self, api_client, user):
        token = TokenFactory(user=user, login=True)
        client = authenticated(api_client, token.secret)
        assert client.get(GUARDED).status_code == 200
        KeyDevice.objects.create(user=user, name="security key", confirmed=True)
        assert_step_up(client.get(GUARDED))
        assert_step_up(client.post(TOKENS, {"name": "ci"}, format="json"))

    def test_a_pending_device_does_not_enable_mfa(self, user):
        TOTPDevice.objects.create(user=user, name="pending", confirmed=False)
        assert mfa_enabled(user) is False

    def test_confirming_through_the_orm_enables_and_unconfirming_disables(self, user):
        device = TOTPDevice.objects.create(user=user, name="pending", confirmed=False)
        device.confirmed = True
        device.save()
        assert state(user) is True
        device.confirmed = False
        device.save(update_fields=["confirmed"])
        assert state(user) is False

    def test_deleting_the_last_confirmed_device_disables(self, user):
        totp = TOTPDeviceFactory(user=user)
        key = KeyDevice.objects.create(user=user, name="key", confirmed=True)
        totp.delete()
        assert state(user) is True
        KeyDevice.objects.filter(pk=key.pk).delete()
        assert state(user) is False

    def test_deleting_the_state_row_does_not_turn_mfa_off(self, api_client, db):
        device = TOTPDeviceFactory()
        token = TokenFactory(user=device.user, login=True)
        MFAState.objects.filter(user=device.user).delete()
        assert_step_up(authenticated(api_client, token.secret).get(GUARDED))
        assert state(device.user) is True

    def test_a_bulk_created_device_without_a_row_still_counts(self, api_client, user):
        TOTPDevice.objects.bulk_create([TOTPDevice(user=user, name="imported", confirmed=True)])
        assert not MFAState.objects.filter(user=user).exists()
        token = TokenFactory(user=user, login=True)
        assert_step_up(authenticated(api_client, token.secret).get(GUARDED))

    def test_the_app_flows_never_store_off_next_to_a_device(self, api_client, user):
        TOTPDevice.objects.bulk_create([TOTPDevice(user=user, name="imported", confirmed=True)])
        token = TokenFactory(user=user, login=True)
        client = authenticated(api_client, token.secret)
        assert (
            client.post("/auth/mfa/verify/", {"code": "000000"}, format="json").status_code == 400
        )
        assert state(user) is True

    def test_deleting_a_user_with_devices_leaves_nothing(self, user):
        TOTPDeviceFactory(user=user)
        KeyDevice.objects.create(user=user, name="key", confirmed=True)
        user.delete()
        assert not MFAState.objects.exists()


class TestQueries:
    def test_a_missing_row_costs_one_lookup_once(self, api_client, user, django_assert_num_queries):
        token = TokenFactory(
            user=user, login=True, last_used=timezone.now(), networks=KNOWN_NETWORKS
        )
        client = authenticated(api_client, token.secret)
        with django_assert_num_queries(3):  # the token, the devices, the new row
            assert client.get(GUARDED).status_code == 200
        assert state(user) is False
        with django_assert_num_queries(1):
            assert client.get(GUARDED).status_code == 200

    def test_a_row_keeps_the_one_select_budget(self, api_client, db, django_assert_num_queries):
        user = TOTPDeviceFactory().user
        token = TokenFactory(
            user=user, login=True, last_used=timezone.now(), networks=KNOWN_NETWORKS
        )
        with django_assert_num_queries(1):
            assert_step_up(authenticated(api_client, token.secret).get(GUARDED))

    def test_has_confirmed_device_is_one_query(self, user, django_assert_num_queries):
        KeyDevice.objects.create(user=user, name="key", confirmed=True)
        other = TOTPDeviceFactory(pending=True).user
        with django_assert_num_queries(1):
            assert has_confirmed_device(user.pk) is True
        with django_assert_num_queries(1):
            assert has_confirmed_device(other.pk) is False


def test_login_with_code_for_an_orm_device(api_client, db, totp_code):
    device = TOTPDevice.objects.create(user=UserFactory(), name="phone", confirmed=True)
    body = login_body(device.user, code=totp_code(device))
    response = api_client.post(LOGIN, body, format="json")
    assert response.status_code == 200
    assert response.json()["mfa"] is True


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_existing_devices():
    executor = MigrationExecutor(connection)
    before = [("django_stepup", "0002_auditevent")]
    after = [("django_stepup", "0003_backfill_mfa_state")]
    executor.migrate(before)
    with_row, without_row, pending_only, neither = (UserFactory() for _ in range(4))
    TOTPDevice.objects.bulk_create(
        [
            TOTPDevice(user=with_row, name="old", confirmed=True),
            TOTPDevice(user=pending_only, name="pending", confirmed=False),
        ]
    )
    KeyDevice.objects.bulk_create([KeyDevice(user=without_row, name="key", confirmed=True)])
    MFAState.objects.bulk_create([MFAState(user=with_row, enabled=False, failure_count=2)])
    executor.loader.build_graph()
    executor.migrate(after)
    states = {s.user_id: (s.enabled, s.failure_count) for s in MFAState.objects.all()}
    assert states == {with_row.pk: (True, 2), without_row.pk: (True, 0)}
    assert pending_only.pk not in states and neither.pk not in states
    # Back to the latest migrations: later tests need their tables.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_backfill_reads_device_apps_without_migrations(user):
    """Such an app's models reach the migration without relations; its own model reads it."""
    backfill = import_module("django_stepup.migrations.0003_backfill_mfa_state")
    KeyDevice.objects.bulk_create([KeyDevice(user=user, name="key", confirmed=True)])
    state_apps = ProjectState(real_apps={"testapp"}).apps
    assert "user" not in {f.name for f in state_apps.get_model("testapp", "KeyDevice")._meta.fields}
    assert backfill.confirmed_device_users(state_apps, connection) == {user.pk}


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
@pytest.mark.django_db(transaction=True)
def test_a_device_added_while_the_last_one_is_deleted_keeps_mfa_on():
    """The delete decides under the MFAState lock, after the concurrent add has committed."""
    user = UserFactory()
    old = TOTPDeviceFactory(user=user)
    added = threading.Event()

    def add():
        with transaction.atomic():
            KeyDevice.objects.create(user=user, name="key", confirmed=True)
            added.set()
            threading.Event().wait(0.5)

    def delete():
        added.wait(5)
        TOTPDevice.objects.filter(pk=old.pk).delete()

    in_parallel(add, delete)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert state(user) is True
