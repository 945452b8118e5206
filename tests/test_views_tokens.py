"""auth/tokens/ and auth/tokens/{id}/: the token management API."""

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from django_stepup import signals
from django_stepup.models import Token, TokenPolicy
from tests.factories import MFAStateFactory, TokenFactory, TokenPolicyFactory, UserFactory
from tests.utils import TOKEN_FIELDS, authenticated, in_parallel

LIST = "/auth/tokens/"


def detail(token_id):
    return f"/auth/tokens/{token_id}/"


def client_for(token):
    return authenticated(APIClient(), token.secret)


def snapshot():
    return sorted(
        Token.objects.values_list(
            "id", "name", "mfa", "mfa_at", "max_age", "max_unused_period", "perms", "user_id"
        ),
        key=str,
    ), sorted(TokenPolicy.objects.values_list("id", "values", "perm_write"), key=str)


@pytest.fixture
def alice(db):
    """A user with MFA enabled."""
    user = UserFactory(email="alice@example.com")
    MFAStateFactory(user=user)
    return user


@pytest.fixture
def bob(db):
    user = UserFactory(email="bob@example.com")
    MFAStateFactory(user=user)
    return user


@pytest.fixture
def promoted(alice):
    return TokenFactory(user=alice, promoted=True)


@pytest.fixture
def alice_client(promoted):
    return client_for(promoted)


# -- list, create, retrieve, update, delete ------------------------------------------------


def test_list_shows_only_own_tokens_with_the_documented_fields(alice, bob, alice_client, promoted):
    own = TokenFactory(user=alice)
    TokenFactory(user=bob)
    response = alice_client.get(LIST)
    assert response.status_code == 200
    assert {item["id"] for item in response.json()} == {str(promoted.id), str(own.id)}
    for item in response.json():
        assert set(item) == TOKEN_FIELDS


def test_create_makes_an_api_token_without_flags_and_shows_the_secret_once(alice, alice_client):
    response = alice_client.post(LIST, {"name": "ci"}, format="json")
    assert response.status_code == 201
    data = response.json()
    assert set(data) == TOKEN_FIELDS | {"token"}
    assert response["Cache-Control"] == "no-store"
    assert data["mfa"] is None
    assert data["owner"] == "alice@example.com"
    assert not (data["perm_manage_tokens"] or data["perm_create_domain"])
    assert data["allowed_subnets"] == ["0.0.0.0/0", "::/0"]
    token = Token.objects.get(pk=data["id"])
    assert (token.user, token.mfa, token.perms, token.name) == (alice, None, [], "ci")
    assert data["token"] not in str(token.__dict__)
    assert client_for_secret(data["token"]).get("/whoami/").json()["token"] == data["id"]
    assert alice_client.get(detail(token.id)).json().get("token") is None


def client_for_secret(secret):
    return authenticated(APIClient(), secret)


def test_create_with_flags_lifetimes_and_subnets(alice_client):
    response = alice_client.post(
        LIST,
        {
            "name": "deploy",
            "perm_create_domain": True,
            "max_age": "7 00:00:00",
            "max_unused_period": "01:00:00",
            "allowed_subnets": ["192.0.2.0/24", "2001:db8::/32"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    token = Token.objects.get(pk=response.json()["id"])
    assert token.perms == ["create_domain"]
    assert token.max_age == timedelta(days=7)
    assert token.max_unused_period == timedelta(hours=1)
    assert token.allowed_subnets == ["192.0.2.0/24", "2001:db8::/32"]
    assert response.json()["max_age"] == "7 00:00:00"


def test_create_notifies_by_email_and_fires_the_signal(
    alice, alice_client, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    signals.token_created.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post(LIST, {"name": "ci"}, format="json")
    finally:
        signals.token_created.disconnect(receiver)
    assert len(received) == 1
    assert received[0]["user"] == alice
    assert str(received[0]["token"].id) == response.json()["id"]
    assert received[0]["request"] is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    assert response.json()["token"] not in mail.outbox[0].body


@override_settings(STEPUP={"NOTIFY_BY_EMAIL": False})
def test_no_email_when_notifications_are_off(alice_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_client.post(LIST, {}, format="json").status_code == 201
    assert mail.outbox == []


def test_retrieve_update_and_delete_own_token(alice, alice_client):
    token = TokenFactory(user=alice, name="old")
    assert alice_client.get(detail(token.id)).json()["name"] == "old"
    response = alice_client.patch(
        detail(token.id), {"name": "new", "perm_delete_domain": True}, format="json"
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert (token.name, token.perms) == ("new", ["delete_domain"])
    response = alice_client.put(
        detail(token.id),
        {"name": "put", "perm_delete_domain": False, "allowed_subnets": ["192.0.2.0/24"]},
        format="json",
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert (token.name, token.perms, token.allowed_subnets) == ("put", [], ["192.0.2.0/24"])
    revoked = []

    def receiver(sender, **kwargs):
        revoked.append(kwargs)

    signals.tokens_revoked.connect(receiver)
    try:
        assert alice_client.delete(detail(token.id)).status_code == 204
    finally:
        signals.tokens_revoked.disconnect(receiver)
    assert not Token.objects.filter(pk=token.pk).exists()
    assert revoked[0]["tokens"] == [token.id]


# -- cross-user access ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_another_users_token_is_the_same_404_as_a_missing_one(bob, alice_client, method):
    theirs = TokenFactory(user=bob, name="bob's")
    before = snapshot()
    foreign = getattr(alice_client, method)(detail(theirs.id), {"name": "x"}, format="json")
    missing = getattr(alice_client, method)(detail(uuid.uuid4()), {"name": "x"}, format="json")
    garbage = getattr(alice_client, method)(detail("not-a-uuid"), {"name": "x"}, format="json")
    assert foreign.status_code == missing.status_code == garbage.status_code == 404
    assert foreign.content == missing.content == garbage.content
    assert snapshot() == before


@pytest.mark.parametrize("query", ["?user=bob", "?owner=bob@example.com"])
def test_list_ignores_attempts_to_see_another_user(bob, alice_client, promoted, query):
    TokenFactory(user=bob)
    assert [item["id"] for item in alice_client.get(LIST + query).json()] == [str(promoted.id)]


# -- mass assignment, validation ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mfa", True),
        ("mfa", None),
        ("mfa", False),
        ("mfa_at", "2099-01-01T00:00:00Z"),
        ("created", "2000-01-01T00:00:00Z"),
        ("last_used", "2099-01-01T00:00:00Z"),
        ("owner", "bob@example.com"),
        ("id", str(uuid.uuid4())),
        ("is_valid", False),
        ("user", 1),
        ("token", "stp_x"),
        ("digest", "0" * 64),
    ],
)
def test_read_only_and_unknown_fields_are_rejected_naming_them(
    alice, alice_client, promoted, field, value
):
    api_token = TokenFactory(user=alice)
    before = snapshot()
    for response in (
        alice_client.post(LIST, {"name": "x", field: value}, format="json"),
        alice_client.patch(detail(api_token.id), {field: value}, format="json"),
        alice_client.patch(detail(promoted.id), {field: value}, format="json"),
    ):
        assert response.status_code == 400
        assert field in response.json()
    assert snapshot() == before


def test_mass_assigning_another_owner_is_rejected(bob, alice_client):
    before = snapshot()
    response = alice_client.post(
        LIST, {"user": bob.pk, "owner": "bob@example.com", "name": "x"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"user", "owner"}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_subnets", ["192.0.2.0/33"]),
        ("allowed_subnets", ["::/129"]),
        ("allowed_subnets", ["300.1.1.1/32"]),
        ("allowed_subnets", ["192.000.002.000/24"]),
        ("allowed_subnets", ["192.0.2.10/24"]),
        ("allowed_subnets", [" 192.0.2.0/24"]),
        ("allowed_subnets", ["192.0.2.0/24\n"]),
        ("allowed_subnets", ["192.0.2.0/24\x00"]),
        ("allowed_subnets", ["192.0.2.0/24"] * 101),
        ("allowed_subnets", []),
        ("allowed_subnets", "192.0.2.0/24"),
        ("allowed_subnets", [1]),
        ("max_age", "-1 00:00:00"),
        ("max_age", "P-1D"),
        ("max_age", "-00:00:01"),
        ("max_age", "P999999999999D"),
        ("max_age", "3651 00:00:00"),
        ("max_age", 1e308),
        ("max_age", "abc"),
        ("max_age", "\u0661\u0660"),  # Arabic-Indic digits: "10" to Django's parser
        ("max_age", "\uff11\uff10:\uff10\uff10"),  # full-width "10:00"
        ("max_unused_period", "\u0967\u0966\u0966\u0966\u0966"),  # Devanagari 10000
        ("max_age", []),
        ("max_age", {}),
        ("max_unused_period", "-1 00:00:00"),
        ("max_unused_period", 99999999999999),
        ("name", "x" * 129),
        ("name", ["a"]),
        ("name", "a\x00b"),
        ("perm_create_domain", "yes"),
        ("perm_create_domain", 1),
        ("perm_manage_tokens", None),
        ("auto_policy", "true"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(alice, alice_client, field, value):
    api_token = TokenFactory(user=alice)
    before = snapshot()
    for response in (
        alice_client.post(LIST, {field: value}, format="json"),
        alice_client.patch(detail(api_token.id), {field: value}, format="json"),
    ):
        assert response.status_code == 400, response.content
        assert field in response.json()
    assert snapshot() == before


def test_a_valid_unicode_name_round_trips(alice_client):
    name = "dépl😀y \u202e"
    response = alice_client.post(LIST, {"name": name}, format="json")
    assert response.json()["name"] == name
    assert Token.objects.get(pk=response.json()["id"]).name == name


def test_subnets_in_ipv6_form_are_normalised(alice_client):
    response = alice_client.post(LIST, {"allowed_subnets": ["2001:DB8:0::/32"]}, format="json")
    assert response.json()["allowed_subnets"] == ["2001:db8::/32"]


def test_malformed_json_and_wrong_content_type(alice_client):
    assert alice_client.post(LIST, "{", content_type="application/json").status_code == 400
    assert alice_client.post(LIST, "name=x", content_type="text/plain").status_code == 415
    assert Token.objects.count() == 1


# -- who may manage tokens ------------------------------------------------------------------


def test_unpromoted_login_token_of_an_mfa_user_gets_the_step_up_challenge(alice):
    client = client_for(TokenFactory(user=alice, login=True))
    before = snapshot()
    for response in (
        client.get(LIST),
        client.post(LIST, {"name": "x", "perm_manage_tokens": True}, format="json"),
        client.patch(detail(Token.objects.first().id), {"mfa": True}, format="json"),
    ):
        assert response.status_code == 401
        assert 'error="insufficient_user_authentication"' in response["WWW-Authenticate"]
        assert response.json()["code"] == "mfa_required"
        assert "token" not in response.json()
    assert snapshot() == before


def test_login_token_of_a_user_without_mfa_may_manage_tokens(db):
    client = client_for(TokenFactory(login=True))
    assert client.post(LIST, {"name": "x"}, format="json").status_code == 201


def test_api_token_needs_manage_tokens(alice):
    without = client_for(TokenFactory(user=alice, perms=["create_domain"]))
    assert without.get(LIST).status_code == 403
    assert without.post(LIST, {}, format="json").status_code == 403
    with_flag = client_for(TokenFactory(user=alice, perms=["manage_tokens"]))
    assert with_flag.get(LIST).status_code == 200
    assert with_flag.post(LIST, {}, format="json").status_code == 201


def test_session_without_a_token_is_refused(alice):
    client = APIClient()
    client.force_authenticate(user=alice)
    assert client.get(LIST).status_code == 403
    assert client.post(LIST, {}, format="json").status_code == 403
    assert not Token.objects.exists()


# -- no token grants what it lacks ----------------------------------------------------------


@pytest.fixture
def manager(alice):
    """An API token that may manage tokens and create domains, but not delete them."""
    return TokenFactory(user=alice, perms=["manage_tokens", "create_domain"])


@pytest.mark.parametrize("flag", ["perm_delete_domain"])
def test_creating_a_stronger_token_is_forbidden(manager, flag):
    before = snapshot()
    response = client_for(manager).post(LIST, {flag: True}, format="json")
    assert response.status_code == 403
    assert flag in response.json()
    assert snapshot() == before


def test_granting_held_flags_is_allowed(manager):
    response = client_for(manager).post(
        LIST, {"perm_manage_tokens": True, "perm_create_domain": True}, format="json"
    )
    assert response.status_code == 201
    assert Token.objects.get(pk=response.json()["id"]).perms == ["manage_tokens", "create_domain"]


def test_self_escalation_through_patch_is_forbidden(manager):
    before = snapshot()
    for method in ("patch", "put"):
        response = getattr(client_for(manager), method)(
            detail(manager.id), {"perm_delete_domain": True}, format="json"
        )
        assert response.status_code == 403
    assert snapshot() == before


def test_changing_or_deleting_a_stronger_token_is_forbidden(alice, manager):
    stronger = TokenFactory(user=alice, perms=["delete_domain"])
    login = TokenFactory(user=alice, promoted=True)
    before = snapshot()
    client = client_for(manager)
    for target in (stronger, login):
        assert client.patch(detail(target.id), {"name": "x"}, format="json").status_code == 403
        assert client.delete(detail(target.id)).status_code == 403
    assert snapshot() == before


def test_dropping_a_flag_from_a_weaker_token_is_allowed(alice, manager):
    weaker = TokenFactory(user=alice, perms=["create_domain"])
    response = client_for(manager).patch(
        detail(weaker.id), {"perm_create_domain": False}, format="json"
    )
    assert response.status_code == 200
    weaker.refresh_from_db()
    assert weaker.perms == []


def test_restricted_token_can_not_manage_tokens(alice):
    restricted = TokenFactory(user=alice, perms=["manage_tokens"])
    TokenPolicyFactory(token=restricted)
    client = client_for(restricted)
    before = snapshot()
    assert client.post(LIST, {}, format="json").json() == {
        "detail": "Insufficient token permissions."
    }
    assert client.get(LIST).status_code == 403
    assert client.patch(detail(restricted.id), {"name": "x"}, format="json").status_code == 403
    assert client.delete(detail(restricted.id)).status_code == 403
    assert snapshot() == before


# -- lifetimes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"max_age": None},
        {"max_age": "8 00:00:00"},
        {"max_unused_period": None},
        {"max_unused_period": "02:00:00"},
        {"allowed_subnets": ["192.0.2.0/24"]},
        {"perm_manage_tokens": False},
        {"auto_policy": True},
    ],
)
def test_a_login_token_can_not_extend_or_otherwise_change_itself(alice, change):
    login = TokenFactory(
        user=alice, promoted=True, max_age=timedelta(days=7), max_unused_period=timedelta(hours=1)
    )
    before = snapshot()
    response = client_for(login).patch(detail(login.id), change, format="json")
    assert response.status_code == 400
    assert set(response.json()) == set(change)
    assert snapshot() == before


def test_a_login_token_may_be_renamed_and_shortened(alice):
    login = TokenFactory(user=alice, promoted=True, max_age=timedelta(days=7))
    response = client_for(login).patch(
        detail(login.id), {"name": "laptop", "max_age": "1 00:00:00"}, format="json"
    )
    assert response.status_code == 200
    login.refresh_from_db()
    assert (login.name, login.max_age) == ("laptop", timedelta(days=1))


def test_a_login_token_without_a_lifetime_may_get_one(alice):
    login = TokenFactory(user=alice, promoted=True)
    response = client_for(login).patch(
        detail(login.id), {"max_unused_period": "00:10:00"}, format="json"
    )
    assert response.status_code == 200


def test_a_login_token_may_shorten_or_lengthen_an_api_token(alice, alice_client):
    api_token = TokenFactory(user=alice, max_age=timedelta(days=30))
    assert (
        alice_client.patch(detail(api_token.id), {"max_age": "1 00:00:00"}, format="json")
    ).status_code == 200
    assert (
        alice_client.patch(detail(api_token.id), {"max_age": None}, format="json")
    ).status_code == 200
    api_token.refresh_from_db()
    assert api_token.max_age is None


def test_zero_max_age_means_expired_at_once(alice_client):
    response = alice_client.post(LIST, {"max_age": "00:00:00"}, format="json")
    assert response.status_code == 201
    assert client_for_secret(response.json()["token"]).get("/whoami/").status_code == 401


# -- auto_policy and caps --------------------------------------------------------------------


def test_creating_with_auto_policy_creates_restrictive_defaults(alice_client):
    response = alice_client.post(LIST, {"auto_policy": True}, format="json")
    assert response.status_code == 201
    policies = TokenPolicy.objects.filter(token_id=response.json()["id"])
    assert {policy.scope for policy in policies} == {"rrsets", "private_records"}
    assert all(policy.is_default and not policy.perm_write for policy in policies)


def test_turning_on_auto_policy_keeps_an_existing_restrictive_default(alice, alice_client):
    token = TokenFactory(user=alice)
    default = TokenPolicyFactory(token=token)
    response = alice_client.patch(detail(token.id), {"auto_policy": True}, format="json")
    assert response.status_code == 200
    assert TokenPolicy.objects.filter(token=token, scope="rrsets").get() == default


def test_auto_policy_refuses_a_permissive_default(alice, alice_client):
    token = TokenFactory(user=alice)
    TokenPolicyFactory(token=token, perm_write=True)
    before = snapshot()
    response = alice_client.patch(detail(token.id), {"auto_policy": True}, format="json")
    assert response.status_code == 400
    assert "auto_policy" in response.json()
    assert snapshot() == before


@override_settings(STEPUP={"MAX_TOKENS_PER_USER": 2})
def test_tokens_per_user_are_capped(alice_client):
    assert alice_client.post(LIST, {}, format="json").status_code == 201
    response = alice_client.post(LIST, {}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This account has reached the maximum number of tokens.",
        "code": "limit_exceeded",
    }
    assert Token.objects.count() == 2


# -- attenuation: no API token gives a token more reach than its own ------------------------


@pytest.fixture
def narrow(alice):
    """An API token that manages tokens from 192.0.2.0/24, for a day, idle at most an hour."""
    return TokenFactory(
        user=alice,
        perms=["manage_tokens"],
        allowed_subnets=["192.0.2.0/24"],
        max_age=timedelta(days=1),
        max_unused_period=timedelta(hours=1),
    )


def narrow_client(token):
    client = client_for(token)
    client.defaults["REMOTE_ADDR"] = "192.0.2.7"
    return client


WITHIN = {
    "allowed_subnets": ["192.0.2.128/25"],
    "max_age": "12:00:00",
    "max_unused_period": "00:30:00",
}


def test_an_api_token_creates_a_token_within_its_reach(narrow):
    response = narrow_client(narrow).post(LIST, WITHIN, format="json")
    assert response.status_code == 201, response.content
    token = Token.objects.get(pk=response.json()["id"])
    assert token.allowed_subnets == ["192.0.2.128/25"]
    assert token.created + token.max_age <= narrow.created + narrow.max_age


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_subnets", ["192.0.2.0/23"]),
        ("allowed_subnets", ["192.0.2.0/25", "198.51.100.0/24"]),
        ("allowed_subnets", ["::/0"]),
        ("allowed_subnets", None),
        ("max_age", "1 00:00:01"),
        ("max_age", None),
        ("max_unused_period", "01:00:01"),
        ("max_unused_period", None),
    ],
)
def test_an_api_token_can_not_create_a_token_reaching_further(narrow, field, value):
    data = dict(WITHIN)
    if value is None:
        del data[field]  # omitted: the default (any address, no limit) is wider
    else:
        data[field] = value
    before = snapshot()
    response = narrow_client(narrow).post(LIST, data, format="json")
    assert response.status_code == 403, response.content
    assert list(response.json()) == [field]
    assert snapshot() == before


def test_the_absolute_expiry_counts_from_each_tokens_creation(alice, narrow):
    """Half a day after the acting token was created, 23 hours from now is past its expiry."""
    narrow.created -= timedelta(hours=12)
    narrow.last_used = timezone.now()
    narrow.save(update_fields=["created", "last_used"])
    response = narrow_client(narrow).post(LIST, {**WITHIN, "max_age": "23:00:00"}, format="json")
    assert response.status_code == 403
    assert list(response.json()) == ["max_age"]
    response = narrow_client(narrow).post(LIST, {**WITHIN, "max_age": "11:00:00"}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_subnets", ["0.0.0.0/0"]),
        ("max_age", "2 00:00:00"),
        ("max_age", None),
        ("max_unused_period", "02:00:00"),
        ("max_unused_period", None),
    ],
)
def test_an_api_token_can_not_widen_itself_or_another_token(alice, narrow, field, value):
    other = TokenFactory(user=alice, **{"allowed_subnets": ["192.0.2.0/26"]})
    before = snapshot()
    for target in (narrow, other):
        response = narrow_client(narrow).patch(detail(target.id), {field: value}, format="json")
        assert response.status_code == 403, response.content
        assert list(response.json()) == [field]
    assert snapshot() == before


def test_an_api_token_may_narrow_itself(narrow):
    response = narrow_client(narrow).patch(
        detail(narrow.id),
        {"allowed_subnets": ["192.0.2.0/25"], "max_age": "23:00:00"},
        format="json",
    )
    assert response.status_code == 200
    narrow.refresh_from_db()
    assert narrow.allowed_subnets == ["192.0.2.0/25"]
    assert narrow.max_age == timedelta(hours=23)


def test_ipv6_networks_must_lie_inside_an_ipv6_network_of_the_actor(alice):
    actor = TokenFactory(user=alice, perms=["manage_tokens"], allowed_subnets=["2001:db8::/32"])
    client = client_for(actor)
    client.defaults["REMOTE_ADDR"] = "2001:db8::1"
    inside = client.post(LIST, {"allowed_subnets": ["2001:db8:1::/48"]}, format="json")
    assert inside.status_code == 201
    outside = client.post(LIST, {"allowed_subnets": ["0.0.0.0/0"]}, format="json")
    assert outside.status_code == 403
    assert outside.json() == {
        "allowed_subnets": ["This token can't allow networks outside its own: 0.0.0.0/0."]
    }


def test_a_login_token_acts_with_the_accounts_full_authority(alice, alice_client):
    """Login tokens exist to create long-lived API tokens: their own short life is no limit."""
    response = alice_client.post(
        LIST, {"max_age": "365 00:00:00", "max_unused_period": None}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["allowed_subnets"] == ["0.0.0.0/0", "::/0"]


@pytest.mark.parametrize("value", ["00:00:00", "00:00:59"])
def test_an_idle_period_shorter_than_the_last_used_interval_is_a_400(alice, alice_client, value):
    api_token = TokenFactory(user=alice)
    before = snapshot()
    for response in (
        alice_client.post(LIST, {"max_unused_period": value}, format="json"),
        alice_client.patch(detail(api_token.id), {"max_unused_period": value}, format="json"),
    ):
        assert response.status_code == 400
        [message] = response.json()["max_unused_period"]
        assert "60 seconds (LAST_USED_INTERVAL)" in message
    assert snapshot() == before
    assert alice_client.post(
        LIST, {"max_unused_period": "00:01:00"}, format="json"
    ).status_code == (201)


# -- deleting a token against parallel writes ------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
@pytest.mark.parametrize("write", ["policy", "patch"])
def test_a_delete_racing_a_write_answers_204_and_leaves_nothing(transactional_db, write):
    user = UserFactory()
    owner = TokenFactory(user=user, promoted=True)

    def writer(target):
        if write == "policy":
            return client_for(owner).post(
                f"{detail(target.id)}policies/rrsets/",
                {"domain": None, "subname": None, "type": None},
                format="json",
            )
        return client_for(owner).patch(detail(target.id), {"name": "renamed"}, format="json")

    for _ in range(10):
        target = TokenFactory(user=user)
        deleted, written = in_parallel(
            lambda target=target: client_for(owner).delete(detail(target.id)),
            lambda target=target: writer(target),
        )
        assert deleted.status_code == 204
        assert written.status_code in (200, 201, 404), written.content
        assert not Token.objects.filter(pk=target.pk).exists()
        assert not TokenPolicy.objects.filter(token_id=target.pk).exists()
        assert client_for(target).get("/whoami/").status_code == 401


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
def test_parallel_creates_stop_at_the_token_cap(transactional_db, settings):
    settings.STEPUP = {**settings.STEPUP, "MAX_TOKENS_PER_USER": 3}
    user = UserFactory()
    owner = TokenFactory(user=user, promoted=True)
    statuses = in_parallel(
        *[lambda: client_for(owner).post(LIST, {}, format="json").status_code] * 6
    )
    assert sorted(statuses) == [201, 201] + [409] * 4
    assert Token.objects.filter(user=user).count() == 3
