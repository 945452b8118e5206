"""WebAuthn factors, step-up and passkey login over HTTP, with a software authenticator."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from django_stepup import signals
from django_stepup.models import (
    AuditEvent,
    MFAState,
    Token,
    WebAuthnChallenge,
    WebAuthnDevice,
    mfa_enabled,
)
from tests.factories import TokenFactory, TOTPDeviceFactory, UserFactory
from tests.soft_authenticator import SoftAuthenticator
from tests.utils import authenticated, in_parallel, login_body

STEPUP = {
    "TOKEN_PERMISSIONS": ["create_domain", "delete_domain"],
    "POLICY_SCOPES": {
        "rrsets": "tests.testapp.policies.rrsets",
        "private_records": "tests.testapp.policies.private_records",
    },
    "WEBAUTHN_RP_ID": "example.com",
    "WEBAUTHN_ORIGINS": ["https://app.example.com"],
}


def client_for(token):
    return authenticated(APIClient(), token.secret)


def begin(client, name="key"):
    response = client.post("/auth/webauthn/", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def finish(client, factor_id, credential):
    return client.post(
        f"/auth/webauthn/{factor_id}/verify/", {"credential": credential}, format="json"
    )


def register(user, authenticator=None, token=None):
    """Register a WebAuthn factor for ``user`` through the API; return it and its authenticator."""
    authenticator = authenticator or SoftAuthenticator()
    token = token or TokenFactory(user=user, login=True)
    client = client_for(token)
    created = begin(client)
    response = finish(client, created["id"], authenticator.register(created["options"]))
    assert response.status_code == 200, response.content
    return WebAuthnDevice.objects.get(pk=created["id"]), authenticator


def step_up_options(client):
    response = client.post("/auth/webauthn/challenge/", format="json")
    assert response.status_code == 200, response.content
    return response.json()["options"]


def step_up(client, credential):
    return client.post("/auth/mfa/verify/", {"credential": credential}, format="json")


def passkey_options(client=None):
    response = (client or APIClient()).post("/auth/passkey/challenge/", format="json")
    assert response.status_code == 200, response.content
    return response.json()["options"]


def passkey_login(credential, client=None):
    return (client or APIClient()).post("/auth/login/", {"credential": credential}, format="json")


def state(user):
    """What a refused response must leave unchanged."""
    return (
        sorted(Token.objects.filter(user=user).values_list("id", "mfa", "mfa_at", "mfa_method")),
        sorted(
            WebAuthnDevice.objects.filter(user=user).values_list(
                "id", "confirmed", "credential_digest", "sign_count", "last_used_at"
            )
        ),
        MFAState.objects.filter(user=user).values_list("enabled").first(),
    )


# --- Registration ---


def test_registration_with_none_attestation_activates_the_factor_and_promotes(user):
    token = TokenFactory(user=user, login=True)
    client = client_for(token)
    created = begin(client, "laptop")
    options = created["options"]
    assert options["rp"] == {"id": "example.com", "name": "django-stepup"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["excludeCredentials"] == []
    assert created["name"] == "laptop"
    authenticator = SoftAuthenticator()
    with signals_caught(signals.factor_activated, signals.step_up_succeeded) as caught:
        response = finish(client, created["id"], authenticator.register(options))
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["mfa"], data["mfa_method"]) == (True, "webauthn")
    device = WebAuthnDevice.objects.get(pk=created["id"])
    assert device.confirmed and device.discoverable
    assert device.credential_id == authenticator.id
    assert device.transports == ["internal"]
    assert device.aaguid == "00000000-0000-0000-0000-000000000000"
    assert mfa_enabled(type(user).objects.get(pk=user.pk))
    assert [name for name, _ in caught] == ["factor_activated", "step_up_succeeded"]
    assert caught[1][1]["method"] == "webauthn"
    assert AuditEvent.objects.filter(event="factor_activated", user=user).exists()


def test_the_factor_activated_mail_goes_after_commit(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        register(user)
    assert [message.to for message in mail.outbox] == [[user.email]]


def test_list_shows_the_documented_fields(user):
    device, _ = register(user)
    token = TokenFactory(user=user, login=True)
    response = client_for(token).get("/auth/webauthn/")
    assert response.status_code == 200
    [item] = response.json()
    assert set(item) == {"id", "name", "created", "last_used"}
    assert item["id"] == device.pk


def test_exclude_credentials_lists_the_registered_ones(user):
    _, authenticator = register(user)
    token = TokenFactory(user=user, promoted=True)
    options = begin(client_for(token))["options"]
    assert [item["id"] for item in options["excludeCredentials"]] == [authenticator.id]


def test_the_same_authenticator_cannot_register_twice(user):
    _, authenticator = register(user)
    token = TokenFactory(user=user, promoted=True)
    client = client_for(token)
    created = begin(client)
    before = state(user)
    response = finish(client, created["id"], authenticator.register(created["options"]))
    assert response.status_code == 400
    assert response.json() == {"credential": ["The WebAuthn response was not accepted."]}
    assert state(user) == before


@pytest.mark.parametrize(
    "wrong",
    [
        {"origin": "https://evil.example.net"},
        {"origin": "https://example.com.evil.net"},
        {"rp_id": "evil.example.net"},
        {"challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
        {"uv": False},
    ],
    ids=["origin", "origin-suffix", "rp-id", "challenge", "no-uv"],
)
def test_a_wrong_registration_response_changes_nothing(user, wrong):
    token = TokenFactory(user=user, login=True)
    client = client_for(token)
    created = begin(client)
    before = state(user)
    response = finish(
        client, created["id"], SoftAuthenticator().register(created["options"], **wrong)
    )
    assert response.status_code == 400
    assert state(user) == before


def test_a_reused_registration_challenge_is_refused(user):
    token = TokenFactory(user=user, login=True)
    client = client_for(token)
    created = begin(client)
    assert (
        finish(client, created["id"], SoftAuthenticator().register(created["options"])).status_code
        == 200
    )
    second = begin(client_for(TokenFactory(user=user, promoted=True)))
    # The first factor's (spent) challenge, answered for the second factor.
    replay = SoftAuthenticator().register(created["options"])
    before = state(user)
    assert finish(client, second["id"], replay).status_code == 400
    assert state(user) == before


def test_an_expired_registration_challenge_is_refused(user):
    token = TokenFactory(user=user, login=True)
    client = client_for(token)
    created = begin(client)
    credential = SoftAuthenticator().register(created["options"])
    before = state(user)
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        Token.objects.filter(pk=token.pk).update(last_used=timezone.now())
        response = finish(client, created["id"], credential)
    assert response.status_code == 400
    assert state(user)[1:] == before[1:]


def test_another_token_cannot_finish_the_registration(user):
    created = begin(client_for(TokenFactory(user=user, login=True)))
    credential = SoftAuthenticator().register(created["options"])
    other = TokenFactory(user=user, login=True)
    before = state(user)
    assert finish(client_for(other), created["id"], credential).status_code == 400
    assert state(user) == before


def test_another_users_factor_is_404(user):
    created = begin(client_for(TokenFactory(user=user, login=True)))
    credential = SoftAuthenticator().register(created["options"])
    intruder = TokenFactory(user=UserFactory(), login=True)
    before = state(user)
    assert finish(client_for(intruder), created["id"], credential).status_code == 404
    assert state(user) == before


def test_registration_needs_a_promoted_token_once_mfa_is_on(factor):
    response = client_for(TokenFactory(user=factor.user, login=True)).post(
        "/auth/webauthn/", {"name": "key"}, format="json"
    )
    assert response.status_code == 401
    assert not WebAuthnDevice.objects.exists()


def test_the_factor_cap_counts_webauthn_factors(user):
    token = TokenFactory(user=user, login=True)
    client = client_for(token)
    with override_settings(STEPUP={**STEPUP, "MAX_FACTORS_PER_USER": 2}):
        begin(client)
        TOTPDeviceFactory(user=user, pending=True)
        response = client.post("/auth/webauthn/", {"name": "third"}, format="json")
    assert response.status_code == 400
    assert WebAuthnDevice.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("body", [{}, {"credential": "text"}, {"credential": {}, "code": "1"}])
def test_a_malformed_body_is_400_naming_the_field(user, body):
    token = TokenFactory(user=user, login=True)
    client = client_for(token)
    created = begin(client)
    response = client.post(f"/auth/webauthn/{created['id']}/verify/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) <= {"credential", "code"}


@override_settings(STEPUP={**STEPUP, "WEBAUTHN_RP_ID": ""})
def test_without_an_rp_id_webauthn_is_off(user):
    response = client_for(TokenFactory(user=user, login=True)).post(
        "/auth/webauthn/", {"name": "key"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "webauthn_not_configured"
    assert not WebAuthnDevice.objects.exists()


# --- Removal ---


def test_removal_is_a_credential_change(user):
    device, _ = register(user)
    keep = TokenFactory(user=user, promoted=True)
    other = TokenFactory(user=user, login=True)
    api = TokenFactory(user=user)
    with signals_caught(signals.factor_removed) as caught:
        response = client_for(keep).delete(f"/auth/webauthn/{device.pk}/")
    assert response.status_code == 204
    assert not WebAuthnDevice.objects.filter(pk=device.pk).exists()
    assert not Token.objects.filter(pk=other.pk).exists()
    assert Token.objects.filter(pk__in=[keep.pk, api.pk]).count() == 2
    assert caught[0][1]["mfa_enabled"] is False
    assert not mfa_enabled(type(user).objects.get(pk=user.pk))


def test_removal_needs_a_promoted_token(user):
    device, _ = register(user)
    response = client_for(TokenFactory(user=user, login=True)).delete(
        f"/auth/webauthn/{device.pk}/"
    )
    assert response.status_code == 401
    assert WebAuthnDevice.objects.filter(pk=device.pk).exists()


# --- Step-up ---


@pytest.fixture
def enrolled(user):
    device, authenticator = register(user)
    return device, authenticator, TokenFactory(user=user, login=True)


def test_step_up_with_an_assertion_promotes_the_token(user, enrolled):
    device, authenticator, token = enrolled
    client = client_for(token)
    options = step_up_options(client)
    assert [item["id"] for item in options["allowCredentials"]] == [authenticator.id]
    assert options["userVerification"] == "preferred"
    response = step_up(client, authenticator.assertion(options))
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["mfa"], data["mfa_method"]) == (True, "webauthn")
    assert data["mfa_at"] is not None
    device.refresh_from_db()
    assert device.sign_count == 1 and device.last_used_at is not None
    event = AuditEvent.objects.filter(event="step_up_succeeded", token_id=token.pk).get()
    assert event.details["method"] == "webauthn"


def test_totp_and_recovery_promotions_record_their_method(factor, totp_code):
    from django_stepup import otp

    token = TokenFactory(user=factor.user, login=True)
    response = client_for(token).post(
        "/auth/mfa/verify/", {"code": totp_code(factor)}, format="json"
    )
    assert response.json()["mfa_method"] == "totp"
    code = otp.generate_recovery_codes(factor.user)[0]
    other = TokenFactory(user=factor.user, login=True)
    response = client_for(other).post("/auth/mfa/verify/", {"code": code}, format="json")
    assert response.json()["mfa_method"] == "recovery"


def test_a_new_step_up_challenge_replaces_the_last_one(user, enrolled):
    _, authenticator, token = enrolled
    client = client_for(token)
    first = step_up_options(client)
    second = step_up_options(client)
    assert WebAuthnChallenge.objects.filter(token=token).count() == 1
    assert step_up(client, authenticator.assertion(first)).status_code == 400
    assert step_up(client, authenticator.assertion(second)).status_code == 200


def test_mfa_method_is_read_only(user, enrolled):
    _, _, token = enrolled
    response = client_for(TokenFactory(user=user, promoted=True, mfa_method="webauthn")).patch(
        f"/auth/tokens/{token.pk}/", {"mfa_method": "webauthn"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"mfa_method": ["This field is read-only."]}
    assert Token.objects.get(pk=token.pk).mfa_method is None


def test_a_login_with_a_code_records_totp(factor, totp_code):
    response = APIClient().post(
        "/auth/login/", login_body(factor.user, code=totp_code(factor)), format="json"
    )
    assert response.status_code == 200
    assert (response.json()["mfa"], response.json()["mfa_method"]) == (True, "totp")


def test_a_user_without_a_webauthn_factor_gets_no_challenge(factor):
    response = client_for(TokenFactory(user=factor.user, login=True)).post(
        "/auth/webauthn/challenge/", format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "webauthn_not_enabled"
    assert not WebAuthnChallenge.objects.exists()


@pytest.mark.parametrize(
    "wrong",
    [
        {"origin": "https://evil.example.net"},
        {"rp_id": "evil.example.net"},
        {"challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    ],
    ids=["origin", "rp-id", "challenge"],
)
def test_a_wrong_assertion_changes_nothing_and_counts_a_failure(user, enrolled, wrong):
    _, authenticator, token = enrolled
    client = client_for(token)
    options = step_up_options(client)
    before = state(user)
    with signals_caught(signals.step_up_failed) as caught:
        response = step_up(client, authenticator.assertion(options, **wrong))
    assert response.status_code == 400
    assert response.json() == {"credential": ["The WebAuthn response was not accepted."]}
    assert state(user) == before
    assert caught[0][1]["failure_count"] == 1 and caught[0][1]["method"] == "webauthn"


def test_an_expired_step_up_challenge_is_refused(user, enrolled):
    _, authenticator, token = enrolled
    client = client_for(token)
    credential = authenticator.assertion(step_up_options(client))
    before = state(user)
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        Token.objects.filter(pk=token.pk).update(last_used=timezone.now())
        response = step_up(client, credential)
    assert response.status_code == 400
    assert state(user)[1:] == before[1:]
    assert Token.objects.get(pk=token.pk).mfa is False


def test_a_replayed_assertion_is_refused(user, enrolled):
    _, authenticator, token = enrolled
    client = client_for(token)
    credential = authenticator.assertion(step_up_options(client))
    assert step_up(client, credential).status_code == 200
    other = TokenFactory(user=user, login=True)
    before = state(user)
    assert step_up(client_for(other), credential).status_code == 400
    assert step_up(client, credential).status_code == 400
    assert state(user) == before


def test_a_challenge_issued_for_another_token_is_refused(user, enrolled):
    _, authenticator, token = enrolled
    options = step_up_options(client_for(token))
    other = TokenFactory(user=user, login=True)
    before = state(user)
    assert step_up(client_for(other), authenticator.assertion(options)).status_code == 400
    assert state(user) == before


def test_another_users_credential_is_refused(user, enrolled):
    _, authenticator, _ = enrolled
    mallory = UserFactory()
    register(mallory)
    token = TokenFactory(user=mallory, login=True)
    client = client_for(token)
    options = step_up_options(client)
    before = state(user), state(mallory)
    assert step_up(client, authenticator.assertion(options)).status_code == 400
    assert (state(user), state(mallory)) == before


def test_missing_user_verification_is_refused_where_required(user, enrolled):
    _, authenticator, token = enrolled
    client = client_for(token)
    with override_settings(STEPUP={**STEPUP, "WEBAUTHN_USER_VERIFICATION": "required"}):
        options = step_up_options(client)
        assert options["userVerification"] == "required"
        before = state(user)
        assert step_up(client, authenticator.assertion(options, uv=False)).status_code == 400
        assert state(user) == before
        assert step_up(client, authenticator.assertion(options)).status_code == 200


def test_without_uv_required_a_present_user_suffices(user, enrolled):
    _, authenticator, token = enrolled
    client = client_for(token)
    assert (
        step_up(client, authenticator.assertion(step_up_options(client), uv=False)).status_code
        == 200
    )


def test_a_sign_count_regression_is_refused_and_signalled(user, enrolled):
    device, authenticator, token = enrolled
    client = client_for(token)
    assert (
        step_up(client, authenticator.assertion(step_up_options(client), sign_count=7)).status_code
        == 200
    )
    other = TokenFactory(user=user, login=True)
    client = client_for(other)
    before = state(user)
    with signals_caught(signals.sign_count_regressed) as caught:
        response = step_up(client, authenticator.assertion(step_up_options(client), sign_count=7))
    assert response.status_code == 400
    assert state(user) == before
    [(_, kwargs)] = caught
    assert (kwargs["sign_count"], kwargs["stored_sign_count"], kwargs["factor"]) == (7, 7, device)
    assert AuditEvent.objects.filter(event="sign_count_regressed", user=user).exists()


def test_an_authenticator_that_never_counts_is_accepted(user, enrolled):
    _, authenticator, token = enrolled
    client = client_for(token)
    assert (
        step_up(client, authenticator.assertion(step_up_options(client), sign_count=0)).status_code
        == 200
    )


# --- Passkey login ---


def test_passkey_login_answers_a_promoted_token(user, enrolled):
    _, authenticator, _ = enrolled
    options = passkey_options()
    assert options["userVerification"] == "required"
    assert "allowCredentials" not in options or options["allowCredentials"] == []
    with signals_caught(signals.login_succeeded) as caught:
        response = passkey_login(authenticator.assertion(options))
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["mfa"], data["mfa_method"]) == (True, "webauthn")
    assert data["token"].startswith("stp_")
    token = Token.objects.get(pk=data["id"])
    assert token.user == user and token.mfa_at is not None
    assert caught[0][1]["token"].pk == token.pk
    event = AuditEvent.objects.get(event="login_succeeded", token_id=token.pk)
    assert event.details == {"mfa": True, "mfa_method": "webauthn"}
    # The new token works.
    assert authenticated(APIClient(), data["token"]).get("/auth/account/").status_code == 200


def test_a_replayed_passkey_login_fails(user, enrolled):
    _, authenticator, _ = enrolled
    credential = authenticator.assertion(passkey_options())
    assert passkey_login(credential).status_code == 200
    count = Token.objects.count()
    assert passkey_login(credential).status_code == 401
    assert Token.objects.count() == count


@pytest.mark.parametrize(
    "wrong", [{"origin": "https://evil.example.net"}, {"rp_id": "evil.example.net"}, {"uv": False}]
)
def test_a_wrong_passkey_login_fails_and_emits_login_failed(user, enrolled, wrong):
    _, authenticator, _ = enrolled
    credential = authenticator.assertion(passkey_options(), **wrong)
    count = Token.objects.count()
    with signals_caught(signals.login_failed) as caught:
        response = passkey_login(credential)
    assert response.status_code == 401
    assert Token.objects.count() == count
    assert caught[0][1]["identifier"] == user.get_username()


def test_a_step_up_challenge_does_not_log_in(user, enrolled):
    _, authenticator, token = enrolled
    credential = authenticator.assertion(step_up_options(client_for(token)))
    assert passkey_login(credential).status_code == 401


def test_an_unknown_passkey_fails(db):
    credential = SoftAuthenticator().assertion(passkey_options())
    assert passkey_login(credential).status_code == 401


def test_an_inactive_user_cannot_log_in_with_a_passkey(user, enrolled):
    _, authenticator, _ = enrolled
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert passkey_login(authenticator.assertion(passkey_options())).status_code == 401


@override_settings(STEPUP={**STEPUP, "LOGIN_RATE_PER_ACCOUNT": "2/min"})
def test_failed_passkey_logins_count_against_the_account(user, enrolled):
    _, authenticator, _ = enrolled
    for _ in range(2):
        bad = authenticator.assertion(passkey_options(), origin="https://evil.example.net")
        assert passkey_login(bad).status_code == 401
    response = APIClient().post("/auth/login/", login_body(user), format="json")
    assert response.status_code == 429


@override_settings(STEPUP={**STEPUP, "LOGIN_RATE_PER_ADDRESS": "2/min"})
def test_passkey_challenges_are_throttled_per_address(db):
    client = APIClient()
    assert client.post("/auth/passkey/challenge/", format="json").status_code == 200
    assert client.post("/auth/passkey/challenge/", format="json").status_code == 200
    assert client.post("/auth/passkey/challenge/", format="json").status_code == 429
    assert WebAuthnChallenge.objects.count() == 2


# --- Budgets and concurrency ---


def test_the_hot_path_stays_one_select(user, enrolled, django_assert_num_queries):
    _, authenticator, token = enrolled
    client = client_for(token)
    step_up(client, authenticator.assertion(step_up_options(client)))
    Token.objects.filter(pk=token.pk).update(last_used=timezone.now())
    with django_assert_num_queries(1):
        assert client.get("/guarded/mfa/").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
def test_a_parallel_replay_promotes_once():
    user = UserFactory()
    _, authenticator = register(user)
    tokens = [TokenFactory(user=user, login=True) for _ in range(2)]
    options = step_up_options(client_for(tokens[0]))
    credential = authenticator.assertion(options)
    results = in_parallel(*[lambda: step_up(client_for(tokens[0]), credential).status_code] * 4)
    assert sorted(results) == [200, 400, 400, 400]
    assert Token.objects.filter(pk=tokens[0].pk, mfa=True).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
def test_a_parallel_passkey_replay_logs_in_once():
    user = UserFactory()
    _, authenticator = register(user)
    credential = authenticator.assertion(passkey_options())
    before = Token.objects.count()
    results = in_parallel(*[lambda: passkey_login(credential).status_code] * 4)
    assert sorted(results) == [200, 401, 401, 401]
    assert Token.objects.count() == before + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
def test_a_parallel_registration_replay_activates_once():
    user = UserFactory()
    token = TokenFactory(user=user, login=True)
    created = begin(client_for(token))
    credential = SoftAuthenticator().register(created["options"])
    results = in_parallel(
        *[lambda: finish(client_for(token), created["id"], credential).status_code] * 4
    )
    # The first holds the pending factor's row lock; the others then find it active: 404.
    assert sorted(results) == [200, 404, 404, 404]
    assert WebAuthnDevice.objects.filter(user=user, confirmed=True).count() == 1
    assert AuditEvent.objects.filter(event="factor_activated", user=user).count() == 1


class signals_caught:
    """Collect ``(signal name, kwargs)`` of the given signals, in order."""

    def __init__(self, *watched):
        self.watched = watched
        self.caught = []
        self.receivers = []

    def __enter__(self):
        names = {id(value): name for name, value in vars(signals).items()}
        for signal in self.watched:

            def receiver(sender, _name=names[id(signal)], **kwargs):
                self.caught.append((_name, kwargs))

            self.receivers.append((signal, receiver))
            signal.connect(receiver, weak=False)
        return self.caught

    def __exit__(self, *exc):
        for signal, receiver in self.receivers:
            signal.disconnect(receiver)
