"""The audit log: one AuditEvent row and one log record per signal, and nothing secret in either."""

import base64
import json
import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup import otp, signals
from django_stepup.audit import email_hmac
from django_stepup.checks import check_settings
from django_stepup.models import AuditEvent, RecoveryCode, Token
from django_stepup.revocation import revoke_tokens
from django_stepup.token_store import issue_token
from tests.factories import PASSWORD, TokenFactory, TOTPDeviceFactory, UserFactory
from tests.utils import authenticated, login_body, login_field

LOGGER = "django_stepup.audit"
EXTRA_FIELDS = ("event", "user_id", "token_id", "ip_address", "outcome", "details")


@pytest.fixture
def audit_records(caplog):
    """``audit_records()``: the records logged on ``django_stepup.audit`` so far."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return lambda: [record for record in caplog.records if record.name == LOGGER]


def the_event(audit_records, event, *secrets):
    """Assert one row and one record in all, for ``event``, that contain none of ``secrets``."""
    [row] = AuditEvent.objects.all()
    [record] = audit_records()
    assert row.event == record.event == event
    texts = [record.getMessage(), json.dumps(row.details)]
    texts += [repr(getattr(record, field)) for field in EXTRA_FIELDS]
    for secret in secrets:
        variants = {secret, base64.b64encode(secret.encode()).decode()}
        assert not any(variant in text for variant in variants for text in texts), secret
    assert record.user_id == row.user_id
    assert record.token_id == (None if row.token_id is None else str(row.token_id))
    assert record.ip_address == row.ip_address
    assert record.details == row.details
    return row, record


def wrong_code(factor, totp_code):
    return f"{(int(totp_code(factor)) + 1) % 1_000_000:06d}"


@pytest.fixture
def login_token(factor):
    return TokenFactory(user=factor.user, login=True)


@pytest.fixture
def promoted(factor):
    return TokenFactory(user=factor.user, promoted=True)


# -- every signal, through HTTP -----------------------------------------------------------


def test_login(api_client, user, audit_records):
    response = api_client.post("/auth/login/", login_body(user, PASSWORD), format="json")
    assert response.status_code == 200
    secret = response.json()["token"]
    row, record = the_event(audit_records, "login_succeeded", secret, PASSWORD)
    assert (row.user, str(row.token_id), row.details) == (
        user,
        response.json()["id"],
        {"mfa": False},
    )
    assert record.levelno == logging.INFO
    assert record.outcome == "success"


def test_login_with_a_wrong_password(api_client, user, audit_records):
    password = "a wrong password, not PASSWORD"
    response = api_client.post("/auth/login/", login_body(user, password), format="json")
    assert response.status_code == 401
    row, record = the_event(audit_records, "login_failed", password, PASSWORD)
    assert (row.user, row.token_id, row.ip_address, row.details) == (user, None, "127.0.0.1", {})
    assert record.levelno == logging.WARNING
    assert record.outcome == "failure"
    assert record.getMessage() == f"login_failed user={user.pk} token=None ip=127.0.0.1 "


def test_login_with_an_unknown_email_stores_only_a_keyed_hash(api_client, db, audit_records):
    email = "nobody@example.com"
    for _ in range(2):
        api_client.post("/auth/login/", {login_field(): email, "password": "x"}, format="json")
    rows = list(AuditEvent.objects.all())
    assert [row.user for row in rows] == [None, None]
    assert rows[0].details == rows[1].details
    assert set(rows[0].details) == {"email_hmac"}
    assert "nobody" not in json.dumps(rows[0].details)
    assert all("nobody" not in record.getMessage() for record in audit_records())
    assert [record.user_id for record in audit_records()] == [None, None]


def test_login_from_an_unparsable_address_stores_no_address(api_client, user, audit_records):
    api_client.post(
        "/auth/login/",
        login_body(user, "x"),
        format="json",
        REMOTE_ADDR="unix:/run/gunicorn.sock",
    )
    row, _record = the_event(audit_records, "login_failed")
    assert row.ip_address is None


def test_an_ipv4_mapped_address_is_stored_as_ipv4(api_client, user, audit_records):
    api_client.post(
        "/auth/login/",
        login_body(user, "x"),
        format="json",
        REMOTE_ADDR="::ffff:192.0.2.7",
    )
    row, record = the_event(audit_records, "login_failed")
    assert row.ip_address == record.ip_address == "192.0.2.7"


def test_verify_failure(api_client, factor, login_token, totp_code, audit_records):
    code = wrong_code(factor, totp_code)
    response = authenticated(api_client, login_token.secret).post(
        f"/auth/totp/{factor.pk}/verify/", {"code": code}, format="json"
    )
    assert response.status_code == 400
    row, record = the_event(audit_records, "step_up_failed", code, login_token.secret)
    assert (row.user, row.token_id) == (factor.user, login_token.pk)
    assert row.details == {"factor_id": factor.pk, "factor_name": factor.name, "failure_count": 1}
    assert record.levelno == logging.WARNING


def test_verify_success(api_client, factor, login_token, totp_code, audit_records):
    code = totp_code(factor)
    response = authenticated(api_client, login_token.secret).post(
        f"/auth/totp/{factor.pk}/verify/", {"code": code}, format="json"
    )
    assert response.status_code == 200
    row, record = the_event(
        audit_records, "step_up_succeeded", code, login_token.secret, otp.factor_secret(factor)
    )
    assert (row.user, row.token_id) == (factor.user, login_token.pk)
    assert row.details == {"factor_id": factor.pk, "factor_name": factor.name, "method": "totp"}
    assert record.levelno == logging.INFO


def test_verify_with_a_recovery_code(api_client, factor, login_token, audit_records, caplog):
    code = otp.generate_recovery_codes(factor.user)[0]
    AuditEvent.objects.all().delete()
    caplog.clear()
    response = authenticated(api_client, login_token.secret).post(
        "/auth/mfa/verify/", {"code": code}, format="json"
    )
    assert response.status_code == 200
    row, _record = the_event(audit_records, "step_up_succeeded", code, code.replace("-", ""))
    assert row.details == {"recovery_code": True, "method": "recovery"}


def test_factor_activated(api_client, user, totp_code, audit_records):
    pending = TOTPDeviceFactory(user=user, pending=True)
    token = TokenFactory(user=user, login=True)
    code = totp_code(pending)
    authenticated(api_client, token.secret).post(
        f"/auth/totp/{pending.pk}/verify/", {"code": code}, format="json"
    )
    rows = {row.event: row for row in AuditEvent.objects.all()}
    assert set(rows) == {"factor_activated", "step_up_succeeded"}
    assert rows["factor_activated"].details == {
        "factor_id": pending.pk,
        "factor_name": pending.name,
    }
    assert rows["factor_activated"].user == user
    assert [record.event for record in audit_records()] == ["factor_activated", "step_up_succeeded"]
    assert not any(code in record.getMessage() for record in audit_records())


def test_factor_removed(api_client, factor, promoted, audit_records):
    response = authenticated(api_client, promoted.secret).delete(f"/auth/totp/{factor.pk}/")
    assert response.status_code == 204
    row, _record = the_event(
        audit_records, "factor_removed", promoted.secret, otp.factor_secret(factor)
    )
    assert row.user == factor.user
    assert row.details == {"factor_id": factor.pk, "factor_name": factor.name, "mfa_enabled": False}


def test_recovery_codes_generated(api_client, factor, promoted, audit_records):
    response = authenticated(api_client, promoted.secret).post("/auth/recovery-codes/")
    assert response.status_code == 201
    codes = response.json()["codes"]
    row, _record = the_event(
        audit_records,
        "recovery_codes_generated",
        *codes,
        *(code.replace("-", "") for code in codes),
    )
    assert (row.user, row.details) == (factor.user, {"count": 10})


def test_token_created(api_client, factor, promoted, audit_records):
    response = authenticated(api_client, promoted.secret).post(
        "/auth/tokens/", {"name": "ci", "perm_create_domain": True}, format="json"
    )
    assert response.status_code == 201
    data = response.json()
    row, _record = the_event(audit_records, "token_created", data["token"], promoted.secret)
    assert (row.user, str(row.token_id)) == (factor.user, data["id"])
    assert row.details == {"token_name": "ci", "kind": "api", "perms": ["create_domain"]}


def test_logout_revokes(api_client, login_token, audit_records):
    response = authenticated(api_client, login_token.secret).post("/auth/logout/")
    assert response.status_code == 204
    row, record = the_event(audit_records, "tokens_revoked", login_token.secret)
    assert (row.user, row.token_id) == (login_token.user, login_token.pk)
    assert row.details == {"reason": "logout", "count": 1, "tokens": [str(login_token.pk)]}
    assert record.levelno == logging.INFO


def test_a_revocation_of_several_tokens_names_them_in_details(api_client, factor, promoted):
    others = [TokenFactory(user=factor.user, login=True) for _ in range(2)]
    authenticated(api_client, promoted.secret).delete(f"/auth/totp/{factor.pk}/")
    row = AuditEvent.objects.get(event="tokens_revoked")
    assert row.token_id is None
    assert row.details["reason"] == "factor_removed"
    assert sorted(row.details["tokens"]) == sorted(str(token.pk) for token in others)


def test_a_full_session_never_logs_a_secret(api_client, factor, totp_code, audit_records):
    """Login with a code, create a token, generate codes, log out: no secret in any record."""
    code = totp_code(factor)
    login = api_client.post(
        "/auth/login/",
        login_body(factor.user, PASSWORD, code=code),
        format="json",
    ).json()
    client = authenticated(api_client, login["token"])
    api_secret = client.post("/auth/tokens/", {"name": "x"}, format="json").json()["token"]
    codes = client.post("/auth/recovery-codes/").json()["codes"]
    client.post("/auth/logout/")
    records = audit_records()
    assert [record.event for record in records] == [
        "step_up_succeeded",
        "login_succeeded",
        "token_created",
        "recovery_codes_generated",
        "tokens_revoked",
    ]
    assert AuditEvent.objects.count() == 5
    secrets = [PASSWORD, code, login["token"], api_secret, otp.factor_secret(factor), *codes]
    dumped = [record.getMessage() for record in records]
    dumped += [repr(record.__dict__) for record in records]
    dumped += [json.dumps(details) for details in AuditEvent.objects.values_list("details")]
    assert not [secret for secret in secrets if any(secret in text for text in dumped)]


# -- escaping, the setting, retention -------------------------------------------------------


def test_a_name_with_control_characters_logs_on_one_line(api_client, promoted, audit_records):
    name = "evil\nFAKE login_failed user=1\r\x1b[31mred\x1b[0m"
    response = authenticated(api_client, promoted.secret).post(
        "/auth/tokens/", {"name": name}, format="json"
    )
    assert response.status_code == 201
    row, record = the_event(audit_records, "token_created")
    line = logging.Formatter("%(levelname)s %(name)s %(message)s").format(record)
    assert not {"\n", "\r", "\x1b"} & set(line)
    assert "token_name='evil\\nFAKE login_failed user=1\\r\\x1b[31mred\\x1b[0m'" in line
    assert row.details["token_name"] == name


def test_audit_log_off_writes_no_rows_but_still_logs(api_client, login_token, audit_records):
    with override_settings(STEPUP={"AUDIT_LOG": False}):
        authenticated(api_client, login_token.secret).post("/auth/logout/")
    assert not AuditEvent.objects.exists()
    [record] = audit_records()
    assert (record.event, record.token_id) == ("tokens_revoked", str(login_token.pk))


def test_an_admin_acting_on_someone_is_named_as_actor(client, login_token):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    client.post(f"/admin/django_stepup/token/{login_token.pk}/delete/", {"post": "yes"})
    row = AuditEvent.objects.get()
    assert (row.event, row.user, row.details["reason"]) == (
        "tokens_revoked",
        login_token.user,
        "admin",
    )
    assert row.details["actor_id"] == admin_user.pk


def test_deleting_the_user_keeps_the_events(api_client, login_token):
    authenticated(api_client, login_token.secret).post("/auth/logout/")
    login_token.user.delete()
    row = AuditEvent.objects.get()
    assert (row.user, row.token_id) == (None, login_token.pk)


def make_events(now):
    return {
        age: AuditEvent.objects.create(event="login_failed", created=now - timedelta(days=age))
        for age in (1, 89, 91, 400)
    }


def clear_audit_log(*args):
    out = StringIO()
    call_command("stepup_clearauditlog", *args, stdout=out)
    return out.getvalue()


def test_clearauditlog_deletes_events_older_than_the_max_age(db):
    events = make_events(timezone.now())
    assert clear_audit_log() == "Deleted 2 audit event(s).\n"
    assert set(AuditEvent.objects.all()) == {events[1], events[89]}


def test_clearauditlog_honours_the_setting(db, settings):
    events = make_events(timezone.now())
    settings.STEPUP = {**settings.STEPUP, "AUDIT_LOG_MAX_AGE": timedelta(days=30)}
    assert clear_audit_log() == "Deleted 3 audit event(s).\n"
    assert list(AuditEvent.objects.all()) == [events[1]]


def test_clearauditlog_dry_run_deletes_nothing(db):
    make_events(timezone.now())
    assert clear_audit_log("--dry-run") == "2 audit event(s) would be deleted.\n"
    assert AuditEvent.objects.count() == 4


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"AUDIT_LOG": "yes"}, ["django_stepup.E002"]),
        ({"AUDIT_LOG_MAX_AGE": 90}, ["django_stepup.E002"]),
        ({"AUDIT_LOG_MAX_AGE": timedelta(0)}, ["django_stepup.E011"]),
    ],
)
def test_checks_validate_the_audit_settings(settings, value, expected):
    settings.DEBUG = True
    settings.STEPUP = value
    assert [message.id for message in check_settings()] == expected


def test_the_email_hash_is_keyed_and_normalised():
    first = email_hmac(" Nobody@Example.com ")
    assert first == email_hmac("nobody@example.com")
    assert "nobody" not in first
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-only"):
        assert email_hmac("nobody@example.com") != first


def test_the_audit_row_costs_one_insert(api_client, user):
    """Logout with the audit log on costs exactly one INSERT more than with it off."""
    counts = {}
    for audit_log in (False, True):
        token = TokenFactory(user=user, login=True)
        with override_settings(STEPUP={"AUDIT_LOG": audit_log}):
            with CaptureQueriesContext(connection) as captured:
                authenticated(api_client, token.secret).post("/auth/logout/")
        counts[audit_log] = [query["sql"] for query in captured.captured_queries]
    assert len(counts[True]) == len(counts[False]) + 1
    # Written inside the revocation's transaction, before its savepoint is released.
    assert counts[True][-2].startswith('INSERT INTO "django_stepup_auditevent"')
    assert counts[True][-1].startswith("RELEASE SAVEPOINT")


# -- the audit row and its change share one transaction --------------------------------------


class Boom(Exception):
    pass


@pytest.fixture
def failing_receiver():
    """``failing_receiver(signal)``: a host receiver on ``signal`` that raises."""
    connected = []

    def connect(signal):
        def receiver(**kwargs):
            raise Boom

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


def test_a_failed_removal_leaves_neither_the_change_nor_its_row(factor, failing_receiver):
    failing_receiver(signals.factor_removed)
    with pytest.raises(Boom):
        otp.remove_factor(factor)
    assert TOTPDevice.objects.filter(pk=factor.pk).exists()
    assert not AuditEvent.objects.exists()


def test_failed_recovery_codes_leave_neither(factor, failing_receiver):
    failing_receiver(signals.recovery_codes_generated)
    with pytest.raises(Boom):
        otp.generate_recovery_codes(factor.user)
    assert not RecoveryCode.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_failed_activation_leaves_neither(user, totp_code, failing_receiver):
    pending = TOTPDeviceFactory(user=user, pending=True)
    token = TokenFactory(user=user, login=True)
    failing_receiver(signals.step_up_succeeded)
    with pytest.raises(Boom):
        otp.verify(user, totp_code(pending), token=token, factor_id=pending.pk)
    pending.refresh_from_db()
    token.refresh_from_db()
    assert pending.confirmed is False
    assert token.mfa is False
    assert not AuditEvent.objects.exists()


def test_a_failed_revocation_leaves_neither(login_token, failing_receiver):
    failing_receiver(signals.tokens_revoked)
    with pytest.raises(Boom):
        revoke_tokens(Token.objects.filter(pk=login_token.pk), reason="logout")
    assert Token.objects.filter(pk=login_token.pk).exists()
    assert not AuditEvent.objects.exists()


def test_a_failed_token_issue_leaves_neither(user, failing_receiver):
    failing_receiver(signals.token_created)
    with pytest.raises(Boom):
        issue_token(user, name="ci")
    assert not Token.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_record_formats_as_one_json_object(api_client, user, audit_records):
    """The stable fields, as a JSON formatter for a SIEM would write them."""
    api_client.post("/auth/login/", login_body(user, "wrong"), format="json")
    [record] = audit_records()
    line = json.dumps({field: getattr(record, field) for field in EXTRA_FIELDS})
    assert json.loads(line) == {
        "event": "login_failed",
        "user_id": user.pk,
        "token_id": None,
        "ip_address": "127.0.0.1",
        "outcome": "failure",
        "details": {},
    }
