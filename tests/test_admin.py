from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_stepup import tokens
from django_stepup.models import MFAState, RecoveryCode, Token
from tests.factories import TokenFactory, UserFactory

CHANGELIST = "/admin/django_stepup/token/"
ADD = "/admin/django_stepup/token/add/"


@pytest.fixture
def admin_client(client, db):
    admin_user = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    return client


def changelist_names(response):
    return {str(token) for token in response.context["cl"].result_list}


def changelist_queries(admin_client):
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(CHANGELIST).status_code == 200
    return len(captured.captured_queries)


def test_changelist_query_count_is_constant(admin_client):
    TokenFactory.create_batch(5)
    five = changelist_queries(admin_client)
    TokenFactory.create_batch(45, login=True)
    assert changelist_queries(admin_client) == five


def test_changelist_shows_kind_expiry_subnets_and_flags(admin_client):
    now = timezone.now()
    TokenFactory(
        name="deploy",
        perms=["create_domain"],
        allowed_subnets=["192.0.2.0/24"],
        created=now,
        max_age=timedelta(days=1),
    )
    body = admin_client.get(CHANGELIST).content.decode()
    assert "deploy" in body
    assert "192.0.2.0/24" in body
    assert "create_domain" in body
    assert "API" in body


def test_changelist_never_shows_digest(admin_client):
    token = TokenFactory()
    body = admin_client.get(CHANGELIST).content.decode()
    assert token.digest not in body
    body = admin_client.get(f"{CHANGELIST}{token.pk}/change/").content.decode()
    assert token.digest not in body
    assert token.secret not in body


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("api", {"api"}), ("login", {"login"}), ("promoted", {"promoted"})],
)
def test_kind_filter(admin_client, kind, expected):
    TokenFactory(name="api")
    TokenFactory(name="login", login=True)
    TokenFactory(name="promoted", promoted=True)
    assert changelist_names(admin_client.get(CHANGELIST, {"kind": kind})) == expected


def test_validity_filter(admin_client):
    now = timezone.now()
    TokenFactory(name="fresh", max_age=timedelta(days=1))
    TokenFactory(name="old", created=now - timedelta(days=2), max_age=timedelta(days=1))
    TokenFactory(
        name="idle", created=now - timedelta(hours=2), max_unused_period=timedelta(hours=1)
    )
    TokenFactory(name="inactive", user=UserFactory(is_active=False))
    assert changelist_names(admin_client.get(CHANGELIST, {"validity": "valid"})) == {"fresh"}
    assert changelist_names(admin_client.get(CHANGELIST, {"validity": "invalid"})) == {
        "old",
        "idle",
        "inactive",
    }


def test_user_filter_and_search(admin_client):
    carol = UserFactory(email="carol@example.com")
    TokenFactory(name="carol's key", user=carol)
    TokenFactory(name="other key")
    assert changelist_names(admin_client.get(CHANGELIST, {"user__id__exact": carol.pk})) == {
        "carol's key"
    }
    assert changelist_names(admin_client.get(CHANGELIST, {"q": "carol@"})) == {"carol's key"}
    assert changelist_names(admin_client.get(CHANGELIST, {"q": "other"})) == {"other key"}


def test_search_does_not_match_secrets(admin_client):
    token = TokenFactory(name="x")
    assert changelist_names(admin_client.get(CHANGELIST, {"q": token.secret})) == set()
    assert changelist_names(admin_client.get(CHANGELIST, {"q": token.digest})) == set()


def test_add_shows_the_secret_once(admin_client):
    owner = UserFactory(email="owner@example.com")
    response = admin_client.post(
        ADD,
        {
            "user": owner.pk,
            "name": "ci key",
            "max_age": "1 00:00:00",
            "max_unused_period": "",
            "allowed_subnets": '["192.0.2.0/24"]',
            "perms": ["create_domain"],
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert tokens.parse_secret(secret) == secret
    token = Token.objects.get()
    assert token.digest == tokens.digest(secret)
    assert (token.user, token.name, token.mfa, token.perms) == (
        owner,
        "ci key",
        None,
        ["create_domain"],
    )
    assert token.allowed_subnets == ["192.0.2.0/24"]
    assert token.max_age == timedelta(days=1)
    for cookie in response.cookies.values():
        assert secret not in cookie.value
    for page in (CHANGELIST, f"{CHANGELIST}{token.pk}/change/"):
        assert secret not in admin_client.get(page).content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_subnets", '["192.0.2.0/33"]'),
        ("allowed_subnets", "[]"),
        ("allowed_subnets", '"192.0.2.0/24"'),
        ("max_age", "-1 00:00:00"),
    ],
)
def test_add_rejects_invalid_input_and_stores_nothing(admin_client, field, value):
    data = {"user": UserFactory().pk, "name": "k", "allowed_subnets": '["0.0.0.0/0"]'}
    data[field] = value
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Token.objects.exists()


def test_mfa_is_read_only_on_change(admin_client):
    token = TokenFactory(login=True)
    response = admin_client.post(
        f"{CHANGELIST}{token.pk}/change/",
        {"name": "renamed", "allowed_subnets": '["0.0.0.0/0", "::/0"]', "mfa": "True"},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.name == "renamed"
    assert token.mfa is False


def test_revoke_selected_tokens(admin_client):
    keep, revoke = TokenFactory(), TokenFactory()
    response = admin_client.post(
        CHANGELIST, {"action": "revoke_tokens", "_selected_action": [revoke.pk]}
    )
    assert response.status_code == 302
    assert list(Token.objects.all()) == [keep]


def test_revoke_login_tokens_of_users(admin_client):
    alice, bob = UserFactory(), UserFactory()
    alice_api = TokenFactory(user=alice)
    alice_login = TokenFactory(user=alice, login=True)
    TokenFactory(user=alice, promoted=True)
    bob_login = TokenFactory(user=bob, login=True)
    admin_client.post(
        CHANGELIST,
        {"action": "revoke_login_tokens_of_users", "_selected_action": [alice_login.pk]},
    )
    assert set(Token.objects.all()) == {alice_api, bob_login}


def test_mfa_state_shows_recovery_codes_left_and_resets_lockout(admin_client):
    user = UserFactory()
    state = MFAState.objects.create(user=user, enabled=True, failure_count=100)
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, digest=f"{i:064d}") for i in range(3)]
    )
    response = admin_client.get("/admin/django_stepup/mfastate/")
    assert response.status_code == 200
    assert response.context["cl"].result_list[0]._recovery_codes_left == 3
    admin_client.post(
        "/admin/django_stepup/mfastate/",
        {"action": "reset_lockout", "_selected_action": [user.pk]},
    )
    state.refresh_from_db()
    assert state.failure_count == 0


def test_name_is_escaped(admin_client):
    TokenFactory(name="<script>alert(1)</script>")
    body = admin_client.get(CHANGELIST).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body
